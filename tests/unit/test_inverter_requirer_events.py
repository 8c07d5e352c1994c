"""InverterRequirer's events, problems and departing units, over chained Scenario runs.

Each test feeds the output state of one hook into the next, as Juju would, so stored
state carries over exactly as it does in a deployed charm.
"""

from __future__ import annotations

import dataclasses

import ops
import pytest
from charms.sungrow_sim_k8s.v0.inverter import (
    EXAMPLE_UNIT_DATA,
    Inverter,
    InverterAvailableEvent,
    InverterChangedEvent,
    InverterEvent,
    InverterGoneEvent,
    InverterProblem,
    InverterRequirer,
    relation_for_testing,
)
from ops import testing
from support.requirer import EarlyObserver

META = {"name": "consumer", "requires": {"inverter": {"interface": "inverter"}}}


class Recorder(ops.CharmBase):
    """Records, in every hook, what the requirer lists at the end of it."""

    last: dict[str, list] = {}  # noqa: RUF012 (a test's scratch space)

    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self.requirer = InverterRequirer(self)
        framework.observe(self.on.collect_unit_status, self._on_collect_status)

    def _on_collect_status(self, event: ops.CollectStatusEvent) -> None:
        Recorder.last = {
            "inverters": self.requirer.inverters,
            "problems": self.requirer.problems,
        }
        event.add_status(ops.ActiveStatus())


Ctx = testing.Context[Recorder]


@pytest.fixture
def ctx() -> Ctx:
    Recorder.last = {}
    return testing.Context(Recorder, meta=META)


def events(ctx: testing.Context) -> list[tuple[str, str]]:
    return [
        (type(e).__name__, e.unit_name) for e in ctx.emitted_events if isinstance(e, InverterEvent)
    ]


def two_units() -> testing.Relation:
    second = EXAMPLE_UNIT_DATA.model_copy(update={"host": "sim-1.example", "serial": "SIM1"})
    return relation_for_testing({0: EXAMPLE_UNIT_DATA, 1: second})


def test_joined_with_full_data_emits_one_inverter_available(ctx: Ctx):
    relation = relation_for_testing()

    ctx.run(ctx.on.relation_joined(relation, remote_unit=0), testing.State(relations={relation}))

    found = [e for e in ctx.emitted_events if isinstance(e, InverterEvent)]
    assert [type(e) for e in found] == [InverterAvailableEvent]
    assert isinstance(found[0].inverter, Inverter)
    assert found[0].inverter.host == EXAMPLE_UNIT_DATA.host


def test_joined_then_changed_with_the_same_data_emits_available_once(ctx: Ctx):
    relation = relation_for_testing()
    joined = ctx.run(
        ctx.on.relation_joined(relation, remote_unit=0), testing.State(relations={relation})
    )

    ctx.run(ctx.on.relation_changed(relation, remote_unit=0), joined)

    assert events(ctx) == [("InverterAvailableEvent", "sungrow-sim-k8s/0")]


def test_departed_unit_0_leaves_inverters_without_unit_0(ctx: Ctx):
    relation = two_units()
    joined = ctx.run(
        ctx.on.relation_changed(relation, remote_unit=0), testing.State(relations={relation})
    )
    assert [i.unit_name for i in Recorder.last["inverters"]] == [
        "sungrow-sim-k8s/0",
        "sungrow-sim-k8s/1",
    ]

    # During relation-departed ops still lists unit 0 in relation.units.
    ctx.run(ctx.on.relation_departed(relation, remote_unit=0, departing_unit=0), joined)

    assert [i.unit_name for i in Recorder.last["inverters"]] == ["sungrow-sim-k8s/1"]
    assert Recorder.last["problems"] == []
    assert events(ctx)[-1] == ("InverterGoneEvent", "sungrow-sim-k8s/0")


def test_a_departing_unit_is_not_listed_by_an_observer_that_runs_first():
    ctx = testing.Context(EarlyObserver, meta=META)
    relation = two_units()
    joined = ctx.run(
        ctx.on.relation_changed(relation, remote_unit=0), testing.State(relations={relation})
    )

    with ctx(ctx.on.relation_departed(relation, remote_unit=0, departing_unit=0), joined) as mgr:
        mgr.run()
        assert mgr.charm.during_departed == ["sungrow-sim-k8s/1"]


def test_malformed_data_is_a_problem_named_for_unit_0(ctx: Ctx):
    bad = {**EXAMPLE_UNIT_DATA.to_databag(), "modbus-port": "five-oh-two"}
    relation = relation_for_testing({0: bad})

    ctx.run(ctx.on.relation_changed(relation, remote_unit=0), testing.State(relations={relation}))

    (problem,) = Recorder.last["problems"]
    assert isinstance(problem, InverterProblem)
    assert problem.unit_name == "sungrow-sim-k8s/0"
    assert problem.message.startswith("malformed data: modbus-port: Input should be")
    assert str(problem).startswith("sungrow-sim-k8s/0: malformed data: modbus-port:")
    assert Recorder.last["inverters"] == []
    assert events(ctx) == []


@pytest.mark.parametrize(
    ("databag", "message"),
    [
        ({}, "no host published yet"),
        ({"modbus-port": "502"}, "no host published yet"),
        ({"host": "sim", "protocols": "modbus"}, "no port published for its protocols (modbus)"),
        ({"host": "sim", "unit-id": "300"}, "malformed data: unit-id: Input should be less"),
    ],
)
def test_each_unusable_unit_says_why(ctx: Ctx, databag: dict[str, str], message: str):
    relation = relation_for_testing({0: databag, 1: EXAMPLE_UNIT_DATA})

    ctx.run(ctx.on.relation_changed(relation, remote_unit=0), testing.State(relations={relation}))

    assert [p.unit_name for p in Recorder.last["problems"]] == ["sungrow-sim-k8s/0"]
    assert Recorder.last["problems"][0].message.startswith(message)
    assert [i.unit_name for i in Recorder.last["inverters"]] == ["sungrow-sim-k8s/1"]


def test_partial_then_complete_data_emits_available_then_nothing(ctx: Ctx):
    partial = relation_for_testing({0: {"modbus-port": "502"}})
    first = ctx.run(
        ctx.on.relation_joined(partial, remote_unit=0), testing.State(relations={partial})
    )
    assert events(ctx) == []
    complete = dataclasses.replace(partial, remote_units_data={0: EXAMPLE_UNIT_DATA.to_databag()})

    second = ctx.run(
        ctx.on.relation_changed(complete, remote_unit=0),
        dataclasses.replace(first, relations={complete}),
    )
    ctx.run(ctx.on.relation_changed(complete, remote_unit=0), second)

    assert events(ctx) == [("InverterAvailableEvent", "sungrow-sim-k8s/0")]
    assert Recorder.last["problems"] == []


def test_changed_with_prior_state_emits_inverter_changed(ctx: Ctx):
    relation = relation_for_testing()
    first = ctx.run(
        ctx.on.relation_joined(relation, remote_unit=0), testing.State(relations={relation})
    )
    moved = EXAMPLE_UNIT_DATA.model_copy(update={"ws_port": 18082})
    updated = dataclasses.replace(relation, remote_units_data={0: moved.to_databag()})

    ctx.run(
        ctx.on.relation_changed(updated, remote_unit=0),
        dataclasses.replace(first, relations={updated}),
    )

    assert [name for name, _ in events(ctx)] == ["InverterAvailableEvent", "InverterChangedEvent"]
    assert Recorder.last["inverters"][0].port_for("http") == 18082


def test_changed_without_prior_state_emits_available(ctx: Ctx):
    # A charm that adopts the library with the relation already in place: no stored record.
    relation = relation_for_testing()

    ctx.run(ctx.on.relation_changed(relation, remote_unit=0), testing.State(relations={relation}))

    assert events(ctx) == [("InverterAvailableEvent", "sungrow-sim-k8s/0")]


def test_departed_without_prior_state_emits_gone_for_the_departing_unit(ctx: Ctx):
    relation = two_units()

    ctx.run(
        ctx.on.relation_departed(relation, remote_unit=0, departing_unit=0),
        testing.State(relations={relation}),
    )

    assert ("InverterGoneEvent", "sungrow-sim-k8s/0") in events(ctx)
    assert ("InverterAvailableEvent", "sungrow-sim-k8s/1") in events(ctx)
    assert [i.unit_name for i in Recorder.last["inverters"]] == ["sungrow-sim-k8s/1"]


def test_departed_with_prior_state_emits_only_gone(ctx: Ctx):
    relation = two_units()
    joined = ctx.run(
        ctx.on.relation_changed(relation, remote_unit=0), testing.State(relations={relation})
    )

    ctx.run(ctx.on.relation_departed(relation, remote_unit=1, departing_unit=1), joined)

    assert events(ctx)[2:] == [("InverterGoneEvent", "sungrow-sim-k8s/1")]


def test_a_departed_unit_that_was_never_usable_emits_nothing(ctx: Ctx):
    relation = relation_for_testing({0: {"modbus-port": "502"}, 1: EXAMPLE_UNIT_DATA})
    joined = ctx.run(
        ctx.on.relation_changed(relation, remote_unit=0), testing.State(relations={relation})
    )

    ctx.run(ctx.on.relation_departed(relation, remote_unit=0, departing_unit=0), joined)

    assert events(ctx) == [("InverterAvailableEvent", "sungrow-sim-k8s/1")]
    assert Recorder.last["problems"] == []  # the departing unit is not a problem either


def test_broken_with_prior_state_emits_gone_for_each_unit(ctx: Ctx):
    relation = two_units()
    joined = ctx.run(
        ctx.on.relation_changed(relation, remote_unit=0), testing.State(relations={relation})
    )

    out = ctx.run(ctx.on.relation_broken(relation), joined)

    assert events(ctx)[2:] == [
        ("InverterGoneEvent", "sungrow-sim-k8s/0"),
        ("InverterGoneEvent", "sungrow-sim-k8s/1"),
    ]
    # Re-relating later starts afresh: the stored record of the relation is dropped.
    stored = next(s for s in out.stored_states if s.owner_path and "inverter" in s.owner_path)
    assert stored.content["seen"] == {}
    assert relation.id not in stored.content["relations"]


def test_gone_then_back_emits_available_again(ctx: Ctx):
    relation = relation_for_testing()
    first = ctx.run(
        ctx.on.relation_joined(relation, remote_unit=0), testing.State(relations={relation})
    )
    broken = dataclasses.replace(relation, remote_units_data={0: {"host": "sim"}})
    second = ctx.run(
        ctx.on.relation_changed(broken, remote_unit=0),
        dataclasses.replace(first, relations={broken}),
    )
    ctx.run(
        ctx.on.relation_changed(relation, remote_unit=0),
        dataclasses.replace(second, relations={relation}),
    )

    assert [name for name, _ in events(ctx)] == [
        "InverterAvailableEvent",
        "InverterGoneEvent",
        "InverterAvailableEvent",
    ]


def test_port_for_maps_connection_types_to_ports():
    inverter = Inverter.from_unit_data(1, "sim/0", EXAMPLE_UNIT_DATA)
    assert inverter is not None

    assert inverter.port_for("modbus") == 502
    assert inverter.port_for("sungrow") == 502
    assert inverter.port_for("http") == 8082  # SunGather's http mode opens the WebSocket
    assert inverter.port_for("ws") == 8082
    assert inverter.port_for("getparam") == 80
    with pytest.raises(LookupError, match="unknown connection 'mqtt'"):
        inverter.port_for("mqtt")


def test_port_for_a_protocol_not_served_says_what_is():
    data = EXAMPLE_UNIT_DATA.model_copy(update={"protocols": ("modbus",)})
    inverter = Inverter.from_unit_data(1, "sim/0", data)
    assert inverter is not None

    with pytest.raises(LookupError, match=r"serves no 'http' connection \(protocols: modbus"):
        inverter.port_for("http")


def test_inverter_gone_carries_no_inverter(ctx: Ctx):
    relation = relation_for_testing()
    first = ctx.run(
        ctx.on.relation_joined(relation, remote_unit=0), testing.State(relations={relation})
    )

    ctx.run(ctx.on.relation_broken(relation), first)

    gone = [e for e in ctx.emitted_events if isinstance(e, InverterGoneEvent)]
    changed = [e for e in ctx.emitted_events if isinstance(e, InverterChangedEvent)]
    assert [e.inverter for e in gone] == [None]
    assert changed == []
