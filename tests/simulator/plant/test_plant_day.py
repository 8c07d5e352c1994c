"""A simulated day: energy is integrated power, totals only grow, hybrids balance."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from sungrow_sim.config import InverterConfig, ServeConfig
from sungrow_sim.plant import Controls
from sungrow_sim.registers import RegisterSpec, catalogue, decode
from sungrow_sim.service import build
from sungrow_sim.simulator import Simulator

STEP_S = 60.0


class FakeWall:
    """A monotonic clock the test advances; with time scale 3600 one wall second = 1 h."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def simulator(model: str, wall: FakeWall, array_kwp: float | None = None, **settings) -> Simulator:
    start = datetime(2026, 6, 21, 0, 0, 30, tzinfo=UTC)
    inverter = InverterConfig(model=model, array_kwp=array_kwp)
    config = ServeConfig(
        inverters=[inverter],
        start_time=start,
        time_scale=3600.0,
        **{"commissioned": start, **settings},
    )
    sim = build(config)
    sim.clock._monotonic = wall
    sim.set_clock(start)
    return sim


@cache
def spec_of(model: str, name: str) -> RegisterSpec:
    return next(r for r in catalogue().registers_of(model) if r.name == name)


def register(sim: Simulator, name: str) -> float:
    """A register's engineering value, decoded from the image as a client would."""
    spec = spec_of(sim.inverters[1].info.model, name)
    words = sim.read(1, spec.table, spec.address - 1, spec.width)
    assert isinstance(words, list)
    return decode(spec.datatype, words) * spec.scale


def run_day(sim: Simulator, wall: FakeWall, power_register: str, on_step=None) -> float:
    """Step through the day; return power integrated from the register image, in kWh."""
    integrated = 0.0
    for _ in range(int(86_000 / STEP_S)):
        wall.now += STEP_S / 3600
        sim.tick()
        integrated += register(sim, power_register) * STEP_S / 3600 / 1000
        if on_step:
            on_step(sim)
    return integrated


@pytest.mark.parametrize(
    ("model", "power_register"),
    [("SG10RT", "total_active_power"), ("SG5K-D", "total_active_power")],
)
def test_string_daily_yield_equals_integrated_ac_power(model, power_register):
    wall = FakeWall()
    sim = simulator(model, wall, cloudiness=0.3)
    totals: list[float] = []
    integrated = run_day(
        sim, wall, power_register, lambda s: totals.append(register(s, "total_power_yields"))
    )
    daily = register(sim, "daily_power_yields")
    assert integrated > 10, "a June day in Munich must produce energy"
    assert daily == pytest.approx(integrated, rel=0.01)
    assert all(b >= a for a, b in itertools.pairwise(totals))
    assert totals[-1] > totals[0]


def test_hybrid_power_balances_at_every_step_and_yield_follows_pv():
    wall = FakeWall()
    sim = simulator("SH10RT", wall)
    seen_charge = seen_discharge = False

    def check(s: Simulator) -> None:
        nonlocal seen_charge, seen_discharge
        pv = register(s, "total_dc_power")
        load = register(s, "load_power_hybrid")
        export = register(s, "export_power_hybrid")
        battery = s.inverters[1].readings()["battery_power_w"]
        assert pv == load + battery + export
        assert abs(battery) == register(s, "battery_power")
        assert register(s, "total_active_power") == load + export
        soc = register(s, "battery_level")
        assert 0 <= soc <= 100
        seen_charge |= battery > 0
        seen_discharge |= battery < 0

    integrated = run_day(sim, wall, "total_dc_power", check)
    assert seen_charge and seen_discharge, "the battery should both charge and discharge in a day"
    assert register(sim, "daily_pv_generation") == pytest.approx(integrated, rel=0.01)


def test_the_same_seed_gives_the_same_day_and_another_seed_another():
    def day(seed: int) -> list[float]:
        wall = FakeWall()
        sim = simulator("SG10RT", wall, seed=seed, cloudiness=0.5)
        out: list[float] = []
        run_day(
            sim,
            wall,
            "total_active_power",
            lambda s: out.append(register(s, "total_active_power")),
        )
        return out

    assert day(7) == day(7)
    assert day(7) != day(8)


def test_clear_sky_power_is_capped_at_nominal_and_dc_exceeds_ac():
    wall = FakeWall()
    sim = simulator("SG5.0RT", wall, array_kwp=12.0, cloudiness=0.0)
    samples: list[tuple[float, float]] = []
    run_day(
        sim, wall, "total_active_power",
        lambda s: samples.append((register(s, "total_active_power"), register(s, "total_dc_power"))),
    )  # fmt: skip
    assert max(ac for ac, _ in samples) == 5000
    assert all(dc >= ac for ac, dc in samples)
    assert all(dc > ac for ac, dc in samples if ac > 100)
    assert samples[-1] == (0, 0)  # after sunset


def test_dc_side_and_phase_currents_are_consistent_with_ac_power():
    wall = FakeWall()
    sim = simulator("SG10RT", wall)
    sim.set_power(None, 3000)
    assert register(sim, "total_active_power") == 3000
    dc = register(sim, "total_dc_power")
    assert 3000 < dc < 3200  # inverter efficiency ~97 %
    mppt = sum(
        register(sim, f"mppt_{n}_voltage") * register(sim, f"mppt_{n}_current") for n in (1, 2)
    )
    assert mppt == pytest.approx(dc, rel=0.03)
    phases = sum(
        register(sim, f"phase_{p}_voltage") * register(sim, f"phase_{p}_current") for p in "abc"
    )
    assert phases == pytest.approx(3000, rel=0.03)


def test_a_fresh_start_at_noon_shows_the_mornings_yield_as_if_it_ran_all_day():
    """Backfilled from local midnight: equal to stepping the same morning minute by minute."""
    noon = datetime(2026, 6, 21, 12, 0, tzinfo=UTC)
    config = ServeConfig(
        inverters=[InverterConfig(model="SG10RT")], start_time=noon, cloudiness=0.0
    )
    backfilled = build(config).inverters[1].plant.counters.daily_yield_kwh
    wall = FakeWall()
    stepped = simulator("SG10RT", wall, cloudiness=0.0)
    stepped.set_clock(datetime(2026, 6, 21, 0, 0, tzinfo=UTC))
    while stepped.clock.now() < noon:
        wall.now += STEP_S / 3600
        stepped.tick()
    assert backfilled > 10
    assert backfilled == pytest.approx(
        stepped.inverters[1].plant.counters.daily_yield_kwh, rel=0.02
    )


def test_one_long_step_integrates_like_many_short_ones():
    """At 3600x a tick spans an hour: its substeps must walk through that hour."""
    morning = datetime(2026, 6, 21, 5, 0, tzinfo=UTC)

    def energy_after(steps: int) -> float:
        config = ServeConfig(
            inverters=[InverterConfig(model="SG10RT")], start_time=morning, cloudiness=0.0
        )
        plant = build(config).inverters[1].plant
        start = plant.counters.total_yield_kwh
        for i in range(1, steps + 1):
            when = morning + timedelta(hours=6 * i / steps)
            plant.step(when, when, 6 * 3600 / steps, Controls())
        return plant.counters.total_yield_kwh - start

    one_minute_steps = energy_after(360)
    assert one_minute_steps > 20
    assert energy_after(6) == pytest.approx(one_minute_steps, rel=0.01)
