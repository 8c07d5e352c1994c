"""kill -9 while state is being written (a flush every 10 ms), then restart.

The state file always parses, energy totals never go backwards, faults survive, and
nothing is put aside as corrupt.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from sungrow_sim.persistence import STATE_FILE, SavedState
from support.simproc import launch, serve_command

CYCLES = 6
SEED = 3


def serve(state_dir: Path, *extra: str) -> list[str]:
    return serve_command(
        "--model", "SH10RT", "--protocols", "modbus", "--state-dir", str(state_dir),
        "--flush-interval-s", "0.01", "--time-scale", "60", *extra,
    )  # fmt: skip


def saved(state_dir: Path) -> SavedState:
    return SavedState.model_validate_json((state_dir / STATE_FILE).read_text())


def test_kill_9_during_writes_never_loses_or_corrupts_state(tmp_path: Path):
    rng = random.Random(SEED)
    state_dir = tmp_path / "state"
    sim = launch(serve(state_dir, "--start-time", "2026-06-21T10:00:00"), tmp_path)
    try:
        # Transport faults leave the plant producing, so energy keeps counting.
        fault = sim.ctl("inject-fault", "slow-reply", "--scope", "http", "--delay", "2")
        last_total = 0.0
        for cycle in range(CYCLES):
            time.sleep(rng.uniform(0.2, 0.8))
            sim.kill()
            state = saved(state_dir)  # parses, whenever the kill landed
            total = state.inverters[1].counters["total_yield_kwh"]
            assert total >= last_total, f"cycle {cycle}: {total} < {last_total}"
            assert fault["id"] in [f.id for f in state.faults]
            sim = launch(serve(state_dir), tmp_path)
            inverter = sim.inverter()
            assert inverter["readings"]["total_yield_kwh"] >= round(total, 3) - 0.001
            assert fault["id"] in [f["id"] for f in inverter["faults"]]
            last_total = total
        assert last_total > 0
        assert not list(state_dir.glob(f"{STATE_FILE}.corrupt-*"))
    finally:
        sim.stop()
