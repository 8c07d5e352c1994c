"""The simulated clock: wall time scaled from a chosen start, settable at run time."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


class SimClock:
    """Simulated time = start + (monotonic elapsed) x time scale."""

    def __init__(
        self,
        start: datetime,
        time_scale: float,
        timezone: str = "UTC",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.time_scale = time_scale
        self.zone = ZoneInfo(timezone)
        self._monotonic = monotonic
        self.set(start)

    def set(self, when: datetime) -> None:
        """Jump to `when` (naive datetimes are taken in the configured time zone)."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.zone)
        self._anchor_sim = when.astimezone(UTC)
        self._anchor_wall = self._monotonic()

    def wall(self) -> float:
        """The monotonic wall clock the simulated time is scaled from."""
        return self._monotonic()

    def now(self) -> datetime:
        """Current simulated time (aware, UTC)."""
        elapsed = (self._monotonic() - self._anchor_wall) * self.time_scale
        return self._anchor_sim + timedelta(seconds=elapsed)

    def local(self, when: datetime | None = None) -> datetime:
        """Simulated time in the inverter's time zone (what its clock registers show)."""
        return (when or self.now()).astimezone(self.zone)
