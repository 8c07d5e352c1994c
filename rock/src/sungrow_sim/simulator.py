"""The simulator: inverters by unit id over one clock, one fault set, one tick loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sungrow_sim import __version__
from sungrow_sim.clock import FIRST_YEAR, LAST_YEAR, ClockRangeError, SimClock, check_fields
from sungrow_sim.faults import Fault, FaultSet, FaultSpec
from sungrow_sim.inverter import Inverter
from sungrow_sim.plant import Counters, Plant, PlantConfig, WorkState
from sungrow_sim.ratelimit import log_limited
from sungrow_sim.registers import (
    START,
    STOP,
    ExceptionCode,
    SettingError,
    Table,
    catalogue,
    settings_catalogue,
)
from sungrow_sim.samples import Pulse, SampleStore

log = logging.getLogger(__name__)
CLOCK_WIRE = range(4999, 5005)  # documented 5000-5005: year .. second
START_STOP_WIRES = (5005, 12999)  # documented 5006 (string), 13000 (hybrid)


def _checked_settings(
    inverter: Inverter, address: int, values: list[int]
) -> list[tuple[str, int]] | int:
    """The (setting, raw value) pairs a write holds, or the exception code that refuses it."""
    store = inverter.settings
    accepted: list[tuple[str, int]] = []
    for offset, value in enumerate(values):
        spec = store.by_wire.get(address + offset)
        if spec is not None:
            if store.check_raw(spec, value) is not None:
                return settings_catalogue().exception_code
            accepted.append((spec.name, value))
    return accepted


class ControlError(ValueError):
    """A control request that cannot be applied (the message says why)."""


class Simulator:
    """Everything the protocol adapters and the control API talk to."""

    def __init__(
        self,
        clock: SimClock,
        faults: FaultSet,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.clock = clock
        self.faults = faults
        self.inverters: dict[int, Inverter] = {}
        self.on_change: Callable[[], None] = on_change or (lambda: None)
        self._last_wall = self.clock.wall()
        self._epoch = 0  # counts rebases: a tick in progress stops at one
        self.samples = SampleStore()  # the last simulated day, per inverter (dashboard)
        self.pulse = Pulse()  # fired after every tick and control change (live feeds)

    def add_inverter(
        self,
        unit_id: int,
        model: str,
        serial: str,
        plant_config: dict[str, Any],
        counters: Counters | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Inverter:
        """Create an inverter of a catalogue model at a unit id."""
        cat = catalogue()
        spec = cat.model(model)
        if unit_id in self.inverters:
            raise ControlError(f"unit id {unit_id} is used twice")
        config = PlantConfig(
            family=spec.family,
            nominal_power_w=spec.nominal_power_w,
            phases=spec.phases,
            mppt_count=spec.mppt_count,
            **plant_config,
        )
        plant = Plant(config, counters or Counters())
        inverter = Inverter(unit_id, spec, serial, plant, cat.registers_of(model))
        if settings:
            inverter.settings.restore(settings)
        self.inverters[unit_id] = inverter
        now = self.clock.now()
        inverter.advance(now, self.clock.local(now), 0, self.faults)
        return inverter

    # -- reads and writes (protocol adapters) --------------------------------------------

    def read(self, unit_id: int, table: Table, address: int, count: int) -> list[int] | int:
        """Registers at a wire address, or a Modbus exception code."""
        inverter = self.inverters.get(unit_id)
        if inverter is None:
            return ExceptionCode.GATEWAY_TARGET_FAILED
        return inverter.image.read(table, address, count)

    def read_wire(self, unit_id: int, table: Table, address: int, count: int) -> bytes | int:
        """`read` as the registers go on the wire (two bytes each, big-endian)."""
        inverter = self.inverters.get(unit_id)
        if inverter is None:
            return ExceptionCode.GATEWAY_TARGET_FAILED
        return inverter.image.read_wire(table, address, count)

    def write(self, unit_id: int, address: int, values: list[int]) -> int | None:
        """Holding-register write; returns an exception code or None."""
        inverter = self.inverters.get(unit_id)
        if inverter is None:
            return ExceptionCode.GATEWAY_TARGET_FAILED
        if not inverter.image.supports("holding", address, len(values)):
            return ExceptionCode.ILLEGAL_ADDRESS
        when = self._written_clock(address, values)
        if isinstance(when, int):
            return when
        for offset, value in enumerate(values):
            if address + offset in START_STOP_WIRES and value not in (START, STOP):
                return ExceptionCode.ILLEGAL_VALUE
        accepted = _checked_settings(inverter, address, values)
        if isinstance(accepted, int):
            return accepted  # validated before anything applies: nothing of it changes
        for name, value in accepted:
            inverter.settings.set_raw(name, value)
            if name in ("external_ems_heartbeat", "ems_mode"):
                inverter.heartbeat(self.clock.now())
        for offset, value in enumerate(values):
            if address + offset in START_STOP_WIRES:  # either family's start/stop word
                inverter.overrides.state = None if value == START else "stop"
        if when is not None:
            self.clock.set(when)
            self._rebase()
        self.refresh()
        return None

    def _written_clock(self, address: int, values: list[int]) -> datetime | int | None:
        """The clock a write sets (None if it leaves it), or exception 3 when refused."""
        local = self.clock.local()
        fields = [local.year, local.month, local.day, local.hour, local.minute, local.second]
        touched = False
        for offset, value in enumerate(values):
            wire = address + offset
            if wire in CLOCK_WIRE:
                fields[wire - CLOCK_WIRE.start] = value
                touched = True
        if not touched:
            return None
        try:
            return self.clock.checked(check_fields(fields))
        except ClockRangeError as err:
            log_limited(log, logging.INFO, "clock-write", "clock write refused: %s", err)
            return ExceptionCode.ILLEGAL_VALUE

    # -- time ----------------------------------------------------------------------------

    def tick(self) -> None:
        """Advance every plant by the simulated time since the last tick."""
        for _ in self._ticking():
            pass

    async def tick_cooperatively(self) -> None:
        """`tick`, giving way to the event loop after each inverter.

        A fleet's tick then delays a read by one inverter's step, not by all of them.
        """
        for _ in self._ticking():
            await asyncio.sleep(0)

    def _ticking(self) -> Iterator[None]:
        """One tick, an inverter at a time (yields after each).

        Each inverter takes the clock as it is when its turn comes: a control change
        between two turns (which refreshes every inverter at that moment) never leaves an
        inverter stepped back in time. A clock set meanwhile ends the tick; the next one
        goes on from the new time.
        """
        self._wrap_clock()
        wall = self.clock.wall()
        dt = (wall - self._last_wall) * self.clock.time_scale
        self._last_wall = wall
        epoch = self._epoch
        for unit, inverter in list(self.inverters.items()):
            if self._epoch != epoch:
                return
            now = self.clock.now()
            inverter.advance(now, self.clock.local(now), dt, self.faults)
            self.samples.record(unit, now.timestamp(), inverter.readings())
            yield
        self.pulse.fire()

    def refresh(self) -> None:
        """Apply control changes now, without advancing time."""
        now = self.clock.now()
        local = self.clock.local(now)
        for inverter in self.inverters.values():
            inverter.advance(now, local, 0, self.faults)
        self.on_change()
        self.pulse.fire()

    def _rebase(self) -> None:
        """Measure the next tick from now (the clock was set, or ticks start again)."""
        self._last_wall = self.clock.wall()
        self._epoch += 1

    def _wrap_clock(self) -> None:
        """Past 2099-12-31 23:59:59 the clock starts again at 2000-01-01 (its range)."""
        if self.clock.local().year > LAST_YEAR:
            log.warning(
                "the inverter clock ran past %d: it starts again at %d", LAST_YEAR, FIRST_YEAR
            )
            self.clock.set(datetime(FIRST_YEAR, 1, 1))

    async def run_ticker(
        self, interval_s: float = 1.0, report: Callable[[str | None], None] | None = None
    ) -> None:
        """Tick forever (cancel to stop); a failing tick is logged, reported and retried.

        `report` gets the problem (a message) while ticks fail and None once one works.
        """
        self._rebase()
        failing = False
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.tick_cooperatively()
            except Exception as err:
                log_limited(
                    log, logging.ERROR, "ticker", "plant ticker failed, retrying: %r", err,
                    exc_info=not failing,
                )  # fmt: skip
                failing = True
                if report:
                    report(f"plant ticker failing: {err!r}")
                self._rebase()  # do not integrate the failed interval twice
                continue
            if failing:
                failing = False
                log.warning("plant ticker recovered")
                if report:
                    report(None)

    # -- control -------------------------------------------------------------------------

    def inverter(self, unit_id: int | None) -> Inverter:
        """The inverter at a unit id; None means the first one."""
        if unit_id is None:
            return self.inverters[min(self.inverters)]
        try:
            return self.inverters[unit_id]
        except KeyError:
            units = ", ".join(str(u) for u in sorted(self.inverters))
            raise ControlError(f"unit_id: no inverter {unit_id} (have {units})") from None

    def set_power(self, unit_id: int | None, watts: float | None) -> Inverter:
        """Override AC output (None: back to the plant model)."""
        inverter = self.inverter(unit_id)
        if watts is not None and not 0 <= watts <= inverter.spec.nominal_power_w:
            raise ControlError(
                f"watts: {watts:g} is outside 0..{inverter.spec.nominal_power_w} "
                f"(the {inverter.spec.name}'s nominal power)"
            )
        inverter.overrides.power_w = watts
        self.refresh()
        return inverter

    def set_state(self, unit_id: int | None, state: WorkState | None) -> Inverter:
        """Force run, stop or standby (run clears the override)."""
        inverter = self.inverter(unit_id)
        inverter.overrides.state = None if state == "run" else state
        self.refresh()
        return inverter

    def set_load(self, unit_id: int | None, watts: float | None) -> Inverter:
        """Override the house load."""
        inverter = self.inverter(unit_id)
        if watts is not None and not 0 <= watts <= 100_000:
            raise ControlError(f"watts: {watts:g} is outside 0..100000")
        inverter.overrides.load_w = watts
        self.refresh()
        return inverter

    def set_battery(
        self,
        unit_id: int | None,
        soc_pct: float | None = None,
        power_w: float | None = None,
        auto: bool = False,
    ) -> Inverter:
        """Set the battery's charge and/or force its power (> 0 charging)."""
        inverter = self.inverter(unit_id)
        if inverter.spec.family != "hybrid":
            raise ControlError(f"{inverter.spec.name} is a string inverter: it has no battery")
        if soc_pct is not None:
            if not 0 <= soc_pct <= 100:
                raise ControlError(f"soc: {soc_pct:g} is outside 0..100")
            inverter.plant.counters.battery_soc_pct = soc_pct
        limit = inverter.plant.config.battery_max_power_w
        if power_w is not None and not -limit <= power_w <= limit:
            raise ControlError(f"power: {power_w:g} is outside -{limit:g}..{limit:g}")
        if power_w is not None or auto:
            inverter.overrides.battery_power_w = power_w
        self.refresh()
        return inverter

    def settings(self, unit_id: int | None) -> dict[str, Any]:
        """Every setting of an inverter, as the control API shows them."""
        inverter = self.inverter(unit_id)
        inverter.sync_start_stop()
        store = inverter.settings
        return {
            "unit_id": inverter.info.unit_id,
            "settings": [store.describe(name) for name in store.specs],
        }

    def set_setting(self, unit_id: int | None, name: str, value: Any) -> dict[str, Any]:
        """Set one setting by name (engineering value or choice name); returns it."""
        inverter = self.inverter(unit_id)
        try:
            inverter.settings.set_value(name, value)
        except SettingError as err:
            raise ControlError(str(err)) from None
        if name in ("external_ems_heartbeat", "ems_mode"):
            inverter.heartbeat(self.clock.now())
        if name == "start_stop":
            stopped = inverter.settings.value("start_stop") == "stop"
            inverter.overrides.state = "stop" if stopped else None
        self.refresh()
        return inverter.settings.describe(name)

    def set_clock(self, when: datetime) -> None:
        """Jump the simulated clock (ControlError outside the clock's documented range)."""
        try:
            self.clock.set(when)
        except ClockRangeError as err:
            raise ControlError(f"time: {err}") from None
        self._rebase()
        self.refresh()

    def inject(self, spec: FaultSpec) -> Fault:
        """Activate a fault."""
        if spec.unit_id is not None:
            self.inverter(spec.unit_id)
        fault = self.faults.add(spec)
        self.refresh()
        return fault

    def clear_faults(self, kind: str | None = None) -> list[Fault]:
        """Clear faults (all, or one kind)."""
        removed = self.faults.clear(kind)
        self.refresh()
        return removed

    def remove_faults(self, faults: list[Fault]) -> None:
        """Take back faults just injected (their save failed)."""
        self.faults.remove(faults)
        self.refresh()

    def restore_faults(self, faults: list[Fault]) -> None:
        """Put back faults just cleared (their save failed)."""
        self.faults.restore(faults)
        self.refresh()

    # -- views ---------------------------------------------------------------------------

    def inverter_state(self, inverter: Inverter) -> dict[str, Any]:
        """One inverter as the control API shows it."""
        info = inverter.info
        unit = info.unit_id
        return {
            "unit_id": unit,
            "model": info.model,
            "device_code": info.device_code,
            "family": info.family,
            "serial": info.serial,
            "nominal_power_w": info.nominal_power_w,
            "clock": self.clock.local().replace(tzinfo=None, microsecond=0).isoformat(),
            "readings": inverter.readings(),
            "overrides": inverter.overrides.as_dict(),
            "faults": [f.model_dump() for f in self.faults.active() if f.unit_id in (None, unit)],
        }

    def state(self, protocols: dict[str, dict[str, int]] | None = None) -> dict[str, Any]:
        """Everything, as `sungrow-sim ctl state` prints it (with the listeners' ports)."""
        return {
            "version": __version__,
            "protocols": protocols or {},
            "inverters": [self.inverter_state(i) for _, i in sorted(self.inverters.items())],
        }
