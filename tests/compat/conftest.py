"""Fixtures: a simulator subprocess per test, pinned to known readings, and value checks."""

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from expect import SERIALS, pin_readings
from simproc import SimProcess, start_simulator

REPO = Path(__file__).resolve().parent.parent.parent
# shared/ beside the repository, as in CI; SUNGATHER_REGISTER_FILE for a git worktree.
REGISTER_FILE = Path(
    os.environ.get("SUNGATHER_REGISTER_FILE")
    or REPO.parent / "shared" / "reference" / "sungather-registers-sungrow.yaml"
)


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[Callable[..., SimProcess]]:
    """Start simulators for one test; stop them and print their logs afterwards."""
    started: list[SimProcess] = []

    def start(model: str, *, http: bool = False, extra: tuple[str, ...] = ()) -> SimProcess:
        sim = start_simulator(tmp_path, model, SERIALS[model], http=http, extra=extra)
        started.append(sim)
        pin_readings(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()
        print(f"--- simulator {sim.host} log\n{sim.log()[-6000:]}")


@pytest.fixture
def register_file() -> Path:
    """SunGather's register file (shared/ beside the repository, as in CI)."""
    if not REGISTER_FILE.exists():
        pytest.fail(
            f"SunGather register file not found at {REGISTER_FILE} (put shared/ beside the checkout)"
        )
    return REGISTER_FILE
