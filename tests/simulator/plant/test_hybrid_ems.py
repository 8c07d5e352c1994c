"""A hybrid's energy management as a pymodbus 3 client sees it (documented addresses).

Input registers (hybrid protocol): 13000 system state, 13001 running state bits (bit 1
charging, 2 discharging, 4 feeding the grid, 5 importing), 13008 load power (S32),
13010 export power (S32, < 0 importing), 13020 battery voltage (0.1 V), 13021 battery
current (0.1 A), 13022 battery power (W), 13023 SOC (0.1 %), 13025 battery temperature
(0.1 degC), 13034 total active power (S32), 5017 total DC power (U32).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sungrow_sim.faults import FaultSpec

CHARGING, DISCHARGING, EXPORTING, IMPORTING = 2, 4, 16, 32
NIGHT = "2026-06-22T02:00:00+02:00"  # Munich, summer time: dark
NOON = "2026-06-21T13:00:00+02:00"
CAPACITY_KWH = 10.0


async def hybrid(device, start: str = NIGHT, **settings):
    settings.setdefault("inverters", [{"model": "SH10RT", "battery_kwh": CAPACITY_KWH}])
    dev = await device(start_time=start, timezone="Europe/Berlin", **settings)
    dev.advance(1)
    return dev


async def flows(dev) -> dict[str, Any]:
    """One snapshot of the hybrid's power flows, from two block reads."""
    words = await dev.words("input", 13000, 36)

    def s32(address: int) -> int:
        lo, hi = words[address - 13000], words[address - 13000 + 1]
        value = lo | hi << 16
        return value - (1 << 32) if value & 0x80000000 else value

    current = words[13021 - 13000]
    current = current - 0x10000 if current & 0x8000 else current
    return {
        "system": words[0],
        "bits": words[1],
        "load": s32(13008),
        "export": s32(13010),
        "voltage": words[13020 - 13000] / 10,
        "current": current / 10,
        "battery": words[13022 - 13000],
        "soc": words[13023 - 13000] / 10,
        "temperature": (words[13025 - 13000] - (0x10000 if words[13025 - 13000] & 0x8000 else 0))
        / 10,
        "active": s32(13034),
        "pv": await dev.u32(5017),
    }


async def test_at_2am_self_consumption_with_soc_80_discharges_and_imports_nothing(device):
    dev = await hybrid(device)
    dev.sim.set_battery(1, soc_pct=80)
    dev.advance(60)
    f = await flows(dev)
    assert await dev.u16(13050, "holding") == 0, "self-consumption mode by default"
    assert f["pv"] == 0
    assert f["bits"] & DISCHARGING and not f["bits"] & CHARGING
    assert f["system"] not in (0x0008, 0x1400), "running, not standby"
    assert f["load"] > 100
    assert f["battery"] == pytest.approx(f["load"], abs=5)
    assert abs(f["export"]) <= 5, "grid import near 0 W"
    assert not f["bits"] & IMPORTING
    # V x I = P (0.1 V and 0.1 A resolution)
    assert f["voltage"] * f["current"] == pytest.approx(f["battery"], rel=0.03, abs=20)


async def test_forced_charge_3000w_written_over_modbus_charges_within_a_tick(device):
    dev = await hybrid(device)
    dev.sim.set_battery(1, soc_pct=50)
    assert not (await dev.write(13050, 2)).isError()  # FC6: forced (compulsory) mode
    assert not (await dev.write(13051, 0xAA)).isError()  # FC6: charge
    assert not (await dev.write_many(13052, [3000])).isError()  # FC16: 3000 W
    dev.advance(1)
    f = await flows(dev)
    assert f["battery"] == 3000
    assert f["bits"] & CHARGING and not f["bits"] & DISCHARGING
    assert f["export"] == pytest.approx(-(f["load"] + 3000), abs=5), "PV is 0: from the grid"
    assert f["system"] == 0x0800, "running in compulsory mode"
    assert await dev.words("holding", 13050, 3) == [2, 0xAA, 3000]


async def test_forced_discharge_and_stop(device):
    dev = await hybrid(device)
    dev.sim.set_battery(1, soc_pct=70)
    await dev.write_many(13050, [2, 0xBB, 2500])
    dev.advance(1)
    f = await flows(dev)
    assert f["battery"] == 2500 and f["bits"] & DISCHARGING
    assert f["export"] == pytest.approx(2500 - f["load"], abs=5), "the rest is exported"
    discharging_voltage = f["voltage"]
    await dev.write(13051, 0xCC)
    dev.advance(1)
    f = await flows(dev)
    assert f["battery"] == 0
    assert f["export"] == pytest.approx(-f["load"], abs=5)
    assert f["voltage"] > discharging_voltage, "the voltage sags under discharge"


async def test_external_ems_mode_follows_the_command(device):
    dev = await hybrid(device)
    dev.sim.set_battery(1, soc_pct=70)
    await dev.write_many(13050, [3, 0xBB, 1500])
    dev.advance(1)
    f = await flows(dev)
    assert f["battery"] == 1500 and f["bits"] & DISCHARGING
    assert f["system"] == 0x4000, "running in external EMS mode"


async def test_out_of_range_writes_answer_exception_3_and_change_nothing(device):
    dev = await hybrid(device)
    response = await dev.write(13058, 400)  # max SOC 40 %: the documents allow 50-100 %
    assert response.isError() and response.exception_code == 3
    assert await dev.u16(13058, "holding") == 1000
    response = await dev.write(13050, 1)  # not a documented EMS mode
    assert response.isError() and response.exception_code == 3
    response = await dev.write_many(13050, [2, 0xAA, 60000])  # power above BDC rating
    assert response.isError() and response.exception_code == 3
    assert await dev.words("holding", 13050, 3) == [0, 0xCC, 0], "nothing of it applied"
    response = await dev.write(13059, 600)  # min SOC 60 %: allowed 0-50 %
    assert response.isError() and response.exception_code == 3


async def test_discharge_stops_at_min_soc_then_the_grid_carries_the_house(device):
    dev = await hybrid(device)
    assert not (await dev.write(13059, 300)).isError()  # min SOC 30 %
    dev.sim.set_battery(1, soc_pct=31)
    socs = []
    f: dict[str, Any] = {}
    for _ in range(120):
        dev.advance(60)
        f = await flows(dev)
        socs.append(f["soc"])
    assert min(socs) >= 29.9
    assert f["battery"] == 0, "empty down to min SOC: no more discharge"
    assert f["export"] == pytest.approx(-f["load"], abs=5)
    assert f["bits"] & IMPORTING


async def test_soc_reserve_holds_charge_for_backup_and_charges_below_it(device):
    dev = await hybrid(device)
    assert not (await dev.write(13100, 50)).isError()  # reserve 50 %
    dev.sim.set_battery(1, soc_pct=50.5)
    for _ in range(60):
        dev.advance(60)
    f = await flows(dev)
    assert 49.9 <= f["soc"] <= 50.6
    assert f["battery"] == 0
    dev.sim.set_battery(1, soc_pct=40)
    dev.advance(60)
    f = await flows(dev)
    assert f["bits"] & CHARGING, "below the reserve: emergency charging from the grid"
    assert f["export"] < -f["load"]


async def test_charging_stops_at_max_soc_and_the_surplus_is_exported(device):
    dev = await hybrid(device, start=NOON, cloudiness=0.0)
    assert not (await dev.write(13058, 600)).isError()  # max SOC 60 %
    dev.sim.set_battery(1, soc_pct=58)
    dev.sim.set_load(1, 300)
    socs = []
    for _ in range(60):
        dev.advance(60)
        socs.append((await flows(dev))["soc"])
    f = await flows(dev)
    assert max(socs) <= 60.1
    assert f["battery"] == 0
    assert f["export"] == pytest.approx(f["pv"] - 300, abs=10)


async def test_losses_soc_follows_served_battery_power_with_efficiency(device):
    dev = await hybrid(device)
    dev.sim.set_battery(1, soc_pct=20)
    await dev.write_many(13050, [2, 0xAA, 3000])
    dev.advance(1)
    start = await flows(dev)
    charged_kwh = 0.0
    f = start
    for _ in range(120):  # two hours, minute by minute
        dev.advance(60)
        f = await flows(dev)
        charged_kwh += f["battery"] * 60 / 3600 / 1000
    stored_kwh = (f["soc"] - start["soc"]) / 100 * CAPACITY_KWH
    charge_efficiency = stored_kwh / charged_kwh
    assert 0.92 <= charge_efficiency <= 0.99
    assert f["temperature"] > start["temperature"] + 0.5, "the battery warms while charging"
    await dev.write_many(13051, [0xBB, 3000])
    dev.advance(1)
    before = await flows(dev)
    discharged_kwh = 0.0
    f = before
    for _ in range(90):
        dev.advance(60)
        f = await flows(dev)
        discharged_kwh += f["battery"] * 60 / 3600 / 1000
    drawn_kwh = (before["soc"] - f["soc"]) / 100 * CAPACITY_KWH
    discharge_efficiency = discharged_kwh / drawn_kwh
    assert 0.92 <= discharge_efficiency <= 0.99
    assert 0.88 <= charge_efficiency * discharge_efficiency <= 0.96, "round trip"


async def test_grid_loss_with_backup_the_battery_carries_the_house(device):
    dev = await hybrid(device)
    dev.sim.set_battery(1, soc_pct=80)
    dev.sim.inject(FaultSpec(kind="grid-loss"))
    dev.advance(60)
    f = await flows(dev)
    assert f["system"] == 0x1000, "running off-grid"
    assert f["battery"] == pytest.approx(f["load"], abs=5) and f["load"] > 100
    assert f["export"] == 0


async def test_grid_loss_without_backup_carries_nothing(device):
    dev = await hybrid(device)
    dev.sim.set_battery(1, soc_pct=80)
    assert not (await dev.write(13075, 0x55)).isError()  # off-grid option disabled
    dev.sim.inject(FaultSpec(kind="grid-loss"))
    dev.advance(60)
    f = await flows(dev)
    assert f["battery"] == 0
    assert f["system"] != 0x1000


async def test_export_limitation_curtails_pv(device):
    dev = await hybrid(device, start=NOON, cloudiness=0.0)
    dev.sim.set_battery(1, soc_pct=100)
    dev.sim.set_load(1, 500)
    dev.advance(60)
    free = await flows(dev)
    assert free["export"] > 3000
    await dev.write(13074, 1000)
    await dev.write(13087, 0xAA)
    dev.advance(1)
    f = await flows(dev)
    assert f["export"] == pytest.approx(1000, abs=5)
    assert f["pv"] < free["pv"] - 1500, "PV curtailed to hold the limit"
    await dev.write(13087, 0x55)
    dev.advance(1)
    assert (await flows(dev))["export"] > 3000


async def test_power_limitation_caps_the_ac_output(device):
    dev = await hybrid(device, start=NOON, cloudiness=0.0)
    dev.sim.set_battery(1, soc_pct=100)
    dev.sim.set_load(1, 200)
    assert not (await dev.write_many(13089, [0xAA, 300])).isError()  # 30.0 %
    dev.advance(60)
    f = await flows(dev)
    assert f["active"] <= 3000
    assert f["active"] == pytest.approx(3000, abs=10)
    assert await dev.words("holding", 13089, 2) == [0xAA, 300]


async def test_max_charge_and_discharge_power(device):
    dev = await hybrid(device, start=NOON, cloudiness=0.0)
    dev.sim.set_battery(1, soc_pct=40)
    dev.sim.set_load(1, 300)
    assert not (await dev.write_many(33047, [100, 50])).isError()  # 1.00 kW, 0.50 kW
    dev.advance(60)
    f = await flows(dev)
    assert f["battery"] == 1000 and f["bits"] & CHARGING
    dev.sim.set_clock(datetime.fromisoformat(NIGHT))
    dev.sim.set_load(1, 1200)
    dev.advance(60)
    f = await flows(dev)
    assert f["battery"] == 500 and f["bits"] & DISCHARGING
    assert f["export"] == pytest.approx(-700, abs=5)


async def test_start_stop_over_modbus(device):
    dev = await hybrid(device)
    dev.sim.set_battery(1, soc_pct=80)
    await dev.write(13000, 0xCE)
    dev.advance(1)
    f = await flows(dev)
    assert f["battery"] == 0 and f["system"] == 0x0002
    assert await dev.u16(13000, "holding") == 0xCE
    await dev.write(13000, 0xCF)
    dev.advance(1)
    f = await flows(dev)
    assert f["battery"] > 0 and await dev.u16(13000, "holding") == 0xCF


async def test_settings_survive_a_restart(device, tmp_path):
    dev = await hybrid(device, state_dir=str(tmp_path))
    await dev.write_many(13050, [2, 0xAA, 2000])  # FC16
    await dev.write(13058, 900)  # FC6
    await dev.write(13100, 20)
    await dev.write_many(33047, [300, 400])
    await dev.stop()
    again = await hybrid(device, state_dir=str(tmp_path))
    assert await again.words("holding", 13050, 3) == [2, 0xAA, 2000]
    assert await again.u16(13058, "holding") == 900
    assert await again.u16(13100, "holding") == 20
    assert await again.words("holding", 33047, 2) == [300, 400]
    f = await flows(again)
    assert f["battery"] == 2000 and f["bits"] & CHARGING, "and they still steer the plant"


async def test_a_night_standby_fault_holds_the_hybrid_in_standby(device):
    dev = await hybrid(device)
    dev.sim.set_battery(1, soc_pct=80)
    dev.sim.inject(FaultSpec(kind="night-standby"))
    dev.advance(60)
    f = await flows(dev)
    assert f["system"] == 0x0008, "standby"
    assert f["battery"] == 0
    assert f["export"] == pytest.approx(-f["load"], abs=5)


async def daily_load_kwh(device, day: str) -> float:
    """House load (13008) over one day, read every five minutes (the profile is smooth)."""
    start = f"{day}T00:00:30+01:00"
    dev = await hybrid(device, start=start, commissioned=start)  # no history needed
    total = 0.0
    for _ in range(287):
        dev.advance(300)
        total += (await flows(dev))["load"] * 300 / 3600 / 1000
    await dev.stop()
    return total


async def test_the_house_uses_more_on_weekends_and_in_winter(device):
    wednesday = await daily_load_kwh(device, "2026-06-17")
    saturday = await daily_load_kwh(device, "2026-06-20")
    december = await daily_load_kwh(device, "2026-12-16")  # a Wednesday too
    assert saturday > wednesday * 1.1
    assert december > wednesday * 1.25


async def test_external_ems_without_a_heartbeat_in_time_returns_to_self_consumption(device):
    dev = await hybrid(device)
    dev.sim.set_battery(1, soc_pct=70)
    dev.sim.set_load(1, 400)
    assert not (await dev.write(13080, 20)).isError()  # heartbeat timeout 20 s
    await dev.write_many(13050, [3, 0xBB, 1500])
    dev.advance(15)
    assert (await flows(dev))["battery"] == 1500
    await dev.write(13080, 20)  # the EMS's heartbeat
    dev.advance(15)
    assert (await flows(dev))["battery"] == 1500, "still under external control"
    dev.advance(10)
    dev.advance(1)
    f = await flows(dev)
    assert await dev.u16(13050, "holding") == 0, "back to self-consumption"
    assert f["battery"] == 400, "the battery covers the house again"
    response = await dev.write(13080, 1001)
    assert response.isError() and response.exception_code == 3


async def test_forced_charging_periods_charge_from_the_grid_to_their_target(device):
    dev = await hybrid(device)  # 02:00 on a Monday
    dev.sim.set_battery(1, soc_pct=40)
    dev.sim.set_load(1, 300)
    for name, value in (
        ("forced_charging_start_hour_1", 1),
        ("forced_charging_end_hour_1", 5),
        ("forced_charging_target_soc_1", 42),
        ("max_charge_power", 2000),
    ):
        dev.sim.set_setting(1, name, value)
    dev.advance(60)
    assert (await flows(dev))["bits"] & DISCHARGING, "off: self-consumption discharges"
    dev.sim.set_setting(1, "forced_charging", "enable")
    dev.advance(60)
    f = await flows(dev)
    assert f["battery"] == 2000 and f["bits"] & CHARGING
    assert f["export"] == pytest.approx(-2300, abs=5), "from the grid"
    for _ in range(30):
        dev.advance(60)
    f = await flows(dev)
    assert 41.9 <= f["soc"] <= 42.5, "up to the period's target"
    assert not f["bits"] & CHARGING


async def test_the_wide_range_power_is_the_same_setting(device):
    dev = await hybrid(device)
    dev.sim.set_setting(1, "charge_discharge_power_wide", 2500)  # 33148, 0.01 kW steps
    assert await dev.u16(13052, "holding") == 2500
    await dev.write(13052, 1234)
    shown = {s["name"]: s for s in dev.sim.settings(1)["settings"]}
    assert shown["charge_discharge_power_wide"]["raw"] == 123
