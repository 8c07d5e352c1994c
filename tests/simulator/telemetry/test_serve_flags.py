"""`sungrow-sim serve` with the telemetry flags, as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from support.simproc import launch, serve_command

FAMILIES = {
    "sungrow_sim_requests",
    "sungrow_sim_request_duration_seconds",
    "sungrow_sim_open_connections",
    "sungrow_sim_open_sessions",
    "sungrow_sim_received_bytes",
    "sungrow_sim_sent_bytes",
    "sungrow_sim_faults_injected",
    "sungrow_sim_faults_active",
    "sungrow_sim_faults_fired",
    "sungrow_sim_settings_writes",
    "sungrow_sim_pv_power_watts",
    "sungrow_sim_ac_power_watts",
    "sungrow_sim_load_power_watts",
    "sungrow_sim_battery_power_watts",
    "sungrow_sim_grid_power_watts",
    "sungrow_sim_battery_soc_percent",
    "sungrow_sim_work_state",
    "sungrow_sim_daily_yield_kwh",
    "sungrow_sim_total_yield_kwh",
    "sungrow_sim_clock_seconds",
    "sungrow_sim_time_scale",
}


def families(url: str) -> set[str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return {f.name for f in text_string_to_metric_families(response.read().decode())}


def test_the_control_port_serves_every_family_by_default(tmp_path: Path):
    sim = launch(serve_command("--model", "SH10RT"), tmp_path)
    try:
        exported = families(f"{sim.control_url}/metrics")
    finally:
        sim.stop()

    assert exported >= FAMILIES, sorted(FAMILIES - exported)
    assert "metrics_port" not in sim.ports


def test_json_logs_are_one_object_per_line_with_structured_fields(tmp_path: Path):
    argv = serve_command("--log-format", "json", "--metrics-port", "0")
    sim = launch(argv, tmp_path)
    try:
        sim.ctl("inject-fault", "exception", "--start", "5003", "--count", "2")
        with socket.create_connection(("127.0.0.1", sim.ports["modbus_port"]), timeout=5) as s:
            s.sendall(bytes.fromhex("000100000006 01 04 138a 0001".replace(" ", "")))
            assert s.recv(100)[7] == 0x84  # the exception answer
        with socket.create_connection(("127.0.0.1", sim.ports["modbus_port"]), timeout=5) as s:
            s.sendall(b"\x00\x01\x00\x00\xff\xff\x01\x04")  # an impossible MBAP length
            assert s.recv(10) == b""
        assert families(f"http://127.0.0.1:{sim.ports['metrics_port']}/metrics") >= FAMILIES
    finally:
        sim.stop()

    lines = [json.loads(line) for line in sim.log().splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    closing = [line for line in lines if line["message"].startswith("closing connection")]
    assert closing and closing[0]["protocol"] == "modbus" and closing[0]["peer"] == "127.0.0.1"
    fired = [line for line in lines if line.get("fault") == "exception" and "range" in line]
    assert fired[0]["range"] == "5003+1" and fired[0]["unit"] == 1, fired
    assert fired[0]["protocol"] == "modbus" and fired[0]["peer"] == "127.0.0.1"
    listening = f"listening: metrics on 127.0.0.1:{sim.ports['metrics_port']}"
    assert any(line["message"] == listening for line in lines)


def test_a_bad_log_format_is_refused_with_the_choices(tmp_path: Path):
    done = subprocess.run(
        serve_command("--log-format", "xml"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert done.returncode == 2
    assert "--log-format" in done.stderr and "json" in done.stderr
