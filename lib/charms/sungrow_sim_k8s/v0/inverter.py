"""The `inverter` interface: where to reach a (simulated) Sungrow inverter.

The provider, the sungrow-sim-k8s charm, writes one unit databag per simulated inverter:
the address reachable inside the cluster, the port of each protocol, the enabled
protocols, the model, its device type code, the serial number and the Modbus unit id.
There is no application databag. Every field is optional, so readers cope with partial
data, and protocol names a reader does not know are kept, not rejected.

Install as a Python package (Charmhub libraries are deprecated)::

    uv add "sungrow-sim-k8s-lib @ git+https://github.com/sungrow-sim/sungrow-sim-k8s#subdirectory=lib"

Requirer (a charm that reads the inverter)::

    from charms.sungrow_sim_k8s.v0.inverter import InverterRequirer

    class MyCharm(ops.CharmBase):
        def __init__(self, framework: ops.Framework):
            super().__init__(framework)
            self.inverter = InverterRequirer(self, relation_name="inverter")
            framework.observe(self.inverter.on.inverter_available, self._reconfigure)
            framework.observe(self.inverter.on.inverter_changed, self._reconfigure)
            framework.observe(self.inverter.on.inverter_gone, self._reconfigure)

        def _reconfigure(self, event: ops.EventBase):
            for inverter in self.inverter.inverters:
                connect(inverter.host, inverter.ports["modbus"], inverter.unit_id)

Provider (the sungrow-sim-k8s charm)::

    self.inverter = InverterProvider(self)
    self.inverter.publish(InverterUnitData(host=..., modbus_port=502, ...))

Unit tests of a requirer get a ready relation from `relation_for_testing()`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ops
import pydantic

if TYPE_CHECKING:
    from ops import testing

# The unique Charmhub library identifier, never change it
LIBID = "358abdb40ae848d4afe69c5d85522fc4"

# Increment this major API version when introducing breaking changes
LIBAPI = 0

# Increment this PATCH version before using `charmcraft publish-lib` or reset
# to 0 if you are raising the major API version
LIBPATCH = 2

PYDEPS = ["pydantic>=2"]

logger = logging.getLogger(__name__)

DEFAULT_RELATION_NAME = "inverter"
KNOWN_PROTOCOLS = ("modbus", "sungrow", "http")


def describe_validation_error(error: pydantic.ValidationError) -> str:
    """One line naming each bad field and why, e.g. "modbus-port: Input should be ...".

    Field names are shown hyphenated, as Juju spells config options, action parameters
    and this interface's databag keys; nested locations are joined with dots.
    """
    problems: list[str] = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        if item["loc"]:
            where = ".".join(str(part).replace("_", "-") for part in item["loc"])
            message = f"{where}: {message}"
        problems.append(message)
    return "; ".join(problems)


def _optional(key: str, low: int, high: int) -> Any:
    """An optional integer field stored under a hyphenated databag key."""
    return pydantic.Field(
        default=None, validation_alias=key, serialization_alias=key, ge=low, le=high
    )


class InverterUnitData(pydantic.BaseModel):
    """Schema of a provider unit's databag (all fields optional)."""

    model_config = pydantic.ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    host: str | None = pydantic.Field(default=None, min_length=1)
    modbus_port: int | None = _optional("modbus-port", 1, 65535)
    ws_port: int | None = _optional("ws-port", 1, 65535)
    http_port: int | None = _optional("http-port", 1, 65535)
    protocols: tuple[str, ...] = ()
    model: str | None = None
    device_code: int | None = _optional("device-code", 0, 65535)
    serial: str | None = None
    unit_id: int | None = _optional("unit-id", 0, 255)

    @pydantic.field_validator("protocols", mode="before")
    @classmethod
    def _split_protocols(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(name.strip().lower() for name in value.split(",") if name.strip())
        return value

    def to_databag(self) -> dict[str, str]:
        """The databag content: one string per set field, keyed by its alias."""
        content: dict[str, str] = {}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if value is None or value == ():
                continue
            content[field.serialization_alias or name] = (
                ",".join(value) if isinstance(value, tuple) else str(value)
            )
        return content

    @classmethod
    def from_databag(cls, databag: Mapping[str, str]) -> InverterUnitData:
        """Validate a databag; raises pydantic.ValidationError when a field is malformed."""
        return cls.model_validate(dict(databag))


DATABAG_KEYS = tuple(
    field.serialization_alias or name for name, field in InverterUnitData.model_fields.items()
)


class Inverter(pydantic.BaseModel):
    """One inverter as a requirer sees it: enough to connect to it."""

    model_config = pydantic.ConfigDict(frozen=True)

    relation_id: int
    unit_name: str
    host: str
    protocols: tuple[str, ...]
    ports: dict[str, int]
    """Port per protocol: "modbus" and "sungrow" (shared), "http" (getParam), "ws"."""
    model: str | None = None
    device_code: int | None = None
    serial: str | None = None
    unit_id: int = 1

    @classmethod
    def from_unit_data(
        cls, relation_id: int, unit_name: str, data: InverterUnitData, fallback_host: str | None
    ) -> Inverter | None:
        """Build the inverter, or None while the data lacks a host or any port."""
        host = data.host or fallback_host
        protocols = data.protocols or _guess_protocols(data)
        ports: dict[str, int] = {}
        for protocol in ("modbus", "sungrow"):
            if protocol in protocols and data.modbus_port:
                ports[protocol] = data.modbus_port
        if "http" in protocols and data.http_port:
            ports["http"] = data.http_port
        if "http" in protocols and data.ws_port:
            ports["ws"] = data.ws_port
        if not host or not ports:
            return None
        return cls(
            relation_id=relation_id,
            unit_name=unit_name,
            host=host,
            protocols=protocols,
            ports=ports,
            model=data.model,
            device_code=data.device_code,
            serial=data.serial,
            unit_id=data.unit_id if data.unit_id is not None else 1,
        )


def _guess_protocols(data: InverterUnitData) -> tuple[str, ...]:
    """Protocols implied by the published ports, for a provider that lists none."""
    guessed = ("modbus",) if data.modbus_port else ()
    return guessed + (("http",) if data.ws_port or data.http_port else ())


class InverterProvider(ops.Object):
    """Publishes this unit's inverter on every relation of the endpoint."""

    def __init__(self, charm: ops.CharmBase, relation_name: str = DEFAULT_RELATION_NAME):
        super().__init__(charm, relation_name)
        self._relation_name = relation_name

    def publish(self, data: InverterUnitData) -> None:
        """Write (or refresh) this unit's databag; fields no longer set are removed."""
        content = data.to_databag()
        for relation in self.model.relations[self._relation_name]:
            databag = relation.data[self.model.unit]
            for key in DATABAG_KEYS:
                if key not in content and key in databag:
                    del databag[key]
            databag.update(content)


class InverterEvent(ops.EventBase):
    """An inverter appeared, changed or went away on a relation."""

    def __init__(
        self,
        handle: ops.Handle,
        relation_id: int,
        unit_name: str,
        inverter: Inverter | None = None,
    ):
        super().__init__(handle)
        self.relation_id = relation_id
        self.unit_name = unit_name
        self.inverter = inverter

    def snapshot(self) -> dict[str, Any]:
        """Save the event's data for deferral."""
        inverter = self.inverter.model_dump_json() if self.inverter else None
        return {"relation_id": self.relation_id, "unit_name": self.unit_name, "inv": inverter}

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Restore the event's data after deferral."""
        self.relation_id = snapshot["relation_id"]
        self.unit_name = snapshot["unit_name"]
        inverter = snapshot["inv"]
        self.inverter = Inverter.model_validate_json(inverter) if inverter else None


class InverterAvailableEvent(InverterEvent):
    """A provider unit published complete, valid data for the first time."""


class InverterChangedEvent(InverterEvent):
    """A known inverter's data changed (new port, model, protocols...)."""


class InverterGoneEvent(InverterEvent):
    """An inverter left, or its data became unusable; `inverter` is None."""


class InverterRequirerEvents(ops.ObjectEvents):
    """Events the requirer emits."""

    inverter_available = ops.EventSource(InverterAvailableEvent)
    inverter_changed = ops.EventSource(InverterChangedEvent)
    inverter_gone = ops.EventSource(InverterGoneEvent)


class InverterRequirer(ops.Object):
    """Reads, validates and tracks the inverters of every relation of the endpoint."""

    on = InverterRequirerEvents()
    _stored = ops.StoredState()

    def __init__(self, charm: ops.CharmBase, relation_name: str = DEFAULT_RELATION_NAME):
        super().__init__(charm, relation_name)
        self._relation_name = relation_name
        self._stored.set_default(seen={})
        events = charm.on[relation_name]
        self.framework.observe(events.relation_changed, self._on_relation_changed)
        self.framework.observe(events.relation_departed, self._on_relation_departed)
        self.framework.observe(events.relation_broken, self._on_relation_broken)

    @property
    def inverters(self) -> list[Inverter]:
        """One inverter per provider unit with usable data, over all relations."""
        found: list[Inverter] = []
        for relation in self.model.relations[self._relation_name]:
            found.extend(self._inverters_of(relation).values())
        return found

    def _inverters_of(
        self, relation: ops.Relation, departing: ops.Unit | None = None
    ) -> dict[str, Inverter]:
        found: dict[str, Inverter] = {}
        for unit in sorted(relation.units, key=lambda u: u.name):
            if departing is not None and unit.name == departing.name:
                continue
            databag = relation.data[unit]
            try:
                data = InverterUnitData.from_databag(databag)
            except pydantic.ValidationError as e:
                logger.warning(
                    "skipping %s: malformed inverter data (%s)",
                    unit.name,
                    describe_validation_error(e),
                )
                continue
            inverter = Inverter.from_unit_data(
                relation.id, unit.name, data, databag.get("ingress-address")
            )
            if inverter is None:
                logger.debug("skipping %s: no host or port published yet", unit.name)
                continue
            found[unit.name] = inverter
        return found

    def _on_relation_changed(self, event: ops.RelationChangedEvent) -> None:
        self._update(event.relation.id, self._inverters_of(event.relation))

    def _on_relation_departed(self, event: ops.RelationDepartedEvent) -> None:
        self._update(event.relation.id, self._inverters_of(event.relation, event.departing_unit))

    def _on_relation_broken(self, event: ops.RelationBrokenEvent) -> None:
        self._update(event.relation.id, {})

    def _update(self, relation_id: int, current: dict[str, Inverter]) -> None:
        """Compare with what was seen on the relation and emit the differences."""
        seen = self._stored.seen
        prefix = f"{relation_id}:"
        known = {key[len(prefix) :]: seen[key] for key in list(seen) if key.startswith(prefix)}
        for unit_name, inverter in current.items():
            blob = inverter.model_dump_json()
            if unit_name not in known:
                seen[prefix + unit_name] = blob
                self.on.inverter_available.emit(relation_id, unit_name, inverter)
            elif known[unit_name] != blob:
                seen[prefix + unit_name] = blob
                self.on.inverter_changed.emit(relation_id, unit_name, inverter)
        for unit_name in sorted(set(known) - set(current)):
            del seen[prefix + unit_name]
            self.on.inverter_gone.emit(relation_id, unit_name)


EXAMPLE_UNIT_DATA = InverterUnitData(
    host="sungrow-sim-k8s-0.sungrow-sim-k8s-endpoints.testing.svc.cluster.local",
    modbus_port=502,
    ws_port=8082,
    http_port=80,
    protocols=KNOWN_PROTOCOLS,
    model="SG10RT",
    device_code=0x2433,
    serial="SIM0000000",
    unit_id=1,
)


def relation_for_testing(
    units: Mapping[int, InverterUnitData | Mapping[str, str]] | None = None,
    *,
    endpoint: str = DEFAULT_RELATION_NAME,
    remote_app_name: str = "sungrow-sim-k8s",
) -> testing.Relation:
    """A ready `ops.testing.Relation` to a provider, for a requirer's unit tests.

    Args:
        units: provider unit number -> its data (a model, or a raw databag to test
            malformed data). Default: unit 0 with EXAMPLE_UNIT_DATA.
        endpoint: the requirer's endpoint name.
        remote_app_name: the provider application's name.
    """
    from ops import testing  # needs ops[testing]; imported here so charms need not ship it

    units = {0: EXAMPLE_UNIT_DATA} if units is None else units
    return testing.Relation(
        endpoint,
        interface="inverter",
        remote_app_name=remote_app_name,
        remote_units_data={
            number: data.to_databag() if isinstance(data, InverterUnitData) else dict(data)
            for number, data in units.items()
        },
    )
