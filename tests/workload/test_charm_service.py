"""The charm's Pebble service, run as a process, serves what the charm promises.

The layer comes from the charm's own pure function (src/layer.py). Its command and
environment are used as they are, except what cannot work on a shared test machine:
every port flag becomes 0 (OS-assigned), --bind becomes 127.0.0.1 and --state-dir a
temporary directory; --ready-file is appended to learn the ports. The program is the same
`sungrow-sim` console script, taken from this environment.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pymodbus.client import AsyncModbusTcpClient

import dashboard
from actions import ACTIONS
from config import Config
from layer import SERVICE_NAME, make_layer
from simulator_ctl import ctl_command, own_inverter, to_results
from sungrow_models import MODELS
from tools.wire import decode_ascii

PORT_FLAGS = ("--modbus-port", "--ws-port", "--http-port", "--control-port", "--metrics-port")
START_TIMEOUT = 30.0
JUJU_KEY = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
SUNGROW_SIM = Path(sys.executable).with_name("sungrow-sim")


@dataclass
class Running:
    """A simulator started from the charm's layer."""

    config: Config
    layer_command: list[str]
    ports: dict[str, int]
    checks: dict[str, Any]
    pid: int

    def flag(self, name: str) -> str:
        return self.layer_command[self.layer_command.index(name) + 1]


def local_argv(command: str, state_dir: Path, ready_file: Path) -> list[str]:
    """Substitute the machine-specific flag values; fail if the charm dropped one."""
    argv = shlex.split(command)
    assert argv[0] == "sungrow-sim"
    argv[0] = str(SUNGROW_SIM)
    replacements = dict.fromkeys(PORT_FLAGS, "0")
    replacements |= {"--bind": "127.0.0.1", "--state-dir": str(state_dir)}
    replacements["--metrics-bind"] = "127.0.0.1"
    for flag, value in replacements.items():
        assert flag in argv, f"the charm's command lacks {flag}"
        argv[argv.index(flag) + 1] = value
    return [*argv, "--ready-file", str(ready_file)]


def wait_ready(process: subprocess.Popen[bytes], ready_file: Path) -> dict[str, int]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if ready_file.exists() and ready_file.read_text().strip():
            return json.loads(ready_file.read_text())
        if process.poll() is not None:
            _, stderr = process.communicate()
            pytest.fail(f"simulator exited with {process.returncode}:\n{stderr.decode()}")
        time.sleep(0.1)
    pytest.fail(f"no ready file after {START_TIMEOUT}s")


def start(config: Config, tmp_path: Path, token: str | None = None) -> Iterator[Running]:
    layer = make_layer(config, config.serial_for(0))
    if token is not None:
        layer = dashboard.expose(layer, token)
    service = layer.services[SERVICE_NAME]
    state_dir, ready_file = tmp_path / "state", tmp_path / "ready.json"
    state_dir.mkdir()
    process = subprocess.Popen(
        local_argv(service.command, state_dir, ready_file),
        env={**os.environ, **service.environment},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        ports = wait_ready(process, ready_file)
        checks = {name: check.to_dict() for name, check in layer.checks.items()}
        yield Running(config, shlex.split(service.command), ports, checks, process.pid)
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


CONFIGS = {
    "defaults": {},
    "hybrid-unit-3": {
        "model": "SH10RT",
        "serial": "ABC1234567",
        "unit_id": 3,
        "protocols": "modbus,sungrow",
        "time_scale": 60.0,
        "timezone": "Europe/Berlin",
        "array_kwp": 12.0,
        "battery_kwh": 9.6,
    },
}


@pytest.fixture(params=list(CONFIGS), ids=list(CONFIGS))
def charm_service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Running]:
    yield from start(Config.model_validate(CONFIGS[request.param]), tmp_path)


@pytest.fixture(scope="module")
def hybrid_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One hybrid for the control tests: every action is valid on it, in any order."""
    yield from start(Config(model="SH10RT"), tmp_path_factory.mktemp("hybrid"))


@pytest.fixture
def fresh_hybrid(tmp_path: Path) -> Iterator[Running]:
    yield from start(Config(model="SH10RT"), tmp_path)


def ctl(
    running: Running, args: list[str], whole: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the charm's exact ctl command line, pointed at this process's control port."""
    argv = ctl_command(None if whole else running.config.unit_id, args)
    argv[0] = str(SUNGROW_SIM)
    url = argv.index("--url") + 1
    argv[url] = argv[url].replace(":8090", f":{running.ports['control_port']}")
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.timeout(60)
async def test_the_service_answers_modbus_with_the_model_device_code(charm_service: Running):
    config = charm_service.config
    port = charm_service.ports["modbus_port"]

    async with AsyncModbusTcpClient("127.0.0.1", port=port) as client:
        reply = await client.read_input_registers(4999, count=1, device_id=config.unit_id)

    assert not reply.isError(), reply
    assert reply.registers == [MODELS[config.model].device_code]


@pytest.mark.timeout(60)
async def test_the_service_answers_modbus_with_the_serial_of_the_charm(charm_service: Running):
    config = charm_service.config
    port = charm_service.ports["modbus_port"]

    async with AsyncModbusTcpClient("127.0.0.1", port=port) as client:
        reply = await client.read_input_registers(4989, count=10, device_id=config.unit_id)

    assert not reply.isError(), reply
    assert decode_ascii(reply.registers) == config.serial_for(0)


@pytest.mark.timeout(60)
def test_the_ready_check_url_answers_ok(charm_service: Running):
    url = urlsplit(charm_service.checks["ready"]["http"]["url"])
    assert url.port == int(charm_service.flag("--control-port"))
    local = url._replace(netloc=f"127.0.0.1:{charm_service.ports['control_port']}").geturl()

    with urllib.request.urlopen(local, timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok"}


def parse_seconds(text: str) -> float:
    assert text.endswith("s"), text
    return float(text[:-1])


@pytest.mark.timeout(60)
def test_the_ready_check_fails_for_a_frozen_simulator_a_tcp_check_would_pass(
    charm_service: Running,
):
    # SIGSTOP: the kernel still completes TCP handshakes, the HTTP check gets no answer
    # within the check's own timeout, so Pebble's on-check-failure restarts the service.
    ready = charm_service.checks["ready"]
    url = urlsplit(ready["http"]["url"])
    local = url._replace(netloc=f"127.0.0.1:{charm_service.ports['control_port']}").geturl()
    os.kill(charm_service.pid, signal.SIGSTOP)
    try:
        with socket.create_connection(
            ("127.0.0.1", charm_service.ports["control_port"]), timeout=5
        ):
            pass
        with pytest.raises(OSError):  # TimeoutError is an OSError
            urllib.request.urlopen(local, timeout=parse_seconds(ready["timeout"]))
    finally:
        os.kill(charm_service.pid, signal.SIGCONT)
    with urllib.request.urlopen(local, timeout=5) as response:
        assert response.status == 200


@pytest.mark.timeout(60)
def test_ctl_state_of_the_unit_gives_the_power_for_the_status_line(charm_service: Running):
    done = ctl(charm_service, ["state"])

    assert done.returncode == 0, done.stderr
    inverter = own_inverter(json.loads(done.stdout), charm_service.config.unit_id)
    assert inverter["model"] == charm_service.config.model
    assert isinstance(inverter["readings"]["active_power_w"], int | float)


@pytest.mark.timeout(60)
def test_ctl_state_of_the_simulator_gives_what_get_readings_returns(charm_service: Running):
    done = ctl(charm_service, ["state"], whole=True)

    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout)
    assert state["version"] == "0.1.0"
    assert state["protocols"]["modbus"]["port"] == charm_service.ports["modbus_port"]
    inverter = own_inverter(state, charm_service.config.unit_id)
    assert inverter["serial"] == charm_service.config.serial_for(0)


ACTION_PARAMS: list[tuple[str, dict[str, Any]]] = [
    ("get-readings", {}),
    ("list-faults", {}),
    ("set-power", {"watts": 2500}),
    ("set-power", {"auto": True}),
    ("set-load", {"watts": 750.5}),
    ("set-state", {"state": "standby"}),
    ("set-battery", {"soc": 80, "power": -2000}),
    ("set-battery", {"auto": True}),
    ("set-clock", {"time": "2026-06-21T12:00:00"}),
    ("set-clock", {"time": "now"}),
    (
        "inject-fault",
        {
            "kind": "exception",
            "duration": 30,
            "scope": "modbus",
            "probability": 0.5,
            "code": 2,
            "start": 13000,
            "count": 10,
        },
    ),
    ("inject-fault", {"kind": "slow-reply", "delay": 1.5}),
    ("inject-fault", {"kind": "session-limit", "max_sessions": 1}),
    ("clear-faults", {}),
    ("clear-faults", {"kind": "grid-loss"}),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("action", "params"),
    ACTION_PARAMS,
    ids=[f"{a}-{'-'.join(p) or 'none'}" for a, p in ACTION_PARAMS],
)
def test_each_action_command_is_accepted_by_the_real_ctl(
    hybrid_service: Running, action: str, params: dict[str, Any]
):
    args = ACTIONS[action].model_validate(params).ctl_args()

    done = ctl(hybrid_service, args, whole=action == "get-readings")

    assert done.returncode == 0, f"{args}: {done.stderr}"
    results = to_results(json.loads(done.stdout), list_key="faults")
    assert results
    assert all(JUJU_KEY.match(key) for key in flatten_keys(results)), results


def flatten_keys(results: dict[str, Any]) -> Iterator[str]:
    for key, value in results.items():
        yield key
        if isinstance(value, dict):
            yield from flatten_keys(value)


@pytest.mark.timeout(60)
def test_set_power_through_ctl_changes_the_power_the_status_line_shows(fresh_hybrid: Running):
    assert ctl(fresh_hybrid, ["set-power", "2500"]).returncode == 0

    state = json.loads(ctl(fresh_hybrid, ["state"]).stdout)

    assert own_inverter(state, 1)["readings"]["active_power_w"] == pytest.approx(2500, abs=50)


@pytest.fixture
def dashboard_service(tmp_path: Path) -> Iterator[Running]:
    """The layer of `dashboard=true`: control listener on every address, token in env."""
    yield from start(Config(dashboard=True), tmp_path, token="tok-from-the-secret")


@pytest.mark.timeout(60)
def test_the_dashboard_layer_guards_the_control_api_with_the_token(dashboard_service: Running):
    base = f"http://127.0.0.1:{dashboard_service.ports['control_port']}"
    assert dashboard_service.flag("--control-bind") == "0.0.0.0"
    assert "tok-from-the-secret" not in " ".join(dashboard_service.layer_command)

    with urllib.request.urlopen(base + "/v1/health", timeout=5) as response:
        assert response.status == 200  # the ready check holds no token
    with urllib.request.urlopen(base + "/", timeout=5) as response:
        assert b"sungrow-sim dashboard" in response.read()
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(base + "/v1/state", timeout=5)
    assert denied.value.code == 401
    denied.value.close()
    bearer = urllib.request.Request(
        base + "/v1/state", headers={"Authorization": "Bearer tok-from-the-secret"}
    )
    with urllib.request.urlopen(bearer, timeout=5) as response:
        assert response.status == 200


@pytest.mark.timeout(60)
def test_the_charms_ctl_calls_pass_with_the_token_in_their_environment(
    dashboard_service: Running, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv(dashboard.CTL_TOKEN_ENV, raising=False)
    assert ctl(dashboard_service, ["state"]).returncode != 0

    monkeypatch.setenv(dashboard.CTL_TOKEN_ENV, "tok-from-the-secret")
    done = ctl(dashboard_service, ["state"])

    assert done.returncode == 0, done.stderr
