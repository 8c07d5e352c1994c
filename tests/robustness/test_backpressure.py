"""A client that sends and never reads: the server stops reading it, memory stays bounded.

The abusive client pipelines 1,000,000 reads of 125 input registers (259-byte replies:
259 MB if every reply were buffered) and reads nothing. The server must stop reading
from it once its unsent replies pass the high-water mark, so the sender stalls, the
simulator's RSS grows by less than 64 MiB, and a valid pymodbus 3 client on another
connection keeps reading correct answers quickly.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time

from pymodbus.client import ModbusTcpClient
from robustness.fieldkit import rss_kib
from support.simproc import launch, serve_command

REQUESTS = 1_000_000
LIMIT_KIB = 64 * 1024
STALL_S = 3.0  # the sender could send nothing for this long: the server stopped reading
DEADLINE_S = 40.0


def flood(port: int, stats: dict[str, float]) -> socket.socket:
    request = struct.pack(">HHHBBHH", 1, 0, 6, 1, 4, 4949, 125)  # documented 4950, 125 regs
    chunk = request * 4096
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # read nothing, hold little
    sock.setblocking(False)
    total = len(request) * REQUESTS
    sent = 0
    start = last_progress = time.monotonic()
    view = memoryview(chunk)
    offset = 0
    while sent < total and time.monotonic() - start < DEADLINE_S:
        _, writable, _ = select.select([], [sock], [], 0.2)
        if not writable:
            if time.monotonic() - last_progress > STALL_S:
                break
            continue
        try:
            n = sock.send(view[offset : offset + min(len(chunk) - offset, total - sent)])
        except BlockingIOError:
            continue
        sent += n
        offset = (offset + n) % len(chunk)
        last_progress = time.monotonic()
    stats["sent_requests"] = sent / len(request)
    stats["elapsed_s"] = time.monotonic() - start
    return sock


def test_one_million_unread_requests_grow_rss_by_less_than_64_mib(tmp_path):
    sim = launch(serve_command("--model", "SH10RT", "--protocols", "modbus"), tmp_path)
    port = sim.ports["modbus_port"]
    valid = ModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=0)
    try:
        assert valid.connect()
        for _ in range(20):  # warm up: imports, caches
            assert not valid.read_input_registers(4949, count=125, device_id=1).isError()
        baseline = rss_kib(sim.proc.pid)
        peak = [baseline]
        stats: dict[str, float] = {}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kib(sim.proc.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        abuser = flood(port, stats)
        try:
            latencies = []
            for _ in range(20):
                began = time.monotonic()
                reply = valid.read_input_registers(4999, count=1, device_id=1)
                latencies.append(time.monotonic() - began)
                assert not reply.isError() and reply.registers == [0x0E03], (
                    reply
                )  # SH10RT device code
            stop.set()
            sampler.join()
            grown = peak[0] - baseline
            assert grown < LIMIT_KIB, f"RSS grew {grown} KiB ({stats})"
            assert stats["sent_requests"] < REQUESTS, (
                "the server read everything: no back-pressure?"
            )
            assert max(latencies) < 1.0, latencies
        finally:
            stop.set()
            abuser.close()
        assert sim.proc.poll() is None
    finally:
        valid.close()
        sim.stop()
