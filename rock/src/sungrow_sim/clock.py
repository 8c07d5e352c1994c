"""The simulated clock: wall time scaled from a chosen start, settable at run time."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# The documented ranges of the clock registers 5000-5005 (year .. second), RW holding
# registers of the Sungrow protocols: year 2000~2099, month 1~12, day 1~31, hour 0~23,
# minute 0~59, second 0~59. A write outside them is refused with exception 3.
FIELD_RANGES = ((2000, 2099), (1, 12), (1, 31), (0, 23), (0, 59), (0, 59))
FIELD_NAMES = ("year", "month", "day", "hour", "minute", "second")
FIRST_YEAR, LAST_YEAR = FIELD_RANGES[0]


class ClockRangeError(ValueError):
    """A time the inverter clock cannot show (outside the documented register ranges)."""


def check_fields(values: list[int] | tuple[int, ...]) -> datetime:
    """The naive local time of register values year..second, or ClockRangeError."""
    for name, value, (lo, hi) in zip(FIELD_NAMES, values, FIELD_RANGES, strict=True):
        if not lo <= value <= hi:
            raise ClockRangeError(f"{name}: {value} is outside {lo}..{hi}")
    try:
        return datetime(*values)  # type: ignore[arg-type, misc]
    except ValueError as err:  # e.g. 31 February
        raise ClockRangeError(str(err)) from None


class SimClock:
    """Simulated time = start + (monotonic elapsed) x time scale."""

    def __init__(
        self,
        start: datetime,
        time_scale: float,
        timezone: str,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.time_scale = time_scale
        self.zone = ZoneInfo(timezone)
        self._monotonic = monotonic
        self.set(start)

    def set(self, when: datetime) -> None:
        """Jump to `when` (naive datetimes are taken in the configured time zone).

        Raises:
            ClockRangeError: if the inverter's local time would be outside 2000..2099.
        """
        anchor = self.checked(when)
        self._anchor_sim = anchor
        self._anchor_wall = self._monotonic()

    def checked(self, when: datetime) -> datetime:
        """`when` in UTC if the inverter clock can show it, else ClockRangeError."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.zone)
        try:
            utc = when.astimezone(UTC)
            local = utc.astimezone(self.zone)
        except (OverflowError, ValueError):
            raise ClockRangeError(
                f"{when.isoformat()} is outside the representable range"
            ) from None
        if not FIRST_YEAR <= local.year <= LAST_YEAR:
            raise ClockRangeError(
                f"{local.replace(tzinfo=None).isoformat()} (inverter time) is outside the "
                f"clock's range, years {FIRST_YEAR}..{LAST_YEAR}"
            )
        return utc

    def in_range(self, when: datetime | None = None) -> bool:
        """Whether the clock (now, or `when`) is inside the documented range."""
        try:
            self.checked(when or self.now())
        except ClockRangeError:
            return False
        return True

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
