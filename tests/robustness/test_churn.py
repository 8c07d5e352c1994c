"""Connection churn in SungrowModbusTcpClient's pattern, with zero failed reads.

Each of 200 sessions over at least 30 seconds: connect, fetch the key, close, connect,
send one encrypted request, close; a plain pymodbus 3 client reads alongside.
"""

from __future__ import annotations

import asyncio
import struct
import time

from robustness.probe import Expected, reading_alongside
from support.simproc import SimProcess

from tools.wire import Session, encrypted_count, exchange, fetch_key, mbap, read_pdu

CONNECTIONS = 200
SPREAD_S = 30.5


async def encrypted_read(port: int, key: bytes, tid: int) -> bytes:
    """One encrypted request on its own connection; the decrypted reply ADU."""
    session = Session(key)
    request = session.encrypt(mbap(tid, 1, read_pdu(4, 4999, 1)))
    reply, _ = await exchange(port, request, done=encrypted_count(1))
    [plain] = session.decrypt(reply)
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
                key = await fetch_key(port)
                keys.add(key)
                reply = await encrypted_read(port, key, i)
            except (OSError, AssertionError, ValueError) as err:
                failures.append(f"{i}: {type(err).__name__}: {err}")
                continue
            if reply != want:
                failures.append(f"{i}: {reply.hex()} != {want.hex()}")
    elapsed = time.monotonic() - start
    assert failures == []
    assert len(keys) == 1  # one public key across connections, as the client requires
    assert elapsed >= 30.0
