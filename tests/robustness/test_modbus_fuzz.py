"""Abuse of the Modbus port: protocol-correct answers or a closed connection.

The server never crashes and a valid pymodbus 3 client reading alongside gets only
correct answers. Every loop is seeded, bounded in count and time, and local.
"""

from __future__ import annotations

import asyncio
import random
import struct
import time

import pytest
from robustness.probe import Expected, check_pdu, reading_alongside
from support.simproc import SimProcess

from tools.wire import LATE_S, exchange, frame_count, mbap_frames, read_pdu
from tools.wire import mbap as request

SEED = 7
TIME_BUDGET_S = 20.0
WRITES = (6, 16, 0x17)


def harmless(data: bytes) -> bytes:
    """Point any write that happens to parse at an absent unit: the oracle stays valid."""
    if len(data) > 7 and data[2:4] == b"\0\0" and data[7] & 0x7F in WRITES:
        return data[:6] + b"\x02" + data[7:]
    return data


async def answered(port: int, data: bytes, expect: int = 0) -> list[tuple[int, int, bytes]]:
    """Frames the server sent back (waiting for `expect` of them); each well formed."""
    reply, _ = await exchange(port, data, done=frame_count(expect) if expect else None)
    frames = mbap_frames(reply)
    for _, _, pdu in frames:
        check_pdu(pdu)
    return frames


async def test_random_bytes_are_answered_well_formed_or_dropped(
    sim: SimProcess, expected: Expected
):
    rng = random.Random(SEED)
    port = sim.ports["modbus_port"]
    deadline = time.monotonic() + TIME_BUDGET_S
    async with reading_alongside(port, expected):
        for _ in range(20):  # 20 batches of 10 connections
            if time.monotonic() > deadline:
                break
            batch = []
            for _ in range(10):
                size = rng.choice((1, 7, 8, 12, 64, 300, 5000))
                junk = bytes(rng.randrange(256) for _ in range(size))
                if rng.random() < 0.5:  # half look like Modbus TCP: protocol id 0
                    junk = junk[:2] + b"\0\0" + junk[4:]
                batch.append(answered(port, harmless(junk)))
            await asyncio.gather(*batch)


async def test_every_prefix_of_a_request_waits_and_the_rest_completes_it(
    sim: SimProcess, expected: Expected
):
    port = sim.ports["modbus_port"]
    frame = request(9, 1, read_pdu(4, 4999, 1))
    async with reading_alongside(port, expected):
        for cut in range(1, len(frame)):
            reply, closed = await exchange(port, frame[:cut], wait_s=0.1)
            assert (reply, closed) == (b"", False), f"prefix of {cut} bytes"
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for byte in frame:  # one byte per write
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.005)
            reply = await asyncio.wait_for(reader.readexactly(11), 5)
        finally:
            writer.close()
    assert mbap_frames(reply) == [(9, 1, bytes([4, 2]) + expected.device_code.to_bytes(2, "big"))]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(struct.pack(">HHHB", 1, 0, 300, 1) + b"\x04" * 299, id="length-300"),
        pytest.param(struct.pack(">HHHB", 1, 0, 0xFFFF, 1) + b"\0" * 64, id="length-65535"),
        pytest.param(struct.pack(">HHHB", 1, 0, 1, 1) + b"\x04", id="length-1"),
        pytest.param(struct.pack(">HHHB", 1, 0, 0, 1) + b"\x04", id="length-0"),
        pytest.param(b"\x00\x01\x00\x00\x00" + b"\xff" * 9000, id="9000-bytes"),
    ],
)
async def test_oversized_and_impossible_lengths_close_the_connection(
    sim: SimProcess, expected: Expected, data: bytes
):
    port = sim.ports["modbus_port"]
    async with reading_alongside(port, expected):
        reply, closed = await exchange(port, data, wait_s=LATE_S)
    assert reply == b"" and closed


async def test_a_frame_just_under_the_limit_is_parsed_not_dropped(sim: SimProcess):
    frame = request(3, 1, bytes([0x2B]) + b"\0" * 252)  # 253-byte PDU: MBAP length 254
    assert await answered(sim.ports["modbus_port"], frame, 1) == [(3, 1, bytes([0xAB, 1]))]


@pytest.mark.parametrize("unit", [0, 2, 100, 246, 247, 255])
async def test_unknown_unit_ids_answer_gateway_target_failed(
    sim: SimProcess, expected: Expected, unit: int
):
    port = sim.ports["modbus_port"]
    async with reading_alongside(port, expected):
        frames = await answered(port, request(0x1234, unit, read_pdu(4, 4999, 1)), 1)
    assert frames == [(0x1234, unit, bytes([0x84, 11]))]


@pytest.mark.parametrize(
    ("pdu", "answer"),
    [
        (b"\x00", b"\x80\x01"),
        (read_pdu(1, 0, 8), b"\x81\x01"),
        (read_pdu(2, 0, 8), b"\x82\x01"),
        (b"\x05\x00\x01\xff\x00", b"\x85\x01"),
        (b"\x07", b"\x87\x01"),
        (b"\x08\x00\x00\x12\x34", b"\x88\x01"),
        (b"\x11", b"\x91\x01"),
        (b"\x2b\x0e\x01\x00", b"\xab\x01"),
        (b"\x7f", b"\xff\x01"),
        (b"\xff\x00", b"\xff\x01"),
        (read_pdu(0x84, 4999, 1), b"\x84\x03"),
    ],
    ids=lambda v: v.hex(),
)
async def test_unsupported_function_codes_answer_an_exception(
    sim: SimProcess, expected: Expected, pdu: bytes, answer: bytes
):
    port = sim.ports["modbus_port"]
    async with reading_alongside(port, expected):
        assert await answered(port, request(77, 1, pdu), 1) == [(77, 1, answer)]


@pytest.mark.parametrize(
    ("pdu", "answer"),
    [
        (read_pdu(4, 4999, 0), b"\x84\x03"),
        (read_pdu(4, 4999, 126), b"\x84\x03"),
        (read_pdu(4, 4999, 0xFFFF), b"\x84\x03"),
        (read_pdu(3, 0xFFFF, 1), b"\x83\x02"),
        (read_pdu(4, 0, 10), b"\x84\x02"),
        (read_pdu(4, 4999, 1)[:3], b"\x84\x03"),
        (read_pdu(4, 4999, 1) + b"\0", b"\x84\x03"),
        (b"\x06\x13\x87", b"\x86\x03"),
    ],
    ids=lambda v: v.hex(),
)
async def test_bad_lengths_and_ranges_answer_the_right_exception(
    sim: SimProcess, expected: Expected, pdu: bytes, answer: bytes
):
    port = sim.ports["modbus_port"]
    async with reading_alongside(port, expected):
        assert await answered(port, request(5, 1, pdu), 1) == [(5, 1, answer)]


async def test_pipelined_good_and_bad_requests_are_answered_in_order(sim: SimProcess):
    good = read_pdu(4, 4999, 1)
    stream = b"".join(
        request(tid, unit, pdu)
        for tid, unit, pdu in [(1, 1, good), (2, 9, good), (3, 1, b"\x07"), (4, 1, good)]
    )
    frames = await answered(sim.ports["modbus_port"], stream, 4)
    assert [(tid, unit, pdu[0]) for tid, unit, pdu in frames] == [
        (1, 1, 4), (2, 9, 0x84), (3, 1, 0x87), (4, 1, 4),
    ]  # fmt: skip
