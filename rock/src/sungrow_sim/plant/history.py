"""The plant's past in coarse steps: from commissioning to now, or over a downtime.

Each step samples the plant's own weather, load and energy management at its middle and
books the energy into every counter (lifetime, year, month, day and the day/month/year
arrays), so they agree with each other. A step never carries the battery past its SOC
limits, so charge, discharge and the state of charge agree too.

Speed matters (a fresh start runs a year of it): the last month's days have ten steps,
shorter around the middle of the day, older days four, the sun's irradiance at a step is shared by every inverter of a
site, and each day's energy is booked into the counters once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sungrow_sim.plant.model import (
    BATTERY_EFFICIENCY,
    EFFICIENCY,
    SYSTEM_DERATE,
    Controls,
    Plant,
    book,
    dispatch,
    roll_calendar,
)
from sungrow_sim.plant.sun import clear_sky_ghi, day_terms, elevation_deg

# Step edges in local hours: coarse at night, two hours by day.
DAY_EDGES = (0.0, 5.0, 7.0, 9.0, 11.0, 13.0, 15.0, 17.0, 19.0, 21.0, 24.0)
# Days more than a month before the end: four steps (night, morning, afternoon, evening).
OLD_DAY_EDGES = (0.0, 7.0, 12.0, 17.0, 24.0)
FINE_DAYS = 32
_GHI: dict[tuple[float, float, float], float] = {}
_GHI_LIMIT = 200_000


def _ghi(mid: float, terms: tuple[float, float], latitude: float, longitude: float) -> float:
    """Clear-sky irradiance at a timestamp (shared by the inverters of one site)."""
    key = (mid, latitude, longitude)
    value = _GHI.get(key)
    if value is None:
        value = clear_sky_ghi(elevation_deg((mid / 3600) % 24, terms, latitude, longitude))
        if len(_GHI) >= _GHI_LIMIT:
            _GHI.clear()
        _GHI[key] = value
    return value


def forget_shared() -> None:
    """Drop the clear-sky values shared by a fleet's start (memory once it is built)."""
    _GHI.clear()


def simulate(
    plant: Plant,
    start: datetime,
    end: datetime,
    timezone: str | ZoneInfo,
    controls: Controls | None = None,
    edges: tuple[float, ...] = DAY_EDGES,
    old_edges: tuple[float, ...] = OLD_DAY_EDGES,
) -> None:
    """Run the plant from `start` to `end` (aware datetimes) in the day's coarse steps."""
    controls = controls or Controls()
    zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
    t0, t1 = start.timestamp(), end.timestamp()
    if t1 <= t0:
        return
    c = plant.counters
    fine_from = t1 - FINE_DAYS * 86400
    factors: dict[float, float] = {}  # MPPT orientation and shade by solar hour (rounded)
    day = start.astimezone(zone).date()
    while True:
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
        if midnight >= t1:
            break
        following = day + timedelta(days=1)
        next_midnight = datetime(
            following.year, following.month, following.day, tzinfo=zone
        ).timestamp()
        roll_calendar(c, day.isoformat())
        weekend = day.weekday() >= 5
        yday = day.timetuple().tm_yday
        terms = day_terms(yday)  # the sun's path changes little within a day
        scale = (next_midnight - midnight) / 86400  # 23 or 25 hours on DST days
        produced = exported = imported = direct = charged = discharged = 0.0
        running_h = 0.0
        steps = edges if midnight >= fine_from else old_edges
        for k in range(len(steps) - 1):
            a = max(t0, midnight + steps[k] * 3600 * scale)
            b = min(t1, midnight + steps[k + 1] * 3600 * scale)
            if b <= a:
                continue
            hours = (b - a) / 3600
            pv, load, battery, running = _step(
                plant,
                (a + b) / 2,
                midnight,
                scale,
                weekend,
                (yday, terms),
                hours,
                controls,
                factors,
            )
            export = pv - load - battery
            produced += pv * hours
            direct += min(pv, load) * hours
            if export > 0:
                exported += export * hours
            else:
                imported -= export * hours
            if battery > 0:
                charged += battery * hours
            else:
                discharged -= battery * hours
            if running:
                running_h += hours
        book(
            c,
            tuple(e / 1000 for e in (produced, exported, imported, direct, charged, discharged)),
        )
        c.total_running_time_h += running_h
        c.daily_running_time_min += running_h * 60
        if next_midnight >= t1:
            break
        day = following


def _step(
    plant: Plant,
    mid: float,
    midnight: float,
    scale: float,
    weekend: bool,
    day: tuple[int, tuple[float, float]],
    hours: float,
    controls: Controls,
    factors: dict[float, float],
) -> tuple[float, float, float, bool]:
    """(pv, load, battery, running) of one coarse step centred on timestamp `mid`."""
    cfg = plant.config
    hybrid = cfg.family == "hybrid"
    yday, terms = day
    ghi = _ghi(mid, terms, cfg.latitude, cfg.longitude)
    pv = 0.0
    if ghi > 0:
        solar = round(((mid / 3600) + cfg.longitude / 15) % 24, 2)
        factor = factors.get(solar)
        if factor is None:
            factor = factors[solar] = sum(plant.mppt_factors(solar))
        peak = cfg.array_kwp * SYSTEM_DERATE * EFFICIENCY
        pv = min(peak * ghi * plant.cloud_factor(mid / 3600) * factor, cfg.nominal_power_w)
    load = 0.0
    if cfg.meter or hybrid:
        load = plant.load_at((mid - midnight) / 3600 / scale, weekend, yday)
    running = pv > 0.005 * cfg.nominal_power_w
    if not hybrid:
        return pv, load, 0.0, running
    pv, load, battery = _hybrid_step(plant, pv, load, controls, hours)
    return pv, load, battery, running or battery != 0


def _hybrid_step(
    plant: Plant, pv: float, load: float, controls: Controls, hours: float
) -> tuple[float, float, float]:
    """One coarse step of the energy management; the battery stops at its SOC limits."""
    c = plant.counters
    pv, load, battery, _ = dispatch(plant, pv, load, c.battery_soc_pct, controls, hours * 3600)
    capacity = plant.config.battery_kwh
    if capacity > 0 and battery:
        energy = battery * hours / 1000
        stored = energy * BATTERY_EFFICIENCY if battery > 0 else energy / BATTERY_EFFICIENCY
        c.battery_soc_pct = min(100.0, max(0.0, c.battery_soc_pct + stored / capacity * 100))
    return pv, load, battery
