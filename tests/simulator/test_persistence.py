"""State survives restarts and kill -9: energy totals, overrides and faults."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from sungrow_sim.persistence import STATE_FILE, SavedState, StateStore
from support.simproc import launch, serve_command


def total_kwh(sim) -> float:
    return sim.inverter()["readings"]["total_yield_kwh"]


def saved_total(state) -> float:
    try:
        saved = SavedState.model_validate_json((state / STATE_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return -1.0
    return saved.inverters[1].counters["total_yield_kwh"] if 1 in saved.inverters else -1.0


def wait_for(condition, timeout_s: float = 30.0):
    """The condition's first truthy value, polled until a deadline (a loaded machine waits)."""
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(0.05)
    return value


def test_kill_9_loses_at_most_one_flush_interval_and_no_fault(tmp_path):
    state = tmp_path / "state"
    # 600x: one wall second is ten simulated minutes of a 10 kW plant at noon.
    argv = serve_command(
        "--state-dir", str(state), "--flush-interval-s", "0.5", "--time-scale", "600",
        "--start-time", "2026-06-21T11:00:00", "--cloudiness", "0", "--tick-s", "0.2",
    )  # fmt: skip
    sim = launch(argv, tmp_path)
    try:
        sim.ctl("inject-fault", "slow-reply", "--delay", "0.01", "--scope", "http")
        sim.ctl("set-load", "777")
        first = total_kwh(sim)
        before = wait_for(lambda: (t := total_kwh(sim)) > first + 1 and t)  # energy accrued
        wait_for(lambda: saved_total(state) >= before)  # a flush after the reading
    finally:
        sim.kill()
    saved = SavedState.model_validate_json((state / STATE_FILE).read_text())
    assert saved.inverters[1].counters["total_yield_kwh"] >= before
    restarted = launch(serve_command("--state-dir", str(state), "--time-scale", "600"), tmp_path)
    try:
        after = restarted.inverter()
        assert after["readings"]["total_yield_kwh"] >= before
        assert [f["kind"] for f in after["faults"]] == ["slow-reply"]
        assert after["overrides"]["load_w"] == 777
    finally:
        restarted.stop()


def test_a_clean_stop_saves_state_and_a_fault_is_saved_as_soon_as_it_is_injected(tmp_path):
    state = tmp_path / "state"
    sim = launch(serve_command("--state-dir", str(state), "--flush-interval-s", "3600"), tmp_path)
    try:
        sim.ctl("inject-fault", "grid-loss")
        saved = json.loads((state / STATE_FILE).read_text())
        assert [f["kind"] for f in saved["faults"]] == ["grid-loss"]
    finally:
        sim.stop()
    assert sim.proc.returncode == 0


def test_a_different_inverter_at_the_same_unit_id_starts_with_fresh_counters(tmp_path):
    state = tmp_path / "state"
    first = launch(
        serve_command("--state-dir", str(state), "--model", "SH10RT", "--seed", "1"), tmp_path
    )
    first.ctl("set-battery", "--soc", "91")
    first.stop()
    again = launch(
        serve_command("--state-dir", str(state), "--model", "SH10RT", "--seed", "1"), tmp_path
    )
    assert again.inverter()["readings"]["battery_soc_pct"] == 91.0
    again.stop()
    other = launch(
        serve_command("--state-dir", str(state), "--model", "SH5.0RS", "--seed", "1"), tmp_path
    )
    assert other.inverter()["readings"]["battery_soc_pct"] != 91.0
    other.stop()


def test_a_corrupt_state_file_is_kept_aside_and_the_simulator_starts(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / STATE_FILE).write_text('{"version": 1, "saved_at": ')
    sim = launch(serve_command("--state-dir", str(state)), tmp_path)
    try:
        assert sim.inverter()["model"] == "SG10RT"
        kept = list(state.glob(f"{STATE_FILE}.corrupt-*"))
        assert len(kept) == 1 and kept[0].read_text() == '{"version": 1, "saved_at": '
        assert "state file unreadable" in sim.log()
    finally:
        sim.stop()


def test_saving_replaces_the_file_atomically(tmp_path):
    store = StateStore(tmp_path)
    first = time.time() - 10
    state = SavedState(
        saved_at=first, clock=datetime(2026, 1, 1, tzinfo=UTC), inverters={}, faults=[]
    )
    store.save(state)
    store.save(state.model_copy(update={"saved_at": first + 5}))
    loaded = store.load()
    assert loaded is not None and loaded.saved_at == first + 5
    assert [p.name for p in tmp_path.iterdir()] == [STATE_FILE]
