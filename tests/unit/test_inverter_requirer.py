"""A consumer reads inverters through InverterRequirer: validation, tolerance and events."""

from __future__ import annotations

import dataclasses
import logging

import ops
import pydantic
import pytest
from charms.sungrow_sim_k8s.v0.inverter import (
    EXAMPLE_UNIT_DATA,
    Inverter,
    InverterAvailableEvent,
    InverterChangedEvent,
    InverterEvent,
    InverterGoneEvent,
    InverterRequirer,
    InverterUnitData,
    describe_validation_error,
    relation_for_testing,
)
from ops import testing

META = {"name": "consumer", "requires": {"inverter": {"interface": "inverter"}}}


class ConsumerCharm(ops.CharmBase):
    """Records what the requirer reports."""

    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self.requirer = InverterRequirer(self)
        self.seen: list[Inverter] = []
        framework.observe(self.on.update_status, self._on_update_status)

    def _on_update_status(self, _: ops.EventBase) -> None:
        self.seen = self.requirer.inverters


@pytest.fixture
def ctx() -> testing.Context[ConsumerCharm]:
    return testing.Context(ConsumerCharm, meta=META)


Ctx = testing.Context[ConsumerCharm]


def inverter_events(ctx: Ctx) -> list[InverterEvent]:
    return [e for e in ctx.emitted_events if isinstance(e, InverterEvent)]


def inverters(ctx: Ctx, state: testing.State) -> list[Inverter]:
    with ctx(ctx.on.update_status(), state) as manager:
        manager.run()
        return manager.charm.seen


def changed(ctx: Ctx, relation: testing.Relation, state: testing.State) -> testing.State:
    return ctx.run(ctx.on.relation_changed(relation, remote_unit=0), state)


def test_complete_data_gives_one_inverter_with_everything_to_connect(ctx: Ctx):
    relation = relation_for_testing()

    found = inverters(ctx, testing.State(relations={relation}))

    assert found == [
        Inverter(
            relation_id=relation.id,
            unit_name="sungrow-sim-k8s/0",
            host="sungrow-sim-k8s-0.sungrow-sim-k8s-endpoints.testing.svc.cluster.local",
            protocols=("modbus", "sungrow", "http"),
            ports={"modbus": 502, "sungrow": 502, "http": 80, "ws": 8082},
            model="SG10RT",
            device_code=9267,
            serial="SIM0000000",
            unit_id=1,
        )
    ]


def test_each_provider_unit_is_one_inverter(ctx: Ctx):
    second = EXAMPLE_UNIT_DATA.model_copy(update={"serial": "SIM0000001", "unit_id": 2})
    relation = relation_for_testing({0: EXAMPLE_UNIT_DATA, 1: second})

    found = inverters(ctx, testing.State(relations={relation}))

    assert [(i.unit_name, i.serial, i.unit_id) for i in found] == [
        ("sungrow-sim-k8s/0", "SIM0000000", 1),
        ("sungrow-sim-k8s/1", "SIM0000001", 2),
    ]


def test_complete_data_emits_inverter_available(ctx: Ctx):
    relation = relation_for_testing()

    changed(ctx, relation, testing.State(relations={relation}))

    events = inverter_events(ctx)
    assert [type(e) for e in events] == [InverterAvailableEvent]
    assert events[0].unit_name == "sungrow-sim-k8s/0"
    assert events[0].inverter is not None
    assert events[0].inverter.ports["modbus"] == 502


def test_partial_data_without_ports_is_not_an_inverter_yet(ctx: Ctx):
    relation = relation_for_testing({0: {"host": "sim.example", "model": "SG10RT"}})
    state = testing.State(relations={relation})

    changed(ctx, relation, state)

    assert inverter_events(ctx) == []
    assert inverters(ctx, state) == []


def test_partial_data_becomes_available_once_complete(ctx: Ctx):
    partial = relation_for_testing({0: {"host": "sim.example"}})
    first = changed(ctx, partial, testing.State(relations={partial}))
    complete = dataclasses.replace(
        partial, remote_units_data={0: {"host": "sim.example", "modbus-port": "502"}}
    )

    changed(ctx, complete, dataclasses.replace(first, relations={complete}))

    events = inverter_events(ctx)
    assert [type(e) for e in events] == [InverterAvailableEvent]


def test_a_missing_host_is_not_usable_even_with_an_ingress_address(ctx: Ctx):
    # The ingress address of a Kubernetes provider is its application's ClusterIP, which
    # can reach another unit: no fallback.
    relation = relation_for_testing({0: {"modbus-port": "502", "ingress-address": "10.1.2.3"}})

    found = inverters(ctx, testing.State(relations={relation}))

    assert found == []


def test_ports_without_protocols_imply_the_protocols(ctx: Ctx):
    relation = relation_for_testing({0: {"host": "sim", "modbus-port": "5020", "ws-port": "1"}})

    found = inverters(ctx, testing.State(relations={relation}))

    assert found[0].protocols == ("modbus", "http")
    assert found[0].ports == {"modbus": 5020, "ws": 1}


def test_unknown_protocols_are_kept_and_do_not_break_reading(ctx: Ctx):
    data = {"host": "sim", "modbus-port": "502", "protocols": "modbus,mqtt"}
    relation = relation_for_testing({0: data})

    found = inverters(ctx, testing.State(relations={relation}))

    assert found[0].protocols == ("modbus", "mqtt")
    assert found[0].ports == {"modbus": 502}


def test_unknown_keys_are_ignored(ctx: Ctx):
    data = {**EXAMPLE_UNIT_DATA.to_databag(), "firmware": "v2"}
    relation = relation_for_testing({0: data})

    found = inverters(ctx, testing.State(relations={relation}))

    assert found[0].model == "SG10RT"


def test_a_malformed_unit_is_skipped_with_a_warning(ctx: Ctx, caplog: pytest.LogCaptureFixture):
    bad = {**EXAMPLE_UNIT_DATA.to_databag(), "modbus-port": "five-oh-two"}
    relation = relation_for_testing({0: bad, 1: EXAMPLE_UNIT_DATA})

    with caplog.at_level(logging.WARNING):
        found = inverters(ctx, testing.State(relations={relation}))

    assert [i.unit_name for i in found] == ["sungrow-sim-k8s/1"]
    assert "skipping sungrow-sim-k8s/0: malformed data: modbus-port:" in caplog.text


def test_an_out_of_range_port_is_malformed(ctx: Ctx):
    relation = relation_for_testing({0: {"host": "sim", "modbus-port": "70000"}})

    assert inverters(ctx, testing.State(relations={relation})) == []


def test_malformed_data_emits_no_event(ctx: Ctx):
    relation = relation_for_testing({0: {"host": "sim", "unit-id": "one"}})

    changed(ctx, relation, testing.State(relations={relation}))

    assert inverter_events(ctx) == []


def test_changed_data_emits_inverter_changed(ctx: Ctx):
    relation = relation_for_testing()
    first = changed(ctx, relation, testing.State(relations={relation}))
    moved = EXAMPLE_UNIT_DATA.model_copy(update={"modbus_port": 1502})
    updated = dataclasses.replace(relation, remote_units_data={0: moved.to_databag()})

    changed(ctx, updated, dataclasses.replace(first, relations={updated}))

    events = inverter_events(ctx)
    assert [type(e) for e in events] == [InverterAvailableEvent, InverterChangedEvent]
    assert events[1].inverter is not None
    assert events[1].inverter.ports["modbus"] == 1502


def test_unchanged_data_emits_nothing_new(ctx: Ctx):
    relation = relation_for_testing()
    first = changed(ctx, relation, testing.State(relations={relation}))

    changed(ctx, relation, first)

    assert [type(e) for e in inverter_events(ctx)] == [InverterAvailableEvent]


def test_data_turning_malformed_emits_inverter_gone(ctx: Ctx):
    relation = relation_for_testing()
    first = changed(ctx, relation, testing.State(relations={relation}))
    broken = dataclasses.replace(relation, remote_units_data={0: {"modbus-port": "x"}})

    changed(ctx, broken, dataclasses.replace(first, relations={broken}))

    assert [type(e) for e in inverter_events(ctx)] == [InverterAvailableEvent, InverterGoneEvent]


def test_a_departing_unit_emits_inverter_gone(ctx: Ctx):
    relation = relation_for_testing({0: EXAMPLE_UNIT_DATA, 1: EXAMPLE_UNIT_DATA})
    first = changed(ctx, relation, testing.State(relations={relation}))

    ctx.run(ctx.on.relation_departed(relation, remote_unit=1, departing_unit=1), first)

    gone = [e for e in inverter_events(ctx) if isinstance(e, InverterGoneEvent)]
    assert [(e.unit_name, e.inverter) for e in gone] == [("sungrow-sim-k8s/1", None)]


def test_a_broken_relation_emits_inverter_gone_for_every_unit(ctx: Ctx):
    relation = relation_for_testing({0: EXAMPLE_UNIT_DATA, 1: EXAMPLE_UNIT_DATA})
    first = changed(ctx, relation, testing.State(relations={relation}))

    ctx.run(ctx.on.relation_broken(relation), first)

    gone = [e.unit_name for e in inverter_events(ctx) if isinstance(e, InverterGoneEvent)]
    assert gone == ["sungrow-sim-k8s/0", "sungrow-sim-k8s/1"]


def test_an_event_survives_deferral():
    class DeferringCharm(ConsumerCharm):
        def __init__(self, framework: ops.Framework):
            super().__init__(framework)
            self.got: list[Inverter | None] = []
            framework.observe(self.requirer.on.inverter_available, self._on_available)

        def _on_available(self, event: InverterAvailableEvent) -> None:
            self.got.append(event.inverter)
            if len(self.got) == 1:
                event.defer()

    ctx = testing.Context(DeferringCharm, meta=META)
    relation = relation_for_testing()
    first = ctx.run(
        ctx.on.relation_changed(relation, remote_unit=0), testing.State(relations={relation})
    )

    with ctx(ctx.on.update_status(), first) as manager:
        manager.run()
        got = manager.charm.got

    assert len(got) == 1
    assert got[0] is not None
    assert got[0].serial == "SIM0000000"


def test_unit_data_round_trips_through_the_databag():
    assert InverterUnitData.from_databag(EXAMPLE_UNIT_DATA.to_databag()) == EXAMPLE_UNIT_DATA


def test_empty_unit_data_is_valid_and_writes_nothing():
    assert InverterUnitData.from_databag({}).to_databag() == {}


def test_the_testing_relation_carries_the_example_data_by_default():
    relation = relation_for_testing()

    assert relation.endpoint == "inverter"
    assert relation.interface == "inverter"
    assert relation.remote_units_data[0]["model"] == "SG10RT"


def test_describe_validation_error_names_each_hyphenated_field_on_one_line():
    with pytest.raises(pydantic.ValidationError) as raised:
        InverterUnitData.from_databag({"modbus-port": "x", "unit-id": "300"})

    line = describe_validation_error(raised.value)

    assert "\n" not in line
    assert line.startswith("modbus-port: Input should be a valid integer")
    assert "; unit-id: Input should be less than or equal to 255" in line
