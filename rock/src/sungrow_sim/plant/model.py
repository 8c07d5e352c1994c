"""The physical plant behind one inverter: PV, house load, battery, grid and energy.

Deterministic: every output is a function of the configuration, the seed, the simulated
time and the sequence of steps. Power flows follow PV = load + battery + export for
hybrids (battery > 0 charging, export > 0 feeding the grid, both in watts).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Literal

from sungrow_sim.plant.sun import clear_sky_ghi, solar_elevation_deg

WorkState = Literal["run", "stop", "standby", "fault"]
EFFICIENCY = 0.97
SYSTEM_DERATE = 0.9
MAX_SUBSTEP_S = 60.0
# Counters kept per period (total, daily, monthly, yearly) for each integrated flow.
_PERIOD_COUNTERS = tuple(
    tuple(f"{period}_{name}_kwh" for period in ("total", "daily", "monthly", "yearly"))
    for name in ("yield", "export", "direct", "battery_charge")
)
BATTERY_RESERVE_PCT = 10.0


@dataclass(frozen=True)
class PlantConfig:
    """What does not change while the plant runs."""

    family: Literal["string", "hybrid"]
    nominal_power_w: int
    phases: int
    mppt_count: int
    array_kwp: float
    battery_kwh: float
    latitude: float
    longitude: float
    seed: int = 0
    cloudiness: float = 0.2

    @property
    def battery_max_power_w(self) -> float:
        """Charge and discharge limit: 0.5 C, at most the inverter's rating."""
        return min(self.battery_kwh * 500, self.nominal_power_w)


@dataclass
class Counters:
    """Energy counters and battery charge: what persistence saves."""

    day: str = ""
    month: str = ""
    year: str = ""
    total_yield_kwh: float = 0.0
    daily_yield_kwh: float = 0.0
    monthly_yield_kwh: float = 0.0
    yearly_yield_kwh: float = 0.0
    total_running_time_h: float = 0.0
    daily_running_time_min: float = 0.0
    total_export_kwh: float = 0.0
    daily_export_kwh: float = 0.0
    monthly_export_kwh: float = 0.0
    yearly_export_kwh: float = 0.0
    total_import_kwh: float = 0.0
    daily_import_kwh: float = 0.0
    total_direct_kwh: float = 0.0
    daily_direct_kwh: float = 0.0
    monthly_direct_kwh: float = 0.0
    yearly_direct_kwh: float = 0.0
    total_battery_charge_kwh: float = 0.0
    daily_battery_charge_kwh: float = 0.0
    monthly_battery_charge_kwh: float = 0.0
    yearly_battery_charge_kwh: float = 0.0
    total_battery_discharge_kwh: float = 0.0
    daily_battery_discharge_kwh: float = 0.0
    battery_soc_pct: float = 50.0

    def as_dict(self) -> dict[str, float | str]:
        """Plain dict for persistence (flat fields: no deep copy needed, read every tick)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Controls:
    """Overrides and fault conditions that steer the plant (None means automatic)."""

    power_w: float | None = None
    state: WorkState | None = None
    load_w: float | None = None
    battery_power_w: float | None = None
    battery_soc_pct: float | None = None
    fault_code: int | None = None
    grid_lost: bool = False
    night: bool = False


@dataclass
class Flows:
    """Instantaneous power flows in watts after the last step."""

    state: WorkState = "standby"
    irradiance: float = 0.0
    pv_w: float = 0.0
    ac_w: float = 0.0
    load_w: float = 0.0
    battery_w: float = 0.0
    export_w: float = 0.0
    direct_w: float = 0.0


@dataclass
class Plant:
    """One plant: configuration, counters and the flows of the last step."""

    config: PlantConfig
    counters: Counters = field(default_factory=Counters)
    flows: Flows = field(default_factory=Flows)

    def __post_init__(self) -> None:
        rng = random.Random(self.config.seed)
        self._cloud_phases = [rng.uniform(0, 2 * math.pi) for _ in range(3)]
        self._load_phase = rng.uniform(0, 2 * math.pi)

    def irradiance(self, when: datetime, night: bool) -> float:
        """Plane irradiance in W/m2: clear sky times a smooth, seeded cloud factor."""
        if night:
            return 0.0
        elevation = solar_elevation_deg(when, self.config.latitude, self.config.longitude)
        hours = when.timestamp() / 3600
        waves = sum(
            math.sin(2 * math.pi * hours / period + phase)
            for period, phase in zip((0.7, 1.9, 5.3), self._cloud_phases, strict=True)
        )
        cloud = 1 - self.config.cloudiness * max(0.0, waves / 3)
        return clear_sky_ghi(elevation) * cloud

    def house_load(self, local: datetime) -> float:
        """House consumption: base load with morning and evening peaks, seeded ripple."""
        hour = local.hour + local.minute / 60
        morning = 900 * math.exp(-(((hour - 7.5) / 1.2) ** 2))
        evening = 1500 * math.exp(-(((hour - 19.0) / 2.0) ** 2))
        ripple = 80 * math.sin(2 * math.pi * hour / 0.37 + self._load_phase)
        return round(350 + morning + evening + ripple)

    def step(
        self,
        when: datetime,
        local: datetime,
        dt_s: float,
        controls: Controls,
        max_substep_s: float = MAX_SUBSTEP_S,
    ) -> None:
        """Advance to `when` over the last `dt_s` seconds, in equal bounded substeps.

        The substeps walk through that time (each takes the flows at its end), so a long
        step at a high time scale integrates as accurately as many short ones.
        """
        dt_s = max(0.0, dt_s)
        count = max(1, math.ceil(dt_s / max_substep_s))
        sub = dt_s / count
        for index in range(count - 1, -1, -1):
            back = timedelta(seconds=sub * index)
            self._roll_calendar(local - back)
            self.flows = self._flows(when - back, local - back, controls)
            self._integrate(sub)

    def _state(self, controls: Controls, available_ac: float) -> WorkState:
        if controls.fault_code is not None:
            return "fault"
        if controls.state in ("stop", "standby"):
            return controls.state
        if controls.grid_lost and self.config.family == "string":
            return "fault"  # anti-islanding: a string inverter trips without the grid
        if controls.power_w is not None or available_ac > 0.005 * self.config.nominal_power_w:
            return "run"
        return "standby"

    def _flows(self, when: datetime, local: datetime, controls: Controls) -> Flows:
        cfg = self.config
        irradiance = self.irradiance(when, controls.night)
        available_ac = min(
            cfg.array_kwp * irradiance * SYSTEM_DERATE * EFFICIENCY, cfg.nominal_power_w
        )
        state = self._state(controls, available_ac)
        load = controls.load_w if controls.load_w is not None else self.house_load(local)
        if state != "run":
            ac = 0.0
        elif controls.power_w is not None:
            ac = min(max(controls.power_w, 0.0), cfg.nominal_power_w)
        else:
            ac = available_ac
        if cfg.family == "string":
            export = 0.0 if controls.grid_lost else ac - load
            return Flows(
                state,
                irradiance,
                ac / EFFICIENCY if ac else 0.0,
                ac,
                load,
                0.0,
                export,
                min(ac, load),
            )
        return self._hybrid_flows(state, irradiance, ac, load, controls)

    def _hybrid_flows(
        self, state: WorkState, irradiance: float, pv: float, load: float, controls: Controls
    ) -> Flows:
        limit = self.config.battery_max_power_w if state == "run" else 0.0
        soc = self.counters.battery_soc_pct
        max_charge = limit if soc < 100 else 0.0
        max_discharge = limit if soc > BATTERY_RESERVE_PCT else 0.0
        if controls.battery_power_w is not None:
            battery = min(max(controls.battery_power_w, -max_discharge), max_charge)
        elif controls.power_w is not None:
            battery = 0.0
        else:
            battery = min(max(pv - load, -max_discharge), max_charge)
        if controls.power_w is not None:
            pv = max(0.0, pv + battery)  # the override fixes the AC output: pv - battery
        export = pv - load - battery
        if controls.grid_lost:
            if export > 0:
                pv -= export  # curtail: nowhere to send it
            else:
                extra = min(-export, max_discharge + min(battery, 0.0))
                battery -= extra
                load -= -export - extra  # shed what the battery cannot cover
            export = 0.0
        pv, load, battery = round(pv), round(load), round(battery)
        export = pv - load - battery
        return Flows(state, irradiance, pv, pv - battery, load, battery, export, min(pv, load))

    def _integrate(self, dt_s: float) -> None:
        c, f = self.counters, self.flows
        hours = dt_s / 3600
        produced = (f.pv_w if self.config.family == "hybrid" else f.ac_w) * hours / 1000
        exported = max(f.export_w, 0.0) * hours / 1000
        imported = max(-f.export_w, 0.0) * hours / 1000
        direct = f.direct_w * hours / 1000
        charged = max(f.battery_w, 0.0) * hours / 1000
        discharged = max(-f.battery_w, 0.0) * hours / 1000
        for names, value in zip(
            _PERIOD_COUNTERS, (produced, exported, direct, charged), strict=True
        ):
            for attr in names:
                setattr(c, attr, getattr(c, attr) + value)
        c.total_import_kwh += imported
        c.daily_import_kwh += imported
        c.total_battery_discharge_kwh += discharged
        c.daily_battery_discharge_kwh += discharged
        if self.config.battery_kwh > 0 and self.config.family == "hybrid":
            delta = (charged - discharged) / self.config.battery_kwh * 100
            c.battery_soc_pct = min(100.0, max(0.0, c.battery_soc_pct + delta))
        if f.state == "run":
            c.total_running_time_h += hours
            c.daily_running_time_min += dt_s / 60

    def _roll_calendar(self, local: datetime) -> None:
        c = self.counters
        day = local.strftime("%Y-%m-%d")  # one strftime: this runs every substep
        month, year = day.rsplit("-", 1)[0], day.split("-", 1)[0]
        if c.day and c.day != day:
            for name in (
                "yield",
                "export",
                "import",
                "direct",
                "battery_charge",
                "battery_discharge",
            ):
                setattr(c, f"daily_{name}_kwh", 0.0)
            c.daily_running_time_min = 0.0
        if c.month and c.month != month:
            for name in ("yield", "export", "direct", "battery_charge"):
                setattr(c, f"monthly_{name}_kwh", 0.0)
        if c.year and c.year != year:
            for name in ("yield", "export", "direct", "battery_charge"):
                setattr(c, f"yearly_{name}_kwh", 0.0)
        c.day, c.month, c.year = day, month, year
