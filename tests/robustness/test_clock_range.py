"""Clock writes outside the documented ranges are refused; the background tasks survive.

The hybrid protocol document gives the holding registers 5000-5005 as year 2000~2099,
month 1~12, day 1~31, hour 0~23, minute 0~59, second 0~59. A write outside them answers
Modbus exception 3 (illegal data value) and changes nothing; POST /v1/clock answers 422.
After such attempts the plant keeps ticking (the clock registers advance), SIGTERM exits
0 with a final save and a restart on that state directory works.
"""

from __future__ import annotations

import subprocess

import pytest
from pymodbus.client import ModbusTcpClient
from pymodbus.pdu import ExceptionResponse
from robustness.fieldkit import http, wait_until
from support.simproc import launch, serve_command

CLOCK_WIRE = 4999  # documented 5000


@pytest.fixture(scope="module")
def clock_sim(tmp_path_factory: pytest.TempPathFactory):
    tmp_path = tmp_path_factory.mktemp("clock")
    argv = serve_command(
        "--model", "SH10RT", "--protocols", "modbus", "--state-dir", str(tmp_path / "state"),
        "--start-time", "2026-06-21T12:00:00", "--time-scale", "60", "--tick-s", "0.2",
    )  # fmt: skip
    proc = launch(argv, tmp_path)
    yield proc
    proc.stop()


def clock_registers(client: ModbusTcpClient) -> list[int]:
    reply = client.read_holding_registers(CLOCK_WIRE, count=6, device_id=1)
    assert not reply.isError(), reply
    return list(reply.registers)


REFUSED_WRITES = (
    [9999, 12, 31, 23, 59, 58],  # the brick
    [1999, 12, 31, 23, 59, 59],
    [2100, 1, 1, 0, 0, 0],
    [2030, 13, 1, 0, 0, 0],
    [2030, 0, 1, 0, 0, 0],
    [2030, 2, 30, 0, 0, 0],  # day 1~31 but no 30 February
    [2030, 1, 32, 0, 0, 0],
    [2030, 1, 1, 24, 0, 0],
    [2030, 1, 1, 0, 60, 0],
    [2030, 1, 1, 0, 0, 60],
    [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF],
)


def test_out_of_range_clock_writes_answer_exception_3_and_change_nothing(clock_sim):
    sim = clock_sim
    client = ModbusTcpClient("127.0.0.1", port=sim.ports["modbus_port"], timeout=5, retries=0)
    assert client.connect()
    try:
        for values in REFUSED_WRITES:
            before = clock_registers(client)
            reply = client.write_registers(CLOCK_WIRE, values, device_id=1)
            assert isinstance(reply, ExceptionResponse) and reply.exception_code == 3, values
            after = clock_registers(client)
            assert after[0] == before[0] == 2026 and after[1:3] == before[1:3] == [6, 21]
        # One field alone, too: year 9999 written into register 5000 only.
        reply = client.write_register(CLOCK_WIRE, 9999, device_id=1)
        assert isinstance(reply, ExceptionResponse) and reply.exception_code == 3
        # The plant keeps ticking: the clock's minutes move on (60x).
        start = clock_registers(client)
        wait_until(lambda: clock_registers(client)[3:5] != start[3:5], 10, "the clock to move")
    finally:
        client.close()
    status, health = http(sim.control_url, "GET", "/v1/health")
    assert (status, health) == (200, {"status": "ok"})


def test_the_documented_edges_are_accepted(clock_sim):
    sim = clock_sim
    client = ModbusTcpClient("127.0.0.1", port=sim.ports["modbus_port"], timeout=5, retries=0)
    assert client.connect()
    try:
        for values in ([2000, 1, 1, 0, 0, 0], [2099, 12, 31, 23, 0, 0], [2024, 2, 29, 12, 0, 0]):
            reply = client.write_registers(CLOCK_WIRE, values, device_id=1)
            assert not reply.isError(), (values, reply)
            assert clock_registers(client)[:4] == values[:4]
    finally:
        client.close()


REFUSED_TIMES = (
    "9999-12-31T23:59:58",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59-14:00",
    "1999-12-31T23:59:59",
    "2100-01-01T00:00:00",
    "2099-12-31T23:30:00-01:00",  # 2100 in the inverter's zone (UTC)
)


def test_post_clock_outside_the_range_answers_422_and_the_simulator_keeps_running(tmp_path):
    state_dir = tmp_path / "state"
    argv = serve_command(
        "--protocols",
        "modbus",
        "--state-dir",
        str(state_dir),
        "--start-time",
        "2026-06-21T12:00:00",
    )
    sim = launch(argv, tmp_path)
    try:
        for when in REFUSED_TIMES:
            status, body = http(sim.control_url, "POST", "/v1/clock", {"time": when})
            assert status == 422, (when, body)
            assert "2000..2099" in body["error"] or "representable" in body["error"], body
        state_status, state = http(sim.control_url, "GET", "/v1/state")
        assert state_status == 200 and state["inverters"][0]["clock"].startswith("2026-06-21")
    finally:
        sim.stop()  # SIGTERM: exit 0 after a final save; the same state dir starts again
    assert sim.proc.returncode == 0, sim.log()[-2000:]
    again = launch(serve_command("--protocols", "modbus", "--state-dir", str(state_dir)), tmp_path)
    try:
        assert http(again.control_url, "GET", "/v1/health") == (200, {"status": "ok"})
    finally:
        again.stop()


def test_post_clock_at_the_edge_is_accepted(clock_sim):
    sim = clock_sim
    status, body = http(sim.control_url, "POST", "/v1/clock", {"time": "2026-06-21T12:00:00"})
    assert status == 200, body
    status, body = http(sim.control_url, "POST", "/v1/clock", {"time": "2099-12-31T23:59:00"})
    assert status == 200, body
    assert body["clock"].startswith("2099-12-31T23:59")


def test_the_clock_wraps_to_2000_after_2099_and_keeps_ticking(tmp_path):
    argv = serve_command(
        "--protocols", "modbus", "--start-time", "2099-12-31T23:59:00",
        "--time-scale", "600", "--tick-s", "0.1",
    )  # fmt: skip
    sim = launch(argv, tmp_path)
    try:

        def year() -> int:
            return http(sim.control_url, "GET", "/v1/state")[1]["inverters"][0]["clock"][:4]

        wait_until(lambda: year() == "2000", 15, "the clock to wrap")
        assert http(sim.control_url, "GET", "/v1/health") == (200, {"status": "ok"})
        assert "ran past 2099" in sim.log()
    finally:
        sim.stop()
    assert sim.proc.returncode == 0


def test_a_start_time_outside_the_range_is_a_configuration_error():
    from support.simproc import serve_command as cmd

    proc = subprocess.run(
        cmd("--start-time", "9999-12-31T23:59:58"), capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2 and "--start-time" in proc.stderr, proc.stderr
