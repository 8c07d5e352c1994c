"""A hybrid's energy management and a string model's limits, set and read as a client does.

Settings are written to the holding registers at the addresses of Sungrow's hybrid
protocol (V1.1.11) and string protocol (V1.1.37); results are read from the input
registers and decoded with SunGather's register file (tests/support/oracle.py). The real
SH8.0RT-20's dumps (shared/reference/sungrow-device) give the encodings: enable 0xAA,
disable 0x55; max/min SOC in 0.1 % (raw 1000 and 50 for 100 % and 5 %); the command word
0xCC for stop; the forced charging block at 33208-33219 (valid time 1 every day, 0
weekdays); battery power 5214 positive while discharging (332 W at night). The reserve
(13100) is in whole per cent, as the protocol gives it. The expectations are the documented behaviour and the conservation laws:

- PV = load + export + battery charge (battery > 0 charging): the grid takes or gives the
  rest, and in self-consumption the battery never charges from the grid;
- forced (compulsory) mode runs the commanded power, 0 W moves nothing;
- forced charging periods charge, from the grid if need be, up to their target SOC, in
  their window [start, end) of the local day (across midnight too), on the days their
  valid time names, and a period whose start equals its end is off;
- the battery stops at max SOC and at min SOC, on grid at the backup reserve (below it
  it charges from the grid, whatever the house takes), off-grid down to min SOC;
- the export limit holds at the grid point and the power limit at the AC output, also
  while the battery discharges by command; PV is curtailed only as far as they need, and
  a forced battery power (ctl set-battery --power) is kept;
- a stopped inverter produces nothing; an idle hybrid (no PV, battery at its floor) is in
  standby, one that produces any PV runs; a hybrid without a battery shows none.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
import yaml
from sungrow_sim.config import InverterConfig
from sungrow_sim.faults import FaultSpec
from support.insim import FakeClockSim
from support.oracle import Reg, read_value, register_file

ON, OFF = 0xAA, 0x55
BOOT, SHUTDOWN = 0xCF, 0xCE
CHARGE, DISCHARGE, STOP = 0xAA, 0xBB, 0xCC  # 13051's command words
SELF_CONSUMPTION, FORCED = 0, 2  # 13050's EMS modes
NOON = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)  # Munich (the default site): clear noon
DAWN = datetime(2026, 6, 21, 2, 50, tzinfo=UTC)  # Munich: the sun rises at about 03:15
# December nights in Munich: no sun from about 15:30 to 07:00 UTC.
TUESDAY = datetime(2026, 12, 8, tzinfo=UTC)
FRIDAY, SATURDAY, SUNDAY = (datetime(2026, 12, d, tzinfo=UTC) for d in (11, 12, 13))
BATTERY_POWER = Reg("battery_power_signed", "input", 5214, "S32", 1.0, None)  # + discharging


@cache
def system_states() -> dict[int, str]:
    """SunGather's decoding of the hybrid system state (13000), plus appendix 2's 0x4001."""
    data = yaml.safe_load(register_file().read_text())
    for group in data["registers"]:
        for entry in group.get("read", []):
            if entry["name"] == "system_state":
                labels = {int(d["response"]): d["value"] for d in entry["datarange"]}
                return {**labels, 0x4001: "Emergency Charging"}
    raise KeyError("system_state")


class Unit(FakeClockSim):
    """One in-process inverter on a fake monotonic clock, written and read as a client."""

    def __init__(self, model: str, start: datetime, **inverter) -> None:
        self.model = model
        config = InverterConfig(model=model, unit_id=1, serial="SIMEMS0001", **inverter)
        super().__init__([config], start)

    def value(self, name: str, table: str = "input") -> float:
        return read_value(self.words, self.model, name, table)

    # -- what a client reads --------------------------------------------------------------

    def charge_w(self) -> float:
        """Battery power, > 0 charging (5214 reads > 0 while discharging, as the real unit)."""
        return -BATTERY_POWER.value(self.words("input", BATTERY_POWER.wire, 2))

    def pv(self) -> float:
        return self.value("total_dc_power")

    def export(self) -> float:
        return self.value("export_power_hybrid")

    def load(self) -> float:
        return self.value("load_power_hybrid")

    def soc(self) -> float:
        return self.value("battery_level")

    def state(self) -> str:
        raw = self.words("input", 13000 - 1, 1)[0]
        return system_states().get(raw, hex(raw))

    def balanced(self) -> None:
        """PV = load + export + battery charge (all as read, to the watt)."""
        assert self.pv() == self.load() + self.export() + self.charge_w(), self.flows()

    def flows(self) -> dict[str, float | str]:
        return {
            "pv": self.pv(),
            "load": self.load(),
            "export": self.export(),
            "charge": self.charge_w(),
            "soc": self.soc(),
            "state": self.state(),
        }

    # -- what a client writes ---------------------------------------------------------------

    def forced(self, command: int, power_w: int) -> None:
        self.write(13050, FORCED, command, power_w)

    def export_limit(self, watts: int | None) -> None:
        if watts is None:
            self.write(13087, OFF)
        else:
            self.write(13074, watts)
            self.write(13087, ON)

    def power_limit(self, percent: float) -> None:
        self.write(13089, ON, round(percent * 10))


def hybrid(start: datetime, load_w: float, soc: float, **inverter) -> Unit:
    unit = Unit("SH10RT", start, **inverter)
    unit.sim.set_load(None, load_w)
    unit.sim.set_battery(None, soc_pct=soc)
    return unit


# -- forced (compulsory) mode ----------------------------------------------------------------


def test_a_forced_command_of_0_w_moves_nothing_and_the_grid_carries_the_house():
    unit = hybrid(TUESDAY.replace(hour=2), 600, 50.0)
    for command in (CHARGE, DISCHARGE, STOP):
        unit.forced(command, 0)
        unit.run(60)
        assert unit.charge_w() == 0, command
        assert unit.export() == -600
        unit.balanced()
    unit.forced(CHARGE, 2000)
    unit.run(60)
    assert unit.state() == "Forced Run"
    assert unit.charge_w() == 2000
    assert unit.export() == -2600, "charging at night comes from the grid"


# -- export and power limitation -------------------------------------------------------------


def test_the_export_limit_holds_to_the_watt_while_the_battery_discharges_by_command():
    """At night PV is 0: a forced discharge above the house plus the limit is cut back."""
    unit = hybrid(TUESDAY.replace(hour=2), 500, 60.0)
    unit.export_limit(1000)
    for power in (1499, 1500, 1501, 1502, 3000):
        unit.forced(DISCHARGE, power)
        unit.run(60)
        expected = min(power, 1500)
        assert unit.charge_w() == -expected, power
        assert unit.export() == expected - 500, power
        assert unit.pv() == 0, "no sun: nothing to curtail"
        unit.balanced()
    unit.export_limit(0)  # zero export: the battery serves the house and no more
    unit.run(60)
    assert (unit.charge_w(), unit.export()) == (-500, 0)


def test_the_power_limit_holds_to_the_watt_at_the_ac_output_while_discharging():
    unit = hybrid(TUESDAY.replace(hour=2), 0, 60.0)
    unit.power_limit(30.0)  # 3000 W of the SH10RT's 10 kW
    for power in (2999, 3000, 3001, 4000):
        unit.forced(DISCHARGE, power)
        unit.run(60)
        assert unit.value("total_active_power") == min(power, 3000), power
        assert unit.charge_w() == -min(power, 3000)
        unit.balanced()


def test_with_pv_a_forced_discharge_under_the_export_limit_gives_way_then_pv_is_curtailed():
    unit = hybrid(NOON, 500, 60.0)
    unit.run(60)
    sun = unit.pv()
    assert sun > 6000, "a clear June noon"
    unit.export_limit(1000)
    unit.forced(DISCHARGE, 3000)
    unit.run(60)
    assert unit.charge_w() == 0, "the discharge goes first: it would only be exported"
    assert unit.export() == 1000
    assert unit.pv() == 1500, "PV is curtailed to the house plus the limit"
    unit.balanced()


def test_the_export_limit_curtails_only_the_pv_that_neither_house_nor_battery_takes():
    unit = hybrid(NOON, 500, 50.0)
    unit.run(60)
    sun = unit.pv()
    charge = unit.charge_w()
    assert charge == 5000, "0.5 C of 10 kWh"
    unit.export_limit(1000)
    unit.run(60)
    assert unit.charge_w() == 5000, "the battery still takes its full power"
    assert unit.export() == 1000
    assert unit.pv() == 6500 < sun
    unit.balanced()
    unit.export_limit(None)
    unit.run(60)
    assert unit.pv() >= sun and unit.export() > 1000


def test_the_power_limit_leaves_the_battery_charging_from_pv_and_never_from_the_grid():
    unit = hybrid(NOON, 500, 50.0)
    unit.power_limit(30.0)
    unit.run(60)
    ac = unit.value("total_active_power")
    assert 0 < ac <= 3000
    assert unit.charge_w() == 5000
    assert unit.export() >= 0, "PV covers house and battery: nothing is imported"
    assert unit.pv() == ac + 5000, "AC output = PV - charge"
    unit.balanced()


def test_a_forced_battery_power_is_kept_under_the_export_limit_and_pv_gives_way():
    unit = hybrid(NOON, 500, 50.0)
    unit.export_limit(1000)
    for power in (-1000, 1000):  # discharging, then charging
        unit.sim.set_battery(None, power_w=power)
        unit.run(60)
        assert unit.charge_w() == power
        assert unit.export() == 1000
        assert unit.pv() == 1500 + power
        unit.balanced()


# -- SOC limits, reserve, backup ---------------------------------------------------------------


def test_at_max_soc_and_at_min_soc_the_battery_is_still_at_once_after_a_write():
    """A write applies at once: the flows shown right after it already stop at the limits."""
    unit = hybrid(NOON, 500, 50.0)
    unit.write(13058, 900)  # max SOC 90.0 %
    unit.run(60)
    assert unit.charge_w() == 5000
    unit.sim.set_battery(None, soc_pct=90.0)
    assert unit.charge_w() == 0, "full: the surplus goes to the grid"
    assert unit.export() == unit.pv() - 500
    unit.write(13058, 1000)
    assert unit.charge_w() == 5000, "room again up to 100 %"
    night = hybrid(TUESDAY.replace(hour=2), 700, 20.0)
    night.write(13059, 200)  # min SOC 20.0 %
    assert night.charge_w() == 0
    assert night.export() == -700
    night.write(13059, 100)
    assert night.charge_w() == -700


def test_charging_stops_at_max_soc_within_a_minute_of_reaching_it():
    unit = hybrid(NOON, 500, 89.0)
    unit.write(13058, 900)
    seen = []
    for _ in range(8):
        unit.run(60)
        seen.append((unit.soc(), unit.charge_w()))
    full = [i for i, (soc, _) in enumerate(seen) if soc >= 90.0]
    assert full, f"the SOC reaches max SOC: {seen}"
    assert all(soc == 90.0 for soc, _ in seen[full[0] :]), seen
    assert all(charge == 0 for _, charge in seen[full[0] + 1 :]), seen


def test_second_by_second_discharge_stops_at_the_reserve_without_charging_from_the_grid():
    """Time scale 1 ticks every second: the battery reaches the reserve and stays there."""
    unit = hybrid(TUESDAY.replace(hour=2), 500, 40.05)
    unit.write(13100, 40)  # reserved SOC for backup: 40 %
    seen = []
    for _ in range(60):
        unit.run(1, step_s=1.0)
        seen.append((unit.charge_w(), unit.state()))
    assert seen[0] == (-500, "Run")
    assert all(charge <= 0 for charge, _ in seen), seen
    assert "Emergency Charging" not in {state for _, state in seen}, seen
    assert seen[-1] == (0, "Standby"), "at the reserve the battery rests"
    assert unit.soc() == 40.0


def test_at_the_reserve_exactly_the_battery_neither_discharges_nor_charges():
    unit = hybrid(TUESDAY.replace(hour=2), 800, 40.0)
    unit.write(13100, 40)
    unit.run(60)
    assert unit.charge_w() == 0
    assert unit.state() == "Standby"
    assert unit.export() == -800


def test_below_the_reserve_the_grid_charges_the_battery_at_a_power_the_house_does_not_set():
    powers = set()
    for load in (300, 800, 3000, 6000):
        unit = hybrid(TUESDAY.replace(hour=2), load, 20.0)
        unit.write(13100, 40)
        unit.run(60)
        assert unit.state() == "Emergency Charging"
        assert unit.charge_w() > 0
        assert unit.export() == -load - unit.charge_w()
        powers.add(unit.charge_w())
    assert len(powers) == 1, powers
    (power,) = powers
    assert 0 < power < 5000, "a gentle charge, below the battery's limit"


def test_below_the_reserve_by_day_the_surplus_charges_the_battery():
    unit = hybrid(NOON, 500, 20.0)
    unit.write(13100, 40)
    unit.run(60)
    assert unit.state() == "Emergency Charging"
    assert unit.charge_w() == 5000, "the whole surplus up to the battery's limit"
    assert unit.export() > 0
    unit.balanced()


def test_off_grid_the_battery_serves_the_house_below_the_reserve_down_to_min_soc():
    unit = hybrid(TUESDAY.replace(hour=2), 900, 30.0)
    unit.write(13100, 50)
    unit.write(13059, 100)  # min SOC 10 %
    unit.run(60)
    assert unit.state() == "Emergency Charging", "on grid, below the reserve"
    unit.sim.inject(FaultSpec(kind="grid-loss"))
    unit.run(60)
    assert unit.state() == "Off-grid Run"
    assert unit.charge_w() == -900, "the reserve is for this: the battery carries the house"
    assert unit.load() == 900 and unit.export() == 0
    unit.sim.set_battery(None, soc_pct=10.0)
    unit.run(60)
    assert unit.charge_w() == 0, "min SOC holds off-grid too"
    assert unit.load() == 0, "nothing left to carry the house: it is shed"


def test_without_the_backup_option_the_reserve_is_not_kept():
    unit = hybrid(TUESDAY.replace(hour=2), 900, 30.0)
    unit.write(13100, 50)
    unit.write(13075, OFF)  # off-grid option disabled
    unit.run(60)
    assert unit.state() == "Run"
    assert unit.charge_w() == -900, "down to min SOC like any night"
    assert unit.export() == 0


# -- batteries small and absent ----------------------------------------------------------------


def test_a_hybrid_without_a_battery_shows_no_battery_power_in_any_mode():
    for start in (NOON, TUESDAY.replace(hour=2)):
        unit = hybrid(start, 600, 50.0, battery_kwh=0.0)
        unit.write(13100, 60)  # a reserve above the SOC: nothing to charge
        unit.run(60)
        assert unit.charge_w() == 0
        assert unit.state() in ("Run", "Standby"), unit.state()
        unit.balanced()
        unit.forced(CHARGE, 3000)
        unit.run(60)
        assert unit.charge_w() == 0


def test_a_1_kwh_battery_charges_in_emergency_and_in_forced_periods_at_half_a_c():
    unit = hybrid(TUESDAY.replace(hour=2), 400, 20.0, battery_kwh=1.0)
    unit.write(13100, 40)
    unit.run(60)
    assert unit.state() == "Emergency Charging"
    assert 0 < unit.charge_w() <= 500
    unit.write(13100, 0)
    unit.run(60)
    assert unit.charge_w() == -400, "0.5 C is 500 W: enough for the house"
    unit.write(33208, ON, 1, 1, 0, 3, 0, 90)  # every day, 01:00-03:00, to 90 %
    unit.run(60)
    assert unit.charge_w() == 500
    assert unit.export() == -900


# -- forced charging periods --------------------------------------------------------------------


def window_unit(day: datetime, *registers: int) -> Unit:
    unit = hybrid(day, 500, 50.0)
    unit.write(33208, *registers)
    return unit


def forced_charging_at(unit: Unit, when: datetime) -> bool:
    """Whether the battery charges from the grid in the minute ending at `when` (night)."""
    unit.sim.set_clock(when - timedelta(minutes=1))
    unit.sim.set_battery(None, soc_pct=50.0)
    unit.run(60)
    assert unit.pv() == 0, when
    charge = unit.charge_w()
    assert charge in (-500, 5000), (when, charge)  # serving the house, or charging flat out
    return charge > 0


def at(day: datetime, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return day.replace(hour=hour, minute=minute)


def test_a_forced_charging_period_runs_from_its_start_minute_to_before_its_end_minute():
    unit = window_unit(TUESDAY, ON, 1, 2, 30, 3, 15, 90, 0, 0, 0, 0, 0)
    inside = {"02:30", "02:31", "02:45", "02:59", "03:00", "03:14"}
    outside = {"00:00", "02:15", "02:29", "03:15", "03:16", "20:00", "23:59"}
    for hhmm in sorted(inside | outside):
        assert forced_charging_at(unit, at(TUESDAY, hhmm)) == (hhmm in inside), hhmm


def test_a_forced_charging_period_across_midnight_runs_on_both_sides_of_it():
    unit = window_unit(TUESDAY, ON, 1, 22, 0, 1, 30, 90, 0, 0, 0, 0, 0)
    inside = {"22:00", "23:00", "23:59", "00:00", "01:29"}
    outside = {"21:59", "01:30", "02:00", "18:00"}
    for hhmm in sorted(inside | outside):
        assert forced_charging_at(unit, at(TUESDAY, hhmm)) == (hhmm in inside), hhmm


def test_an_empty_first_period_leaves_the_second_one_working():
    unit = window_unit(TUESDAY, ON, 1, 0, 0, 0, 0, 90, 2, 0, 4, 0, 80)
    assert not forced_charging_at(unit, at(TUESDAY, "00:30"))
    assert forced_charging_at(unit, at(TUESDAY, "03:00"))
    assert not forced_charging_at(unit, at(TUESDAY, "04:00"))


@pytest.mark.parametrize(
    ("valid", "charging_days"), [(0, {FRIDAY}), (1, {FRIDAY, SATURDAY, SUNDAY})]
)
def test_forced_charging_periods_run_on_the_days_their_valid_time_names(valid, charging_days):
    for day in (FRIDAY, SATURDAY, SUNDAY):
        unit = window_unit(day, ON, valid, 1, 0, 3, 0, 90, 0, 0, 0, 0, 0)
        assert forced_charging_at(unit, at(day, "02:00")) == (day in charging_days), day


def test_a_forced_charging_period_stops_at_its_target_soc():
    unit = window_unit(TUESDAY, ON, 1, 1, 0, 5, 0, 60, 0, 0, 0, 0, 0)
    unit.sim.set_clock(at(TUESDAY, "02:00"))
    unit.sim.set_battery(None, soc_pct=60.0)
    unit.run(60)
    assert unit.charge_w() == -500, "at the target: self-consumption serves the house"
    unit.sim.set_battery(None, soc_pct=59.0)
    unit.run(60)
    assert unit.charge_w() == 5000, "below it: charging from the grid"
    assert unit.export() == -5500


# -- states: stopped, idle, producing ------------------------------------------------------------


def test_a_stopped_hybrid_produces_nothing_for_days_and_the_grid_carries_the_house():
    unit = hybrid(NOON, 400, 50.0)
    unit.write(13000, SHUTDOWN)
    unit.run(60)
    assert unit.state() == "Stop"
    yield0 = unit.value("total_pv_generation")
    direct0 = unit.value("total_direct_energy_consumption")
    imported0 = unit.value("total_import_energy")
    unit.run(6 * 24 * 3600, step_s=6 * 24 * 3600)  # six days in one tick (minute substeps)
    assert (unit.pv(), unit.charge_w(), unit.export()) == (0, 0, -400)
    assert unit.value("total_pv_generation") == yield0, "no PV while stopped"
    assert unit.value("total_direct_energy_consumption") == direct0, "nothing used directly"
    assert unit.value("total_import_energy") - imported0 == pytest.approx(57.6, abs=0.15)


def test_an_idle_hybrid_is_in_standby_and_one_giving_any_pv_runs():
    unit = hybrid(DAWN, 500, 5.0)  # at min SOC before sunrise: nothing to give
    unit.run(60)
    assert (unit.pv(), unit.charge_w()) == (0, 0)
    assert unit.state() == "Standby"
    seen = []
    for _ in range(6 * 40):  # 40 minutes in 10 s steps: the first watts of the day
        unit.run(10, step_s=10.0)
        seen.append((unit.pv(), unit.state()))
    assert {pv for pv, _ in seen} >= {0.0, 1.0, 2.0}, "the dawn is seen watt by watt"
    for pv, state in seen:
        assert state == ("Run" if pv > 0 else "Standby"), (pv, state)


# -- string models: the same limits at the grid point and the AC output ------------------------


def string_unit(model: str = "SG5KTL-MT", load_w: float = 1500, **inverter) -> Unit:
    unit = Unit(model, NOON, **inverter)
    unit.sim.set_load(None, load_w)
    unit.run(60)
    return unit


def test_a_string_models_export_limit_holds_at_the_grid_point_to_the_watt():
    unit = string_unit()
    free = unit.value("total_active_power")
    assert free > 4000, "a clear June noon"
    for limit in (0, 1, 1000, 2000):
        unit.write(5011, limit)
        unit.write(5010, ON)
        unit.run(60)
        assert unit.value("total_active_power") == 1500 + limit, limit
        assert unit.value("export_power") == limit, limit
        assert unit.value("load_power") == 1500, "the meter sees the whole house"
    unit.write(5010, OFF)
    unit.run(60)
    assert unit.value("total_active_power") == pytest.approx(free, rel=0.01), "limit off"


def test_a_string_models_power_limit_caps_its_output_at_the_written_share():
    unit = string_unit()
    for tenths in (0, 1, 250, 600):  # 0 %, 0.1 %, 25 %, 60 % of 5 kW
        unit.write(5007, ON, tenths)
        unit.run(60)
        expected = round(5000 * tenths / 1000)
        assert unit.value("total_active_power") == expected, tenths
        assert unit.value("export_power") == expected - 1500, "the grid gives the rest"


def test_a_string_models_direct_use_is_what_the_house_takes_of_its_output():
    """Direct use = min(output, load): over two noon hours with a 1.5 kW house, 3.0 kWh."""
    unit = string_unit(load_w=1500)
    before = unit.value("total_direct_energy_consumption")
    unit.run(2 * 3600)
    assert unit.value("total_direct_energy_consumption") - before == pytest.approx(3.0, abs=0.15)
    unit.write(5007, ON, 100)  # 10 %: 500 W, less than the house
    unit.run(60)
    before = unit.value("total_direct_energy_consumption")
    unit.run(2 * 3600)
    assert unit.value("total_direct_energy_consumption") - before == pytest.approx(1.0, abs=0.15)
    assert unit.value("export_power") == -1000


# -- external EMS, power limits of the battery, off-grid -----------------------------------------


@pytest.mark.parametrize("mode", [3, 4])  # external EMS, VPP (run as external)
def test_external_ems_and_vpp_run_the_command_and_say_so(mode):
    unit = hybrid(TUESDAY.replace(hour=2), 500, 50.0)
    unit.write(13050, mode, CHARGE, 1200)
    unit.run(60)
    assert unit.state() == "EMS Run"
    assert unit.charge_w() == 1200
    assert unit.export() == -1700
    unit.write(13051, DISCHARGE)
    unit.run(60)
    assert unit.charge_w() == -1200
    assert unit.export() == 700
    unit.write(13051, STOP)
    unit.run(60)
    assert unit.charge_w() == 0 and unit.export() == -500
    unit.write(13050, SELF_CONSUMPTION)
    unit.run(60)
    assert unit.charge_w() == -500, "back to self-consumption: the battery serves the house"


def test_the_battery_power_limits_hold_in_every_mode_and_never_above_half_a_c():
    unit = hybrid(NOON, 500, 50.0)
    unit.write(33047, 200)  # max charge 2.00 kW
    unit.run(60)
    assert unit.charge_w() == 2000, "self-consumption charges up to the limit"
    assert unit.export() == unit.pv() - 2500
    unit.forced(CHARGE, 4000)
    unit.run(60)
    assert unit.charge_w() == 2000
    unit.write(33047, 900)  # 9 kW asked, 5 kW (0.5 C of 10 kWh) allowed
    unit.forced(CHARGE, 9000)
    unit.run(60)
    assert unit.charge_w() == 5000
    night = hybrid(TUESDAY.replace(hour=2), 3000, 50.0)
    night.write(33048, 100)  # max discharge 1 kW: the grid gives the rest
    night.run(60)
    assert (night.charge_w(), night.export()) == (-1000, -2000)
    night.forced(DISCHARGE, 4000)
    night.run(60)
    assert (night.charge_w(), night.export()) == (-1000, -2000)
    night.write(33048, 900)
    night.run(60)
    assert (night.charge_w(), night.export()) == (-4000, 1000), "9 kW allowed, 4 kW asked"
    night.write(13050, SELF_CONSUMPTION)
    night.write(33048, 0)
    night.run(60)
    assert (night.charge_w(), night.export()) == (0, -3000)


def test_off_grid_with_a_full_battery_pv_is_curtailed_to_what_the_house_takes():
    unit = hybrid(NOON, 800, 100.0)
    unit.sim.inject(FaultSpec(kind="grid-loss"))
    unit.run(60)
    assert unit.state() == "Off-grid Run"
    assert unit.export() == 0, "no grid: nothing goes out"
    assert unit.charge_w() == 0, "full"
    assert unit.pv() == 800 and unit.load() == 800
    unit.sim.set_battery(None, soc_pct=50.0)
    unit.run(60)
    assert unit.charge_w() == 5000, "room again: the surplus charges the battery"
    assert unit.pv() == 5800 and unit.export() == 0


def test_off_grid_without_the_backup_option_the_hybrid_trips_and_nothing_flows():
    unit = hybrid(NOON, 800, 50.0)
    unit.write(13075, OFF)
    unit.sim.inject(FaultSpec(kind="grid-loss"))
    unit.run(60)
    assert unit.state() == "Fault"
    assert (unit.pv(), unit.charge_w(), unit.value("total_active_power")) == (0, 0, 0)


def test_off_grid_an_output_forced_above_the_house_is_curtailed_never_pushed_into_it():
    """An output set (ctl set-power) off-grid with a full battery: the house takes its own."""
    unit = hybrid(NOON, 800, 100.0)
    unit.sim.inject(FaultSpec(kind="grid-loss"))
    for power in (801, 802, 1500):
        unit.sim.set_power(None, power)
        unit.run(60)
        assert unit.load() == 800, power
        assert (unit.pv(), unit.export(), unit.charge_w()) == (800, 0, 0), power


@pytest.mark.parametrize("model", ["SH10RT", "SG5KTL-MT"])
def test_a_night_standby_fault_at_noon_takes_the_sun_away_and_holds_standby(model):
    """The fault's documented meaning: no sun, zero PV, standby work state."""
    unit = Unit(model, NOON, battery_kwh=10.0)
    unit.sim.set_load(None, 700)
    unit.run(60)
    assert unit.pv() > 4000
    unit.sim.inject(FaultSpec(kind="night-standby"))
    unit.run(60)
    assert unit.pv() == 0
    assert unit.value("total_active_power") == 0
    if model.startswith("SH"):
        assert unit.state() == "Standby"
        assert unit.export() == -700, "the grid carries the house"
