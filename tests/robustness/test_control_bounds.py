"""Control-API inputs that used to crash a handler answer 4xx; faults are bounded.

Also: malformed HTTP requests and Modbus PDUs are logged rate limited, one line per
kind, without tracebacks (the module's simulator is checked for tracebacks at the end).
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import struct
import time

import aiohttp
import pytest
from robustness.conftest import POWER_W
from robustness.fieldkit import http as call
from support.simproc import SimProcess, launch, serve_command

HUGE_INT = b"9" * 5000


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/power", b'{"watts": ' + HUGE_INT + b"}", 400),
        ("/v1/power", b'{"watts": -' + HUGE_INT + b"}", 400),
        ("/v1/power", b'{"watts": 1e400}', 400),
        ("/v1/power", b'{"watts": NaN}', 400),
        ("/v1/power", b'{"watts": Infinity}', 400),
        ("/v1/battery", b'{"power_w": -Infinity}', 400),
        ("/v1/faults", b'{"kind": "exception", "code": ' + HUGE_INT + b"}", 400),
        ("/v1/faults", b'{"kind": "exception", "code": ' + b"9" * 4000 + b"}", 422),
        ("/v1/faults", b'{"kind": "no-reply", "duration_s": 1e400}', 400),
        ("/v1/faults", b'{"kind": "no-reply", "unit_id": 99}', 422),
        ("/v1/clock", b'{"time": "9999-12-31T23:59:58"}', 422),
        ("/v1/clock", b'{"time": "0001-01-01T00:00:00+14:00"}', 422),
        ("/v1/clock", b'{"time": ' + HUGE_INT + b"}", 400),
        ("/v1/clock", b'{"time": 1e300}', 422),
        ("/v1/power?unit_id=" + "9" * 5000, b'{"watts": 5}', 400),
    ],
)
def test_inputs_that_crashed_a_handler_answer_4xx_and_change_nothing(
    sim: SimProcess, path, body, status
):
    got, answer = call(sim.control_url, "POST", path, body)
    assert got == status, (got, answer)
    assert isinstance(answer, dict) and answer["error"]
    inverter = call(sim.control_url, "GET", "/v1/state")[1]["inverters"][0]
    assert inverter["overrides"]["power_w"] == POWER_W and inverter["faults"] == []


def test_a_non_utf8_authorization_header_without_a_token_is_ignored(sim: SimProcess):
    sock = socket.create_connection(("127.0.0.1", sim.ports["control_port"]), timeout=5)
    with sock:
        sock.sendall(
            b"GET /v1/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\x80\r\n\r\n"
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")


def log_lines(sim: SimProcess) -> list[str]:
    return [line for line in sim.log().splitlines() if line[:4].isdigit()]


def test_malformed_http_and_modbus_traffic_is_logged_once_per_kind(sim: SimProcess):
    before = len(log_lines(sim))
    garbage = [
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        b"\xff\xfe\xfd\r\n\r\n",
    ]
    for port in (sim.ports["control_port"], sim.ports["ws_port"], sim.ports["http_port"]):
        for payload in garbage:
            for _ in range(25):
                with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                    sock.sendall(payload)
                    try:
                        sock.recv(4096)
                    except OSError:
                        pass
    modbus = sim.ports["modbus_port"]
    bad_pdus = [
        struct.pack(">HHHBB", 1, 0, 2, 1, 0x63),  # unknown function
        struct.pack(">HHHBBH", 1, 0, 4, 1, 4, 4999),  # read without a count
        struct.pack(">HHHBBHHB", 1, 0, 7, 1, 16, 4999, 1, 2),  # write, no data
        struct.pack(">HHHBB", 1, 0, 2, 1, 0x90),  # an exception code as a request
    ]
    for _ in range(100):
        with socket.create_connection(("127.0.0.1", modbus), timeout=5) as sock:
            for pdu in bad_pdus:
                sock.sendall(pdu)
            try:
                sock.recv(4096)
            except OSError:
                pass
    new = log_lines(sim)[before:]
    # 1,700 bad requests: a handful of lines (one per kind and minute), not one each.
    assert len(new) <= 12, "\n".join(new)


async def inject_many(url: str, spec: bytes, count: int) -> list[int]:
    """POST a fault `count` times over 16 keep-alive connections."""
    connector = aiohttp.TCPConnector(limit=16)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> int:
            headers = {"Content-Type": "application/json"}
            async with session.post(url + "/v1/faults", data=spec, headers=headers) as reply:
                await reply.read()
                return reply.status

        return list(await asyncio.gather(*(one() for _ in range(count))))


def test_faults_are_bounded_and_matching_stays_cheap(tmp_path):
    sim = launch(serve_command("--model", "SH10RT", "--protocols", "modbus"), tmp_path)
    try:
        port = sim.ports["modbus_port"]

        def p50_read_ms() -> float:
            times = []
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                for i in range(300):
                    began = time.perf_counter()
                    sock.sendall(struct.pack(">HHHBBHH", i, 0, 6, 1, 4, 4999, 1))
                    assert len(sock.recv(64)) == 11
                    times.append(time.perf_counter() - began)
            return statistics.median(times) * 1000

        empty = p50_read_ms()
        spec = b'{"kind": "token-expiry", "scope": "http"}'
        assert asyncio.run(inject_many(sim.control_url, spec, 1000)) == [201] * 1000
        status, answer = call(sim.control_url, "POST", "/v1/faults", spec)
        assert status == 409 and "maximum" in answer["error"], answer
        assert len(call(sim.control_url, "GET", "/v1/faults")[1]["faults"]) == 1000
        # Faults of other kinds are not scanned on a Modbus read.
        full = p50_read_ms()
        assert full < max(3 * empty, empty + 2.0), (empty, full)
        status, cleared = call(sim.control_url, "DELETE", "/v1/faults?kind=token-expiry")
        assert status == 200 and len(cleared["cleared"]) == 1000
        assert call(sim.control_url, "POST", "/v1/faults", spec)[0] == 201
    finally:
        sim.stop()
