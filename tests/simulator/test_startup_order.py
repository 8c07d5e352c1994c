"""Start-up order: Modbus answers first; the HTTP listeners and the ready file follow."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time

import pytest
from sungrow_sim import service as service_module
from sungrow_sim.config import ServeConfig
from sungrow_sim.registers import catalogue
from sungrow_sim.service import Service, StartupError

DEADLINE_S = 20.0


async def _until(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def _config(tmp_path, **settings) -> ServeConfig:
    base = {
        "inverters": [{"model": "SH10RT"}],
        "protocols": ["modbus", "http"],
        "start_time": "2026-06-21T12:00:00",
        "modbus_port": 0,
        "ws_port": 0,
        "http_port": 0,
        "control_port": 0,
        "ready_file": str(tmp_path / "ready.json"),
    }
    return ServeConfig.model_validate({**base, **settings})


@pytest.fixture
def held_http_stack(monkeypatch):
    """The HTTP stack's loading held until the test releases it."""
    release = threading.Event()
    loading = threading.Event()
    real = service_module._load_http_stack

    def held() -> None:
        loading.set()
        if not release.wait(DEADLINE_S):
            raise RuntimeError("the test never released the HTTP stack")
        real()

    monkeypatch.setattr(service_module, "_load_http_stack", held)
    yield loading, release
    release.set()


async def test_modbus_answers_while_the_http_stack_is_still_loading(
    tmp_path, held_http_stack, modbus_client
):
    loading, release = held_http_stack
    service = Service(_config(tmp_path))
    starting = asyncio.create_task(service.start())
    try:
        await _until(loading.is_set, "the HTTP stack to start loading")
        port = service.ports["modbus_port"]
        client = await modbus_client(port)
        reply = await client.read_input_registers(4999, count=1, device_id=1)
        assert not reply.isError(), reply
        assert reply.registers == [catalogue().model("SH10RT").device_code]
        # Nothing else is up yet, and the ready file does not claim it is.
        assert not starting.done()
        assert set(service.ports) == {"modbus_port"}
        assert not (tmp_path / "ready.json").exists()
        release.set()
        await asyncio.wait_for(starting, DEADLINE_S)
        ready = json.loads((tmp_path / "ready.json").read_text())
        assert set(ready) == {"modbus_port", "ws_port", "http_port", "control_port"}
        assert ready["modbus_port"] == port
    finally:
        release.set()
        if not starting.done():
            await asyncio.wait_for(starting, DEADLINE_S)
        await service.stop()


async def test_a_control_port_in_use_after_modbus_started_closes_modbus_again(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        service = Service(_config(tmp_path, control_port=taken, protocols=["modbus"]))
        with pytest.raises(StartupError, match=f"--control-port: port {taken} is already in use"):
            await service.start()
        port = service.ports["modbus_port"]
        await service.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert not (tmp_path / "ready.json").exists()


def test_the_modbus_path_loads_no_http_stack():
    """What runs before the Modbus listener binds does not import aiohttp (start time)."""
    code = (
        "import sys\n"
        "import sungrow_sim.cli, sungrow_sim.control.ctl, sungrow_sim.config\n"
        "import sungrow_sim.service, sungrow_sim.protocols.modbus\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiohttp'))\n"
        "from sungrow_sim.protocols.winet import start_winet\n"
        "from sungrow_sim.control import ControlApi\n"
        "print('aiohttp.web' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "True"  # the lazy package faces still hand out the servers
