"""`sungrow-sim serve`: build the simulator from a config and run every listener."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import importlib
import json
import logging
import random
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sungrow_sim import __version__
from sungrow_sim.clock import ClockRangeError, SimClock
from sungrow_sim.config import ServeConfig
from sungrow_sim.faults import FaultSet
from sungrow_sim.health import Health
from sungrow_sim.persistence import SavedState, StateRejectedError, StateStore, snapshot
from sungrow_sim.plant import Counters
from sungrow_sim.plant.history import forget_shared
from sungrow_sim.plant.model import MAX_SUBSTEP_S
from sungrow_sim.protocols.limits import BUDGET, Limits, warn_fd_limit
from sungrow_sim.protocols.modbus import ModbusOptions, ModbusServer, public_key_for
from sungrow_sim.ratelimit import limit_library_logs, log_limited
from sungrow_sim.registers import catalogue
from sungrow_sim.simulator import ControlError, Simulator
from sungrow_sim.telemetry import Recorder, holding_names
from sungrow_sim.telemetry.metrics import Metrics

if TYPE_CHECKING:
    from sungrow_sim.protocols.winet import WinetServer

log = logging.getLogger("sungrow_sim")
# The HTTP listeners' modules (aiohttp and what is built on it). `Service.start` loads
# them in a worker thread once the Modbus listener is up, so Modbus answers meanwhile.
HTTP_STACK = (
    "sungrow_sim.protocols.winet.server",
    "sungrow_sim.control.api",
    "sungrow_sim.dashboard",
    "sungrow_sim.telemetry.endpoint",
)
IMPORT_SWITCH_INTERVAL_S = 0.0005


class StartupError(RuntimeError):
    """The server cannot start as configured (the message says what to change)."""


DOWNTIME_SUBSTEPS = 10_000  # at most this many plant steps to catch up on a downtime
MAX_DOWNTIME_S = 30 * 86_400.0  # simulated downtime caught up on at most (then it stops)


def build(
    config: ServeConfig,
    store: StateStore | None = None,
    on_change: Callable[[], None] | None = None,
) -> Simulator:
    """The simulator a config describes, with saved state restored.

    A saved state that parses but does not fit (a clock or override out of range for
    this inverter) is kept aside like a damaged file, and the simulator starts fresh.
    """
    saved = store.load() if store else None
    if saved is not None and store is not None:
        try:
            return _build(config, saved, on_change)
        except StateRejectedError as err:
            store.put_aside(str(err))
    return _build(config, None, on_change)


def _build(
    config: ServeConfig, saved: SavedState | None, on_change: Callable[[], None] | None
) -> Simulator:
    start = config.start_time
    if start is None:
        start = saved.clock_now(config.time_scale) if saved else datetime.now(UTC)
    faults = FaultSet(seed=config.seed, max_faults=config.max_faults)
    try:
        clock = SimClock(start, config.time_scale, config.timezone)
    except ClockRangeError as err:
        raise StateRejectedError(f"clock: {err}") from None
    sim = Simulator(clock, faults, on_change)
    now = clock.now()
    commissioned = config.commissioned or now - timedelta(days=365)
    if commissioned.tzinfo is None:
        commissioned = commissioned.replace(tzinfo=clock.zone)
    caught_up: list[Any] = []
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
            "meter": inv.meter,
        }
        settings = None if fresh or saved is None else saved.inverters[inv.unit_id].settings
        inverter = sim.add_inverter(inv.unit_id, inv.model, inv.serial, plant, counters, settings)
        if fresh:
            inverter.backfill_history(sim.clock, min(commissioned, now), faults)
        else:
            caught_up.append(inverter)
        if (
            saved
            and inv.unit_id in saved.inverters
            and saved.inverters[inv.unit_id].model == inv.model
        ):
            _restore_overrides(sim, inverter, saved.inverters[inv.unit_id].overrides)
    if saved:
        kept = faults.restore(saved.faults)
        if kept < len(saved.faults):
            log.warning("restored %d of %d saved faults (--max-faults)", kept, len(saved.faults))
        if config.start_time is None:
            _catch_up(sim, caught_up, (start - saved.clock).total_seconds())
        log.info("restored state (%d faults active)", len(faults.active()))
    forget_shared()
    sim.refresh()
    return sim


def _restore_overrides(sim: Simulator, inverter: Any, overrides: dict[str, Any]) -> None:
    """Apply saved overrides through the same checks as the control API."""
    unit = inverter.info.unit_id
    try:
        sim.set_power(unit, overrides.get("power_w"))
        sim.set_load(unit, overrides.get("load_w"))
        if overrides.get("battery_power_w") is not None:
            sim.set_battery(unit, power_w=overrides["battery_power_w"])
    except ControlError as err:
        raise StateRejectedError(f"overrides of unit {unit}: {err}") from None
    inverter.overrides.state = overrides.get("state")


def _catch_up(sim: Simulator, inverters: list[Any], downtime_s: float) -> None:
    """Integrate the plants over the simulated time the process was away (kill -9 too)."""
    downtime_s = min(max(0.0, downtime_s), MAX_DOWNTIME_S)
    if not downtime_s or not inverters:
        return
    substep = max(MAX_SUBSTEP_S, downtime_s / DOWNTIME_SUBSTEPS)
    for inverter in inverters:
        inverter.backfill(sim.clock, downtime_s, inverter.controls(sim.faults), substep)
    log.info("caught up on %.0f simulated seconds of downtime", downtime_s)


def _fresh_counters(nominal_w: int, seed: int) -> Counters:
    """Counters at commissioning: all zero and a seeded state of charge.

    The history simulated from the commissioning date fills them.
    """
    del nominal_w
    rng = random.Random(seed)
    return Counters(
        battery_soc_pct=round(rng.uniform(40, 60), 1),
    )


class Service:
    """Every listener and background task of one `serve`."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.store = StateStore(config.state_dir) if config.state_dir else None
        self._saved_version = -1
        self._serving = False  # control changes are saved once the listeners run
        self.health = Health()
        self.limits = Limits(
            max_connections=config.max_connections,
            max_connections_per_peer=config.max_connections_per_peer,
            idle_timeout_s=config.idle_timeout_s,
            request_timeout_s=config.request_timeout_s,
        )
        self._save_soon = asyncio.Event()  # a control change asks the flusher to save now
        self._commit: asyncio.Future[None] | None = None  # waiters for the next save
        self.sim = build(config, self.store, self._save_if_changed)
        self.ports: dict[str, int] = {}
        self._closers: list[Any] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.winet: WinetServer | None = None
        self.modbus: ModbusServer | None = None
        self.recorder = Recorder(register_names=self._register_names)
        self.metrics = Metrics(self.recorder, self.sim, self._sessions)

    async def start(self) -> None:
        """Bind everything; raise StartupError with advice when a port is unusable."""
        cfg = self.config
        limit_library_logs()
        self.health.add_check("connections", BUDGET.problem)
        asyncio.get_running_loop().set_exception_handler(_limited_exception_handler)
        protocols = set(cfg.protocols)
        if protocols & {"modbus", "sungrow"}:
            serial = cfg.inverters[0].serial
            options = ModbusOptions(
                plain="modbus" in protocols,
                encrypted="sungrow" in protocols,
                public_key=public_key_for(f"{cfg.seed}:{serial}"),
            )
            modbus = self.modbus = ModbusServer(
                self.sim, options, self.limits, recorder=self.recorder
            )
            self.ports["modbus_port"] = await self._bind(
                "modbus-port", modbus.start, cfg.bind, cfg.modbus_port
            )
            self._closers.append(modbus.stop)
        # Modbus answers while the HTTP stack loads: the loop takes the GIL back from the
        # importing thread within a millisecond instead of the default 5 ms.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(IMPORT_SWITCH_INTERVAL_S)
        try:
            await asyncio.to_thread(_load_http_stack)
        finally:
            sys.setswitchinterval(interval)
        from sungrow_sim.control import ControlApi, start_control
        from sungrow_sim.dashboard import mount as mount_dashboard
        from sungrow_sim.telemetry.endpoint import start_metrics

        if "http" in protocols:
            await self._start_winet()
        api = ControlApi(
            self.sim,
            cfg.control_token,
            listeners=self._protocol_view,
            health=self.health.view,
            commit=self.commit,
            recorder=self.recorder,
            metrics=self.metrics,
        )
        mount_dashboard(api)
        if cfg.control_token:
            log.info(
                "control API: bearer token required (set, %d characters)", len(cfg.control_token)
            )
        else:
            log.info("control API: no token, loopback peers only")
        runner, port = await self._bind(
            "control-port",
            lambda h, p: start_control(api, h, p, self.limits),
            cfg.control_bind,
            cfg.control_port,
        )
        self.ports["control_port"] = port
        self._closers.append(runner.cleanup)
        if cfg.metrics_port is not None:
            runner, port = await self._bind(
                "metrics-port",
                lambda h, p: start_metrics(self.metrics, h, p),
                cfg.metrics_bind,
                cfg.metrics_port,
            )
            self.ports["metrics_port"] = port
            self._closers.append(runner.cleanup)
        self._serving = True
        self._tasks.append(
            asyncio.create_task(self.sim.run_ticker(cfg.tick_s, self._report("ticker")))
        )
        if self.store:
            self._tasks.append(asyncio.create_task(self._flusher()))
        self._announce()

    async def _start_winet(self) -> None:
        from sungrow_sim.protocols.winet import start_winet

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
                limits=self.limits,
                recorder=self.recorder,
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

    def _sessions(self) -> dict[str, int]:
        """Open sessions per listener, for /metrics."""
        view: dict[str, int] = {}
        if self.modbus is not None:
            view["modbus"] = len(self.modbus.sessions)
        if self.winet is not None:
            view["winet"] = self.winet.sessions.count
        return view

    def _register_names(self, unit: int, wire: int, count: int) -> list[str]:
        """Names of the holding registers a write at `wire` (count words) touched."""
        inverter = self.sim.inverters.get(unit)
        if inverter is None:
            return []
        return holding_names(catalogue().registers_of(inverter.info.model), wire, count)

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
        hosts = {"control_port": cfg.control_bind, "metrics_port": cfg.metrics_bind}
        for name, port in self.ports.items():
            host = hosts.get(name, cfg.bind)
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

    def _report(self, component: str) -> Callable[[str | None], None]:
        def report(problem: str | None) -> None:
            if problem is None:
                self.health.clear(component)
            else:
                self.health.report(component, problem)

        return report

    def _save_if_changed(self) -> None:
        """After a control change: faults changed, so ask the flusher to save soon.

        Debounced: a burst of injections is one save, and the write and fsync run in a
        worker thread, never on the event loop inside a request.
        """
        if not self._serving:
            return
        if self.store and self._version() != self._saved_version:
            self._save_soon.set()

    def _version(self) -> int:
        """Changes worth a save soon: faults and device settings."""
        return self.sim.faults.version + sum(
            inv.settings.version for inv in self.sim.inverters.values()
        )

    def save(self) -> None:
        """Persist now (raises OSError if the disk refuses)."""
        if self.store:
            version = self._version()
            self.store.save(snapshot(self.sim))
            self._saved_version = version

    async def commit(self) -> None:
        """Wait until a save that includes the changes made so far is done (group commit).

        Raises the save's error (OSError, ...) if it fails: the caller takes its change
        back. Concurrent callers share one save; without a state dir it returns at once.
        """
        if not self.store or not self._serving:
            return
        if self._commit is None:
            self._commit = asyncio.get_running_loop().create_future()
            self._save_soon.set()
        await asyncio.shield(self._commit)

    async def _save_async(self) -> None:
        if self.store:
            waiters, self._commit = self._commit, None
            version = self._version()
            try:
                state = snapshot(self.sim)  # on the loop: a consistent picture
                await asyncio.to_thread(self.store.save, state)
            except Exception as err:
                if waiters is not None and not waiters.done():
                    waiters.set_exception(err)
                    waiters.exception()  # retrieved: no "never retrieved" warning
                raise
            self._saved_version = version
            if waiters is not None and not waiters.done():
                waiters.set_result(None)

    async def _flusher(self) -> None:
        """Save every flush interval, or soon after a fault change; retry with backoff.

        A failing save (ENOSPC, EIO, a read-only file system, a bug) is logged once a
        minute, shown in /v1/health and retried after 1, 2, 4 .. 60 s; once a save works
        the problem clears.
        """
        interval = self.config.flush_interval_s
        wait = interval
        failures = 0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._save_soon.wait(), wait)
                await asyncio.sleep(SAVE_DEBOUNCE_S)  # collect the rest of a burst
            self._save_soon.clear()
            try:
                await self._save_async()
            except Exception as err:
                failures += 1
                wait = min(MAX_SAVE_BACKOFF_S, 2.0 ** (failures - 1))
                log_limited(
                    log, logging.ERROR, "save",
                    "cannot save state (%s); retrying in %gs", _os_reason(err), wait,
                    exc_info=not isinstance(err, OSError),
                )  # fmt: skip
                self.health.report(
                    "state", f"cannot save state since {failures} attempt(s): {_os_reason(err)}"
                )
                continue
            if failures:
                log.warning("state saved again after %d failed attempt(s)", failures)
                self.health.clear("state")
            failures = 0
            wait = interval

    async def stop(self) -> None:
        """Cancel tasks, save, close listeners."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            self.save()
        except Exception as err:
            log.error("final save failed: %s", _os_reason(err))
        for close in reversed(self._closers):
            await close()


SAVE_DEBOUNCE_S = 0.02
MAX_SAVE_BACKOFF_S = 60.0


def _load_http_stack() -> None:
    """Import the HTTP listeners' modules (run in a worker thread: see HTTP_STACK)."""
    for name in HTTP_STACK:
        importlib.import_module(name)


def _os_reason(err: BaseException) -> str:
    if isinstance(err, OSError) and err.errno is not None:
        return f"{errno.errorcode.get(err.errno, err.errno)}: {err.strerror}"
    return repr(err)


def _limited_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's exception handler, one report per kind and minute.

    At the file-descriptor limit asyncio reports every failed accept; those and any other
    unhandled error are logged rate limited, without a traceback after the first.
    """
    message = str(context.get("message", "unhandled exception in event loop"))
    exc = context.get("exception")
    if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
        warn_fd_limit(f"accept() failed ({exc.strerror})")
        return
    kind = f"{message}:{type(exc).__name__}"
    log_limited(
        log, logging.WARNING, kind, "event loop: %s%s", message,
        f" ({exc!r})" if exc is not None else "", exc_info=False,
    )  # fmt: skip
    del loop


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
