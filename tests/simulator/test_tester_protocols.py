"""The integration tester charm's protocol clients read a real simulator correctly.

tests/integration/tester/src/protocols.py is what the tester charm runs inside the
cluster; here it runs against a simulator subprocess on OS-assigned ports, and what it
reads is compared with the simulator's own `ctl state`.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

TESTER_PROTOCOLS = (
    Path(__file__).resolve().parents[1] / "integration" / "tester" / "src" / "protocols.py"
)
TIMEOUT = 5.0


def load_protocols() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tester_protocols", TESTER_PROTOCOLS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


protocols = load_protocols()


class Sim:
    def __init__(self, ports: dict[str, int]):
        self.ports = ports

    def state(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.ports['control_port']}"
        out = subprocess.run(
            [sys.executable, "-m", "sungrow_sim", "ctl", "--url", url, "state"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return json.loads(out.stdout)["inverters"][0]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    ready = tmp_path_factory.mktemp("sim") / "ready.json"
    argv = [sys.executable, "-m", "sungrow_sim", "serve", "--model", "SH10RT",
            "--serial", "SIMTESTER1", "--start-time", "2026-06-21T12:00:00",
            "--modbus-port", "0", "--ws-port", "0", "--http-port", "0", "--control-port", "0",
            "--ready-file", str(ready)]  # fmt: skip
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not (ready.exists() and ready.read_text().strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"simulator did not start: {process.communicate()[1].decode()}")
        time.sleep(0.05)
    try:
        yield Sim(json.loads(ready.read_text()))
    finally:
        process.terminate()
        process.communicate(timeout=10)


Reader = Callable[[Sim, int, str, int, int], list[int]]


def modbus(sim: Sim, unit_id: int, table: str, address: int, count: int) -> list[int]:
    port = sim.ports["modbus_port"]
    return protocols.read_modbus("127.0.0.1", port, unit_id, table, address, count, TIMEOUT)


def sungrow(sim: Sim, unit_id: int, table: str, address: int, count: int) -> list[int]:
    port = sim.ports["modbus_port"]
    return protocols.read_sungrow("127.0.0.1", port, unit_id, table, address, count, TIMEOUT)


def http(sim: Sim, unit_id: int, table: str, address: int, count: int) -> list[int]:
    ws, web = sim.ports["ws_port"], sim.ports["http_port"]
    return protocols.read_http("127.0.0.1", ws, web, unit_id, table, address, count, TIMEOUT)


READERS = pytest.mark.parametrize("read", [modbus, sungrow, http], ids=lambda r: r.__name__)


def ascii_of(registers: list[int]) -> str:
    return b"".join(r.to_bytes(2, "big") for r in registers).rstrip(b"\0").decode()


@READERS
@pytest.mark.timeout(60)
def test_reads_the_device_code_the_simulator_reports(sim: Sim, read: Reader):
    assert read(sim, 1, "input", 4999, 1) == [sim.state()["device_code"]]


@READERS
@pytest.mark.timeout(60)
def test_reads_the_serial_number_the_simulator_reports(sim: Sim, read: Reader):
    assert ascii_of(read(sim, 1, "input", 4989, 10)) == sim.state()["serial"] == "SIMTESTER1"


@READERS
@pytest.mark.timeout(60)
def test_reads_the_clock_from_holding_registers(sim: Sim, read: Reader):
    year, month, day = read(sim, 1, "holding", 4999, 3)

    assert f"{year:04d}-{month:02d}-{day:02d}" == sim.state()["clock"][:10]


@pytest.mark.parametrize("read", [modbus, sungrow], ids=lambda r: r.__name__)
@pytest.mark.timeout(60)
def test_an_unknown_unit_id_is_a_read_error_with_the_exception_code(sim: Sim, read: Reader):
    with pytest.raises(protocols.ReadError, match="exception code 11"):
        read(sim, 9, "input", 4999, 1)


@pytest.mark.timeout(60)
def test_http_reports_an_unknown_device(sim: Sim):
    with pytest.raises(protocols.ReadError, match="no device with id 9"):
        http(sim, 9, "input", 4999, 1)


def test_encrypted_request_frame_matches_the_documented_layout():
    key = bytes(range(16))
    adu = bytes.fromhex("1234 0000 0006 01 04 1387 0001")

    frame = protocols.encrypt_request(key, adu)

    assert frame[:4] == bytes([1, 0, 12, 4])
    assert len(frame) == 4 + 16
