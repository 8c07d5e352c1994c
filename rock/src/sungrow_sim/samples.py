"""A bounded ring of power samples per inverter over the last simulated day, and a pulse.

The tick records one sample per inverter at most every `spacing_s` simulated seconds and
drops samples more than a simulated day older than the newest; a clock set backwards
starts the ring afresh. The pulse wakes live feeds (the dashboard's event stream) after
every tick and every control change.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

DAY_S = 86400.0
SPACING_S = 60.0  # at most one sample a simulated minute: 1441 per day at most


@dataclass(frozen=True)
class Sample:
    """One moment of one inverter (watts; battery > 0 charging, grid > 0 exporting)."""

    t: float  # simulated time, seconds since the epoch (UTC)
    pv_w: float
    load_w: float
    battery_w: float | None
    grid_w: float
    soc_pct: float | None

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)


class SampleRing:
    """The samples of one inverter, oldest first."""

    def __init__(self, spacing_s: float = SPACING_S, span_s: float = DAY_S) -> None:
        self.spacing_s = spacing_s
        self.span_s = span_s
        self._items: deque[Sample] = deque(maxlen=int(span_s // spacing_s) + 1)

    def record(self, sample: Sample) -> bool:
        """Keep the sample if it is due; returns whether it was kept."""
        if self._items:
            last = self._items[-1].t
            if sample.t < last:
                self._items.clear()  # the clock went back: the old day no longer leads here
            elif sample.t - last < self.spacing_s:
                return False
        self._items.append(sample)
        while self._items and sample.t - self._items[0].t > self.span_s:
            self._items.popleft()
        return True

    def items(self) -> list[Sample]:
        """All kept samples, oldest first."""
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)


class SampleStore:
    """One ring per unit id."""

    def __init__(self, spacing_s: float = SPACING_S, span_s: float = DAY_S) -> None:
        self.spacing_s = spacing_s
        self.span_s = span_s
        self.rings: dict[int, SampleRing] = {}

    def record(self, unit_id: int, t: float, readings: dict[str, Any]) -> Sample | None:
        """Record an inverter's readings (as `Inverter.readings()` gives them) if due."""
        ring = self.rings.get(unit_id)
        if ring is None:
            ring = self.rings[unit_id] = SampleRing(self.spacing_s, self.span_s)
        sample = Sample(
            t=round(t, 3),
            pv_w=float(readings.get("pv_power_w") or 0),
            load_w=float(readings.get("load_power_w") or 0),
            battery_w=_maybe(readings.get("battery_power_w")),
            grid_w=float(readings.get("grid_power_w") or 0),
            soc_pct=_maybe(readings.get("battery_soc_pct")),
        )
        return sample if ring.record(sample) else None

    def of(self, unit_id: int) -> list[Sample]:
        """The samples of one unit, oldest first (empty if none yet)."""
        ring = self.rings.get(unit_id)
        return ring.items() if ring else []


def _maybe(value: Any) -> float | None:
    return None if value is None else float(value)


class Pulse:
    """Wakes every waiter once per `fire()`; waiters see a counter to skip nothing twice."""

    def __init__(self) -> None:
        self.count = 0
        self._event = asyncio.Event()

    def fire(self) -> None:
        """Wake everyone waiting now."""
        self.count += 1
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seen: int, timeout: float) -> int:
        """Wait until the count passes `seen` (or the timeout); returns the count."""
        if self.count == seen:
            event = self._event
            try:
                await asyncio.wait_for(event.wait(), timeout)
            except TimeoutError:
                pass
        return self.count
