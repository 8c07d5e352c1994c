"""One in-process simulator on a fake monotonic clock, for the oracle tests.

No server and no sockets: a test reads and writes the register image as a client's
request would reach it, and moves the clock by hand. One wall second of the fake clock
is `SCALE` simulated seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sungrow_sim.config import InverterConfig, ServeConfig
from sungrow_sim.service import build
from sungrow_sim.simulator import Simulator

from support.oracle import Reg

SCALE = 3600.0  # one wall second of the fake monotonic clock is one simulated hour


class FakeClockSim:
    """Inverters in one process, commissioned at the start (no year of history) unless told."""

    def __init__(
        self,
        inverters: list[InverterConfig],
        start: datetime,
        *,
        timezone: str = "UTC",
        cloudiness: float = 0.0,
        commissioned: datetime | None = None,
        **settings: Any,
    ) -> None:
        self.wall = 0.0
        self.start = start
        config = ServeConfig(
            inverters=inverters,
            start_time=start,
            commissioned=commissioned or start,
            time_scale=SCALE,
            timezone=timezone,
            cloudiness=cloudiness,
            **settings,
        )
        self.sim: Simulator = build(config)
        self.sim.clock._monotonic = lambda: self.wall
        self.sim.set_clock(start)

    def words(self, table: str, wire: int, count: int, unit: int = 1) -> list[int]:
        """Registers at a wire address, as a Modbus read of that unit would get them."""
        words = self.sim.read(unit, table, wire, count)  # type: ignore[arg-type]
        assert isinstance(words, list), f"read {table} {wire}+{count}: exception {words}"
        return words

    def at(self, entry: Reg, unit: int = 1) -> float:
        """A register's engineering value, decoded by the oracle's own entry."""
        return entry.value(self.words(entry.table, entry.wire, entry.width, unit))

    def write(self, address: int, *values: int, unit: int = 1) -> None:
        """Write holding registers at a documented address (the wire address is one less)."""
        assert self.sim.write(unit, address - 1, list(values)) is None, (address, values)

    def run(
        self, seconds: float, step_s: float = 60.0, sample: Callable[[Any], None] | None = None
    ) -> None:
        """Let `seconds` of simulated time pass in ticks of `step_s`; `sample(self)` after each."""
        for _ in range(round(seconds / step_s)):
            self.wall += step_s / SCALE
            self.sim.tick()
            if sample:
                sample(self)
