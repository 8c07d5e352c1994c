"""Ten kill -9 cycles never lower a counter a client reads over Modbus.

Between the last save and the kill the plant produced energy a client already read;
on restart the clock moves on by the downtime and the plant is integrated over it, so
every total register (documented 5004 total yield in kWh, 13003 total PV generation,
13006 PV export, 13013 battery charge from PV, 13018 direct consumption, 13041 charge
energy, 13046 export energy, all U32 low word first) reads at least what it read
before the kill. Flushes are 2 s apart: without the catch-up up to 2 minutes of
simulated production would be lost at every kill.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from robustness.fieldkit import read_input, u32
from support.simproc import SimProcess, launch, serve_command

CYCLES = 10
TOTALS = {5004: "total yield kWh", 13003: "total PV generation", 13006: "PV export",
          13013: "battery charge from PV", 13018: "direct consumption",
          13041: "charge energy", 13046: "export energy"}  # fmt: skip


def serve(state_dir: Path, *extra: str) -> list[str]:
    return serve_command(
        "--model", "SH10RT", "--protocols", "modbus", "--state-dir", str(state_dir),
        "--flush-interval-s", "2", "--time-scale", "60", "--tick-s", "0.2",
        "--cloudiness", "0", *extra,
    )  # fmt: skip


def totals(sim: SimProcess) -> dict[int, int]:
    port = sim.ports["modbus_port"]
    return {doc: u32(read_input(port, doc - 1, 2)) for doc in TOTALS}


def test_ten_kill_9_cycles_never_lower_a_counter(tmp_path: Path):
    rng = random.Random(13)
    state_dir = tmp_path / "state"
    sim = launch(serve(state_dir, "--start-time", "2026-06-21T10:00:00"), tmp_path)
    sim.ctl("set-load", "400")  # a steady export, so export totals move too
    time.sleep(2.2)  # one flush: the state file exists
    try:
        moved = set()
        for cycle in range(CYCLES):
            time.sleep(rng.uniform(0.2, 0.8))
            before = totals(sim)
            sim.kill()
            sim = launch(serve(state_dir), tmp_path)
            after = totals(sim)
            lower = {TOTALS[a]: (before[a], after[a]) for a in TOTALS if after[a] < before[a]}
            assert not lower, f"cycle {cycle}: counters went back {lower}\n{sim.log()[-1500:]}"
            moved |= {a for a in TOTALS if after[a] > before[a]}
            assert "caught up on" in sim.log()
        assert {13003, 13006} <= moved, "production did not move the totals: a vacuous run"
    finally:
        sim.stop()
