"""String inverters: meter and load registers, power and export limitation, asymmetry.

String protocol addresses: 5011ff MPPT voltage/current pairs, 5017 total DC power (U32),
5019-5021 phase voltages, 5022-5024 phase currents (0.1 A), 5031 total active power
(U32), 5216 export power (S32, > 0 feeding the grid), 5218 meter power (S32, the grid
point as the meter sees it: < 0 exporting), holding 5007/5008 power limitation,
5010/5011 export limitation. (The 5083ff meter block is the register map's to serve.)
"""

from __future__ import annotations

import pytest

NOON = "2026-06-21T13:00:00+02:00"


async def string(device, meter: bool = True, **settings):
    settings.setdefault("inverters", [{"model": "SG10RT", "meter": meter}])
    dev = await device(start_time=NOON, timezone="Europe/Berlin", **settings)
    dev.advance(60)
    return dev


async def test_meter_registers_agree_with_pv_and_the_house_load(device):
    dev = await string(device, cloudiness=0.0)
    loads = []
    for _ in range(5):
        dev.advance(600)
        active = await dev.u32(5031)
        meter = await dev.s32(5218)
        export = await dev.s32(5216)
        load = active - export  # export = PV - load
        assert active > 3000
        assert 100 < load < 5000, "the house takes a plausible share"
        assert meter == -export
        loads.append(load)
    assert len(set(loads)) > 1, "the house load follows its profile"
    dev.sim.set_load(1, 1234)
    dev.advance(1)
    assert await dev.u32(5031) - await dev.s32(5216) == 1234


async def test_without_a_meter_the_meter_registers_read_zero(device):
    dev = await string(device, meter=False, cloudiness=0.0)
    assert await dev.u32(5031) > 3000
    for address in (5216, 5218):
        assert await dev.s32(address) == 0, address


async def test_power_limitation_switch_and_ratio(device):
    dev = await string(device, cloudiness=0.0)
    assert await dev.u32(5031) > 6000
    assert not (await dev.write_many(5007, [0xAA, 400])).isError()  # 40.0 %
    dev.advance(1)
    assert await dev.u32(5031) == pytest.approx(4000, abs=5)
    assert await dev.words("holding", 5007, 2) == [0xAA, 400]
    response = await dev.write(5008, 1500)
    assert response.isError() and response.exception_code == 3
    await dev.write(5007, 0x55)
    dev.advance(1)
    assert await dev.u32(5031) > 6000


async def test_export_limitation_holds_at_the_grid_point(device):
    dev = await string(device, cloudiness=0.0)
    assert not (await dev.write(5011, 2000)).isError()
    assert not (await dev.write(5010, 0xAA)).isError()
    dev.sim.set_load(1, 700)
    dev.advance(1)
    assert await dev.s32(5216) == pytest.approx(2000, abs=3)
    assert await dev.u32(5031) == pytest.approx(2700, abs=3), "PV curtailed to load + limit"
    response = await dev.write(5011, 20000)  # above the rated active power
    assert response.isError() and response.exception_code == 3
    assert await dev.u16(5011, "holding") == 2000


async def test_strings_and_phases_are_not_identical(device):
    dev = await string(device, cloudiness=0.0, seed=3)
    words = await dev.words("input", 5011, 4)
    mppt_power = [words[0] * words[1], words[2] * words[3]]
    assert min(mppt_power) > 0
    assert max(mppt_power) / min(mppt_power) > 1.03, "seeded orientation and shading differ"
    currents = await dev.words("input", 5022, 3)
    assert len(set(currents)) > 1, "a small phase imbalance"
    assert max(currents) / min(currents) < 1.15
