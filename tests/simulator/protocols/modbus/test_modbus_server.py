"""The Modbus TCP server as a pymodbus 3 client (and raw sockets) see it."""

from __future__ import annotations

import asyncio
import struct

import pytest
from pymodbus.client import AsyncModbusTcpClient
from sungrow_sim.registers import catalogue

from tools.sungather_ranges import ranges
from tools.wire import at_least, decode_ascii, exchange

MODELS = list(catalogue().models)


async def read(client: AsyncModbusTcpClient, table: str, address: int, count: int, unit: int = 1):
    call = client.read_input_registers if table == "input" else client.read_holding_registers
    return await call(address, count=count, device_id=unit)


async def raw_exchange(port: int, frame: bytes, expect: int = 9) -> bytes:
    reply, _closed = await exchange(port, frame, done=at_least(expect))
    return reply


def test_there_are_117_models_with_distinct_names():
    """SunGather's 92 plus the 25 only the protocol documents list."""
    assert len(MODELS) == 117


async def test_model_code_and_serial_are_served(start_service, modbus_client):
    service = await start_service(inverters=[{"model": "SH10RT", "serial": "SIMTEST0001"}])
    client = await modbus_client(service.ports["modbus_port"])
    code = await read(client, "input", 4999, 1)
    assert code.registers == [0x0E03]
    serial = await read(client, "input", 4989, 10)
    assert decode_ascii(serial.registers) == "SIMTEST0001"


async def test_every_model_serves_every_level_2_range_sungather_reads_in_full(
    start_service, modbus_client
):
    """One server with all 117 models at unit ids 1..117, read exactly as SunGather would."""
    inverters = [
        {"model": m, "serial": f"SIM{n:07d}", "unit_id": n} for n, m in enumerate(MODELS, 1)
    ]
    service = await start_service(inverters=inverters)
    client = await modbus_client(service.ports["modbus_port"])
    failures = []
    for unit, model in enumerate(MODELS, 1):
        code = await read(client, "input", 4999, 1, unit)
        assert code.registers == [catalogue().model(model).device_code], model
        for table, start, count in ranges(model, 2):
            response = await read(client, table, start, count, unit)
            if response.isError() or len(response.registers) != count:
                failures.append((model, table, start, count, response))
    assert failures == []


HYBRID_LEVEL_1 = (
    [("input", 5000, 38), ("input", 5100, 100)]
    + [("input", start, 100) for start in range(6099, 6700, 100)]
    + [("input", 12999, 125), ("holding", 4999, 10)]
)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("SG10RT", [("input", 5000, 38), ("input", 5100, 100), ("holding", 4999, 10)]),
        ("SH10RT", HYBRID_LEVEL_1),
        ("SH5.0RS", HYBRID_LEVEL_1),
    ],
)
def test_range_selection_matches_the_spec_examples_for_level_1(model, expected):
    """SPEC.md: SG10RT level 1 reads FC4 5000/38, 5100/100, FC3 4999/10; hybrids add more."""
    assert ranges(model, 1) == expected


async def test_addresses_outside_supported_blocks_answer_exception_2(start_service, modbus_client):
    service = await start_service(inverters=[{"model": "SG10RT"}])
    client = await modbus_client(service.ports["modbus_port"])
    for address in (12999, 20000, 4900):
        response = await read(client, "input", address, 10)
        assert response.isError() and response.exception_code == 2, address
    hybrid_only = await read(client, "holding", 13000, 10)
    assert hybrid_only.exception_code == 2


async def test_undefined_addresses_inside_a_block_read_as_zero(start_service, modbus_client):
    service = await start_service(inverters=[{"model": "SG10RT"}])
    client = await modbus_client(service.ports["modbus_port"])
    response = await read(client, "input", 5025, 6)  # documented 5026-5031: undefined, then 5031
    assert response.registers[:5] == [0, 0, 0, 0, 0]


async def test_a_count_over_125_answers_exception_3(start_service):
    service = await start_service()
    frame = struct.pack(">HHHBBHH", 7, 0, 6, 1, 4, 4999, 126)
    reply = await raw_exchange(service.ports["modbus_port"], frame)
    assert reply == struct.pack(">HHHBBB", 7, 0, 3, 1, 0x84, 3)


async def test_an_unknown_unit_answers_exception_11_and_bad_functions_exception_1(start_service):
    service = await start_service()
    port = service.ports["modbus_port"]
    reply = await raw_exchange(port, struct.pack(">HHHBBHH", 1, 0, 6, 9, 4, 4999, 1))
    assert reply[7:] == bytes([0x84, 11])
    reply = await raw_exchange(port, struct.pack(">HHHBBHH", 2, 0, 6, 1, 1, 0, 8))
    assert reply[7:] == bytes([0x81, 1])


async def test_garbage_closes_the_connection_and_the_server_keeps_serving(
    start_service, modbus_client
):
    service = await start_service()
    port = service.ports["modbus_port"]
    garbage = b"\x00\x01\x00\x07\x00\x06garbage"
    assert await exchange(port, garbage, wait_s=3) == (b"", True)
    client = await modbus_client(port)
    assert (await read(client, "input", 4999, 1)).registers == [0x2433]


async def test_several_inverters_answer_at_their_unit_ids(start_service, modbus_client):
    service = await start_service(
        inverters=[
            {"model": "SG10RT", "serial": "SIMA000001", "unit_id": 1},
            {"model": "SH5.0RS", "serial": "SIMB000002", "unit_id": 2},
            {"model": "SG5K-D", "serial": "SIMC000003", "unit_id": 3},
        ]
    )
    client = await modbus_client(service.ports["modbus_port"])
    for unit, code, serial in (
        (1, 0x2433, "SIMA000001"),
        (2, 0x0D0F, "SIMB000002"),
        (3, 0x0126, "SIMC000003"),
    ):
        assert (await read(client, "input", 4999, 1, unit)).registers == [code]
        assert decode_ascii((await read(client, "input", 4989, 10, unit)).registers) == serial


async def test_many_short_lived_connections_all_get_answers(start_service):
    service = await start_service()
    port = service.ports["modbus_port"]

    async def one(i: int) -> bytes:
        return await raw_exchange(port, struct.pack(">HHHBBHH", i, 0, 6, 1, 4, 4999, 1), expect=11)

    replies = await asyncio.gather(*(one(i) for i in range(200)))
    assert all(r[9:] == b"\x24\x33" for r in replies)
    assert [struct.unpack(">H", r[:2])[0] for r in replies] == list(range(200))


async def test_writing_the_clock_registers_sets_the_clock(start_service, modbus_client):
    service = await start_service()
    client = await modbus_client(service.ports["modbus_port"])
    await client.write_registers(4999, [2030, 1, 2, 3, 4, 5], device_id=1)
    clock = await read(client, "holding", 4999, 6)
    assert clock.registers[:5] == [2030, 1, 2, 3, 4]


async def test_writing_stop_to_the_start_stop_register_stops_the_inverter(
    start_service, modbus_client
):
    service = await start_service()
    client = await modbus_client(service.ports["modbus_port"])
    await client.write_register(5005, 0xCE, device_id=1)
    state = await read(client, "input", 5037, 1)
    assert state.registers == [0x8000]
    assert (await read(client, "input", 5030, 2)).registers == [0, 0]
    bad = await client.write_register(5005, 0x1234, device_id=1)
    assert bad.isError() and bad.exception_code == 3
    await client.write_register(5005, 0xCF, device_id=1)
    assert (await read(client, "input", 5037, 1)).registers == [0]


async def test_hybrids_answer_holding_registers_from_documented_13000_as_pysungrow_reads(
    start_service, modbus_client
):
    service = await start_service(inverters=[{"model": "SH10RT"}])
    client = await modbus_client(service.ports["modbus_port"])
    block = await read(client, "holding", 12999, 101)
    assert len(block.registers) == 101
    assert block.registers[0] == 0xCF  # start_stop: start
    assert block.registers[11] == 0x55  # load_on_off_mode: off
    assert block.registers[51] == 0xCC  # charge_discharge_command: stop
    assert block.registers[58] == 1000  # max SOC 100.0 %
    await client.write_register(12999, 0xCE, device_id=1)
    assert (await read(client, "input", 12999, 1)).registers == [0x2]  # system state: stop
    assert (await read(client, "holding", 12999, 1)).registers == [0xCE]
