"""The `inverter` interface: where to reach a (simulated) Sungrow inverter.

The provider, the sungrow-sim-k8s charm, writes one unit databag per simulated inverter:
the address reachable inside the cluster, the port of each protocol, the enabled
protocols, the model, its device type code, the serial number and the Modbus unit id.
There is no application databag. Every field is optional, so readers cope with partial
data, and protocol names a reader does not know are kept, not rejected.

Install as a Python package under a regular name (docs/requirer.md)::

    uv add "sungrow-sim-k8s-lib @ git+https://github.com/sungrow-sim/sungrow-sim-k8s#subdirectory=lib"
    from sungrow_sim_k8s_lib.inverter import InverterRequirer

or vendor this file into your charm's lib/charms/sungrow_sim_k8s/v0/ (Charmhub style).

Requirer (a charm that reads the inverter; docs/requirer.md has the full recipe)::

    class MyCharm(ops.CharmBase):
        def __init__(self, framework: ops.Framework):
            super().__init__(framework)
            self.inverter = InverterRequirer(self, relation_name="inverter")
            for event in (self.inverter.on.inverter_available,
                          self.inverter.on.inverter_changed,
                          self.inverter.on.inverter_gone):
                framework.observe(event, self._reconcile)

        def _reconcile(self, event: ops.EventBase):
            for inverter in self.inverter.inverters:
                connect(inverter.host, inverter.port_for("modbus"), inverter.unit_id)
            # self.inverter.problems says why any other related unit is not usable yet

Provider (the sungrow-sim-k8s charm)::

    self.inverter = InverterProvider(self)
    self.inverter.publish(InverterUnitData(host=..., modbus_port=502, ...))

Unit tests of a requirer get a ready relation from `relation_for_testing()`.
"""

from __future__ import annotations

import logging
import os
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
LIBPATCH = 3

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
        cls, relation_id: int, unit_name: str, data: InverterUnitData
    ) -> Inverter | None:
        """Build the inverter, or None while the data lacks a host or any port.

        There is no fallback to the unit's `ingress-address`: for a Kubernetes provider
        that is the application's ClusterIP, which can reach another unit of it.
        """
        return cls.from_unit_data_or_problem(relation_id, unit_name, data)[0]

    @classmethod
    def from_unit_data_or_problem(
        cls, relation_id: int, unit_name: str, data: InverterUnitData
    ) -> tuple[Inverter | None, str | None]:
        """The inverter, or None and why it is not usable yet."""
        protocols = data.protocols or _guess_protocols(data)
        ports: dict[str, int] = {}
        for protocol in ("modbus", "sungrow"):
            if protocol in protocols and data.modbus_port:
                ports[protocol] = data.modbus_port
        if "http" in protocols and data.http_port:
            ports["http"] = data.http_port
        if "http" in protocols and data.ws_port:
            ports["ws"] = data.ws_port
        if not data.host:
            return None, "no host published yet"
        if not ports:
            served = ",".join(protocols) or "none"
            return None, f"no port published for its protocols ({served})"
        inverter = cls(
            relation_id=relation_id,
            unit_name=unit_name,
            host=data.host,
            protocols=protocols,
            ports=ports,
            model=data.model,
            device_code=data.device_code,
            serial=data.serial,
            unit_id=data.unit_id if data.unit_id is not None else 1,
        )
        return inverter, None

    def port_for(self, connection: str) -> int:
        """The port a client connects to for a connection type, as SunGather names them.

        "modbus" and "sungrow" (encrypted Modbus) share the Modbus port; "http" (the
        WiNet-S mode of SunGather/SungrowClient) is the WebSocket port, which those
        clients open first; "ws" is the same; "getparam" is the HTTP API port
        (/device/getParam). Raises LookupError when the inverter does not serve it.
        """
        key = {"modbus": "modbus", "sungrow": "sungrow", "http": "ws", "ws": "ws"}.get(
            connection, "http" if connection == "getparam" else None
        )
        if key is None:
            raise LookupError(
                f"unknown connection {connection!r}; one of modbus, sungrow, http, ws, getparam"
            )
        if key not in self.ports:
            raise LookupError(
                f"{self.unit_name} serves no {connection!r} connection "
                f"(protocols: {','.join(self.protocols)}; ports: {self.ports})"
            )
        return self.ports[key]


class InverterProblem(pydantic.BaseModel):
    """Why a related provider unit is not a usable inverter (yet)."""

    model_config = pydantic.ConfigDict(frozen=True)

    relation_id: int
    unit_name: str
    message: str
    """E.g. "no host published yet" or "malformed data: modbus-port: Input should be ..."."""

    def __str__(self) -> str:
        return f"{self.unit_name}: {self.message}"


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
    """Reads, validates and tracks the inverters of every relation of the endpoint.

    Events: `inverter_available` once a unit's data is usable (on relation-joined or
    -changed), `inverter_changed` when a usable unit's data changes, `inverter_gone`
    when it departs, its relation breaks or its data stops being usable. What was seen
    is kept in the charm's stored state; a relation with no stored record (a charm that
    adopted this library with relations already in place) starts from what it finds, so
    events stay right without prior state: a departing unit is reported gone, a usable
    one available.

    `inverters` lists the usable inverters and `problems` why each other related unit is
    not usable yet; neither ever lists a departing unit (ops still has it in
    `relation.units` during relation-departed).
    """

    on = InverterRequirerEvents()
    _stored = ops.StoredState()

    def __init__(self, charm: ops.CharmBase, relation_name: str = DEFAULT_RELATION_NAME):
        super().__init__(charm, relation_name)
        self._relation_name = relation_name
        self._stored.set_default(seen={}, relations=[])
        self._departing: dict[int, str] = {}
        events = charm.on[relation_name]
        self.framework.observe(events.relation_joined, self._on_relation_changed)
        self.framework.observe(events.relation_changed, self._on_relation_changed)
        self.framework.observe(events.relation_departed, self._on_relation_departed)
        self.framework.observe(events.relation_broken, self._on_relation_broken)

    @property
    def inverters(self) -> list[Inverter]:
        """One inverter per provider unit with usable data, over all relations."""
        found: list[Inverter] = []
        for relation in self.model.relations[self._relation_name]:
            found.extend(self._read(relation)[0].values())
        return found

    @property
    def problems(self) -> list[InverterProblem]:
        """Why each related provider unit without usable data is not an inverter yet.

        Put them in the charm's status, e.g.
        ``WaitingStatus("; ".join(map(str, requirer.problems)))``.
        """
        found: list[InverterProblem] = []
        for relation in self.model.relations[self._relation_name]:
            found.extend(self._read(relation)[1])
        return found

    def _departing_unit(self, relation: ops.Relation) -> str | None:
        """The unit departing this relation in the current hook, if any."""
        if relation.id in self._departing:
            return self._departing[relation.id]
        # An observer of relation-departed that runs before this library's own.
        if os.environ.get("JUJU_RELATION_ID", "").rpartition(":")[2] == str(relation.id):
            return os.environ.get("JUJU_DEPARTING_UNIT") or None
        return None

    def _read(self, relation: ops.Relation) -> tuple[dict[str, Inverter], list[InverterProblem]]:
        found: dict[str, Inverter] = {}
        problems: list[InverterProblem] = []
        departing = self._departing_unit(relation)
        for unit in sorted(relation.units, key=lambda u: u.name):
            if unit.name == departing:
                continue
            try:
                data = InverterUnitData.from_databag(relation.data[unit])
            except pydantic.ValidationError as e:
                why = f"malformed data: {describe_validation_error(e)}"
                logger.warning("skipping %s: %s", unit.name, why)
                problems.append(
                    InverterProblem(relation_id=relation.id, unit_name=unit.name, message=why)
                )
                continue
            inverter, why = Inverter.from_unit_data_or_problem(relation.id, unit.name, data)
            if inverter is None:
                logger.debug("skipping %s: %s", unit.name, why)
                problems.append(
                    InverterProblem(relation_id=relation.id, unit_name=unit.name, message=str(why))
                )
                continue
            found[unit.name] = inverter
        return found, problems

    def _on_relation_changed(self, event: ops.RelationEvent) -> None:
        self._update(event.relation.id, self._read(event.relation)[0])

    def _on_relation_departed(self, event: ops.RelationDepartedEvent) -> None:
        departing = event.departing_unit
        if departing is not None:
            self._departing[event.relation.id] = departing.name
        current = self._read(event.relation)[0]
        if departing is not None and event.relation.id not in self._stored.relations:
            # No record of this relation: the departing unit may have been in use.
            self._stored.seen[f"{event.relation.id}:{departing.name}"] = ""
        self._update(event.relation.id, current)

    def _on_relation_broken(self, event: ops.RelationBrokenEvent) -> None:
        if event.relation.id not in self._stored.relations:
            for unit in event.relation.units:  # no record: report whatever units ops has
                self._stored.seen[f"{event.relation.id}:{unit.name}"] = ""
        self._update(event.relation.id, {})
        self._stored.relations = [r for r in self._stored.relations if r != event.relation.id]

    def _update(self, relation_id: int, current: dict[str, Inverter]) -> None:
        """Compare with what was seen on the relation and emit the differences."""
        seen = self._stored.seen
        prefix = f"{relation_id}:"
        known = {key[len(prefix) :]: seen[key] for key in list(seen) if key.startswith(prefix)}
        if relation_id not in self._stored.relations:
            self._stored.relations = [*self._stored.relations, relation_id]
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
