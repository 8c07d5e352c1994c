"""Values cross the `inverter` interface unchanged: unit id 0 stays 0, absent means 1."""

from __future__ import annotations

import dataclasses
import logging

import ops
import pydantic
import pytest
from charms.sungrow_sim_k8s.v0.inverter import (
    Inverter,
    InverterEvent,
    InverterProvider,
    InverterRequirer,
    InverterUnitData,
    describe_validation_error,
    relation_for_testing,
)
from ops import testing

META = {"name": "consumer", "requires": {"inverter": {"interface": "inverter"}}}


class Consumer(ops.CharmBase):
    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self.requirer = InverterRequirer(self)
        self.seen: list[Inverter] = []
        framework.observe(self.on.update_status, self._seen)

    def _seen(self, _: ops.EventBase) -> None:
        self.seen = self.requirer.inverters


def read(databag: dict[str, str]) -> Inverter:
    ctx = testing.Context(Consumer, meta=META)
    state = testing.State(relations={relation_for_testing({0: databag})})
    with ctx(ctx.on.update_status(), state) as manager:
        manager.run()
        (found,) = manager.charm.seen
        return found


@pytest.mark.parametrize(
    ("published", "read_back"), [("0", 0), ("1", 1), ("247", 247), ("255", 255)]
)
def test_the_published_unit_id_is_the_one_read(published, read_back):
    assert read({"host": "sim", "modbus-port": "502", "unit-id": published}).unit_id == read_back


def test_no_unit_id_means_unit_1():
    assert read({"host": "sim", "modbus-port": "502"}).unit_id == 1


def test_device_code_zero_and_serial_are_kept():
    found = read({"host": "sim", "modbus-port": "502", "device-code": "0", "serial": "S0"})
    assert found.device_code == 0
    assert found.serial == "S0"


def test_ports_are_bounded_at_1_and_65535_exactly():
    assert read({"host": "sim", "modbus-port": "65535"}).ports == {"modbus": 65535}
    for bad in ("0", "65536"):
        with pytest.raises(pydantic.ValidationError):
            InverterUnitData.from_databag({"modbus-port": bad})
    assert InverterUnitData.from_databag({"modbus-port": "1"}).modbus_port == 1
    assert InverterUnitData.from_databag({"unit-id": "255"}).unit_id == 255
    with pytest.raises(pydantic.ValidationError):
        InverterUnitData.from_databag({"unit-id": "256"})
    with pytest.raises(pydantic.ValidationError):
        InverterUnitData.from_databag({"unit-id": "-1"})


def test_the_databag_uses_hyphenated_keys_both_ways():
    data = InverterUnitData(host=None, modbus_port=502, ws_port=8082, unit_id=0)
    bag = data.to_databag()
    assert bag == {"modbus-port": "502", "ws-port": "8082", "unit-id": "0"}
    assert InverterUnitData.from_databag(bag) == data


def test_protocols_are_guessed_from_the_ports_alone():
    only_ws = read({"host": "sim", "ws-port": "8082"})
    assert only_ws.protocols == ("http",) and only_ws.ports == {"ws": 8082}
    only_modbus = read({"host": "sim", "modbus-port": "502"})
    assert only_modbus.protocols == ("modbus",)
    assert only_modbus.ports == {"modbus": 502}
    modbus_listed = read(
        {"host": "sim", "modbus-port": "502", "ws-port": "8082", "protocols": "modbus"}
    )
    assert modbus_listed.ports == {"modbus": 502}


class ValueErrorModel(pydantic.BaseModel):
    some_field: list[int]

    @pydantic.field_validator("some_field")
    @classmethod
    def _odd(cls, value: list[int]) -> list[int]:
        raise ValueError("must be odd")


def test_validation_errors_name_the_hyphenated_location_without_pydantic_prefixes():
    with pytest.raises(pydantic.ValidationError) as caught:
        ValueErrorModel(some_field=[2])
    assert describe_validation_error(caught.value) == "some-field: must be odd"
    with pytest.raises(pydantic.ValidationError) as caught:
        ValueErrorModel(some_field=["x", 1, "y"])  # type: ignore[list-item]
    text = describe_validation_error(caught.value)
    assert text.startswith("some-field.0: Input should be a valid integer")
    assert "; some-field.2: " in text


def test_a_malformed_or_incomplete_unit_does_not_hide_the_next_one(caplog):
    ctx = testing.Context(Consumer, meta=META)
    relation = relation_for_testing(
        {
            0: {"host": "sim", "modbus-port": "nope"},
            1: {"host": "sim"},
            2: {"host": "ok", "modbus-port": "502"},
        }
    )
    with (
        caplog.at_level(logging.DEBUG),
        ctx(ctx.on.update_status(), testing.State(relations={relation})) as manager,
    ):
        manager.run()
        found = manager.charm.seen
    assert [i.host for i in found] == ["ok"]
    messages = [
        r.getMessage() for r in caplog.records if r.name == "charms.sungrow_sim_k8s.v0.inverter"
    ]
    assert any(
        m.startswith("skipping sungrow-sim-k8s/0: malformed") and "modbus-port" in m
        for m in messages
    ), messages
    assert any(m.startswith("skipping sungrow-sim-k8s/1: no port") for m in messages), messages


class Recorder(ops.CharmBase):
    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self.requirer = InverterRequirer(self, relation_name="pv")
        self.events: list[tuple[str, int, str]] = []
        for name in ("inverter_available", "inverter_changed", "inverter_gone"):
            framework.observe(getattr(self.requirer.on, name), self._record)

    def _record(self, event: InverterEvent) -> None:
        self.events.append((type(event).__name__, event.relation_id, event.unit_name))


PV_META = {"name": "consumer", "requires": {"pv": {"interface": "inverter"}}}


def test_events_carry_the_relation_and_unit_on_a_custom_endpoint():
    ctx = testing.Context(Recorder, meta=PV_META)
    relation = relation_for_testing({0: {"host": "a", "modbus-port": "502"}}, endpoint="pv")
    state = testing.State(relations={relation})
    with ctx(ctx.on.relation_changed(relation, remote_unit=0), state) as manager:
        out = manager.run()
        assert manager.charm.events == [
            ("InverterAvailableEvent", relation.id, "sungrow-sim-k8s/0")
        ]
    with ctx(ctx.on.relation_changed(relation, remote_unit=0), out) as manager:
        out = manager.run()
        assert manager.charm.events == [], "unchanged data must not emit changed"
    moved = dataclasses.replace(
        relation, remote_units_data={0: {"host": "b", "modbus-port": "502"}}
    )
    state = dataclasses.replace(out, relations={moved})
    with ctx(ctx.on.relation_changed(moved, remote_unit=0), state) as manager:
        out = manager.run()
        assert manager.charm.events == [("InverterChangedEvent", relation.id, "sungrow-sim-k8s/0")]
    with ctx(ctx.on.relation_changed(moved, remote_unit=0), out) as manager:
        out = manager.run()
        assert manager.charm.events == [], "the changed data was remembered"
    gone = dataclasses.replace(moved, remote_units_data={0: {}})
    state = dataclasses.replace(out, relations={gone})
    with ctx(ctx.on.relation_changed(gone, remote_unit=0), state) as manager:
        manager.run()
        assert manager.charm.events == [("InverterGoneEvent", relation.id, "sungrow-sim-k8s/0")]


def test_a_deferred_event_restores_its_relation_unit_and_inverter():
    inverter = Inverter(
        relation_id=4, unit_name="sim/0", host="h", protocols=("modbus",), ports={"modbus": 1}
    )
    event = InverterEvent(ops.Handle(None, "kind", "1"), 4, "sim/0", inverter)
    restored = InverterEvent(ops.Handle(None, "kind", "2"), 0, "")
    restored.restore(event.snapshot())
    assert (restored.relation_id, restored.unit_name, restored.inverter) == (4, "sim/0", inverter)
    empty = InverterEvent(ops.Handle(None, "kind", "3"), 5, "sim/1")
    restored.restore(empty.snapshot())
    assert (restored.relation_id, restored.unit_name, restored.inverter) == (5, "sim/1", None)


class TwoEndpoints(ops.CharmBase):
    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self.first = InverterRequirer(self, relation_name="pv")
        self.second = InverterRequirer(self, relation_name="inverter")
        self.events: list[tuple[str, str]] = []
        framework.observe(self.first.on.inverter_available, self._on_first)
        framework.observe(self.second.on.inverter_available, self._on_second)

    def _on_first(self, event: InverterEvent) -> None:
        self.events.append(("pv", event.unit_name))

    def _on_second(self, event: InverterEvent) -> None:
        self.events.append(("inverter", event.unit_name))


def test_two_requirers_on_two_endpoints_keep_apart():
    meta = {
        "name": "consumer",
        "requires": {"pv": {"interface": "inverter"}, "inverter": {"interface": "inverter"}},
    }
    ctx = testing.Context(TwoEndpoints, meta=meta)
    pv = relation_for_testing({0: {"host": "a", "modbus-port": "502"}}, endpoint="pv")
    other = relation_for_testing({0: {"host": "b", "modbus-port": "502"}}, endpoint="inverter")
    state = testing.State(relations={pv, other})
    with ctx(ctx.on.relation_changed(pv, remote_unit=0), state) as manager:
        out = manager.run()
        assert manager.charm.events == [("pv", "sungrow-sim-k8s/0")]
        assert [i.host for i in manager.charm.first.inverters] == ["a"]
        assert [i.host for i in manager.charm.second.inverters] == ["b"]
    with ctx(ctx.on.relation_changed(other, remote_unit=0), out) as manager:
        manager.run()
        assert manager.charm.events == [("inverter", "sungrow-sim-k8s/0")]


def test_a_departing_unit_goes_and_the_others_stay():
    ctx = testing.Context(Recorder, meta=PV_META)
    relation = relation_for_testing(
        {0: {"host": "a", "modbus-port": "502"}, 1: {"host": "b", "modbus-port": "502"}},
        endpoint="pv",
    )
    state = testing.State(relations={relation})
    out = ctx.run(ctx.on.relation_changed(relation, remote_unit=0), state)
    with ctx(ctx.on.relation_departed(relation, remote_unit=0, departing_unit=0), out) as manager:
        manager.run()
        assert manager.charm.events == [("InverterGoneEvent", relation.id, "sungrow-sim-k8s/0")]
        assert [i.host for i in manager.charm.requirer.inverters] == ["b"]  # departing: not listed


class Publisher(ops.CharmBase):
    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self.provider = InverterProvider(self)
        framework.observe(self.on.update_status, self._publish)

    def _publish(self, _: ops.EventBase) -> None:
        self.provider.publish(InverterUnitData(host="h", modbus_port=502))


def test_publishing_on_a_fresh_relation_writes_only_the_fields_set():
    meta = {"name": "sim", "provides": {"inverter": {"interface": "inverter"}}}
    ctx = testing.Context(Publisher, meta=meta)
    relation = testing.Relation("inverter", remote_app_name="consumer")
    out = ctx.run(ctx.on.update_status(), testing.State(relations={relation}, leader=True))
    data = out.get_relation(relation.id).local_unit_data
    assert {k: v for k, v in data.items() if "address" not in k and k != "egress-subnets"} == {
        "host": "h",
        "modbus-port": "502",
    }
