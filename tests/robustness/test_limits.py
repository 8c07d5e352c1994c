"""Connection limits: per peer and per listener, idle and slow clients, the fd limit.

Peers are told apart by their loopback source address (127.0.0.1, .2, .3: the whole
127/8 is loopback on Linux), so per-peer limits are tested without leaving the machine.
"""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path

import pytest
from robustness.fieldkit import http, read_input, wait_until
from support.simproc import SimProcess, launch, serve_command

READ = struct.pack(">HHHBBHH", 7, 0, 6, 1, 4, 4999, 1)  # device code, documented 5000


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    return sock


def answers(sock: socket.socket) -> bool:
    """Whether a Modbus read on this connection gets its 11-byte answer."""
    try:
        sock.sendall(READ)
        data = b""
        while len(data) < 11:
            chunk = sock.recv(64)
            if not chunk:
                return False
            data += chunk
        return data[:2] == READ[:2]
    except OSError:
        return False


def admitted(port: int, source: str = "127.0.0.1") -> bool:
    """Whether a fresh connection gets an answer (the connection is closed after)."""
    with connect(port, source) as sock:
        return answers(sock)


def closed_by_server(sock: socket.socket, within_s: float) -> float | None:
    """Seconds until the server closed the connection, or None if it did not in time."""
    start = time.monotonic()
    sock.settimeout(within_s)
    try:
        while True:
            if not sock.recv(4096):
                return time.monotonic() - start
    except TimeoutError:
        return None
    except OSError:
        return time.monotonic() - start


def refusals(sim: SimProcess) -> list[str]:
    return [line for line in sim.log().splitlines() if "refusing a connection" in line]


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("limits")
    argv = serve_command(
        "--model", "SH10RT", "--max-connections", "20", "--max-connections-per-peer", "10",
        "--idle-timeout-s", "2", "--request-timeout-s", "1",
    )  # fmt: skip
    sim = launch(argv, tmp)
    yield sim
    sim.stop()


def test_connections_are_capped_per_peer_and_per_listener_without_a_log_flood(limited):
    port = limited.ports["modbus_port"]
    held: list[socket.socket] = []
    try:
        for _ in range(10):
            held.append(connect(port, "127.0.0.1"))
            assert answers(held[-1])
        for _ in range(30):  # over the per-peer limit: closed at once, every time
            extra = connect(port, "127.0.0.1")
            assert not answers(extra)
            extra.close()
        for _ in range(10):  # another peer still gets its own 10
            held.append(connect(port, "127.0.0.2"))
            assert answers(held[-1])
        third = connect(port, "127.0.0.3")  # the listener is full (20)
        assert not answers(third)
        third.close()
        # The control API is another listener: it still answers.
        assert http(limited.control_url, "GET", "/v1/health") == (200, {"status": "ok"})
        assert len(refusals(limited)) <= 2, refusals(limited)  # one per reason and minute
    finally:
        for sock in held:
            sock.close()
    # Once they are gone, new connections are admitted again.
    wait_until(lambda: admitted(port, "127.0.0.3"), 5, "a connection to be admitted")


@pytest.mark.parametrize("listener", ["modbus_port", "control_port", "ws_port"])
def test_an_idle_connection_is_closed(limited, listener):
    sock = connect(limited.ports[listener])
    try:
        took = closed_by_server(sock, within_s=8)
        assert took is not None and 1.5 <= took < 8, took
    finally:
        sock.close()


def drip(sock: socket.socket, first: bytes, byte: bytes, seconds: float) -> float | None:
    """Send `first`, then one byte every 0.3 s (never idle); seconds until closed."""
    sock.sendall(first)
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            sock.sendall(byte)
        except OSError:
            return time.monotonic() - start
        sock.settimeout(0.3)
        try:
            if not sock.recv(4096):
                return time.monotonic() - start
        except TimeoutError:
            pass
        except OSError:
            return time.monotonic() - start
    return None


def test_a_slowloris_modbus_frame_is_cut_off(limited):
    sock = connect(limited.ports["modbus_port"])
    try:
        # A frame announcing 250 bytes, sent a byte at a time: never complete in 1 s.
        took = drip(sock, struct.pack(">HHHB", 1, 0, 250, 1), b"\x04", 8)
        assert took is not None and took < 5, took
    finally:
        sock.close()


@pytest.mark.parametrize("listener", ["control_port", "ws_port"])
def test_a_slowloris_http_head_is_cut_off(limited, listener):
    sock = connect(limited.ports[listener])
    try:
        took = drip(sock, b"GET /v1/health HTTP/1.1\r\nHost: x\r\n", b"X", 8)
        assert took is not None and took < 5, took
    finally:
        sock.close()


def test_keep_alive_requests_within_the_deadline_are_served(limited):
    sock = connect(limited.ports["control_port"])
    try:
        body = b'{"watts": 2000}'
        for _ in range(3):
            sock.sendall(
                b"POST /v1/power HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            reply = sock.recv(65536)
            assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
            time.sleep(1.2)  # longer than the request timeout, shorter than the idle one
    finally:
        sock.close()


def test_at_the_fd_limit_new_connections_are_refused_with_one_warning(tmp_path: Path):
    argv = serve_command("--model", "SH10RT", "--protocols", "modbus")
    # The simulator runs with at most 128 open files.
    wrapped = ["sh", "-c", 'ulimit -n 128 && exec "$@"', "sh", *argv]
    sim = launch(wrapped, tmp_path)
    port = sim.ports["modbus_port"]
    held = []
    try:
        for _ in range(300):
            try:
                held.append(connect(port))
            except OSError:
                break
        working = sum(answers(sock) for sock in held)
        assert 10 < working < 128, working
        status, health = http(sim.control_url, "GET", "/v1/health")
        assert status == 200 and health["status"] == "degraded", health
        assert [p["component"] for p in health["problems"]] == ["connections"]
        log = sim.log()
        warnings = [line for line in log.splitlines() if "WARNING" in line]
        assert len(warnings) == 1 and "open-file limit" in warnings[0], warnings
        assert "Traceback" not in log
    finally:
        for sock in held:
            sock.close()
    try:
        wait_until(
            lambda: http(sim.control_url, "GET", "/v1/health") == (200, {"status": "ok"}),
            10,
            "health to recover",
        )
        assert read_input(port, 4999, 1) == [0x0E03]
    finally:
        sim.stop()
    assert sim.proc.returncode == 0
