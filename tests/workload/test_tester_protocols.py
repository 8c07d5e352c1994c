"""The integration tester charm's protocol clients read a real simulator correctly.

tests/integration/tester/src/protocols.py is what the tester charm runs inside the
cluster; here it runs against a simulator subprocess on OS-assigned ports, and what it
reads is compared with the simulator's own `ctl state`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from support.simproc import SimProcess, launch, serve_command

from tools.wire import decode_ascii

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


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    args = ("--model", "SH10RT", "--serial", "SIMTESTER1", "--start-time", "2026-06-21T12:00:00")
    process = launch(serve_command(*args), tmp_path_factory.mktemp("sim"))
    try:
        yield process
    finally:
        process.stop()


Reader = Callable[[SimProcess, int, str, int, int], list[int]]


def modbus(sim: SimProcess, unit_id: int, table: str, address: int, count: int) -> list[int]:
    port = sim.ports["modbus_port"]
    return protocols.read_modbus("127.0.0.1", port, unit_id, table, address, count, TIMEOUT)


def sungrow(sim: SimProcess, unit_id: int, table: str, address: int, count: int) -> list[int]:
    port = sim.ports["modbus_port"]
    return protocols.read_sungrow("127.0.0.1", port, unit_id, table, address, count, TIMEOUT)


def http(sim: SimProcess, unit_id: int, table: str, address: int, count: int) -> list[int]:
    ws, web = sim.ports["ws_port"], sim.ports["http_port"]
    return protocols.read_http("127.0.0.1", ws, web, unit_id, table, address, count, TIMEOUT)


READERS = pytest.mark.parametrize("read", [modbus, sungrow, http], ids=lambda r: r.__name__)


@READERS
@pytest.mark.timeout(60)
def test_reads_the_device_code_the_simulator_reports(sim: SimProcess, read: Reader):
    assert read(sim, 1, "input", 4999, 1) == [sim.inverter()["device_code"]]


@READERS
@pytest.mark.timeout(60)
def test_reads_the_serial_number_the_simulator_reports(sim: SimProcess, read: Reader):
    assert (
        decode_ascii(read(sim, 1, "input", 4989, 10)) == sim.inverter()["serial"] == "SIMTESTER1"
    )


@READERS
@pytest.mark.timeout(60)
def test_reads_the_clock_from_holding_registers(sim: SimProcess, read: Reader):
    year, month, day = read(sim, 1, "holding", 4999, 3)

    assert f"{year:04d}-{month:02d}-{day:02d}" == sim.inverter()["clock"][:10]


@pytest.mark.parametrize("read", [modbus, sungrow], ids=lambda r: r.__name__)
@pytest.mark.timeout(60)
def test_an_unknown_unit_id_is_a_read_error_with_the_exception_code(sim: SimProcess, read: Reader):
    with pytest.raises(protocols.ReadError, match="exception code 11"):
        read(sim, 9, "input", 4999, 1)


@pytest.mark.timeout(60)
def test_http_reports_an_unknown_device(sim: SimProcess):
    with pytest.raises(protocols.ReadError, match="no device with id 9"):
        http(sim, 9, "input", 4999, 1)


def test_encrypted_request_frame_matches_the_documented_layout():
    key = bytes(range(16))
    adu = bytes.fromhex("1234 0000 0006 01 04 1387 0001")

    frame = protocols.encrypt_request(key, adu)

    assert frame[:4] == bytes([1, 0, 12, 4])
    assert len(frame) == 4 + 16
