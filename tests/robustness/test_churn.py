"""Connection churn in SungrowModbusTcpClient's pattern, with zero failed reads.

Each of 200 sessions over at least 30 seconds: connect, fetch the key, close, connect,
send one encrypted request, close; a plain pymodbus 3 client reads alongside.
"""

from __future__ import annotations

import asyncio
import struct
import time

from robustness.probe import GET_KEY, HOST, Expected, decrypt, encrypt, reading_alongside
from support.simproc import SimProcess

CONNECTIONS = 200
SPREAD_S = 30.5


async def key_exchange(port: int) -> bytes:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(GET_KEY)
        reply = await asyncio.wait_for(reader.readexactly(25), 5)
    finally:
        writer.close()
        await writer.wait_closed()
    return reply[9:]


async def encrypted_read(port: int, key: bytes, tid: int) -> bytes:
    adu = struct.pack(">HHHBBHH", tid, 0, 6, 1, 4, 4999, 1)
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(encrypt(key, adu))
        head = await asyncio.wait_for(reader.readexactly(4), 5)
        body = await asyncio.wait_for(reader.readexactly(head[2] + head[3]), 5)
    finally:
        writer.close()
        await writer.wait_closed()
    [plain] = decrypt(key, head + body)
    return plain


async def test_200_short_lived_encrypted_sessions_over_30_s_all_read_correctly(
    sim: SimProcess, expected: Expected
):
    port = sim.ports["modbus_port"]
    want = struct.pack(">HHHBBBH", 0x6868, 0, 5, 1, 4, 2, expected.device_code)
    failures: list[str] = []
    keys = set()
    start = time.monotonic()
    async with reading_alongside(port, expected):
        for i in range(CONNECTIONS):
            await asyncio.sleep(max(0.0, start + i * SPREAD_S / CONNECTIONS - time.monotonic()))
            try:
                key = await key_exchange(port)
                keys.add(key)
                reply = await encrypted_read(port, key, i)
            except (OSError, asyncio.IncompleteReadError, TimeoutError) as err:
                failures.append(f"{i}: {type(err).__name__}: {err}")
                continue
            if reply != want:
                failures.append(f"{i}: {reply.hex()} != {want.hex()}")
    elapsed = time.monotonic() - start
    assert failures == []
    assert len(keys) == 1  # one public key across connections, as the client requires
    assert elapsed >= 30.0
