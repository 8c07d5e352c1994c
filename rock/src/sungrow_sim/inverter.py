"""One simulated inverter: model, plant, overrides and its register image."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sungrow_sim.clock import SimClock
from sungrow_sim.faults import GRID_LOSS_CODE, FaultSet
from sungrow_sim.plant import Controls, Plant, WorkState, simulate
from sungrow_sim.registers import (
    ModelSpec,
    RegisterImage,
    RegisterSpec,
    SettingsStore,
    compute,
)
from sungrow_sim.registers.catalogue import Family
from sungrow_sim.registers.image import string_count


@dataclass
class Overrides:
    """User overrides (None = the plant model decides)."""

    power_w: float | None = None
    state: WorkState | None = None
    load_w: float | None = None
    battery_power_w: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)


@dataclass(frozen=True)
class InverterInfo:
    """Identity of an inverter, as clients and the relation see it."""

    unit_id: int
    model: str
    device_code: int
    family: Family
    serial: str
    nominal_power_w: int


class Inverter:
    """Plant + overrides + faults -> quantities -> register image."""

    def __init__(
        self,
        unit_id: int,
        spec: ModelSpec,
        serial: str,
        plant: Plant,
        registers: list[RegisterSpec],
    ) -> None:
        self.spec = spec
        self.plant = plant
        self.overrides = Overrides()
        self.info = InverterInfo(
            unit_id, spec.name, spec.device_code, spec.family, serial, spec.nominal_power_w
        )
        self._image = RegisterImage(spec, registers, serial)
        self._unencoded: dict[str, float] | None = None  # quantities the image does not show yet
        self.settings = SettingsStore(
            spec.family,
            {
                "nominal_power_w": spec.nominal_power_w,
                "bdc_rated_power_w": spec.nominal_power_w,
            },
        )
        self.string_count = string_count(spec, registers)  # the strings the image reports
        self.quantities: dict[str, float] = {}
        self._setting_slots: tuple[int, list[tuple[bytearray, int, list[int]]]] = (-1, [])
        self.fault_time: datetime | None = None
        self.heartbeat_at: datetime | None = None

    def controls(self, faults: FaultSet, local: datetime | None = None) -> Controls:
        """Overrides and plant faults combined."""
        unit = self.info.unit_id
        inverter_fault = faults.of_kind("inverter-fault", unit)
        grid_loss = faults.of_kind("grid-loss", unit)
        code = inverter_fault.effective_code if inverter_fault else None
        if code is None and grid_loss and self.spec.family == "string":
            code = GRID_LOSS_CODE
        o = self.overrides
        self.sync_start_stop()
        settings = self.settings.plant()
        return Controls(
            power_w=o.power_w,
            state=o.state,
            load_w=o.load_w,
            battery_power_w=o.battery_power_w,
            fault_code=code,
            grid_lost=grid_loss is not None,
            night=faults.of_kind("night-standby", unit) is not None,
            settings=settings,
            forced_charge_to_pct=settings.forced_charge_target(local) if local else None,
        )

    def sync_start_stop(self) -> None:
        """The start/stop setting shows the stop override (ctl state and Modbus alike)."""
        if "start_stop" in self.settings.specs:
            word = "stop" if self.overrides.state == "stop" else "start"
            self.settings.set_raw("start_stop", self.settings.specs["start_stop"].choices[word])  # type: ignore[index]

    def advance(self, now: datetime, local: datetime, dt_s: float, faults: FaultSet) -> None:
        """Step the plant by `dt_s` simulated seconds (0: recompute flows only) and re-encode."""
        self._supervise_external_ems(now)
        controls = self.controls(faults, local)
        self.plant.step(now, local, dt_s, controls)
        if controls.fault_code is None:
            self.fault_time = None
        elif self.fault_time is None:
            self.fault_time = local
        self.quantities = compute(
            self.spec, self.plant, controls, local, self.string_count, self.fault_time
        )
        if faults.of_kind("stale-values", self.info.unit_id) is None:
            self._unencoded = self.quantities  # encoded when the image is next looked at

    @property
    def image(self) -> RegisterImage:
        """The register image, showing the last step's quantities and the settings.

        Encoding waits until someone reads: a fleet's inverters nobody reads cost no
        encoding, and many steps between two reads cost one. A stale-values fault stops
        new quantities from reaching the image (it shows what it showed).
        """
        quantities, self._unencoded = self._unencoded, None
        if quantities is not None:
            image = self._image
            image.refresh(quantities)
            if self._setting_slots[0] != self.settings.version:
                self._setting_slots = (
                    self.settings.version,
                    image.holding_slots(self.settings.words()),
                )
            image.put_slots(self._setting_slots[1])
        return self._image

    def heartbeat(self, now: datetime) -> None:
        """The external EMS wrote its heartbeat (or took control): restart the timeout."""
        self.heartbeat_at = now

    def _supervise_external_ems(self, now: datetime) -> None:
        """External EMS mode without a heartbeat in time returns to self-consumption."""
        store = self.settings
        if "external_ems_heartbeat" not in store.specs:
            return
        timeout = store.value("external_ems_heartbeat")
        if store.value("ems_mode") not in ("external", "vpp") or not timeout:
            self.heartbeat_at = None
            return
        if self.heartbeat_at is None:
            self.heartbeat_at = now
        elif (now - self.heartbeat_at).total_seconds() > float(timeout):
            store.set_raw("ems_mode", store.specs["ems_mode"].choices["self-consumption"])  # type: ignore[index]
            self.heartbeat_at = None

    def backfill_history(self, clock: SimClock, commissioned: datetime, faults: FaultSet) -> None:
        """A fresh inverter's past: commissioning to midnight in coarse steps, then today."""
        local = clock.local()
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        past = Controls(settings=self.controls(faults).settings)
        self.plant.counters.commissioned = commissioned.isoformat()
        if commissioned < midnight:
            simulate(self.plant, commissioned, midnight, clock.zone, past)
        self.backfill(clock, (local - midnight).total_seconds(), past)

    def backfill_today(self, clock: SimClock, substep_s: float = 300.0) -> None:
        """Integrate the plant from local midnight to now, as if it had run all day."""
        local = clock.local()
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        self.backfill(clock, (local - midnight).total_seconds(), substep_s=substep_s)

    def backfill(
        self,
        clock: SimClock,
        elapsed_s: float,
        controls: Controls | None = None,
        substep_s: float = 300.0,
    ) -> None:
        """Integrate the plant over the `elapsed_s` simulated seconds up to now.

        With `controls` (the overrides and faults in force) it catches up on a downtime:
        the clock moved on while the process was away, so the counters do too.
        """
        now = clock.now()
        local = clock.local(now)
        self.plant.step(now, local, elapsed_s, controls or Controls(), max_substep_s=substep_s)

    def readings(self) -> dict[str, Any]:
        """The headline readings, in engineering units (hybrid-only ones None on SG)."""
        q, hybrid = self.quantities, self.spec.family == "hybrid"
        state = self.plant.flows.state
        return {
            "work_state": state,
            "pv_power_w": q.get("pv_power_w", 0),
            "active_power_w": q.get("active_power_w", 0),
            "daily_yield_kwh": round(q.get("daily_yield_kwh", 0.0), 3),
            "total_yield_kwh": round(q.get("total_yield_kwh", 0.0), 3),
            "load_power_w": q.get("load_power_w", 0),
            "grid_power_w": q.get("grid_power_w", 0),
            "battery_power_w": q.get("battery_power_w") if hybrid else None,
            "battery_soc_pct": round(self.plant.counters.battery_soc_pct, 1) if hybrid else None,
            "internal_temperature_c": q.get("internal_temperature_c", 0.0),
            "fault_code": q.get("fault_code") or None,
        }
