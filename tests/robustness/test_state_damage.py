"""A state file that parses but is wrong is kept aside and the simulator starts fresh.

Every variant the abuse run found (wrong types, null, lists, 1e308, 1e400, a huge
saved_at, non-UTF-8 bytes, negative counters, out-of-range overrides) is restored by the
real `build()`: the file is moved to state.json.corrupt-<time> byte for byte, the log
says so, and the simulator serves fresh counters (the good file's distinctive total
4242 kWh is not restored). The unchanged good file, as the control case, is restored.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from robustness.fieldkit import http, read_input, u32
from sungrow_sim.config import ServeConfig
from sungrow_sim.persistence import STATE_FILE, StateStore, snapshot
from sungrow_sim.service import build
from support.simproc import launch, serve_command

MARK_KWH = 4242.0


def good_state() -> dict[str, Any]:
    sim = build(ServeConfig.model_validate({"inverters": [{"model": "SH10RT"}]}))
    sim.set_load(1, 500.0)
    state = json.loads(snapshot(sim).model_dump_json())
    state["inverters"]["1"]["counters"]["total_yield_kwh"] = MARK_KWH
    return state


def set_path(state: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    node: Any = state
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    return state


COUNTERS = "inverters.1.counters."
OVERRIDES = "inverters.1.overrides."
DAMAGE = [
    (COUNTERS + "total_yield_kwh", "abc"),
    (COUNTERS + "total_yield_kwh", None),
    (COUNTERS + "total_yield_kwh", [1]),
    (COUNTERS + "total_yield_kwh", -1.0),
    (COUNTERS + "daily_yield_kwh", -0.1),
    (COUNTERS + "total_yield_kwh", 1e308),
    (COUNTERS + "total_yield_kwh", 10**40),
    (COUNTERS + "battery_soc_pct", 100.5),
    (COUNTERS + "day", 17),
    (COUNTERS + "day", "yesterday"),
    (OVERRIDES + "power_w", "abc"),
    (OVERRIDES + "power_w", [1]),
    (OVERRIDES + "power_w", -5),
    (OVERRIDES + "power_w", 1e308),
    (OVERRIDES + "power_w", 20_000.0),  # above the SH10RT's 10 kW
    (OVERRIDES + "state", "exploded"),
    (OVERRIDES + "battery_power_w", 99_999.0),  # beyond the battery's limit
    ("saved_at", 1e300),
    ("saved_at", -1.0),
    ("saved_at", "soon"),
    ("saved_at", None),
    ("clock", "9999-12-31T23:59:58Z"),
    ("clock", "2026-06-21T12:00:00"),  # naive
    ("version", 2),
    ("faults", [{"kind": "no-reply", "id": "x", "created": "abc"}]),
    ("faults", [{"kind": "volcano", "id": "x", "created": 1.0}]),
    ("inverters", {"abc": {}}),
    ("inverters", []),
]
RAW_DAMAGE = {
    "1e400": lambda text: text.replace(str(MARK_KWH), "1e400"),
    "NaN": lambda text: text.replace(str(MARK_KWH), "NaN"),
    "Infinity saved_at": lambda text: text.replace('"saved_at":', '"saved_at":Infinity,"x":'),
    "non-UTF-8": lambda text: text.replace("SIM0000001", "SIM\udcff\udcfe01"),
    "truncated": lambda text: text[: len(text) // 2],
    "not an object": lambda text: "[" + text + "]",
}


def restore(directory: Path, data: bytes) -> tuple[float, list[Path]]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / STATE_FILE).write_bytes(data)
    sim = build(
        ServeConfig.model_validate({"inverters": [{"model": "SH10RT"}]}), StateStore(directory)
    )
    total = sim.inverters[1].plant.counters.total_yield_kwh
    assert not isinstance(sim.read(1, "input", 5003, 2), int)  # it serves
    return total, sorted(directory.glob(f"{STATE_FILE}.corrupt-*"))


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def test_the_good_file_is_restored(tmp_path):
    total, aside = restore(tmp_path, json.dumps(good_state()).encode())
    assert MARK_KWH <= total < MARK_KWH + 1 and aside == []


@pytest.mark.parametrize(("path", "value"), DAMAGE, ids=[f"{p}={v!r}"[:60] for p, v in DAMAGE])
def test_a_damaged_field_is_kept_aside_and_the_simulator_starts_fresh(
    tmp_path, caplog, path, value
):
    data = json.dumps(set_path(good_state(), path, value)).encode()
    with caplog.at_level(logging.ERROR, "sungrow_sim"):
        total, aside = restore(tmp_path, data)
    assert not MARK_KWH <= total < MARK_KWH + 1, "the damaged file was restored"
    assert [p.read_bytes() for p in aside] == [data]
    assert not (tmp_path / STATE_FILE).exists()
    assert "kept as" in caplog.text and "starting fresh" in caplog.text


@pytest.mark.parametrize("damage", list(RAW_DAMAGE))
def test_damaged_bytes_are_kept_aside_and_the_simulator_starts_fresh(tmp_path, caplog, damage):
    data = encode(RAW_DAMAGE[damage](json.dumps(good_state())))
    with caplog.at_level(logging.ERROR, "sungrow_sim"):
        total, aside = restore(tmp_path, data)
    assert not MARK_KWH <= total < MARK_KWH + 1
    assert [p.read_bytes() for p in aside] == [data]
    assert "starting fresh" in caplog.text


def dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        pid += 1


def test_the_served_process_starts_fresh_on_a_huge_saved_at_and_removes_stale_temporaries(
    tmp_path,
):
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    damaged = json.dumps(set_path(good_state(), "saved_at", 1e300)).encode()
    (state_dir / STATE_FILE).write_bytes(damaged)
    stale = state_dir / f".{STATE_FILE}.{dead_pid()}.tmp"
    live = state_dir / f".{STATE_FILE}.{os.getpid()}.tmp"  # this test runs: not stale
    stale.write_text("{")
    live.write_text("{")
    sim = launch(
        serve_command("--model", "SH10RT", "--protocols", "modbus", "--state-dir", str(state_dir)),
        tmp_path,
    )
    try:
        total_kwh = u32(read_input(sim.ports["modbus_port"], 13002, 2)) / 10  # documented 13003
        assert not MARK_KWH <= total_kwh < MARK_KWH + 1
        assert http(sim.control_url, "GET", "/v1/health") == (200, {"status": "ok"})
        assert [p.read_bytes() for p in state_dir.glob(f"{STATE_FILE}.corrupt-*")] == [damaged]
        assert "starting fresh" in sim.log()
        assert not stale.exists() and live.exists()
    finally:
        sim.stop()
    assert sim.proc.returncode == 0
