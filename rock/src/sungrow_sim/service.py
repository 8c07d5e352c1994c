"""`sungrow-sim serve`: build the simulator from a config and run every listener."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import random
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sungrow_sim import __version__
from sungrow_sim.clock import SimClock
from sungrow_sim.config import ServeConfig
from sungrow_sim.control import ControlApi, start_control
from sungrow_sim.dashboard import mount as mount_dashboard
from sungrow_sim.faults import FaultSet
from sungrow_sim.persistence import StateStore, snapshot
from sungrow_sim.plant import Counters
from sungrow_sim.protocols.modbus import ModbusOptions, ModbusServer, public_key_for
from sungrow_sim.protocols.winet import WinetServer, start_winet
from sungrow_sim.registers import catalogue
from sungrow_sim.simulator import Simulator

log = logging.getLogger("sungrow_sim")


class StartupError(RuntimeError):
    """The server cannot start as configured (the message says what to change)."""


def build(
    config: ServeConfig,
    store: StateStore | None = None,
    on_change: Callable[[], None] | None = None,
) -> Simulator:
    """The simulator a config describes, with saved state restored."""
    saved = store.load() if store else None
    start = config.start_time
    if start is None:
        start = saved.clock_now(config.time_scale) if saved else datetime.now(UTC)
    faults = FaultSet(seed=config.seed)
    sim = Simulator(SimClock(start, config.time_scale, config.timezone), faults, on_change)
    for index, inv in enumerate(config.inverters):
        spec = catalogue().model(inv.model)
        counters = saved.counters_for(inv.unit_id, inv.model, inv.serial) if saved else None
        fresh = counters is None
        if counters is None:
            counters = _fresh_counters(spec.nominal_power_w, config.seed + index)
        plant = {
            "array_kwp": inv.array_kwp or round(spec.nominal_power_w * 1.2 / 1000, 2),
            "battery_kwh": inv.battery_kwh if spec.family == "hybrid" else 0.0,
            "latitude": config.latitude,
            "longitude": config.longitude,
            "seed": config.seed + index,
            "cloudiness": config.cloudiness,
        }
        inverter = sim.add_inverter(inv.unit_id, inv.model, inv.serial, plant, counters)
        if fresh:
            inverter.backfill_today(sim.clock)
        if (
            saved
            and inv.unit_id in saved.inverters
            and saved.inverters[inv.unit_id].model == inv.model
        ):
            for key, value in saved.inverters[inv.unit_id].overrides.items():
                setattr(inverter.overrides, key, value)
    if saved:
        faults.restore(saved.faults)
        log.info(
            "restored state from %s (%d faults active)", store and store.path, len(faults.active())
        )
    sim.refresh()
    return sim


def _fresh_counters(nominal_w: int, seed: int) -> Counters:
    """A plausible history: about a year of production, deterministic per seed."""
    rng = random.Random(seed)
    return Counters(
        total_yield_kwh=round(nominal_w / 1000 * rng.uniform(900, 1300), 1),
        battery_soc_pct=round(rng.uniform(40, 60), 1),
    )


class Service:
    """Every listener and background task of one `serve`."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.store = StateStore(config.state_dir) if config.state_dir else None
        self._saved_version = -1
        self._serving = False  # control changes are saved once the listeners run
        self.sim = build(config, self.store, self._save_if_changed)
        self.ports: dict[str, int] = {}
        self._closers: list[Any] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.winet: WinetServer | None = None

    async def start(self) -> None:
        """Bind everything; raise StartupError with advice when a port is unusable."""
        cfg = self.config
        protocols = set(cfg.protocols)
        if protocols & {"modbus", "sungrow"}:
            serial = cfg.inverters[0].serial
            options = ModbusOptions(
                plain="modbus" in protocols,
                encrypted="sungrow" in protocols,
                public_key=public_key_for(f"{cfg.seed}:{serial}"),
            )
            modbus = ModbusServer(self.sim, options)
            self.ports["modbus_port"] = await self._bind(
                "modbus-port", modbus.start, cfg.bind, cfg.modbus_port
            )
            self._closers.append(modbus.stop)
        if "http" in protocols:
            await self._start_winet()
        api = ControlApi(self.sim, cfg.control_token, listeners=self._protocol_view)
        mount_dashboard(api)
        runner, port = await self._bind(
            "control-port",
            lambda h, p: start_control(api, h, p),
            cfg.control_bind,
            cfg.control_port,
        )
        self.ports["control_port"] = port
        self._closers.append(runner.cleanup)
        self._serving = True
        self._tasks.append(asyncio.create_task(self.sim.run_ticker(cfg.tick_s)))
        if self.store:
            self._tasks.append(asyncio.create_task(self._flusher()))
        self._announce()

    async def _start_winet(self) -> None:
        cfg = self.config
        try:
            handle = await start_winet(
                self.sim,
                bind=cfg.bind,
                ws_port=cfg.ws_port,
                http_port=cfg.http_port,
                http_port_optional=cfg.http_port_is_default,
                options=cfg.winet,
                seed=cfg.seed,
            )
        except OSError as err:
            raise StartupError(_bind_advice("ws-port/--http-port", err)) from None
        assert handle.ws_port is not None
        self.ports["ws_port"] = handle.ws_port
        if handle.http_port is not None:
            self.ports["http_port"] = handle.http_port
        self.winet = handle
        self._closers.append(handle.close)

    async def _bind(self, flag: str, start: Any, host: str, port: int) -> Any:
        try:
            return await start(host, port)
        except OSError as err:
            raise StartupError(_bind_advice(flag, err, port)) from None

    def _protocol_view(self) -> dict[str, dict[str, int]]:
        view: dict[str, dict[str, int]] = {}
        for name in self.config.protocols:
            if name in ("modbus", "sungrow"):
                view[name] = {"port": self.ports.get("modbus_port", 0)}
            elif name == "http":
                view[name] = {
                    "ws_port": self.ports.get("ws_port", 0),
                    "http_port": self.ports.get("http_port", 0),
                }
        view["control"] = {"port": self.ports.get("control_port", 0)}
        return view

    def _announce(self) -> None:
        cfg = self.config
        for inv in self.sim.inverters.values():
            info = inv.info
            log.info(
                "simulating %s (device code 0x%04X, %s, %d W) serial %s at unit id %d",
                info.model,
                info.device_code,
                info.family,
                info.nominal_power_w,
                info.serial,
                info.unit_id,
            )
        for name, port in self.ports.items():
            host = cfg.control_bind if name == "control_port" else cfg.bind
            log.info("listening: %s on %s:%d", name.removesuffix("_port"), host, port)
        log.info(
            "clock %s, time scale %g, protocols %s",
            self.sim.clock.local().isoformat(timespec="seconds"),
            cfg.time_scale,
            ",".join(cfg.protocols),
        )
        if cfg.ready_file:
            tmp = cfg.ready_file.with_name(cfg.ready_file.name + ".tmp")
            tmp.write_text(json.dumps(self.ports))
            tmp.replace(cfg.ready_file)

    def _save_if_changed(self) -> None:
        if not self._serving:
            return
        if self.store and self.sim.faults.version != self._saved_version:
            self.save()

    def save(self) -> None:
        """Persist now."""
        if self.store:
            self._saved_version = self.sim.faults.version
            self.store.save(snapshot(self.sim))

    async def _flusher(self) -> None:
        while True:
            await asyncio.sleep(self.config.flush_interval_s)
            self.save()

    async def stop(self) -> None:
        """Cancel tasks, save, close listeners."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.save()
        for close in reversed(self._closers):
            await close()


def _bind_advice(flag: str, err: OSError, port: int | None = None) -> str:
    where = f"port {port}" if port is not None else "its port"
    if err.errno == errno.EACCES:
        return f"--{flag}: permission denied binding {where}; ports below 1024 need root or CAP_NET_BIND_SERVICE (or choose a port >= 1024)"
    if err.errno == errno.EADDRINUSE:
        return f"--{flag}: {where} is already in use; choose another (0 picks a free one)"
    return f"--{flag}: cannot listen on {where}: {err.strerror or err}"


async def serve(config: ServeConfig) -> None:
    """Run until SIGINT or SIGTERM."""
    service = Service(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await service.start()
    except BaseException:
        await service.stop()
        raise
    log.info("sungrow-sim %s ready", __version__)
    await stop.wait()
    log.info("stopping")
    await service.stop()
