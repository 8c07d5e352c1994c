"""Energy counters, SOC and grid exchange judged by integrating the served power over time.

Every value is read from the register image a client reads and decoded with SunGather's
register file (tests/support/oracle.py); the expectations are physics (energy is the
integral of power, SOC moves by the integrated battery energy over the capacity, nothing
flows through a lost grid) and calendars (zoneinfo), never the simulator's own state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sungrow_sim.config import InverterConfig
from sungrow_sim.faults import FaultSpec
from support.insim import FakeClockSim
from support.oracle import RUNNING_BITS, read_value

STEP_S = 60.0
# Counters are served in 0.1 kWh steps; two readings differ by at most one step more.
KWH_STEP = 0.1


class Rig(FakeClockSim):
    """One in-process simulator on a fake monotonic clock, read through its register image."""

    def __init__(
        self,
        model: str,
        start: datetime,
        timezone: str = "UTC",
        battery_kwh: float = 10.0,
        units: tuple[int, ...] = (1,),
        array_kwp: float | None = None,
        **settings,
    ) -> None:
        self.model = model
        inverters = [
            InverterConfig(
                model=model,
                unit_id=u,
                serial=f"SIMORACLE{u}",
                battery_kwh=battery_kwh,
                array_kwp=array_kwp,
            )
            for u in units
        ]
        # No year of history unless a test asks: these oracles integrate from the start.
        super().__init__(inverters, start, timezone=timezone, **settings)

    def value(self, name: str, table: str = "input", unit: int = 1) -> float:
        return read_value(lambda t, w, c: self.words(t, w, c, unit), self.model, name, table)

    def battery_w(self, unit: int = 1) -> float:
        """Signed battery power (> 0 charging) as a client derives it: 13022 and 13001's bits."""
        magnitude = self.value("battery_power", unit=unit)
        bits = int(self.value("running_state", unit=unit))
        if bits & RUNNING_BITS["discharging"]:
            return -magnitude
        return magnitude if bits & RUNNING_BITS["charging"] else 0.0

    def integrate(self, seconds: float, power) -> float:
        """KWh of `power(rig)` (W) integrated over the next `seconds`, one sample a tick."""
        total = 0.0

        def add(rig: Rig) -> None:
            nonlocal total
            total += power(rig) * STEP_S / 3600 / 1000

        self.run(seconds, STEP_S, add)
        return total


NOON_UTC = datetime(2026, 6, 21, 10, 0, tzinfo=UTC)  # Munich, near solar noon
EVENING_UTC = datetime(2026, 6, 21, 20, 30, tzinfo=UTC)  # Munich, after sunset
DUSK_UTC = datetime(2026, 6, 21, 18, 0, tzinfo=UTC)  # Munich, low sun: PV below the load


def approx_kwh(value: float) -> object:
    return pytest.approx(value, abs=1.5 * KWH_STEP)


def test_soc_moves_by_integrated_battery_energy_over_capacity():
    """Charging raises SOC, discharging lowers it, by the served energy over 10 kWh."""
    rig = Rig("SH10RT", NOON_UTC)
    rig.sim.set_load(None, 500)
    rig.sim.set_battery(None, soc_pct=30.0, power_w=4000)
    soc0 = rig.value("battery_level")
    charged = rig.integrate(3600, Rig.battery_w)
    soc1 = rig.value("battery_level")
    assert charged == pytest.approx(4.0, rel=0.02), "the forced 4 kW charge must be served"
    rise = soc1 - soc0
    # A lossless battery rises by charged/capacity; losses may only make it less.
    assert 0.9 * charged * 10 - 0.2 <= rise <= charged * 10 + 0.2

    rig.sim.set_battery(None, power_w=-3000)
    discharged = -rig.integrate(3600, Rig.battery_w)
    soc2 = rig.value("battery_level")
    assert discharged == pytest.approx(3.0, rel=0.02)
    drop = soc1 - soc2
    assert discharged * 10 - 0.2 <= drop <= 1.1 * discharged * 10 + 0.2


def test_battery_counters_are_integrated_charge_and_discharge_power():
    rig = Rig("SH10RT", NOON_UTC)
    rig.sim.set_load(None, 500)
    rig.sim.set_battery(None, soc_pct=20.0, power_w=4000)
    day_charge0, total_charge0 = rig.value("daily_charge_energy"), rig.value("total_charge_energy")
    dis0 = rig.value("daily_battery_discharge_energy")
    charged = rig.integrate(1800, lambda r: max(r.battery_w(), 0.0))
    assert rig.value("daily_charge_energy") - day_charge0 == approx_kwh(charged)
    assert rig.value("total_charge_energy") - total_charge0 == approx_kwh(charged)
    assert rig.value("daily_battery_discharge_energy") == approx_kwh(dis0)

    rig.sim.set_battery(None, power_w=-4000)
    tot_dis0 = rig.value("total_battery_discharge_energy")
    day_charge1 = rig.value("daily_charge_energy")
    discharged = rig.integrate(1800, lambda r: max(-r.battery_w(), 0.0))
    assert discharged > 1.5
    assert rig.value("daily_battery_discharge_energy") - dis0 == approx_kwh(discharged)
    assert rig.value("total_battery_discharge_energy") - tot_dis0 == approx_kwh(discharged)
    assert rig.value("daily_charge_energy") == approx_kwh(day_charge1)


def test_soc_stays_within_its_limits_and_the_battery_stops_at_them():
    """Forced charge stops at max SOC; discharge stops at the reserve, the grid takes over."""
    rig = Rig("SH10RT", NOON_UTC)
    ceiling = rig.value("max_soc", "holding")
    rig.sim.set_load(None, 300)
    rig.sim.set_battery(None, soc_pct=ceiling - 3, power_w=5000)
    seen: list[tuple[float, float]] = []
    rig.run(3600, STEP_S, lambda r: seen.append((r.value("battery_level"), r.battery_w())))
    assert max(soc for soc, _ in seen) <= ceiling + 0.1
    assert seen[-1][1] == 0, "a full battery must stop charging"
    assert seen[-1][0] >= ceiling - 0.1


def test_discharge_stops_at_the_served_reserve_and_the_grid_takes_over():
    evening = Rig("SH10RT", DUSK_UTC)
    floor = max(evening.value("min_soc", "holding"), evening.value("soc_reserve", "holding"))
    evening.sim.set_load(None, 4000)
    evening.sim.set_battery(None, soc_pct=floor + 2)
    trace: list[tuple[float, float, float]] = []
    evening.run(
        1800,
        STEP_S,
        lambda r: trace.append(
            (r.value("battery_level"), r.battery_w(), r.value("export_power_hybrid"))
        ),
    )
    # At most one minute's substep past it: 0.5 C for 60 s is 0.83 % of the capacity.
    assert min(soc for soc, _, _ in trace) >= floor - 0.9, "SOC went below the reserve"
    assert any(b < 0 for _, b, _ in trace), "above the reserve the battery must serve the load"
    _, last_battery, last_grid = trace[-1]
    assert last_battery == 0, "at the reserve the battery must stop discharging"
    pv = evening.value("total_dc_power")
    assert last_grid == pytest.approx(pv - 4000, abs=5), "the grid must then supply the load"


def test_export_import_and_direct_use_counters_integrate_grid_and_load_power():
    rig = Rig("SH10RT", NOON_UTC)
    rig.sim.set_load(None, 800)
    rig.sim.set_battery(None, soc_pct=50.0, power_w=0)
    names = (
        "daily_export_energy",
        "total_export_energy",
        "daily_import_energy",
        "total_import_energy",
        "daily_direct_energy_consumption",
        "total_direct_energy_consumption",
    )
    before = {n: rig.value(n) for n in names}
    exported = rig.integrate(3600, lambda r: max(r.value("export_power_hybrid"), 0.0))
    after_noon = {n: rig.value(n) for n in names}
    assert exported > 4, "a clear June noon with 800 W of load exports"
    assert after_noon["daily_export_energy"] - before["daily_export_energy"] == approx_kwh(
        exported
    )
    assert after_noon["total_export_energy"] - before["total_export_energy"] == approx_kwh(
        exported
    )
    assert after_noon["daily_import_energy"] == approx_kwh(before["daily_import_energy"])
    assert after_noon["total_import_energy"] == approx_kwh(before["total_import_energy"])
    # With the battery idle and PV above the load, the load is served by PV directly.
    direct = (
        after_noon["daily_direct_energy_consumption"] - before["daily_direct_energy_consumption"]
    )
    assert direct == approx_kwh(0.8)
    total_direct = (
        after_noon["total_direct_energy_consumption"] - before["total_direct_energy_consumption"]
    )
    assert total_direct == approx_kwh(0.8)

    night = Rig("SH10RT", EVENING_UTC)
    night.sim.set_load(None, 2500)
    night.sim.set_battery(None, soc_pct=50.0, power_w=0)
    before = {n: night.value(n) for n in names}
    imported = night.integrate(3600, lambda r: max(-r.value("export_power_hybrid"), 0.0))
    after = {n: night.value(n) for n in names}
    assert imported == pytest.approx(2.5, rel=0.02)
    assert after["daily_import_energy"] - before["daily_import_energy"] == approx_kwh(imported)
    assert after["total_import_energy"] - before["total_import_energy"] == approx_kwh(imported)
    assert after["daily_export_energy"] == approx_kwh(before["daily_export_energy"])
    assert after["total_export_energy"] == approx_kwh(before["total_export_energy"])
    assert after["daily_direct_energy_consumption"] == approx_kwh(
        before["daily_direct_energy_consumption"]
    )


def test_running_state_bits_name_the_flows_a_real_unit_names():
    rig = Rig("SH10RT", NOON_UTC)
    rig.sim.set_load(None, 600)
    bits = RUNNING_BITS

    def state() -> int:
        return int(rig.value("running_state"))

    rig.sim.set_battery(None, soc_pct=50.0, power_w=3000)
    rig.run(STEP_S)
    assert state() & bits["pv"] and state() & bits["charging"]
    assert not state() & bits["discharging"]
    assert state() & bits["feed_in"] and not state() & bits["import"]
    assert state() & bits["load"]
    rig.sim.set_battery(None, power_w=-3000)
    rig.run(STEP_S)
    assert state() & bits["discharging"] and not state() & bits["charging"]

    night = Rig("SH10RT", EVENING_UTC)
    night.sim.set_load(None, 2000)
    night.sim.set_battery(None, soc_pct=50.0, power_w=0)
    night.run(STEP_S)
    assert night.value("export_power_hybrid") < 0
    assert int(night.value("running_state")) & bits["import"]
    assert not int(night.value("running_state")) & (bits["feed_in"] | bits["pv"])


def test_hybrid_meter_power_is_positive_while_importing_as_on_the_real_unit():
    rig = Rig("SH10RT", EVENING_UTC)
    rig.sim.set_load(None, 2000)
    rig.sim.set_battery(None, soc_pct=50.0, power_w=0)
    rig.run(STEP_S)
    assert rig.value("export_power_hybrid") == pytest.approx(-2000, abs=5)
    assert rig.value("meter_total_power") == pytest.approx(2000, abs=5)
    phases = sum(rig.value(f"meter_phase_{p}_power") for p in "abc")
    assert phases == pytest.approx(2000, abs=10)


@pytest.mark.parametrize("model", ["SG10RT", "SG5.0RS"])
def test_string_model_grid_and_meter_power_are_output_minus_house_load(model):
    rig = Rig(model, NOON_UTC)
    rig.sim.set_power(None, 4000)
    rig.sim.set_load(None, 1500)
    rig.run(STEP_S)
    assert rig.value("total_active_power") == 4000
    assert rig.value("export_power") == pytest.approx(2500, abs=2)
    # Meter sign as on the real unit: positive = import, so -2500 while exporting.
    assert rig.value("power_meter") == pytest.approx(-2500, abs=2)
    rig.sim.set_load(None, 6000)
    rig.run(STEP_S)
    assert rig.value("export_power") == pytest.approx(-2000, abs=2)


def _local_midnight(zone: str, day: datetime) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def test_daily_counters_reset_at_local_midnight_not_utc_midnight():
    """Berlin in June is UTC+2: the day turns at 22:00 UTC, and only the daily counters."""
    zone = "Europe/Berlin"
    midnight = _local_midnight(zone, datetime(2026, 6, 22))
    assert midnight == datetime(2026, 6, 21, 22, 0, tzinfo=UTC)  # zoneinfo, as a check
    rig = Rig("SH10RT", midnight - timedelta(minutes=30), timezone=zone)
    rig.sim.set_load(None, 4000)
    rig.sim.set_battery(None, soc_pct=50.0, power_w=0)
    day_yield = rig.value("daily_pv_generation")
    assert day_yield > 20, "the backfilled day has produced"
    total0 = rig.value("total_import_energy")
    rig.run(1740)  # to 23:59 local
    assert rig.value("daily_pv_generation") == approx_kwh(day_yield)
    imported = rig.integrate(1860, lambda r: max(-r.value("export_power_hybrid"), 0.0))
    assert imported == pytest.approx(4.0 * 1860 / 3600, rel=0.02)
    for name in (
        "daily_pv_generation",
        "daily_export_energy",
        "daily_direct_energy_consumption",
        "daily_charge_energy",
        "daily_battery_discharge_energy",
    ):
        assert rig.value(name) == approx_kwh(0.0), f"{name} not reset at local midnight"
    assert rig.value("daily_import_energy") == approx_kwh(imported)
    assert rig.value("daily_running_time") <= 31  # minutes since local midnight at most
    assert rig.value("total_import_energy") - total0 == approx_kwh(4.0)


def test_monthly_counter_resets_on_the_first_and_yearly_keeps_counting():
    zone = "Europe/Berlin"
    first = _local_midnight(zone, datetime(2026, 7, 1))
    rig = Rig("SG10RT", first - timedelta(hours=5), timezone=zone)  # 19:00 local
    daily0 = rig.value("daily_power_yields")
    evening = rig.integrate(3 * 3600, lambda r: r.value("total_active_power"))
    assert evening > 0.5
    assert rig.value("daily_power_yields") - daily0 == approx_kwh(evening)
    month = rig.value("monthly_power_yields")
    assert month >= rig.value("daily_power_yields") - KWH_STEP
    rig.run(2 * 3600 + 1800)  # past local midnight into July 1st, still night
    assert rig.value("monthly_power_yields") == approx_kwh(0.0)
    assert rig.value("daily_power_yields") == approx_kwh(0.0)


def test_hybrid_on_grid_loss_serves_the_load_from_the_battery_and_sheds_the_rest():
    rig = Rig("SH10RT", DUSK_UTC)
    rig.sim.set_battery(None, soc_pct=60.0)
    rig.sim.inject(FaultSpec(kind="grid-loss"))
    rig.sim.set_load(None, 3000)
    import0 = rig.value("total_import_energy")
    rig.run(600)
    pv = rig.value("total_dc_power")
    assert 0 < pv < 3000, "dusk: some PV, less than the load"
    assert rig.value("export_power_hybrid") == 0, "no power crosses a lost grid"
    assert rig.battery_w() == pytest.approx(pv - 3000, abs=5)
    assert rig.value("load_power_hybrid") == pytest.approx(3000, abs=5)
    # A load above what the battery can give is shed to what it can give.
    limit = 5000  # 0.5 C of 10 kWh
    rig.sim.set_load(None, 9000)
    rig.run(600)
    assert rig.value("export_power_hybrid") == 0
    served = rig.value("load_power_hybrid")
    pv = rig.value("total_dc_power")
    assert served == pytest.approx(pv - rig.battery_w(), abs=5)
    assert -rig.battery_w() == pytest.approx(limit, abs=5)
    assert served < 9000
    assert rig.value("total_import_energy") == approx_kwh(import0)
    assert int(rig.value("grid_state")) == 0xAA

    sunny = Rig("SH10RT", NOON_UTC)
    sunny.sim.set_battery(None, soc_pct=100.0)
    sunny.sim.set_load(None, 500)
    sunny.sim.inject(FaultSpec(kind="grid-loss"))
    export0 = sunny.value("total_export_energy")
    sunny.run(600)
    assert sunny.value("export_power_hybrid") == 0
    assert sunny.value("total_dc_power") == pytest.approx(500, abs=5), "PV curtailed to the load"
    assert sunny.value("total_export_energy") == approx_kwh(export0)


def test_string_inverter_trips_on_grid_loss():
    rig = Rig("SG10RT", NOON_UTC)
    rig.run(STEP_S)
    assert rig.value("total_active_power") > 1000
    total0 = rig.value("total_power_yields")
    rig.sim.inject(FaultSpec(kind="grid-loss"))
    rig.run(600)
    assert rig.value("total_active_power") == 0
    assert rig.value("export_power") == 0
    assert rig.value("total_power_yields") == approx_kwh(total0)
    assert rig.value("grid_frequency") == 0


def test_a_fault_for_one_unit_leaves_the_other_unit_alone():
    rig = Rig("SG10RT", NOON_UTC, units=(1, 2))
    rig.sim.inject(FaultSpec(kind="inverter-fault", unit_id=2))
    rig.sim.inject(FaultSpec(kind="night-standby", unit_id=2))
    rig.run(STEP_S)
    assert rig.value("total_active_power", unit=1) > 1000
    assert rig.value("total_active_power", unit=2) == 0
    assert rig.value("alarm_code_1", unit=2) == 38  # the documented default fault code
    assert rig.value("alarm_code_1", unit=1) == 0


def test_set_clock_restarts_the_tick_base():
    """Jumping the clock must not integrate the wall time that passed before the jump."""
    rig = Rig("SG10RT", NOON_UTC)
    total0 = rig.value("total_power_yields")
    rig.wall += 1.0  # an hour of simulated time passes without a tick...
    rig.sim.set_clock(NOON_UTC)  # ...then the clock is set back to noon
    rig.sim.tick()
    assert rig.value("total_power_yields") == approx_kwh(total0)
    produced = rig.integrate(600, lambda r: r.value("total_active_power"))
    assert rig.value("total_power_yields") - total0 == approx_kwh(produced)


def test_a_hybrid_power_override_fixes_the_ac_output_and_the_battery_adds_to_pv():
    rig = Rig("SH10RT", NOON_UTC)
    rig.sim.set_load(None, 1000)
    rig.sim.set_battery(None, soc_pct=50.0)
    rig.sim.set_power(None, 3000)
    rig.run(STEP_S)
    assert rig.value("total_active_power") == pytest.approx(3000, abs=1)
    assert rig.battery_w() == 0, "an AC override alone leaves the battery idle"
    assert rig.value("total_dc_power") == pytest.approx(3000, abs=1)
    rig.sim.set_battery(None, power_w=2000)
    rig.run(STEP_S)
    assert rig.value("total_active_power") == pytest.approx(3000, abs=1)
    assert rig.battery_w() == pytest.approx(2000, abs=1)
    assert rig.value("total_dc_power") == pytest.approx(5000, abs=1), "PV = AC + charging"
    assert rig.value("export_power_hybrid") == pytest.approx(2000, abs=1)  # 3000 - 1000 load
    rig.sim.set_battery(None, power_w=0)
    rig.sim.set_power(None, 0)
    rig.run(STEP_S)
    assert rig.value("total_active_power") == 0
    assert rig.value("total_dc_power") == 0, "no output asked, no PV drawn"


def test_at_night_the_battery_is_idle_or_serves_the_load_never_a_trickle():
    """Either idle or serving the load: nothing in between.

    Implementations differ: some idle the battery without PV, and a real hybrid serves
    the house from it.
    """
    rig = Rig("SH10RT", EVENING_UTC)
    rig.sim.set_load(None, 1500)
    rig.sim.set_battery(None, soc_pct=70.0)
    rig.run(STEP_S)
    assert rig.value("total_dc_power") == 0
    battery = rig.battery_w()
    assert battery == 0 or battery == pytest.approx(-1500, abs=5), battery
    assert rig.value("export_power_hybrid") == pytest.approx(-1500 - battery, abs=5)


def test_on_grid_loss_an_idle_battery_takes_over_the_load():
    rig = Rig("SH10RT", DUSK_UTC)
    rig.sim.set_load(None, 3000)
    rig.sim.set_battery(None, soc_pct=60.0, power_w=0)
    rig.run(STEP_S)
    pv = rig.value("total_dc_power")
    assert rig.value("export_power_hybrid") == pytest.approx(pv - 3000, abs=2)  # imports
    rig.sim.inject(FaultSpec(kind="grid-loss"))
    rig.run(STEP_S)
    pv = rig.value("total_dc_power")
    assert rig.value("export_power_hybrid") == 0
    assert rig.battery_w() == pytest.approx(pv - 3000, abs=2), "the battery covers the gap"
    assert rig.value("load_power_hybrid") == pytest.approx(3000, abs=2), "nothing shed"
    rig.sim.set_load(None, 8000)  # more than PV plus 5 kW from the battery
    rig.run(STEP_S)
    pv = rig.value("total_dc_power")
    assert rig.battery_w() == pytest.approx(-5000, abs=2)
    assert rig.value("load_power_hybrid") == pytest.approx(pv + 5000, abs=2), "the rest is shed"


def test_at_the_reserve_exactly_the_battery_gives_nothing():
    rig = Rig("SH10RT", DUSK_UTC)
    floor = max(rig.value("min_soc", "holding"), rig.value("soc_reserve", "holding"))
    rig.sim.set_load(None, 4000)
    rig.sim.set_battery(None, soc_pct=floor)
    rig.run(STEP_S)
    assert rig.battery_w() == 0
    assert rig.value("battery_level") == pytest.approx(floor, abs=0.1)


def test_the_same_seed_gives_the_same_clouds_and_another_seed_others():
    def afternoon(seed: int) -> list[float]:
        rig = Rig("SG10RT", NOON_UTC, seed=seed, cloudiness=0.6)
        out: list[float] = []
        rig.run(3 * 3600, STEP_S, lambda r: out.append(r.value("total_active_power")))
        return out

    assert afternoon(3) == afternoon(3)
    assert afternoon(3) != afternoon(4)
    clear = Rig("SG10RT", NOON_UTC, cloudiness=0.0)
    clear_power: list[float] = []
    clear.run(3 * 3600, STEP_S, lambda r: clear_power.append(r.value("total_active_power")))
    cloudy = afternoon(3)
    assert all(c <= k + 1 for c, k in zip(cloudy, clear_power, strict=True))
    assert sum(cloudy) < 0.97 * sum(clear_power), "clouds take energy away"


def test_a_large_array_is_clipped_at_the_nominal_power_and_dc_exceeds_ac():
    big = Rig("SG5.0RT", NOON_UTC, array_kwp=12.0)
    samples: list[tuple[float, float]] = []
    big.run(
        3600,
        STEP_S,
        lambda r: samples.append((r.value("total_active_power"), r.value("total_dc_power"))),
    )
    assert max(ac for ac, _ in samples) == 5000
    assert all(dc > ac for ac, dc in samples)
