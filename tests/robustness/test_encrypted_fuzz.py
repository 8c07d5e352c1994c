"""Abuse of the encrypted (sungrow) framing on the Modbus port.

Bad headers, wrong keys, truncated and random frames close the connection or wait,
never crash the server, and a valid pymodbus 3 client alongside reads correctly.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from robustness.probe import Expected, reading_alongside
from support.simproc import SimProcess

from tools.wire import (
    LATE_S,
    Session,
    encrypted_count,
    exchange,
    fetch_key,
    mbap,
    mbap_frames,
    read_pdu,
)

SEED = 11


def read_adu(unit: int = 1, address: int = 4999, count: int = 1) -> bytes:
    return mbap(0x6868, unit, read_pdu(4, address, count))


@pytest.fixture(scope="module")
def key(sim: SimProcess) -> bytes:
    return asyncio.run(fetch_key(sim.ports["modbus_port"]))


def encrypt(key: bytes, adu: bytes) -> bytes:
    return Session(key).encrypt(adu)


def decrypt(key: bytes, stream: bytes) -> list[bytes]:
    return Session(key).decrypt(stream)


async def test_a_valid_encrypted_read_answers_the_device_code(
    sim: SimProcess, key: bytes, expected: Expected
):
    reply, _ = await exchange(
        sim.ports["modbus_port"], encrypt(key, read_adu()), done=encrypted_count(1)
    )
    [adu] = decrypt(key, reply)
    assert mbap_frames(adu) == [
        (0x6868, 1, bytes([4, 2]) + expected.device_code.to_bytes(2, "big"))
    ]


@pytest.mark.parametrize(
    "header",
    [
        bytes([1, 0, 12, 0]),  # pad 0
        bytes([1, 0, 12, 20]),  # pad over 16
        bytes([1, 0, 5, 11]),  # shorter than an MBAP frame
        bytes([1, 0, 12, 5]),  # length + pad not a whole block
        bytes([0xFF, 0xFF, 0xFF, 0xFF]),
    ],
    ids=lambda h: h.hex(),
)
async def test_bad_headers_close_the_connection(
    sim: SimProcess, expected: Expected, header: bytes
):
    port = sim.ports["modbus_port"]
    async with reading_alongside(port, expected):
        reply, closed = await exchange(port, header + b"\0" * 32, wait_s=LATE_S)
    assert reply == b"" and closed


async def test_frames_under_a_wrong_key_close_the_connection(
    sim: SimProcess, key: bytes, expected: Expected
):
    port = sim.ports["modbus_port"]
    rng = random.Random(SEED)
    async with reading_alongside(port, expected):
        for _ in range(20):
            wrong = bytes(rng.randrange(256) for _ in range(16))
            assert wrong != key
            reply, closed = await exchange(port, encrypt(wrong, read_adu()), wait_s=LATE_S)
            assert reply == b"" and closed


async def test_truncated_encrypted_frames_wait_and_answer_nothing(
    sim: SimProcess, key: bytes, expected: Expected
):
    port = sim.ports["modbus_port"]
    frame = encrypt(key, read_adu())
    async with reading_alongside(port, expected):
        for cut in (1, 3, 4, 5, 12, len(frame) - 1):
            reply, closed = await exchange(port, frame[:cut], wait_s=0.1)
            assert (reply, closed) == (b"", False), f"prefix of {cut} bytes"


async def test_random_bodies_behind_a_plausible_header_are_dropped_or_answered_encrypted(
    sim: SimProcess, key: bytes, expected: Expected
):
    port = sim.ports["modbus_port"]
    rng = random.Random(SEED)
    async with reading_alongside(port, expected):
        for _ in range(10):
            batch = []
            for _ in range(10):
                length = rng.randrange(8, 64)
                pad = 16 - length % 16
                body = bytes(rng.randrange(256) for _ in range(length + pad))
                batch.append(exchange(port, bytes([1, 0, length, pad]) + body))
            for reply, closed in await asyncio.gather(*batch):
                assert closed or reply == b"" or decrypt(key, reply)


async def test_unknown_unit_and_oversized_reads_get_encrypted_exceptions(
    sim: SimProcess, key: bytes, expected: Expected
):
    port = sim.ports["modbus_port"]
    stream = encrypt(key, read_adu(unit=9)) + encrypt(key, read_adu(address=12999, count=125))
    async with reading_alongside(port, expected):
        reply, _ = await exchange(port, stream, done=encrypted_count(2))
    frames = [frame for adu in decrypt(key, reply) for frame in mbap_frames(adu)]
    assert frames == [(0x6868, 9, b"\x84\x0b"), (0x6868, 1, b"\x84\x03")]
