"""Control API: HTTP JSON over aiohttp. Loopback peers only unless a token is set."""

from __future__ import annotations

import errno
import hmac
import ipaddress
import json
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from sungrow_sim.faults import DESCRIPTIONS, FaultLimitError, FaultSpec
from sungrow_sim.protocols.limits import CONTROL_RESERVE_FDS, Limits, Listener
from sungrow_sim.protocols.site import GuardedSite
from sungrow_sim.ratelimit import log_limited
from sungrow_sim.simulator import ControlError, Simulator
from sungrow_sim.telemetry import NULL, Recorder
from sungrow_sim.telemetry.endpoint import metrics_handler
from sungrow_sim.telemetry.metrics import Metrics
from sungrow_sim.validation import one_line

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY = 64 * 1024


class PowerBody(BaseModel):
    """POST /v1/power: watts, or null for the plant model."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    watts: float | None = Field(ge=0, strict=True)


class StateBody(BaseModel):
    """POST /v1/state."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    state: Literal["run", "stop", "standby"]


class LoadBody(BaseModel):
    """POST /v1/load: watts, or null for the house profile."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    watts: float | None = Field(ge=0, strict=True)


class BatteryBody(BaseModel):
    """POST /v1/battery: set SOC and/or force power (> 0 charging; null = automatic)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    soc_pct: float | None = Field(default=None, ge=0, le=100, strict=True)
    power_w: float | None = Field(default=None, strict=True)
    auto: bool = False


class SettingBody(BaseModel):
    """POST /v1/settings: one device setting by name (a number or a choice name)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    unit_id: int | None = Field(default=None, strict=True)
    name: str = Field(min_length=1, max_length=64)
    value: StrictInt | StrictFloat | StrictStr


class ClockBody(BaseModel):
    """POST /v1/clock: ISO 8601 time (naive = the inverter's time zone)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    time: datetime


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class ControlApi:
    """Routes over one simulator."""

    def __init__(
        self,
        sim: Simulator,
        token: str | None = None,
        listeners: Callable[[], dict[str, dict[str, int]]] = dict,
        health: Callable[[], dict[str, Any]] | None = None,
        commit: Callable[[], Awaitable[None]] | None = None,
        recorder: Recorder = NULL,
        metrics: Metrics | None = None,
    ) -> None:
        self.sim = sim
        self.token = token if token and token.strip() else None  # "": no token, loopback only
        self.health_view = health or (lambda: {"status": "ok"})
        # Fault changes are saved before they are answered (group commit): raises if not.
        self.commit: Callable[[], Awaitable[None]] = commit or _nothing_to_save
        self.listeners = listeners  # the protocol ports, for /v1/state
        self.recorder = recorder  # GET /v1/requests; counts injected faults
        # GET paths a browser loads without a token (the dashboard's static files; never
        # data; the health check, for probes that hold no token): loopback-only still applies
        # to them when no token is set.
        self.public_paths: set[str] = {"/v1/health"}
        self.app = web.Application(middlewares=[self._guard], client_max_size=MAX_BODY)
        self.app.add_routes(
            [
                web.get("/v1/health", self.health),
                web.get("/v1/state", self.state),
                web.post("/v1/power", self.power),
                web.post("/v1/state", self.set_state),
                web.post("/v1/load", self.load),
                web.post("/v1/battery", self.battery),
                web.post("/v1/clock", self.clock),
                web.get("/v1/settings", self.settings),
                web.post("/v1/settings", self.set_setting),
                web.get("/v1/faults", self.faults),
                web.post("/v1/faults", self.inject),
                web.delete("/v1/faults", self.clear),
                web.get("/v1/fault-kinds", self.kinds),
                web.get("/v1/requests", self.requests),
            ]
        )
        if metrics is not None:
            self.app.router.add_get("/metrics", metrics_handler(metrics))

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        public = request.method in ("GET", "HEAD") and request.path in self.public_paths
        if self.token is not None and not public:
            given = request.headers.get("Authorization", "").removeprefix("Bearer ")
            # surrogateescape: a header of undecodable bytes compares as unequal, no 500
            if not hmac.compare_digest(
                given.encode("utf-8", "surrogateescape"), self.token.encode()
            ):
                log_limited(
                    log, logging.WARNING, "auth",
                    "control API: %s token from %s on %s %s",
                    "wrong" if given else "missing", request.remote, request.method,
                    request.path[:80],
                )  # fmt: skip
                return _error(401, "missing or wrong token (send Authorization: Bearer TOKEN)")
        elif self.token is None and not _is_loopback(request.remote):
            log_limited(
                log, logging.WARNING, "non-loopback",
                "control API: refused non-loopback peer %s (no token set)", request.remote,
            )  # fmt: skip
            return _error(403, "control API accepts loopback peers only unless a token is set")
        try:
            return await handler(request)
        except web.HTTPException as exc:
            return _error(exc.status, exc.reason)
        except FaultLimitError as err:
            return _error(409, str(err))
        except ControlError as err:
            return _error(422, str(err))
        except Exception as err:
            log_limited(
                log, logging.ERROR, f"handler:{type(err).__name__}",
                "control API: %s %s failed: %r", request.method, request.path[:80], err,
                exc_info=True,
            )  # fmt: skip
            return _error(500, f"internal error: {type(err).__name__}")

    async def _body(self, request: web.Request, model: type[BaseModel]) -> Any:
        try:
            raw = await request.json(loads=_strict_loads)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise web.HTTPBadRequest(reason="body is not valid JSON") from None
        except ValueError as err:  # a 4300+ digit integer, NaN, Infinity, 1e400
            raise web.HTTPBadRequest(reason=f"body is not valid JSON: {str(err)[:120]}") from None
        except RecursionError:  # e.g. 20000 nested arrays: json.loads gives up
            raise web.HTTPBadRequest(reason="body is not valid JSON: nested too deeply") from None
        if not isinstance(raw, dict):
            raise web.HTTPBadRequest(reason="body must be a JSON object")
        try:
            return model.model_validate(raw)
        except ValidationError as err:
            raise web.HTTPUnprocessableEntity(reason=one_line(err)) from None

    def _unit(self, request: web.Request) -> int | None:
        raw = request.query.get("unit_id")
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            raise web.HTTPBadRequest(reason=f"unit_id: {raw!r} is not an integer") from None

    def _show(self, request: web.Request, inverter: Any) -> web.Response:
        del request
        return web.json_response(self.sim.inverter_state(inverter))

    async def health(self, request: web.Request) -> web.Response:  # noqa: D102
        return web.json_response(self.health_view())

    async def state(self, request: web.Request) -> web.Response:  # noqa: D102
        unit = self._unit(request)
        if unit is not None:
            return self._show(request, self.sim.inverter(unit))
        return web.json_response(self.sim.state(self.listeners()))

    async def power(self, request: web.Request) -> web.Response:  # noqa: D102
        body = await self._body(request, PowerBody)
        return self._show(request, self.sim.set_power(self._unit(request), body.watts))

    async def set_state(self, request: web.Request) -> web.Response:  # noqa: D102
        body = await self._body(request, StateBody)
        return self._show(request, self.sim.set_state(self._unit(request), body.state))

    async def load(self, request: web.Request) -> web.Response:  # noqa: D102
        body = await self._body(request, LoadBody)
        return self._show(request, self.sim.set_load(self._unit(request), body.watts))

    async def battery(self, request: web.Request) -> web.Response:  # noqa: D102
        body = await self._body(request, BatteryBody)
        inverter = self.sim.set_battery(self._unit(request), body.soc_pct, body.power_w, body.auto)
        return self._show(request, inverter)

    async def clock(self, request: web.Request) -> web.Response:  # noqa: D102
        body = await self._body(request, ClockBody)
        self.sim.set_clock(body.time)
        return self._show(request, self.sim.inverter(self._unit(request)))

    async def settings(self, request: web.Request) -> web.Response:  # noqa: D102
        return web.json_response(self.sim.settings(self._unit(request)))

    async def set_setting(self, request: web.Request) -> web.Response:  # noqa: D102
        body = await self._body(request, SettingBody)
        unit = body.unit_id if body.unit_id is not None else self._unit(request)
        setting = self.sim.set_setting(unit, body.name, body.value)
        return web.json_response({"setting": setting})

    async def faults(self, request: web.Request) -> web.Response:  # noqa: D102
        return web.json_response({"faults": [f.model_dump() for f in self.sim.faults.active()]})

    async def inject(self, request: web.Request) -> web.Response:  # noqa: D102
        spec = await self._body(request, FaultSpec)
        fault = self.sim.inject(spec)
        try:
            await self.commit()
        except Exception as err:
            self.sim.remove_faults([fault])
            return _error(503, f"fault not injected: cannot save state ({_reason(err)})")
        self.recorder.fault_injected(fault.kind)
        log.info(
            "fault injected: %s", fault.model_dump(exclude_none=True), extra={"fault": fault.kind}
        )
        return web.json_response(fault.model_dump(), status=201)

    async def clear(self, request: web.Request) -> web.Response:  # noqa: D102
        kind = request.query.get("kind")
        if kind is not None and kind not in DESCRIPTIONS:
            raise web.HTTPBadRequest(reason=f"kind: unknown fault kind {kind!r}")
        removed = self.sim.clear_faults(kind)
        try:
            await self.commit()
        except Exception as err:
            self.sim.restore_faults(removed)
            return _error(503, f"faults not cleared: cannot save state ({_reason(err)})")
        return web.json_response({"cleared": [f.model_dump() for f in removed]})

    async def kinds(self, request: web.Request) -> web.Response:  # noqa: D102
        return web.json_response({"kinds": DESCRIPTIONS})

    async def requests(self, request: web.Request) -> web.Response:  # noqa: D102
        return web.json_response({"requests": self.recorder.requests(self._unit(request))})


def _reason(err: Exception) -> str:
    if isinstance(err, OSError) and err.errno is not None:
        return f"{errno.errorcode.get(err.errno, err.errno)}: {err.strerror}"
    return repr(err)


async def _nothing_to_save() -> None:
    return None


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is not a finite number")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _strict_loads(text: str) -> Any:
    """json.loads without NaN, Infinity and numbers that overflow to infinity."""
    return json.loads(text, parse_float=_finite, parse_constant=_no_constant)


def _is_loopback(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote.split("%")[0]).is_loopback
    except ValueError:
        return False


async def start_control(
    api: ControlApi, host: str, port: int, limits: Limits | None = None
) -> tuple[web.AppRunner, int]:
    """Serve the control API; returns the runner (for cleanup) and the bound port."""
    runner = web.AppRunner(api.app, access_log=None)
    await runner.setup()
    listener = Listener("control", limits, reserve=CONTROL_RESERVE_FDS)
    site = GuardedSite(runner, host, port, listener, reuse_address=True)
    await site.start()
    return runner, runner.addresses[0][1]
