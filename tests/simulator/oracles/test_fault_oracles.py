"""Injected faults as a pymodbus 3 client sees them.

Range geometry, unit scope, probability (statistically, seeded, p far from 1/2) and
every documented default.

Oracles: the Modbus exception codes are pymodbus's own constants (the Modbus spec's
numbering); the defaults are those docs/protocols.md and `--help` document (exception 4,
malformed-exception 2, inverter-fault 38, slow-reply 5 s, session-limit 1); the
probability is judged with a binomial bound (4.5 standard deviations).
"""

from __future__ import annotations

import asyncio
import math
import time

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.constants import ExcCodes
from sungrow_sim.faults import FaultSet, FaultSpec

SERVER_DEVICE_FAILURE = int(ExcCodes.DEVICE_FAILURE)  # Modbus exception 4


def within_binomial(hits: int, trials: int, p: float, sigmas: float = 4.5) -> bool:
    spread = sigmas * math.sqrt(trials * p * (1 - p))
    return abs(hits - trials * p) <= spread


@pytest.fixture
async def two_units(start_service, modbus_client):
    service = await start_service(
        inverters=[
            {"model": "SG10RT", "unit_id": 1, "serial": "SIMUNIT001"},
            {"model": "SG10RT", "unit_id": 2, "serial": "SIMUNIT002"},
        ]
    )
    client = await modbus_client(service.ports["modbus_port"])
    return service, client


async def fails(client: AsyncModbusTcpClient, wire: int, count: int, unit: int = 1) -> int | None:
    """The exception code of an input-register read, or None when it succeeds."""
    response = await client.read_input_registers(wire, count=count, device_id=unit)
    return response.exception_code if response.isError() else None


# Fault over documented 5011..5015 = wire 5010..5014; reads as (wire start, count).
OVERLAPS = [
    ((5005, 5), False),  # ends just below the fault
    ((5005, 6), True),  # last register is the fault's first
    ((5008, 10), True),  # starts below, ends inside the fault
    ((5000, 30), True),  # covers the fault
    ((5012, 1), True),  # inside
    ((5014, 5), True),  # starts at the fault's last register
    ((5015, 5), False),  # starts just above the fault
]


@pytest.mark.parametrize(("read", "hit"), OVERLAPS, ids=[str(r) for r, _ in OVERLAPS])
async def test_a_fault_range_hits_every_read_that_overlaps_it(two_units, read, hit):
    service, client = two_units
    service.sim.inject(FaultSpec(kind="exception", code=2, start=5011, count=5))
    assert await fails(client, *read) == (2 if hit else None)


async def test_a_fault_for_one_unit_id_spares_the_others(two_units):
    service, client = two_units
    service.sim.inject(FaultSpec(kind="exception", code=6, unit_id=2))
    assert await fails(client, 5030, 2, unit=1) is None
    assert await fails(client, 5030, 2, unit=2) == 6
    service.sim.clear_faults()
    service.sim.inject(FaultSpec(kind="exception", code=6))  # no unit: every unit
    assert await fails(client, 5030, 2, unit=1) == 6
    assert await fails(client, 5030, 2, unit=2) == 6


async def test_the_default_exception_code_is_server_device_failure(two_units):
    service, client = two_units
    service.sim.inject(FaultSpec(kind="exception"))
    assert await fails(client, 5030, 2) == SERVER_DEVICE_FAILURE == 4


async def test_the_default_inverter_fault_code_is_38_in_the_alarm_register(two_units):
    service, client = two_units
    service.sim.inject(FaultSpec(kind="inverter-fault", unit_id=1))
    alarm = await client.read_input_registers(5044, count=1, device_id=1)  # documented 5045
    assert alarm.registers == [38]
    other = await client.read_input_registers(5044, count=1, device_id=2)
    assert other.registers == [0]


@pytest.mark.parametrize("p", [0.2, 0.85])
async def test_fault_probability_is_the_fraction_of_requests_hit(two_units, p):
    service, client = two_units
    service.sim.inject(FaultSpec(kind="exception", code=3, probability=p))
    trials = 400
    hits = 0
    for _ in range(trials):
        hits += await fails(client, 5030, 2) == 3
    assert within_binomial(hits, trials, p), f"{hits}/{trials} hit at p={p}"


@pytest.mark.parametrize("p", [0.1, 0.3, 0.75, 0.95])
def test_fault_set_probability_is_seeded_and_matches_p(p):
    def draws(seed: int) -> list[bool]:
        faults = FaultSet(seed=seed)
        faults.add(FaultSpec(kind="exception", probability=p))
        return [faults.hit(("exception",), ("modbus",)) is not None for _ in range(4000)]

    first = draws(11)
    assert first == draws(11), "the same seed must give the same sequence"
    assert first != draws(12)
    assert within_binomial(sum(first), len(first), p), f"{sum(first)}/4000 at p={p}"


async def test_slow_reply_waits_five_seconds_by_default(two_units):
    service, _ = two_units
    service.sim.inject(FaultSpec(kind="slow-reply"))
    patient = AsyncModbusTcpClient(
        "127.0.0.1", port=service.ports["modbus_port"], timeout=12, retries=0
    )
    assert await patient.connect()
    began = time.monotonic()
    try:
        response = await patient.read_input_registers(5030, count=2, device_id=1)
    finally:
        patient.close()
    elapsed = time.monotonic() - began
    assert not response.isError()
    assert 4.9 <= elapsed < 9, elapsed


async def test_session_limit_allows_one_session_by_default(two_units):
    service, client = two_units
    service.sim.inject(FaultSpec(kind="session-limit", scope="modbus"))
    assert await fails(client, 5030, 2) is None  # the session already open stays
    reader, writer = await asyncio.open_connection("127.0.0.1", service.ports["modbus_port"])
    try:
        assert await asyncio.wait_for(reader.read(), 5) == b"", "a second session was kept"
    finally:
        writer.close()
    assert await fails(client, 5030, 2) is None


async def test_malformed_exception_defaults_to_code_2_in_a_length_2_frame(two_units):
    service, _ = two_units
    service.sim.inject(FaultSpec(kind="malformed-exception"))
    reader, writer = await asyncio.open_connection("127.0.0.1", service.ports["modbus_port"])
    try:
        # MBAP: transaction 7, protocol 0, length 6, unit 1; read input 5030 x 2
        writer.write(bytes([0, 7, 0, 0, 0, 6, 1, 4, 0x13, 0xA6, 0, 2]))
        frame = await asyncio.wait_for(reader.read(64), 5)
    finally:
        writer.close()
    assert frame[:4] == bytes([0, 7, 0, 0])
    assert int.from_bytes(frame[4:6], "big") == 2  # the dongle's malformed length
    assert frame[7] == 0x84 and frame[8] == 2


async def test_a_fault_with_a_start_and_no_count_covers_that_one_register(two_units):
    service, client = two_units
    service.sim.inject(FaultSpec(kind="exception", code=6, start=5012))  # wire 5011
    assert await fails(client, 5011, 1) == 6
    assert await fails(client, 5010, 1) is None
    assert await fails(client, 5012, 1) is None


async def test_a_fault_scoped_to_another_protocol_leaves_modbus_alone(two_units):
    service, client = two_units
    service.sim.inject(FaultSpec(kind="exception", code=6, scope="http"))
    assert await fails(client, 5030, 2) is None
    service.sim.inject(FaultSpec(kind="exception", code=5, scope="modbus"))
    assert await fails(client, 5030, 2) == 5
