"""The plant's past in coarse steps: from commissioning to now, or over a downtime.

Each step samples the plant's own weather, load and energy management at its middle and
books the energy into every counter (lifetime, year, month, day and the day/month/year
arrays), so they agree with each other. A step never carries the battery past its SOC
limits, so charge, discharge and the state of charge agree too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sungrow_sim.plant.model import (
    BATTERY_EFFICIENCY,
    EFFICIENCY,
    SYSTEM_DERATE,
    Controls,
    Plant,
    add_energy,
    dispatch,
    roll_calendar,
)
from sungrow_sim.plant.sun import clear_sky_ghi, day_terms, elevation_deg

HISTORY_STEP_S = 3600.0


def simulate(
    plant: Plant,
    start: datetime,
    end: datetime,
    timezone: str | ZoneInfo,
    controls: Controls | None = None,
    step_s: float = HISTORY_STEP_S,
) -> None:
    """Run the plant from `start` to `end` (aware datetimes) in steps of at most `step_s`."""
    controls = controls or Controls()
    zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
    t0, t1 = start.timestamp(), end.timestamp()
    if t1 <= t0:
        return
    day = start.astimezone(zone).date()
    cfg, c = plant.config, plant.counters
    hybrid = cfg.family == "hybrid"
    peak = cfg.array_kwp * SYSTEM_DERATE * EFFICIENCY
    threshold = 0.005 * cfg.nominal_power_w
    while True:
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
        if midnight >= t1:
            break
        following = day + timedelta(days=1)
        next_midnight = datetime(
            following.year, following.month, following.day, tzinfo=zone
        ).timestamp()
        roll_calendar(c, day.isoformat())
        utc_day = datetime.fromtimestamp(max(midnight, t0), UTC)
        terms = day_terms(utc_day.timetuple().tm_yday)
        weekend = day.weekday() >= 5
        yday = day.timetuple().tm_yday
        t = max(t0, midnight)
        stop = min(t1, next_midnight)
        while t < stop:
            dt = min(step_s, stop - t)
            mid = t + dt / 2
            hours = dt / 3600
            utc_hours = (mid / 3600) % 24
            ghi = clear_sky_ghi(elevation_deg(utc_hours, terms, cfg.latitude, cfg.longitude))
            pv = 0.0
            if ghi > 0:
                factor = sum(plant.mppt_factors((utc_hours + cfg.longitude / 15) % 24))
                pv = min(peak * ghi * plant.cloud_factor(mid / 3600) * factor, cfg.nominal_power_w)
            load = plant.load_at((mid - midnight) / 3600, weekend, yday)
            if not cfg.meter and not hybrid:
                load = 0.0
            running = pv > threshold
            if hybrid:
                pv, load, battery = _hybrid_step(plant, pv, load, controls, hours)
                running = running or battery != 0
                produced = pv * hours / 1000
            else:
                battery = 0.0
                produced = pv * hours / 1000
            export = pv - load - battery
            add_energy(
                plant,
                produced,
                max(export, 0.0) * hours / 1000,
                max(-export, 0.0) * hours / 1000,
                min(pv, load) * hours / 1000,
                max(battery, 0.0) * hours / 1000,
                max(-battery, 0.0) * hours / 1000,
            )
            if running:
                c.total_running_time_h += hours
                c.daily_running_time_min += dt / 60
            t += dt
        if next_midnight >= t1:
            break
        day = following


def _hybrid_step(
    plant: Plant, pv: float, load: float, controls: Controls, hours: float
) -> tuple[float, float, float]:
    """One coarse step of the energy management; the battery stops at its SOC limits."""
    soc = plant.counters.battery_soc_pct
    pv, load, battery, _ = dispatch(plant, pv, load, soc, controls)
    capacity = plant.config.battery_kwh
    if capacity <= 0 or battery == 0:
        return pv, load, battery
    s = controls.settings
    if battery > 0:
        room_kwh = max(0.0, s.max_soc_pct - soc) / 100 * capacity / BATTERY_EFFICIENCY
        battery = min(battery, room_kwh * 1000 / hours)
    else:
        floor = max(s.min_soc_pct, s.soc_reserve_pct if s.backup else 0.0)
        left_kwh = max(0.0, soc - floor) / 100 * capacity * BATTERY_EFFICIENCY
        battery = -min(-battery, left_kwh * 1000 / hours)
    return pv, load, battery
