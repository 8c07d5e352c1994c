"""The hybrid document's extra registers judged by physics, the documents and the real unit.

Backup port (5720-5734), BMS current limits (5635/5636), meter phases (5601-5607,
5741-5746), the feed-in limitation value (13074, 31222), the string inverters' nominal
reactive power (5049) and the live elements of the history arrays (6196ff). Every value
is read from the register image a client reads, at the address, type and scale of
Sungrow's hybrid protocol document V1.1.11 (or, for 5049, the string document V1.1.37),
decoded here. The expectations:

- Kirchhoff: the phases of the backup port add up to its total (5726), those of the meter
  to the meter's total (5601); P = V x I on every phase.
- The grid: while it is there, the backup port hangs on it through the inverter's relay
  (same voltage as 5019-5021, same frequency as 5242); the real SH8.0RT-20's backup port
  then carried almost nothing (-70..2 W in its dumps). Lost, the port carries the house
  (13008) at the rated 230 V / 50 Hz of the SH-RT/RS data sheets; a single-phase unit has
  phase A only.
- The meter (document 5601-5607): > 0 buying from the grid, < 0 selling.
- The real SH8.0RT-20 with its 16 kWh pack (shared/reference/sungrow-device dumps): BMS
  charge current limit 30 A at 69.7 % SOC, 16 A at 94.7 %, 0 A at 100 %; discharge limit
  30 A throughout; its feed-in limitation value (13074) sits at the maximum it allows
  (5623), the same in 31222's 0.01 kW.
- A BMS limit is a limit: the battery current (5631) never exceeds it; an empty battery
  may not be discharged; without a battery there is no BMS to allow anything.
- The day, month and year arrays hold today's, this month's and this year's PV energy in
  the running element (the document: 31 days, 12 months, 20 years).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sungrow_sim.config import InverterConfig
from sungrow_sim.faults import FaultSpec
from support.insim import FakeClockSim
from support.oracle import Reg, register_file

DUSK = datetime(2026, 6, 21, 18, 0, tzinfo=UTC)  # Munich: low sun, PV below a 3 kW load
NIGHT = datetime(2026, 6, 21, 23, 0, tzinfo=UTC)
NOON_NOVEMBER = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)  # a two-digit month and day
NOON = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)
DUMPS = register_file().parent / "sungrow-device"
RATED_V, RATED_HZ = 230.0, 50.0  # SH-RT/RS data sheets: backup output 230 V (phase), 50 Hz


def doc(address: int, datatype: str = "U16", scale: float = 1.0, table: str = "input") -> Reg:
    """A register at its documented (one-based) address."""
    return Reg(f"doc_{address}", table, address, datatype, scale, None)


GRID_V = [doc(5019 + i, scale=0.1) for i in range(3)]
BACKUP_I = [doc(5720 + i, "S16", 0.1) for i in range(3)]
BACKUP_P = [doc(5723 + i, "S16") for i in range(3)]
BACKUP_TOTAL = doc(5726, "S32")
BACKUP_V = [doc(5731 + i, scale=0.1) for i in range(3)]
BACKUP_HZ = doc(5734, scale=0.01)
GRID_HZ = doc(5242, scale=0.01)
LOAD = doc(13008, "S32")
METER_TOTAL = doc(5601, "S32")
METER_P = [doc(5603 + 2 * i, "S32") for i in range(3)]
METER_V = [doc(5741 + i, scale=0.1) for i in range(3)]
METER_I = [doc(5744 + i, scale=0.01) for i in range(3)]
BMS_CHARGE, BMS_DISCHARGE = doc(5635), doc(5636)
BATTERY_I = doc(5631, "S16", 0.1)  # > 0 discharging, as the real unit


class Unit(FakeClockSim):
    """One in-process simulator, commissioned at its start, on a fake monotonic clock."""

    def __init__(self, model: str, start: datetime, battery_kwh: float = 10.0) -> None:
        self.model = model
        config = InverterConfig(model=model, serial="SIMPROTO01", battery_kwh=battery_kwh)
        super().__init__([config], start)

    def minutes(self, minutes: int) -> None:
        self.run(minutes * 60)

    def all(self, entries: list[Reg]) -> list[float]:
        return [self.at(e) for e in entries]


def phases_of(model: str) -> int:
    return 1 if "RS" in model else 3


def assert_phase_power_is_v_times_i(
    powers: list[float], volts: list[float], amps: list[float], amp_step: float
) -> None:
    for n, (p, v, i) in enumerate(zip(powers, volts, amps, strict=True)):
        # The current is served in steps of amp_step: half a step of error, times V.
        assert abs(p) == pytest.approx(v * i, abs=v * amp_step / 2 + 1), f"phase {'abc'[n]}"


@pytest.mark.parametrize("model", ["SH10RT", "SH5.0RS"])
def test_on_grid_the_backup_port_hangs_on_the_grid_and_carries_nothing(model):
    unit = Unit(model, DUSK)
    unit.sim.set_load(None, 3000)
    unit.sim.set_battery(None, soc_pct=60.0)
    frequencies = set()
    for _ in range(6):
        unit.minutes(1)
        grid = unit.all(GRID_V)
        assert unit.all(BACKUP_V) == pytest.approx(grid, abs=0.1), "same node as the grid"
        assert sum(v > 200 for v in grid) == phases_of(model)
        frequency = unit.at(GRID_HZ)
        assert unit.at(BACKUP_HZ) == pytest.approx(frequency, abs=0.005)
        frequencies.add(frequency)
        # The real unit's backup port read -70..2 W and 0..0.1 A on the grid.
        assert unit.at(LOAD) == pytest.approx(3000, abs=2)
        assert abs(unit.at(BACKUP_TOTAL)) <= 100
        assert all(abs(p) <= 100 for p in unit.all(BACKUP_P))
        assert all(abs(i) <= 0.5 for i in unit.all(BACKUP_I))
    assert frequencies - {RATED_HZ}, "a grid off its nominal frequency at least once"


@pytest.mark.parametrize("model", ["SH10RT", "SH5.0RS"])
def test_islanded_the_backup_port_carries_the_house_at_rated_voltage(model):
    unit = Unit(model, DUSK)
    unit.sim.set_load(None, 3000)
    unit.sim.set_battery(None, soc_pct=60.0)
    unit.minutes(1)
    unit.sim.inject(FaultSpec(kind="grid-loss"))
    unit.minutes(2)
    phases = phases_of(model)
    load, total = unit.at(LOAD), unit.at(BACKUP_TOTAL)
    assert load == pytest.approx(3000, abs=2), "the battery and the dusk PV carry 3 kW"
    assert total == pytest.approx(load, abs=2), "the whole house hangs on the backup port"
    powers, volts, amps = unit.all(BACKUP_P), unit.all(BACKUP_V), unit.all(BACKUP_I)
    assert sum(powers) == pytest.approx(total, abs=phases), "Kirchhoff: phases add up"
    assert volts[:phases] == pytest.approx([RATED_V] * phases, abs=0.5)
    assert volts[phases:] == powers[phases:] == amps[phases:] == [0] * (3 - phases)
    assert all(p > 0 for p in powers[:phases])
    assert_phase_power_is_v_times_i(powers, volts, amps, 0.1)
    assert unit.at(BACKUP_HZ) == pytest.approx(RATED_HZ, abs=0.05)
    assert unit.at(GRID_HZ) == 0, "the grid is gone"


def _dump_values(name: str) -> dict[int, float]:
    data = json.loads(Path(DUMPS / name).read_text())
    return {v["address"]: v["value"] for v in data["values"] if v["type"] == "read"}


@pytest.mark.parametrize("dump", ["nachts.json", "morning.json", "afternoon.json"])
def test_bms_current_limits_follow_the_state_of_charge_as_on_the_real_unit(dump):
    real = _dump_values(dump)
    soc, capacity = real[13023], real[5639]
    unit = Unit("SH8.0RT-20", NIGHT, battery_kwh=capacity)
    unit.sim.set_battery(None, soc_pct=soc)
    assert unit.at(BMS_CHARGE) == pytest.approx(real[5635], abs=1), f"charge at {soc} %"
    assert unit.at(BMS_DISCHARGE) == pytest.approx(real[5636], abs=1), f"discharge at {soc} %"


BATTERY_V, BATTERY_P = doc(13020, scale=0.1), doc(13022)


def test_without_a_pack_the_battery_port_reads_no_voltage():
    """A hybrid run without a battery (0 kWh) has nothing on its battery port."""
    unit = Unit("SH10RT", NIGHT, battery_kwh=0.0)
    unit.minutes(1)
    assert unit.at(BATTERY_V) == 0
    assert unit.at(BATTERY_P) == 0
    assert unit.at(BATTERY_I) == 0
    assert unit.at(doc(13021, "S16", 0.1)) == 0, "the battery current (SunGather's 13021)"


def test_an_empty_battery_may_not_be_discharged_but_may_be_charged():
    unit = Unit("SH8.0RT-20", NIGHT, battery_kwh=16.0)
    unit.sim.set_battery(None, soc_pct=0.0)
    assert unit.at(BMS_DISCHARGE) == 0
    assert unit.at(BMS_CHARGE) > 0


@pytest.mark.parametrize("battery_kwh", [1.0, 10.0])
def test_the_battery_current_stays_within_the_bms_limits(battery_kwh):
    """Discharging into a large night load and force-charged at noon, at full power."""
    night = Unit("SH10RT", NIGHT, battery_kwh=battery_kwh)
    night.sim.set_load(None, 8000)
    night.sim.set_battery(None, soc_pct=60.0)
    night.minutes(2)
    current, limit = night.at(BATTERY_I), night.at(BMS_DISCHARGE)
    assert current > 0, "the battery discharges into the house"
    assert 0 < current <= limit, f"{current} A discharging against a {limit} A limit"
    noon = Unit("SH10RT", NOON, battery_kwh=battery_kwh)
    limit_w = noon.sim.inverter(None).plant.config.battery_max_power_w
    noon.sim.set_battery(None, soc_pct=50.0, power_w=limit_w)
    noon.minutes(2)
    current, limit = -noon.at(BATTERY_I), noon.at(BMS_CHARGE)
    assert 0 < current <= limit, f"{current} A charging against a {limit} A limit"


def test_without_a_battery_no_bms_allows_a_current():
    unit = Unit("SH10RT", NOON, battery_kwh=0.0)
    unit.minutes(2)
    assert (unit.at(BMS_CHARGE), unit.at(BMS_DISCHARGE)) == (0, 0)
    assert unit.at(BATTERY_I) == 0


def _meter_scene(unit: Unit, sign: int) -> None:
    phases = phases_of(unit.model)
    total = unit.at(METER_TOTAL)
    assert total * sign > 500, f"meter {total} W: > 0 buying, < 0 selling"
    powers, volts, amps = unit.all(METER_P), unit.all(METER_V), unit.all(METER_I)
    assert sum(powers) == pytest.approx(total, abs=phases), "Kirchhoff: phases add up"
    assert volts == pytest.approx(unit.all(GRID_V), abs=0.1), "the meter sits on the grid"
    assert all(v > 200 for v in volts[:phases])
    assert volts[phases:] == powers[phases:] == amps[phases:] == [0] * (3 - phases)
    assert all(p * sign > 0 for p in powers[:phases])
    assert_phase_power_is_v_times_i(powers, volts, amps, 0.01)


@pytest.mark.parametrize("model", ["SH10RT", "SH5.0RS"])
def test_meter_phases_add_up_to_the_meter_buying_and_selling(model):
    night = Unit(model, NIGHT)
    night.sim.set_load(None, 3000)
    night.sim.set_battery(None, soc_pct=0.0)  # an empty battery: the grid carries the house
    night.minutes(2)
    assert night.at(METER_TOTAL) == pytest.approx(3000, abs=2)
    _meter_scene(night, +1)
    noon = Unit(model, NOON)
    noon.sim.set_load(None, 300)
    noon.sim.set_battery(None, soc_pct=100.0)  # a full battery: the surplus is sold
    noon.minutes(2)
    _meter_scene(noon, -1)


def test_the_feed_in_limitation_value_sits_at_the_maximum_as_on_the_real_unit():
    """Real unit: 13074 = 15660 W, 5623's maximum 1566 x 0.01 kW, and 31222 the same."""
    values = json.loads((DUMPS / "afternoon.json").read_text())["values"]
    real = {(v["type"], v["address"]): v["raw"] for v in values}
    assert real["hold", 13074] == 10 * real["read", 5623] == 10 * real["hold", 31222]
    unit = Unit("SH10RT", NOON)
    maximum = unit.at(doc(5623, scale=10.0))  # 0.01 kW in W
    value = unit.at(doc(13074, table="holding"))
    wide = unit.at(doc(31222, scale=10.0, table="holding"))
    assert maximum > 0
    assert value == pytest.approx(maximum, abs=5)
    assert wide == pytest.approx(value, abs=5)


@pytest.mark.parametrize("model", ["SG10RT", "SG30KTL", "SG250HX"])
def test_a_string_inverters_nominal_reactive_power_is_within_its_apparent_power(model):
    """5049 (0.1 kvar): reactive power it can give, more than none and at most S (5001)."""
    unit = Unit(model, NOON)
    nominal_kva = unit.at(doc(5001, scale=0.1))
    reactive = unit.at(doc(5049, scale=0.1))
    assert 0 < reactive <= nominal_kva


def test_the_running_day_month_and_year_elements_hold_the_live_pv_energy():
    """6196 + day - 1, 6227 + month - 1 and 6250's last (this year's) element vs 13002."""
    unit = Unit("SH10RT", NOON_NOVEMBER)
    unit.sim.set_load(None, 300)
    unit.minutes(60)
    daily = unit.at(doc(13002, scale=0.1))
    assert daily > 0.5, "an hour of November noon sun"
    day = unit.at(doc(6196 + NOON_NOVEMBER.day - 1, scale=0.1))
    month = unit.at(doc(6227 + NOON_NOVEMBER.month - 1, scale=0.1))
    year = unit.at(doc(6250 + 2 * 19, "U32", 0.1))
    # Commissioned this morning: today is all there is of this month and this year.
    assert day == pytest.approx(daily, abs=0.1)
    assert month == pytest.approx(daily, abs=0.1)
    assert year == pytest.approx(daily, abs=0.1)
    others = [unit.at(doc(6196 + n, scale=0.1)) for n in range(31) if n != NOON_NOVEMBER.day - 1]
    assert others == [0] * 30, "no other day of the month has anything yet"
