"""The `dashboard` option: token in a unit secret, control listener on the pod address."""

from __future__ import annotations

import shlex
import socket

import pytest
from ops import testing
from support.charm import CTL, container, ctl_exec, inverter_entry

from charm import SungrowSimCharm
from dashboard import CTL_TOKEN_ENV, SECRET_LABEL, SERVE_TOKEN_ENV

Ctx = testing.Context[SungrowSimCharm]


def service(out: testing.State) -> dict:
    plan: dict = dict(out.get_container("simulator").plan.to_dict())
    return plan["services"]["sungrow-sim"]


def control_bind(command: str) -> str:
    args = shlex.split(command)
    return args[args.index("--control-bind") + 1]


def token_secret(value: str = "tok-123") -> testing.Secret:
    return testing.Secret(tracked_content={"token": value}, owner="unit", label=SECRET_LABEL)


def test_off_by_default_keeps_the_control_api_on_loopback_without_a_token(ctx: Ctx):
    out = ctx.run(ctx.on.pebble_ready(container()), testing.State(containers={container()}))

    assert control_bind(service(out)["command"]) == "127.0.0.1"
    assert SERVE_TOKEN_ENV not in service(out)["environment"]
    assert not [s for s in out.secrets if s.label == SECRET_LABEL]
    assert 8090 not in {p.port for p in out.opened_ports}


def test_on_makes_a_unit_secret_and_passes_its_token_in_the_environment(ctx: Ctx):
    state = testing.State(containers={container()}, config={"dashboard": True})

    out = ctx.run(ctx.on.pebble_ready(container()), state)

    (secret,) = [s for s in out.secrets if s.label == SECRET_LABEL]
    assert secret.owner == "unit"
    value = secret.tracked_content["token"]
    assert len(value) >= 24
    assert control_bind(service(out)["command"]) == "0.0.0.0"
    assert service(out)["environment"][SERVE_TOKEN_ENV] == value
    assert value not in service(out)["command"]
    assert 8090 in {p.port for p in out.opened_ports}


def test_the_token_is_kept_across_events(ctx: Ctx):
    state = testing.State(
        containers={container()}, config={"dashboard": True}, secrets={token_secret()}
    )

    out = ctx.run(ctx.on.config_changed(), state)

    assert [s.label for s in out.secrets].count(SECRET_LABEL) == 1
    assert service(out)["environment"][SERVE_TOKEN_ENV] == "tok-123"


def test_get_dashboard_returns_the_url_and_the_token(ctx: Ctx, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(socket, "getfqdn", lambda: "unit-0.app-endpoints.model.svc.cluster.local")
    state = testing.State(
        containers={container()}, config={"dashboard": True}, secrets={token_secret()}
    )

    ctx.run(ctx.on.action("get-dashboard"), state)

    assert ctx.action_results == {
        "url": "http://unit-0.app-endpoints.model.svc.cluster.local:8090/",
        "token": "tok-123",
    }


def test_get_dashboard_fails_with_advice_when_the_option_is_off(ctx: Ctx):
    state = testing.State(containers={container()})

    with pytest.raises(testing.ActionFailed) as failed:
        ctx.run(ctx.on.action("get-dashboard"), state)

    assert "juju config APP dashboard=true" in failed.value.message


def test_actions_send_the_token_to_ctl_when_the_dashboard_is_on(ctx: Ctx):
    import json

    simulator = container(execs={ctl_exec("set-power", stdout=json.dumps(inverter_entry()))})
    state = testing.State(
        containers={simulator}, config={"dashboard": True}, secrets={token_secret()}
    )

    ctx.run(ctx.on.action("set-power", params={"watts": 100}), state)

    (call,) = ctx.exec_history["simulator"]
    assert call.command == [*CTL, "set-power", "100"]
    assert call.environment == {CTL_TOKEN_ENV: "tok-123"}
