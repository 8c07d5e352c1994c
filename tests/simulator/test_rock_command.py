"""The rock's Pebble service command starts a simulator that a Modbus client can read.

The command is taken from rock/rockcraft.yaml as written; only what cannot work on a
shared test machine is swapped: the rock's interpreter for this environment's, fixed
ports for OS-assigned ones (port 0), the state directory for a temporary one. A
--ready-file is appended to learn the ports.
"""

from __future__ import annotations

import json
import shlex
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pymodbus.client import AsyncModbusTcpClient
from support.simproc import launch

ROCKCRAFT_YAML = Path(__file__).resolve().parents[2] / "rock" / "rockcraft.yaml"
SERVICE = "sungrow-sim"
CHECK = "sungrow-sim-health"
PORT_FLAGS = ("--modbus-port", "--ws-port", "--http-port", "--control-port")
SG10RT_DEVICE_CODE = 0x2433  # SPEC.md device type codes; SG10RT is the CLI's default model


def rock_project() -> dict[str, Any]:
    return yaml.safe_load(ROCKCRAFT_YAML.read_text())


def local_command(command: str, state_dir: Path) -> list[str]:
    """Turn the rock's service command into one that runs here on OS-assigned ports."""
    argv = shlex.split(command)
    assert argv[0] == "/bin/python3", f"unexpected interpreter in the rock command: {argv[0]}"
    argv[0] = sys.executable
    for i, arg in enumerate(argv[:-1]):
        if arg in PORT_FLAGS:
            argv[i + 1] = "0"
        elif arg == "--state-dir":
            argv[i + 1] = str(state_dir)
    return argv


def test_service_is_enabled_and_named_for_the_charm():
    service = rock_project()["services"][SERVICE]

    assert service["override"] == "replace"
    assert service["startup"] == "enabled"


def test_service_listens_on_all_interfaces_and_unprivileged_ports():
    argv = shlex.split(rock_project()["services"][SERVICE]["command"])

    assert argv[argv.index("--bind") + 1] == "0.0.0.0"
    for flag in PORT_FLAGS:
        assert int(argv[argv.index(flag) + 1]) >= 1024, flag


def test_health_check_targets_the_control_api_of_the_command():
    project = rock_project()
    argv = shlex.split(project["services"][SERVICE]["command"])
    url = urlsplit(project["checks"][CHECK]["http"]["url"])

    assert url.hostname == argv[argv.index("--control-bind") + 1]
    assert url.port == int(argv[argv.index("--control-port") + 1])
    assert url.path == "/v1/health"
    assert CHECK in project["services"][SERVICE]["on-check-failure"]


def test_no_check_has_a_level_a_kubelet_probe_would_act_on():
    # Juju's liveness probe is Pebble's /v1/health?level=alive, readiness level=ready;
    # the rock's check fails whenever the service is held, so it must have neither.
    checks = rock_project()["checks"]

    assert {name: check.get("level") for name, check in checks.items()} == {CHECK: None}


@pytest.fixture
def rock_service(tmp_path: Path) -> Iterator[dict[str, int]]:
    """The rock's command, started here; yields the ports from its ready file."""
    (tmp_path / "state").mkdir()
    command = rock_project()["services"][SERVICE]["command"]
    process = launch(local_command(command, tmp_path / "state"), tmp_path)
    try:
        yield process.ports
    finally:
        process.stop()


@pytest.mark.timeout(60)
async def test_rock_command_serves_the_device_code_over_modbus(rock_service: dict[str, int]):
    async with AsyncModbusTcpClient("127.0.0.1", port=rock_service["modbus_port"]) as client:
        reply = await client.read_input_registers(4999, count=1, device_id=1)

    assert not reply.isError(), reply
    assert reply.registers == [SG10RT_DEVICE_CODE]


@pytest.mark.timeout(60)
def test_rock_health_check_url_answers_ok(rock_service: dict[str, int]):
    url = urlsplit(rock_project()["checks"][CHECK]["http"]["url"])
    local = url._replace(netloc=f"{url.hostname}:{rock_service['control_port']}").geturl()

    with urllib.request.urlopen(local, timeout=5) as response:
        body = json.loads(response.read())

    assert response.status == 200
    assert body == {"status": "ok"}
