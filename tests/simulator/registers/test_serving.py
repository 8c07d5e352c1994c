"""What a pymodbus 3 client reads from the documents' registers: sentinels, signs, texts."""

from __future__ import annotations

import pytest


def s32(words: list[int]) -> int:
    value = words[0] | words[1] << 16
    return value - (1 << 32) if value & 0x80000000 else value


def s16(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


def text(words: list[int]) -> str:
    return b"".join(w.to_bytes(2, "big") for w in words).rstrip(b"\0").decode("utf-8")


async def regs(client, table: str, address: int, count: int) -> list[int]:
    call = client.read_input_registers if table == "input" else client.read_holding_registers
    response = await call(address - 1, count=count, device_id=1)
    assert not response.isError(), (table, address, count, response)
    return response.registers


@pytest.fixture
async def connect(start_service, modbus_client):
    async def go(model: str, when: str = "2026-06-21T12:00:00", **inverter):
        service = await start_service(inverters=[{"model": model, **inverter}], start_time=when)
        return await modbus_client(service.ports["modbus_port"])

    return go


async def test_a_two_mppt_string_model_answers_the_sentinel_for_mppts_3_to_12(connect):
    client = await connect("SG10RT")
    mppt = await regs(client, "input", 5011, 6)
    assert mppt[0] > 0 and mppt[2] > 0  # MPPT 1 and 2 carry the array at noon
    assert mppt[4:] == [0xFFFF, 0xFFFF]  # MPPT 3
    assert await regs(client, "input", 5115, 10) == [0xFFFF] * 10  # MPPT 4-8
    assert await regs(client, "input", 5130, 8) == [0xFFFF] * 8  # MPPT 9-12
    strings = await regs(client, "input", 7013, 24)
    assert all(w != 0xFFFF for w in strings[:3]) and strings[3:] == [0xFFFF] * 21


async def test_a_string_models_meter_block_agrees_with_its_grid_power(connect):
    client = await connect("SG10RT")
    block = await regs(client, "input", 5083, 22)
    meter, phases, load = (
        s32(block[0:2]),
        [s32(block[i : i + 2]) for i in (2, 4, 6)],
        s32(block[8:10]),
    )
    export = s32(await regs(client, "input", 5216, 2))
    active = (await regs(client, "input", 5031, 2))[0]
    assert active > 0 and meter == -export  # > 0 buys from the grid
    assert abs(sum(phases) - meter) <= 3
    assert abs(load - (active - export)) <= 2  # the house takes what is not exported
    total_export = block[12] | block[13] << 16
    assert total_export > 0  # a counter, not a zero block


async def test_hybrid_battery_power_current_and_frequency_agree(connect):
    client = await connect("SH10RT", battery_kwh=16.0)
    power = s32(await regs(client, "input", 5214, 2))
    current = s16((await regs(client, "input", 5631, 1))[0]) / 10
    voltage = (await regs(client, "input", 13020, 1))[0] / 10
    legacy = (await regs(client, "input", 13022, 1))[0]
    flow = (await regs(client, "input", 13001, 1))[0]
    assert abs(power) == legacy
    if flow & 0b10:  # charging: negative, as the real unit shows
        assert power < 0 and current < 0
    if flow & 0b100:
        assert power > 0 and current > 0
    assert abs(voltage * current - power) <= voltage * 0.05 + 1
    coarse = (await regs(client, "input", 5036, 1))[0]
    fine = (await regs(client, "input", 5242, 1))[0]
    assert 4900 < fine < 5100 and abs(fine - coarse * 10) < 10
    assert await regs(client, "input", 5115, 2) == [0xFFFF, 0xFFFF]  # no MPPT 4


async def test_hybrid_power_limitation_reads_its_ratio_not_zero(connect):
    client = await connect("SH10RT")
    switch, ratio = await regs(client, "holding", 13089, 2)
    assert (switch, ratio) == (0xAA, 1000)
    assert await regs(client, "holding", 31204, 2) == [0xAA, 1000]


@pytest.mark.parametrize(
    ("model", "address", "count"),
    [("SH10RT", 13250, 15), ("SH5.0RS", 2582, 15), ("SG10RT", 4954, 15), ("SH10RT", 4969, 15)],
)
async def test_text_registers_hold_utf8_text(connect, model, address, count):
    client = await connect(model)
    value = text(await regs(client, "input", address, count))
    assert value and value.isprintable() and "_" in value


async def test_protocol_number_and_version_look_like_a_real_units(connect):
    client = await connect("SH10RT")
    words = await regs(client, "input", 4950, 4)
    version = words[2] | words[3] << 16
    assert words[:2] == [0x3000, 0x4142] and version >> 24 == 1  # V1.x.y
