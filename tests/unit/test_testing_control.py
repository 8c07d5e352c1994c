"""The helpers' control-API side: conversion, parsing, wait_until, Simulator over juju ssh."""

from __future__ import annotations

import io
import json
import shlex
import time
import urllib.request
from typing import Any

import jubilant
import pytest
from sungrow_sim_k8s_testing import (
    LocalSimulator,
    RequestRecord,
    ResultsError,
    Simulator,
    SimulatorState,
    WaitTimeoutError,
    as_results,
    parse_requests,
    parse_settings,
    wait_until,
)
from support.charm import inverter_entry, state_answer
from test_testing_simulator import FakeJuju, fake  # noqa: F401 (the fixture)

from simulator_ctl import to_results

# Contract A's example entry (BRIEF.md), as GET /v1/requests returns it.
REQUESTS = {
    "requests": [
        {
            "protocol": "modbus",
            "peer": "10.1.2.3",
            "unit_id": 1,
            "table": "input",
            "function": "read",
            "address": 5001,
            "count": 10,
            "requests": 12,
            "outcomes": {"ok": 11, "exception-2": 1},
            "last_outcome": "ok",
            "first": "2026-12-01T23:00:00Z",
            "last": "2026-12-01T23:05:00Z",
        }
    ]
}
# Contract B's example (plant-10's GET /v1/settings).
SETTINGS = {
    "unit_id": 1,
    "settings": [
        {
            "name": "ems_mode",
            "address": 13050,
            "value": "forced",
            "raw": 2,
            "unit": None,
            "min": None,
            "max": None,
            "choices": {"self-consumption": 0, "forced": 2},
        }
    ],
}


def test_as_results_is_the_charms_own_conversion():
    answer = json.loads(state_answer())

    assert as_results(answer) == to_results(answer)
    assert as_results(inverter_entry()) == to_results(inverter_entry())


def test_a_raw_ctl_state_does_not_parse_but_parses_after_as_results():
    answer = json.loads(state_answer())

    with pytest.raises(ResultsError):
        SimulatorState.from_results(answer)
    state = SimulatorState.from_results(as_results(answer))

    assert state.ports == {"modbus": 502, "sungrow": 502, "ws": 8082, "http": 80}
    assert state.inverter().reading("active_power_w") == 3200


def test_requests_parse_contract_a():
    (record,) = parse_requests(REQUESTS)

    assert record == RequestRecord(
        protocol="modbus",
        peer="10.1.2.3",
        unit_id=1,
        table="input",
        function="read",
        address=5001,
        count=10,
        requests=12,
        outcomes={"ok": 11, "exception-2": 1},
        last_outcome="ok",
        first="2026-12-01T23:00:00Z",
        last="2026-12-01T23:05:00Z",
    )
    assert record.covers(5001) and record.covers(5010)
    assert not record.covers(5011) and not record.covers(5000)


def test_a_wrong_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="expected a 'requests' list"):
        parse_requests({"error": "not found"})
    with pytest.raises(ValueError, match="expected a 'settings' list"):
        parse_settings({"requests": []})


def test_settings_parse_contract_b():
    (setting,) = parse_settings(SETTINGS)

    assert (setting.name, setting.address, setting.value, setting.raw) == (
        "ems_mode",
        13050,
        "forced",
        2,
    )
    assert setting.choices == {"self-consumption": 0, "forced": 2}


def test_wait_until_returns_the_first_truthy_value():
    calls = iter([None, 0, [], "seen"])

    assert wait_until(lambda: next(calls), timeout=5, interval=0.01) == "seen"


def test_wait_until_times_out_with_what_and_the_last_value():
    start = time.monotonic()

    with pytest.raises(WaitTimeoutError, match=r"power seen: not true after 0.2 s \(last: 0\)"):
        wait_until(lambda: 0, timeout=0.2, interval=0.05, what="power seen")

    assert 0.2 <= time.monotonic() - start < 2


def test_wait_until_ignores_only_the_given_errors():
    attempts: list[int] = []

    def flaky() -> bool:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionRefusedError("restarting")
        return True

    assert wait_until(flaky, timeout=5, interval=0.01, ignore=(OSError,)) is True
    with pytest.raises(KeyError):
        wait_until(lambda: {}["x"], timeout=5, interval=0.01, ignore=(OSError,))


def run_ssh_code(command: str, monkeypatch: pytest.MonkeyPatch, answer: Any) -> dict[str, Any]:
    """Execute the Python that Simulator sends over `juju ssh`, against a stub urlopen."""
    argv = shlex.split(command)
    assert argv[:2] == ["python3", "-c"], argv
    seen: dict[str, Any] = {}

    def urlopen(request: urllib.request.Request, timeout: float) -> io.BytesIO:
        seen.update(url=request.full_url, method=request.get_method(), data=request.data)
        seen["timeout"] = timeout
        return io.BytesIO(json.dumps(answer).encode())

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    exec(compile(argv[2], "ssh-code", "exec"), {})  # noqa: S102 (our own generated code)
    return seen


def test_simulator_requests_read_the_control_api_in_the_container(
    fake: FakeJuju,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    fake.replies.append(
        {"match": ["ssh"], "stdout": json.dumps(REQUESTS), "stderr": "", "returncode": 0}
    )
    fake._save()
    sim = Simulator(jubilant.Juju(model="testing", cli_binary=fake.state / "juju"))

    records = sim.requests(unit_id=1)

    args = fake.calls[0]["args"]
    assert args[0] == "ssh"
    assert "--container" in args and args[args.index("--container") + 1] == "simulator"
    assert "sungrow-sim-k8s/0" in args
    assert [r.address for r in records] == [5001]
    seen = run_ssh_code(args[-1], monkeypatch, REQUESTS)
    assert seen["url"] == "http://127.0.0.1:8090/v1/requests?unit_id=1"
    assert seen["method"] == "GET" and seen["data"] is None
    assert json.loads(capsys.readouterr().out) == REQUESTS


def test_simulator_set_setting_posts_contract_b(
    fake: FakeJuju,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
):
    answer = {"setting": SETTINGS["settings"][0]}
    fake.replies.append(
        {"match": ["ssh"], "stdout": json.dumps(answer), "stderr": "", "returncode": 0}
    )
    fake._save()
    sim = Simulator(jubilant.Juju(model="testing", cli_binary=fake.state / "juju"))

    setting = sim.set_setting("ems_mode", "forced")

    assert setting.value == "forced"
    seen = run_ssh_code(fake.calls[0]["args"][-1], monkeypatch, answer)
    assert seen["url"] == "http://127.0.0.1:8090/v1/settings"
    assert seen["method"] == "POST"
    assert json.loads(seen["data"]) == {"name": "ems_mode", "value": "forced"}


JUJU_ONLY = {"deploy", "wait_active", "units", "run", "control"}


def test_local_simulator_has_every_method_of_simulator_but_the_juju_ones():
    def public(cls: type) -> set[str]:
        return {n for n in vars(cls) if not n.startswith("_") and callable(getattr(cls, n))}

    assert public(Simulator) - JUJU_ONLY <= public(LocalSimulator)
    assert {"requests", "settings", "set_setting", "set_battery", "set_state"} <= public(Simulator)
