"""Fixtures: one simulator subprocess per module (a crash shows as a dead process)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from robustness.probe import Expected, unexpected_tracebacks
from support.simproc import SimProcess, launch, serve_command

MODEL = "SH10RT"
POWER_W = 3000


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    """An SH10RT on every protocol, its AC power overridden so every read is predictable."""
    tmp = tmp_path_factory.mktemp("sim")
    argv = serve_command("--model", MODEL, "--start-time", "2026-06-21T12:00:00")
    proc = launch(argv, tmp)
    try:
        proc.ctl("set-power", str(POWER_W))
        yield proc
        assert proc.proc.poll() is None, f"the simulator died:\n{proc.log()[-3000:]}"
        assert unexpected_tracebacks(proc.log()) == [], proc.log()[-3000:]
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def expected(sim: SimProcess) -> Expected:
    """What a valid client must read (the state is fixed for the module)."""
    return Expected.from_state(sim.inverter())


def health(sim: SimProcess) -> dict:
    """GET /v1/health (raises if the control API is down)."""
    with urllib.request.urlopen(f"{sim.control_url}/v1/health", timeout=5) as reply:
        return json.loads(reply.read())


@pytest.fixture(autouse=True)
def still_serving(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that used the simulator: it runs and answers its health check."""
    yield
    if "sim" in request.fixturenames:
        sim: SimProcess = request.getfixturevalue("sim")
        assert sim.proc.poll() is None, f"the simulator died:\n{sim.log()[-3000:]}"
        assert health(sim) == {"status": "ok"}
