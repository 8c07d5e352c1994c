"""A history that adds up: counters from commissioning, over a day, across a downtime.

Judged from what a pymodbus 3 client reads at the documented addresses (hybrid: 13002
daily PV, 13003 total PV, 13008 load, 13010 export power, 13017/13018 direct use,
13022 battery power, 13026/13027 discharge, 13036/13037 import, 13040/13041 charge,
13045/13046 export energy, all 0.1 kWh; string: 5003 daily yield, 5004 total yield (kWh),
5006 total running time (h), 5128 monthly yield, 5144 total yield (0.1 kWh)).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sungrow_sim.plant import Counters, Plant, PlantConfig, simulate
from sungrow_sim.plant.model import FLOWS

CHARGING, DISCHARGING = 2, 4
START = "2026-06-21T00:00:30+02:00"


@pytest.fixture
def device(device):
    """This module judges the history: devices are commissioned a year before their start."""

    async def start(**settings):
        settings.setdefault("commissioned", None)
        return await device(**settings)

    return start


async def totals(dev) -> dict[str, float]:
    words = await dev.words("input", 13000, 50)

    def u32(address: int) -> float:
        i = address - 13000
        return (words[i] | words[i + 1] << 16) / 10

    def u16(address: int) -> float:
        return words[address - 13000] / 10

    return {
        "pv": u32(13003),
        "export": u32(13046),
        "import": u32(13037),
        "direct": u32(13018),
        "charge": u32(13041),
        "discharge": u32(13027),
        "daily_pv": u16(13002),
        "daily_export": u16(13045),
        "daily_import": u16(13036),
        "daily_direct": u16(13017),
        "daily_charge": u16(13040),
        "daily_discharge": u16(13026),
        "soc": u16(13023),
    }


async def test_a_fresh_hybrid_has_a_year_of_history_that_balances(device):
    dev = await device(start_time=START, timezone="Europe/Berlin", inverters=[{"model": "SH10RT"}])
    t = await totals(dev)
    assert t["pv"] > 8000, "about a year of a 12 kWp array"
    assert t["pv"] == pytest.approx(t["export"] + t["direct"] + t["charge"], rel=0.002, abs=0.3)
    assert 0.85 <= t["discharge"] / t["charge"] <= 0.97, "discharge ~ charge x efficiency"
    assert t["import"] > 100


# The documented arrays and the counters they file into, read over Modbus: (daily array,
# monthly array, yearly array, daily counter, total counter).
ARRAY_BLOCKS = {
    "pv": (6196, 6227, 6250, 13002, 13003),
    "direct": (6386, 6417, 6429, 13017, 13018),
    "export": (6565, 6596, 6608, 13045, 13046),
    "charge": (6744, 6775, 6787, 13040, 13041),
}


@pytest.mark.parametrize("flow", sorted(ARRAY_BLOCKS))
async def test_the_served_day_month_and_year_arrays_add_up_to_the_served_counters(device, flow):
    dev = await device(start_time=START, timezone="Europe/Berlin", inverters=[{"model": "SH10RT"}])
    day_at, month_at, year_at, daily_at, total_at = ARRAY_BLOCKS[flow]
    days = [w / 10 for w in await dev.words("input", day_at, 31)]
    months = [w / 10 for w in await dev.words("input", month_at, 12)]
    y = await dev.words("input", year_at, 40)
    years = [(y[2 * i] | y[2 * i + 1] << 16) / 10 for i in range(20)]
    daily = (await dev.words("input", daily_at, 1))[0] / 10
    t = await dev.words("input", total_at, 2)
    total = (t[0] | t[1] << 16) / 10
    assert total > 1000, "a year of history"
    assert days[20] == pytest.approx(daily, abs=0.1), "element 21 is today, 21 June"
    assert not any(days[21:]), "days after today are empty"
    assert sum(days) == pytest.approx(months[5], abs=0.1 * 21), "June's days make June"
    assert not any(months[6:]), "months after June are empty"
    assert sum(months) == pytest.approx(years[-1], abs=0.1 * 12), "this year's months"
    assert sum(years) == pytest.approx(total, abs=0.1 * 20), "the years make the total"
    assert years[-2] > 0, "last year's production is filed (commissioned a year ago)"


async def test_a_fresh_string_inverter_counts_running_hours_of_production_days(device):
    dev = await device(start_time=START, timezone="Europe/Berlin", inverters=[{"model": "SG10RT"}])
    hours = await dev.u32(5006)
    assert 365 * 8 <= hours <= 365 * 16, "daylight hours of a year"
    total_kwh = await dev.u32(5144) / 10
    assert await dev.u32(5004) == pytest.approx(total_kwh, abs=1)
    assert await dev.u32(5128) / 10 <= total_kwh


async def test_the_commissioning_date_sets_the_length_of_the_history(device):
    year = await device(
        start_time=START, timezone="Europe/Berlin", inverters=[{"model": "SG10RT"}]
    )
    month = await device(
        start_time=START,
        timezone="Europe/Berlin",
        commissioned="2026-05-22T00:00:00+02:00",
        inverters=[{"model": "SG10RT"}],
    )
    year_kwh, month_kwh = await year.u32(5144), await month.u32(5144)
    assert 0.05 * year_kwh < month_kwh < 0.2 * year_kwh
    assert await month.u32(5006) <= 30 * 24


async def test_a_day_read_over_modbus_integrates_to_the_served_counters(device):
    dev = await device(
        start_time=START,
        commissioned=START,  # the counters' growth is judged, not their history
        timezone="Europe/Berlin",
        cloudiness=0.3,
        inverters=[{"model": "SH10RT"}],
    )
    first = await totals(dev)
    integrated = dict.fromkeys(("pv", "export", "import", "direct", "charge", "discharge"), 0.0)
    night_discharge = False
    previous = first
    step = 60
    for minute in range(int(86_000 / step)):
        dev.advance(step)
        words = await dev.words("input", 13000, 23)
        pv = await dev.u32(5017)
        bits = words[1]
        load = words[8] | words[9] << 16
        export = words[10] | words[11] << 16
        export = export - (1 << 32) if export & 0x80000000 else export
        battery = words[22] * (1 if bits & CHARGING else -1 if bits & DISCHARGING else 0)
        kwh = step / 3600 / 1000
        integrated["pv"] += pv * kwh
        integrated["export"] += max(export, 0) * kwh
        integrated["import"] += max(-export, 0) * kwh
        integrated["direct"] += min(pv, load) * kwh
        integrated["charge"] += max(battery, 0) * kwh
        integrated["discharge"] += max(-battery, 0) * kwh
        if minute % 60 == 0:
            now = await totals(dev)
            for key in ("pv", "export", "import", "charge", "discharge"):
                assert now[key] >= previous[key], f"total {key} went back"
            previous = now
            if minute < 180 and battery < 0 and pv == 0:
                night_discharge = True
    last = await totals(dev)
    assert night_discharge, "the battery carries the house at night"
    assert integrated["pv"] > 20
    for key, value in integrated.items():
        assert last[f"daily_{key}"] == pytest.approx(value, rel=0.02, abs=0.15), key
        assert last[key] - first[key] == pytest.approx(value, rel=0.02, abs=0.25), key


async def test_a_restart_after_downtime_books_the_energy_of_the_gap(device, tmp_path):
    morning = "2026-06-21T08:00:00+02:00"
    dev = await device(
        start_time=morning,
        timezone="Europe/Berlin",
        state_dir=str(tmp_path),
        inverters=[{"model": "SH10RT"}],
    )
    before = await totals(dev)
    await dev.stop()
    # Down for six hours: the state file was written six hours before this restart.
    state_file = tmp_path / "state.json"
    state = json.loads(state_file.read_text())
    state["saved_at"] -= 6 * 3600
    state_file.write_text(json.dumps(state))
    later = await device(
        start_time=None,  # the clock goes on from the saved one
        timezone="Europe/Berlin",
        state_dir=str(tmp_path),
        inverters=[{"model": "SH10RT"}],
    )
    clock = await later.words("holding", 5000, 4)
    assert clock[:3] == [2026, 6, 21] and clock[3] == 14, "the clock moved on six hours"
    after = await totals(later)
    gained = after["pv"] - before["pv"]
    assert gained > 15, "six hours of a June morning were produced while down"
    assert after["daily_pv"] - before["daily_pv"] == pytest.approx(gained, abs=0.2)
    for key in ("export", "import", "direct", "charge", "discharge"):
        assert after[key] >= before[key]
    assert after["pv"] == pytest.approx(
        after["export"] + after["direct"] + after["charge"], rel=0.002, abs=0.3
    )


def test_the_day_month_and_year_arrays_add_up_to_the_counters():
    plant = Plant(PlantConfig("hybrid", 10_000, 3, 2, 12.0, 10.0, 48.14, 11.58, seed=5))
    end = datetime(2026, 6, 21, 13, tzinfo=UTC)
    simulate(plant, end - timedelta(days=500), end, "Europe/Berlin")
    c: Counters = plant.counters
    for name in FLOWS:
        days = sum(c.days[name]) + getattr(c, f"daily_{name}_kwh")
        months = sum(c.months[name]) + getattr(c, f"monthly_{name}_kwh")
        years = sum(c.years[name].values()) + getattr(c, f"yearly_{name}_kwh")
        assert days == pytest.approx(getattr(c, f"monthly_{name}_kwh"), abs=1e-6), name
        assert months == pytest.approx(getattr(c, f"yearly_{name}_kwh"), abs=1e-6), name
        assert years == pytest.approx(getattr(c, f"total_{name}_kwh"), abs=1e-6), name
    assert set(c.years["yield"]) == {"2025"}, "2025 filed as a finished year"
    assert c.days["yield"][20] == 0, "today is not filed yet"
    assert all(v > 0 for v in c.days["yield"][:20]), "every June day produced"


def test_damaged_saved_arrays_are_refitted_and_a_day_roll_still_files():
    c = Counters(
        day="2026-06-xx",
        month="2026-06",
        daily_yield_kwh=4.0,
        days={"yield": [1, "x"]},  # type: ignore[dict-item]
        months=7,  # type: ignore[arg-type]
        years={"yield": {"2024": 3, "2023": "bad"}},  # type: ignore[dict-item]
    )
    assert len(c.days["yield"]) == 31 and c.days["yield"][:2] == [1.0, 0.0]
    assert len(c.months["export"]) == 12 and c.years == {"yield": {"2024": 3.0}}
    plant = Plant(PlantConfig("hybrid", 10_000, 3, 2, 12.0, 10.0, 48.14, 11.58), c)
    simulate(plant, datetime(2026, 6, 21, tzinfo=UTC), datetime(2026, 6, 22, 1, tzinfo=UTC), "UTC")
    assert c.days["yield"][30] == 4.0, "the damaged day is filed in the last slot"
    assert c.day == "2026-06-22" and c.days["yield"][20] > 20, "the 21st filed"
