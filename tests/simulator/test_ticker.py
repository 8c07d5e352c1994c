"""The ticker gives way between inverters, and a clock set during a tick wins.

A fleet's tick must not hold the event loop for the whole fleet: a read that arrives
during it waits for one inverter's step, not for a hundred. Judged by what another
coroutine sees while the tick runs, and by the plant counters a client reads.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta

from sungrow_sim.config import InverterConfig, ServeConfig
from sungrow_sim.service import build
from sungrow_sim.simulator import Simulator

FLEET = 5
START = datetime(2026, 6, 21, 12, 0, 0, tzinfo=UTC)


class Wall:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def fleet(wall: Wall) -> Simulator:
    inverters = [
        InverterConfig(model="SH10RT", serial=f"T{unit:09d}", unit_id=unit)
        for unit in range(1, FLEET + 1)
    ]
    sim = build(ServeConfig(inverters=inverters, start_time=START, time_scale=60.0))
    sim.clock._monotonic = wall
    sim.set_clock(START)
    return sim


def yields(sim: Simulator) -> list[int]:
    """Per inverter, its total yield counter in Wh."""
    return [round(inv.plant.counters.total_yield_kwh * 1000) for inv in sim.inverters.values()]


async def test_other_coroutines_run_between_the_inverters_of_one_tick():
    wall = Wall()
    sim = fleet(wall)
    before = yields(sim)
    wall.now += 60.0  # one simulated hour at midday: every inverter yields
    seen: list[int] = []
    done = False

    async def reader() -> None:
        while not done:
            seen.append(sum(a != b for a, b in zip(yields(sim), before, strict=True)))
            await asyncio.sleep(0)

    task = asyncio.create_task(reader())
    await asyncio.sleep(0)  # the reader looks once before the tick starts
    await sim.tick_cooperatively()
    done = True
    await task
    assert all(a > b for a, b in zip(yields(sim), before, strict=True))
    # The reader ran while some inverters had stepped and others not yet.
    assert set(range(1, FLEET)) <= set(seen), seen


async def test_a_clock_set_during_a_tick_ends_it_and_nothing_steps_back():
    wall = Wall()
    sim = fleet(wall)
    before = yields(sim)
    wall.now += 60.0
    later = START + timedelta(days=1, hours=2)
    ticking = asyncio.create_task(sim.tick_cooperatively())
    await asyncio.sleep(0)  # the first inverter has stepped
    sim.set_clock(later)
    await ticking
    gained = [a - b for a, b in zip(yields(sim), before, strict=True)]
    # The first inverter had its hour before the jump; the others do not integrate the
    # interval from before the jump after it (as a plain set-clock between ticks).
    assert gained[0] > 0 and gained[1:] == [0] * (FLEET - 1), gained
    for inverter in sim.inverters.values():
        # and none was stepped at the old time after the jump: the plant's day is the new one.
        assert inverter.plant.counters.day == later.date().isoformat()


async def test_the_plain_and_the_cooperative_tick_step_a_fleet_alike():
    plain = fleet(Wall())
    cooperative = copy.deepcopy(plain)  # the same plants, each simulator with its own wall
    before = yields(plain)
    for sim in (plain, cooperative):
        sim.clock._monotonic.now += 60.0  # type: ignore[attr-defined]
    plain.tick()
    await cooperative.tick_cooperatively()
    assert all(a > b for a, b in zip(yields(plain), before, strict=True))
    assert yields(cooperative) == yields(plain)
