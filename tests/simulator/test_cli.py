"""The `sungrow-sim` command as users and other tools run it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
from pymodbus.client import ModbusTcpClient
from sungrow_sim import cli
from sungrow_sim.config import InverterConfig, ServeConfig
from sungrow_sim.faults import DESCRIPTIONS
from support.simproc import launch, serve_command

from tools.sungather_ranges import ranges
from tools.wire import decode_ascii

PYTHON = [sys.executable, "-m", "sungrow_sim"]


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PYTHON, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def modbus_reads_until_ready(port: int, deadline_s: float = 20) -> ModbusTcpClient:
    deadline = time.monotonic() + deadline_s
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
    while time.monotonic() < deadline:
        if client.connect():
            response = client.read_input_registers(4999, count=1, device_id=1)
            if not response.isError():
                return client
        time.sleep(0.05)
    raise AssertionError(f"nothing served Modbus on port {port}")


def without_privileges() -> list[str]:
    """Prefix that drops every capability (root then binds like an ordinary user)."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set", "-all", "--inh-caps", "-all"]


def test_the_documented_default_ports_are_the_configs_defaults():
    """--help documents 5020, 8082, 80 and 8090; the config that serves them agrees."""
    from sungrow_sim.config import ServeConfig

    text = run("serve", "--help").stdout
    defaults = ServeConfig()
    for flag, port in (
        ("--modbus-port", defaults.modbus_port),
        ("--ws-port", defaults.ws_port),
        ("--http-port", defaults.http_port),
        ("--control-port", defaults.control_port),
    ):
        assert port == {"--modbus-port": 5020, "--ws-port": 8082, "--http-port": 80,
                        "--control-port": 8090}[flag]  # fmt: skip
        assert f"(default {port}" in " ".join(text.split()), flag


def test_with_no_model_flags_it_serves_an_sg10rt_on_loopback_as_an_ordinary_user(tmp_path):
    """Only the ports are chosen: 0, OS-assigned, never a port another test may hold.

    The HTTP port stays at its default 80, which an ordinary user cannot bind.
    """
    ready = tmp_path / "ready.json"
    log = tmp_path / "serve.log"
    argv = [
        *PYTHON, "serve", "--modbus-port", "0", "--ws-port", "0", "--control-port", "0",
        "--ready-file", str(ready),
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*without_privileges(), *argv], stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path
        )
    try:
        deadline = time.monotonic() + 30
        while not (ready.exists() and ready.read_text().strip()):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        port = json.loads(ready.read_text())["modbus_port"]
        client = modbus_reads_until_ready(port)
        assert client.read_input_registers(4999, count=1, device_id=1).registers == [0x2433]
        client.close()
        text = log.read_text()
        assert "simulating SG10RT" in text
        assert f"listening: modbus on 127.0.0.1:{port}" in text
        status = Path(f"/proc/{proc.pid}/status").read_text().splitlines()
        assert next(line for line in status if line.startswith("CapEff:")).split()[1] == "0" * 16
        assert "cannot bind HTTP port 80" in text  # the default 80 is skipped, not fatal
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0, log.read_text()


def test_the_done_when_command_serves_sh10rt_and_all_its_level_2_ranges(tmp_path):
    """`sungrow-sim serve --model SH10RT --serial SIMTEST0001 --modbus-port N` (issue 2).

    The issue's port 15020 is replaced by 0 (OS-assigned, read from the ready file).
    """
    sim = launch(
        serve_command("--model", "SH10RT", "--serial", "SIMTEST0001", "--modbus-port", "0"),
        tmp_path,
    )
    try:
        port = sim.ports["modbus_port"]
        assert port > 0
        client = modbus_reads_until_ready(port)
        assert client.read_input_registers(4999, count=1, device_id=1).registers == [0x0E03]
        serial = client.read_input_registers(4989, count=10, device_id=1).registers
        assert decode_ascii(serial) == "SIMTEST0001"
        for table, start, count in ranges("SH10RT", 2):
            call = (
                client.read_input_registers if table == "input" else client.read_holding_registers
            )
            response = call(start, count=count, device_id=1)
            assert not response.isError() and len(response.registers) == count, (
                table,
                start,
                count,
            )
        client.close()
    finally:
        sim.stop()


def test_set_power_3000_makes_a_plain_modbus_read_answer_3000_w(tmp_path):
    """Issue 4's check: `ctl set-power 3000` then total active power (5031) reads 3000 W."""
    sim = launch(serve_command("--start-time", "2026-12-21T23:00:00"), tmp_path)
    try:
        result = sim.ctl("set-power", "3000")
        assert result["readings"]["active_power_w"] == 3000
        client = modbus_reads_until_ready(sim.ports["modbus_port"])
        words = client.read_input_registers(5030, count=2, device_id=1).registers
        assert words[0] + (words[1] << 16) == 3000
        sim.ctl("set-power", "auto")
        words = client.read_input_registers(5030, count=2, device_id=1).registers
        assert words[0] + (words[1] << 16) == 0  # midnight in December: back to the sun
        client.close()
    finally:
        sim.stop()


def test_help_teaches_the_flags_other_tools_drive():
    result = run("serve", "--help")
    assert result.returncode == 0
    for flag in (
        "--model",
        "--serial",
        "--bind",
        "--modbus-port",
        "--ws-port",
        "--http-port",
        "--seed",
        "--time-scale",
        "--config",
        "--state-dir",
        "--control-port",
    ):
        assert flag in result.stdout
    assert "sungrow-sim 0.1.0" in run("--version").stdout


def _flag_help(help_text: str, flag: str) -> str:
    """The help of one flag in `--help` output, whitespace collapsed."""
    lines = help_text.splitlines()
    start = next(
        i for i, line in enumerate(lines) if line.strip().startswith((flag + " ", flag + ","))
    )
    end = next(
        (i for i in range(start + 1, len(lines)) if not lines[i].startswith(" " * 6)),
        len(lines),
    )
    return " ".join(" ".join(lines[start:end]).split())


def _shown(value: object) -> str:
    if isinstance(value, list):
        return ",".join(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def test_serve_help_shows_every_default_of_the_config_models():
    out = run("serve", "--help").stdout
    shown = 0
    for model in (InverterConfig, ServeConfig):
        for key, field in model.model_fields.items():
            flag = "--" + key.replace("_", "-")
            value = field.get_default(call_default_factory=True)
            if f"{flag} " not in out or value is None:
                continue  # set in the config file only, or no fixed default
            assert f"default {_shown(value)}" in _flag_help(out, flag), flag
            shown += 1
    assert shown >= 20
    assert f"SG10RT on 127.0.0.1:{ServeConfig().modbus_port}" in out


def test_serve_help_follows_a_changed_default_in_the_model(monkeypatch, capsys):
    monkeypatch.setattr(ServeConfig.model_fields["modbus_port"], "default", 15999)
    monkeypatch.setattr(InverterConfig.model_fields["serial"], "default", "SIMCHANGED1")
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "(default 15999)" in _flag_help(out, "--modbus-port")
    assert "(default SIMCHANGED1)" in _flag_help(out, "--serial")


def test_inject_fault_help_lists_every_kind_with_its_options():
    out = run("ctl", "inject-fault", "--help").stdout
    for kind in DESCRIPTIONS:
        assert kind in out
    for option in (
        "--duration",
        "--scope",
        "--probability",
        "--code",
        "--start",
        "--count",
        "--delay",
        "--max-sessions",
    ):
        assert option in out


def test_models_lists_the_117_models():
    lines = run("models").stdout.splitlines()
    assert len(lines) == 117
    assert any(line.startswith("SH10RT ") and "0x0E03" in line for line in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "SG99XX"], "--model: unknown model 'SG99XX'"),
        (["--modbus-port", "70000"], "--modbus-port: Input should be less than or equal to 65535"),
        (["--protocols", "modbus,telnet"], "--protocols: item 2: Input should be 'modbus'"),
        (["--timezone", "Mars/Olympus"], "--timezone: unknown time zone"),
        (["--time-scale", "0"], "--time-scale: Input should be greater than 0"),
        (["--serial", "SÉRIE"], "--serial: must be printable ASCII"),
    ],
)
def test_bad_flags_exit_2_and_name_the_flag(args, message):
    result = run("serve", *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_a_config_file_error_names_the_key(tmp_path):
    config = tmp_path / "plant.yaml"
    config.write_text(
        "inverters:\n  - model: SH10RT\n    unit_id: 1\n  - model: SG10RT\n    unit_id: 1\n    colour: red\n"
    )
    result = run("serve", "--config", str(config))
    assert result.returncode == 2
    assert "inverters.1.colour: Extra inputs are not permitted" in result.stderr


def test_a_config_file_can_describe_several_inverters(tmp_path):
    config = tmp_path / "plant.yaml"
    config.write_text(
        json.dumps(
            {
                "protocols": ["modbus"],
                "inverters": [
                    {"model": "SH10RT", "serial": "SIMA000001", "unit_id": 1},
                    {"model": "SG5.0RT", "serial": "SIMB000002", "unit_id": 2},
                ],
            }
        )
    )
    sim = launch(serve_command("--config", str(config)), tmp_path)
    try:
        state = sim.ctl("state")
        assert [(i["unit_id"], i["model"], i["serial"]) for i in state["inverters"]] == [
            (1, "SH10RT", "SIMA000001"),
            (2, "SG5.0RT", "SIMB000002"),
        ]
        assert list(state["protocols"]) == ["modbus", "control"]
    finally:
        sim.stop()


def test_a_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [*serve_command("--modbus-port", str(port))],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            cwd=tmp_path,
        )
    assert result.returncode == 1
    assert f"--modbus-port: port {port} is already in use" in result.stderr


def test_ctl_says_when_the_simulator_is_not_there():
    result = run("ctl", "--url", "http://127.0.0.1:9", "state")
    assert result.returncode == 1
    assert "cannot reach the simulator at http://127.0.0.1:9" in result.stderr


def test_ctl_control_port_reaches_a_server_started_with_serve_control_port(tmp_path):
    sim = launch(serve_command("--serial", "SIMPORT001"), tmp_path)
    try:
        port = str(sim.ports["control_port"])
        result = run("ctl", "--control-port", port, "state")
        both = run("ctl", "--control-port", port, "--url", "http://127.0.0.1:9", "state")
    finally:
        sim.stop()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["inverters"][0]["serial"] == "SIMPORT001"
    assert both.returncode == 2
    assert "not allowed with argument" in both.stderr


def test_ctl_rejects_a_bad_value_with_the_servers_reason(tmp_path):
    sim = launch(serve_command(), tmp_path)
    try:
        result = sim.ctl("set-power", "20000", check=False)
        assert result.returncode == 1
        assert "watts: 20000 is outside 0..10000" in result.stderr
        usage = sim.ctl("set-power", "lots", check=False)
        assert usage.returncode == 2
        assert "expected watts or 'auto'" in usage.stderr
    finally:
        sim.stop()


def test_the_time_scale_speeds_up_the_inverter_clock(tmp_path):
    sim = launch(
        serve_command("--time-scale", "3600", "--start-time", "2026-06-21T06:00:00"), tmp_path
    )

    def clock() -> tuple[float, datetime, float]:
        before = time.monotonic()
        with urllib.request.urlopen(f"{sim.control_url}/v1/state", timeout=10) as response:
            state = json.loads(response.read())
        return before, datetime.fromisoformat(state["inverters"][0]["clock"]), time.monotonic()

    try:
        start1, first, end1 = clock()
        deadline = time.monotonic() + 30
        while True:  # until a quarter of a simulated hour has passed (a loaded machine waits)
            start2, second, end2 = clock()
            if (second - first).total_seconds() >= 900 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        simulated_hours = (second - first).total_seconds() / 3600
        assert first >= datetime(2026, 6, 21, 6)
        assert start2 - end1 - 0.01 <= simulated_hours <= end2 - start1 + 0.01
    finally:
        sim.stop()


def test_the_package_data_is_present_where_installed():
    import sungrow_sim

    data = Path(sungrow_sim.__file__).parent / "registers" / "data"
    assert (data / "models.json").is_file() and (data / "registers.json").is_file()
