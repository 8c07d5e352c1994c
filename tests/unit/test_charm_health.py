"""Health the kubelet can live with, and a status that follows the ready check.

Juju starts the workload container as `pebble run --hold` with the rock's layers loaded
and points the kubelet's liveness probe at Pebble's `/v1/health?level=alive`: any
alive-level check that fails while the service is not running (invalid config, slow
start) gets the container killed in a loop. These tests load the rock's real layer from
rock/rockcraft.yaml, as Juju does, and check the plan and the status the charm keeps.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from ops import pebble, testing
from support.charm import container

from charm import SungrowSimCharm
from config import Config
from layer import READY_CHECK, SERVICE_NAME, make_layer

Ctx = testing.Context[SungrowSimCharm]

ROCKCRAFT_YAML = Path(__file__).resolve().parents[2] / "rock" / "rockcraft.yaml"
ACTIVE = testing.ActiveStatus("SG10RT modbus+sungrow+http")
WAITING_READY = testing.MaintenanceStatus("waiting for the simulator to be ready")
FAILING = testing.MaintenanceStatus(
    "simulator not ready: check 'ready' failing, Pebble restarts it"
)


def rock_layer() -> pebble.Layer:
    """The rock's own services and checks, the layer Juju's Pebble starts with."""
    project = yaml.safe_load(ROCKCRAFT_YAML.read_text())
    return pebble.Layer({"services": project["services"], "checks": project.get("checks", {})})


def alive_checks(plan: pebble.Plan) -> list[str]:
    return [name for name, check in plan.checks.items() if check.level == pebble.CheckLevel.ALIVE]


def ready_info(successes: int | None, *, status=pebble.CheckStatus.UP, failures=0, change="c1"):
    return testing.CheckInfo(
        READY_CHECK,
        level=pebble.CheckLevel.READY,
        status=status,
        successes=successes,
        failures=failures,
        change_id=pebble.ChangeID(change),
    )


def charm_layers(**config) -> dict[str, pebble.Layer]:
    return {"rock": rock_layer(), SERVICE_NAME: make_layer(Config(**config), "SIM0000000")}


def running(info: testing.CheckInfo, **config) -> testing.Container:
    return container(
        layers=charm_layers(**config),
        service_statuses={SERVICE_NAME: pebble.ServiceStatus.ACTIVE},
        check_infos=frozenset({info}),
    )


def test_the_rock_layer_has_no_alive_level_check():
    assert alive_checks(testing.Container("x", layers={"rock": rock_layer()}).plan) == []


@pytest.mark.parametrize("bad", [{"model": "NOPE"}, {"modbus-port": 0}, {"timezone": "Mars/Base"}])
def test_invalid_config_keeps_a_plan_with_no_alive_level_check(ctx: Ctx, bad: dict):
    held = container(layers={"rock": rock_layer()})  # `pebble run --hold`: nothing started

    out = ctx.run(ctx.on.pebble_ready(held), testing.State(containers={held}, config=bad))

    simulator = out.get_container("simulator")
    assert alive_checks(simulator.plan) == []
    assert simulator.layers == held.layers  # the charm added nothing
    assert isinstance(out.unit_status, testing.BlockedStatus)


def test_the_charm_layer_over_the_rock_layer_has_no_alive_level_check(ctx: Ctx):
    held = container(layers={"rock": rock_layer()})

    out = ctx.run(ctx.on.pebble_ready(held), testing.State(containers={held}))

    plan = out.get_container("simulator").plan
    assert alive_checks(plan) == []
    assert plan.checks[READY_CHECK].level == pebble.CheckLevel.READY
    assert plan.services[SERVICE_NAME].on_check_failure == {READY_CHECK: "restart"}


def test_a_check_failed_event_turns_the_status_away_from_active(ctx: Ctx):
    up = running(ready_info(4))
    assert ctx.run(ctx.on.update_status(), testing.State(containers={up})).unit_status == ACTIVE
    down_info = ready_info(4, status=pebble.CheckStatus.DOWN, failures=3)
    down = running(down_info)

    out = ctx.run(ctx.on.pebble_check_failed(down, down_info), testing.State(containers={down}))

    assert out.unit_status == FAILING


def test_a_check_recovered_event_brings_active_back(ctx: Ctx):
    info = ready_info(5)
    recovered = running(info)

    out = ctx.run(
        ctx.on.pebble_check_recovered(recovered, info), testing.State(containers={recovered})
    )

    assert out.unit_status == ACTIVE


def test_a_check_that_is_up_but_never_passed_since_the_replan_is_not_active(ctx: Ctx):
    # The check passed 5 times for the old command; config-changed replans (new seed).
    before = running(ready_info(5))
    replanned = ctx.run(
        ctx.on.config_changed(), testing.State(containers={before}, config={"seed": 7})
    )
    assert "--seed 7 " in replanned.get_container("simulator").plan.services[SERVICE_NAME].command
    assert replanned.unit_status == WAITING_READY

    # Chained: the next run sees one more success of the same check run.
    after = dataclasses.replace(
        replanned.get_container("simulator"), check_infos=frozenset({ready_info(6)})
    )
    out = ctx.run(ctx.on.update_status(), dataclasses.replace(replanned, containers={after}))

    assert out.unit_status == ACTIVE


def test_a_restarted_check_counts_from_zero(ctx: Ctx):
    before = running(ready_info(5))
    replanned = ctx.run(
        ctx.on.config_changed(), testing.State(containers={before}, config={"seed": 7})
    )

    # Pebble restarted the check (a new change): its first success is enough.
    fresh = dataclasses.replace(
        replanned.get_container("simulator"),
        check_infos=frozenset({ready_info(0, change="c2")}),
    )
    waiting = ctx.run(ctx.on.update_status(), dataclasses.replace(replanned, containers={fresh}))
    passed = dataclasses.replace(fresh, check_infos=frozenset({ready_info(1, change="c2")}))
    out = ctx.run(ctx.on.update_status(), dataclasses.replace(waiting, containers={passed}))

    assert waiting.unit_status == WAITING_READY
    assert out.unit_status == ACTIVE


def test_an_unchanged_layer_keeps_an_earned_active(ctx: Ctx):
    # No replan: successes from before this hook still count.
    up = running(ready_info(2))

    out = ctx.run(ctx.on.config_changed(), testing.State(containers={up}))

    assert out.unit_status == ACTIVE


def test_a_check_still_below_threshold_stays_active(ctx: Ctx):
    # One failure of three: Pebble still calls it up; no flapping status.
    info = ready_info(3, failures=1)

    out = ctx.run(ctx.on.update_status(), testing.State(containers={running(info)}))

    assert out.unit_status == ACTIVE
