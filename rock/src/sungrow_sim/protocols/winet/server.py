"""WiNet-S dongle: WebSocket `/ws/home/overview` and HTTP `GET /device/getParam` (aiohttp).

Start it with `start_winet(sim, options, bind, ws_port, http_port)`; the returned
`WinetServer` knows its bound ports, carries the run-time switchable `WinetOptions` and
stops with `await server.close()`. Faults injected into `sim.faults` with scope http (or
all) apply per request: session-limit, token-expiry, refuse-connections and the transport
kinds (no-reply, drop-connection, slow-reply, exception, corrupt-reply, short-reply).
"""

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import WSMsgType, web
from pydantic import BaseModel

from sungrow_sim.protocols.limits import Limits, Listener
from sungrow_sim.protocols.site import GuardedSite
from sungrow_sim.protocols.source import RegisterSource
from sungrow_sim.protocols.transport import TransportFaults
from sungrow_sim.protocols.winet import messages as msgs
from sungrow_sim.protocols.winet.sessions import Session, SessionLimitError, Sessions, WinetOptions
from sungrow_sim.telemetry import NULL, Recorder
from sungrow_sim.telemetry.recorder import DROPPED, OK

logger = logging.getLogger(__name__)

MAX_WS_MESSAGE = 64 * 1024
PROTOCOL = "http"  # the fault scope of both dongle listeners
NO_REPLY_HOLD_S = 60.0  # longer than any client's timeout
EXCEPTION_DETAIL = "modbus exception "


def as_options(options: object) -> WinetOptions:
    """Accept WinetOptions, or any model or mapping with the same fields (a config)."""
    if options is None:
        return WinetOptions()
    if isinstance(options, WinetOptions):
        return options
    if isinstance(options, BaseModel):
        return WinetOptions.model_validate(options.model_dump())
    return WinetOptions.model_validate(options)


def devices_of(sim: RegisterSource) -> list[msgs.Device]:
    """The simulator's inverters as the dongle lists them, by unit id."""
    devices = []
    for unit_id in sorted(sim.inverters):
        info = sim.inverters[unit_id].info
        devices.append(
            msgs.Device(
                unit_id=unit_id,
                model=info.model,
                device_code=info.device_code,
                family=info.family,
                serial=info.serial,
            )
        )
    return devices


class WinetServer:
    """The dongle's two listeners over one simulator."""

    def __init__(
        self,
        sim: RegisterSource,
        options: object = None,
        *,
        seed: int = 0,
        clock: Callable[[], float] | None = None,
        limits: Limits | None = None,
        recorder: Recorder = NULL,
    ):
        self.sim = sim
        self.limits = limits
        self.recorder = recorder
        self.options = as_options(options)
        self.faults = TransportFaults(sim.faults, (PROTOCOL,))
        self.sessions = Sessions(self.options, clock) if clock else Sessions(self.options)
        self.ws_port: int | None = None
        self.http_port: int | None = None
        self._rng = random.Random(seed)
        self._runners: list[web.AppRunner] = []
        self._sockets: set[web.WebSocketResponse] = set()

    def expire_tokens(self) -> int:
        """Invalidate every token now; clients get 106 on their next request."""
        return self.sessions.expire_all()

    def session(self, token: str | None) -> Session | None:
        """The live session of `token`; a firing token-expiry fault expires every token."""
        if self.faults.expires_tokens():
            self.recorder.fault_fired("token-expiry", PROTOCOL)
            self.expire_tokens()
        return self.sessions.get(token)

    # WebSocket ------------------------------------------------------------------------

    async def handle_ws(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one WebSocket connection until the client leaves."""
        ws = web.WebSocketResponse(max_msg_size=MAX_WS_MESSAGE)
        await ws.prepare(request)
        peer = request.remote or ""
        if self.faults.refuses():
            self.recorder.fault_fired("refuse-connections", PROTOCOL)
            await ws.close(code=1013, message=b"try again later")
            return ws
        self._sockets.add(ws)
        self.recorder.connection_opened("ws")
        owner = id(ws)
        try:
            async for message in ws:
                started = time.perf_counter()
                if message.type != WSMsgType.TEXT:
                    self._record_ws(peer, "other", DROPPED, None, 0, 0)
                    await ws.close(code=1003, message=b"text frames only")
                    break
                try:
                    parsed = msgs.parse_ws_message(message.data)
                except ValueError as exc:
                    logger.info(
                        "winet: closing WebSocket after a malformed message: %s",
                        exc,
                        extra={"peer": peer, "protocol": "ws"},
                    )
                    self._record_ws(peer, "other", DROPPED, None, len(message.data), 0)
                    await ws.close(code=1003, message=str(exc)[:120].encode())
                    break
                await self._delay()
                reply = self.ws_answer(parsed, owner)
                text = msgs.dumps(reply)
                await ws.send_str(text)
                service = parsed["service"] if isinstance(parsed["service"], str) else "other"
                latency = time.perf_counter() - started
                self._record_ws(
                    peer, service, _outcome(reply), latency, len(message.data), len(text)
                )
        finally:
            self.sessions.close_owner(owner)
            self._sockets.discard(ws)
            self.recorder.connection_closed("ws")
        return ws

    def _record_ws(
        self, peer: str, service: str, outcome: str, latency: float | None, n_in: int, n_out: int
    ) -> None:
        """One WebSocket message: `function` is its service, no table or address."""
        self.recorder.request(
            "ws", peer, None, None, service, None, None, outcome, latency, n_in, n_out
        )

    def ws_answer(self, message: dict[str, Any], owner: int) -> dict[str, Any]:
        """Answer one decoded WebSocket request from connection `owner`."""
        service = message["service"]
        if service == "connect":
            return self._connect(message, owner)
        session = self.session(_text(message.get("token")))
        if session is None or session.owner != owner:
            return msgs.error(msgs.TOKEN_INVALID, msgs.MSG_TOKEN_INVALID, service)
        if service == "login":
            return self._login(message, session)
        if service == "devicelist":
            if not self.sessions.authorised(session):
                return msgs.error(msgs.NOT_LOGGED_IN, msgs.MSG_NOT_LOGGED_IN, service)
            return msgs.devicelist_reply(devices_of(self.sim))
        return msgs.error(msgs.BAD_REQUEST, msgs.MSG_UNKNOWN_SERVICE, service)

    def _connect(self, message: dict[str, Any], owner: int) -> dict[str, Any]:
        session = self.sessions.get(_text(message.get("token")))
        if session is not None and session.owner == owner:
            return msgs.connect_reply(session.token)
        limit = self.faults.session_limit()
        if limit is not None and self.sessions.count >= limit:
            self.recorder.fault_fired("session-limit", PROTOCOL)
            logger.info(
                "winet: refusing a session: session-limit fault", extra={"fault": "session-limit"}
            )
            return msgs.error(msgs.USER_LIMIT, msgs.MSG_USER_LIMIT, "connect")
        try:
            session = self.sessions.open(owner)
        except SessionLimitError as exc:
            logger.info("winet: refusing a session: %s", exc)
            return msgs.error(msgs.USER_LIMIT, msgs.MSG_USER_LIMIT, "connect")
        return msgs.connect_reply(session.token)

    def _login(self, message: dict[str, Any], session: Session) -> dict[str, Any]:
        good = (
            _text(message.get("username")) == self.options.username
            and _text(message.get("passwd")) == self.options.password
        )
        if not good:
            return msgs.error(msgs.NOT_LOGGED_IN, msgs.MSG_LOGIN_FAILED, "login")
        return msgs.login_reply(self.sessions.login(session).token)

    # HTTP -----------------------------------------------------------------------------

    async def handle_getparam(self, request: web.Request) -> web.StreamResponse:
        """Serve `GET /device/getParam`: read registers as hex bytes."""
        started = time.perf_counter()
        size_in = len(request.raw_path)
        if self.faults.refuses():
            self._record_http(request, None, "refuse-connections", None, size_in, 0)
            return _drop(request)
        await self._delay()
        answer, params, fault = await self._getparam(request.query)
        if answer is None:
            self._record_http(request, params, fault or DROPPED, None, size_in, 0, fault)
            return _drop(request)
        response = _json(answer)
        latency = time.perf_counter() - started
        outcome = fault or _outcome(answer)
        size_out = len(response.body) if isinstance(response.body, bytes) else 0
        self._record_http(request, params, outcome, latency, size_in, size_out, fault)
        return response

    def _record_http(
        self,
        request: web.Request,
        params: msgs.GetParamQuery | None,
        outcome: str,
        latency: float | None,
        size_in: int,
        size_out: int,
        fault: str | None = None,
    ) -> None:
        """One getParam request (a read; the documented address is param_addr)."""
        unit = table = address = count = None
        if params is not None:
            unit, table, address, count = (
                params.dev_id, params.table, params.param_addr, params.param_num
            )  # fmt: skip
        self.recorder.request(
            PROTOCOL, request.remote or "", unit, table, "read", address, count, outcome,
            latency, size_in, size_out, fault,
        )  # fmt: skip

    async def getparam_answer(self, query: Mapping[str, str]) -> dict[str, Any] | None:
        """Answer one getParam query; None means close the connection unanswered."""
        return (await self._getparam(query))[0]

    async def _getparam(
        self, query: Mapping[str, str]
    ) -> tuple[dict[str, Any] | None, msgs.GetParamQuery | None, str | None]:
        """The answer, the parsed query (if it parsed) and the fault kind that fired."""
        session = self.session(query.get("token"))
        if session is None:
            return msgs.error(msgs.TOKEN_INVALID, msgs.MSG_TOKEN_INVALID), None, None
        if not self.sessions.authorised(session):
            return msgs.error(msgs.NOT_LOGGED_IN, msgs.MSG_NOT_LOGGED_IN), None, None
        try:
            params = msgs.parse_getparam(query)
        except ValueError as exc:
            detail = {"detail": str(exc)}
            return msgs.answer(msgs.BAD_REQUEST, msgs.MSG_BAD_REQUEST, detail), None, None
        if self._rng.random() < self.options.read_failure_probability:
            return msgs.error(msgs.READ_FAILED, msgs.MSG_READ_FAILED), params, None
        if params.dev_id not in self.sim.inverters:
            detail = {"detail": f"no device {params.dev_id}"}
            return msgs.answer(msgs.READ_FAILED, msgs.MSG_READ_FAILED, detail), params, None
        answer, fault = await self._read(params)
        return answer, params, fault

    async def _read(self, params: msgs.GetParamQuery) -> tuple[dict[str, Any] | None, str | None]:
        """Read the registers asked for, through any injected fault (and its kind)."""
        effect = self.faults.request(
            PROTOCOL, params.dev_id, params.wire_address, params.param_num
        )
        if effect.kind is not None:
            logger.info(
                "winet: fault %s fired on a getParam request",
                effect.kind,
                extra={
                    "fault": effect.kind,
                    "protocol": PROTOCOL,
                    "unit": params.dev_id,
                    "range": f"{params.param_addr}+{params.param_num}",
                },
            )
        if not effect.answer:
            if not effect.close:  # no-reply: hold the request past the client's timeout
                await asyncio.sleep(effect.delay_s or NO_REPLY_HOLD_S)
            return None, effect.kind
        if effect.delay_s:
            await asyncio.sleep(effect.delay_s)
        if effect.exception is not None:
            detail = f"{EXCEPTION_DETAIL}{effect.exception}"
            answer = msgs.answer(msgs.READ_FAILED, msgs.MSG_READ_FAILED, {"detail": detail})
            return answer, effect.kind
        result = self.sim.read(params.dev_id, params.table, params.wire_address, params.param_num)
        if isinstance(result, int):
            detail = f"{EXCEPTION_DETAIL}{result}"
            answer = msgs.answer(msgs.READ_FAILED, msgs.MSG_READ_FAILED, {"detail": detail})
            return answer, effect.kind
        reply = msgs.getparam_reply(result)
        if effect.damage is not None:
            value = reply["result_data"]["param_value"]
            cut = value[: 3 * max(1, len(result))]  # half the bytes
            reply["result_data"]["param_value"] = cut if effect.damage == "short" else "zz " + cut
        return reply, effect.kind

    # Lifecycle ------------------------------------------------------------------------

    def ws_app(self) -> web.Application:
        """The WebSocket application."""
        app = web.Application()
        app.router.add_get(msgs.WS_PATH, self.handle_ws)
        return app

    def http_app(self) -> web.Application:
        """The HTTP (getParam) application."""
        app = web.Application()
        app.router.add_get(msgs.GETPARAM_PATH, self.handle_getparam)
        return app

    async def _serve(self, app: web.Application, bind: str, port: int, name: str) -> int:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await GuardedSite(runner, bind, port, Listener(name, self.limits)).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runners.append(runner)
        return runner.addresses[0][1]

    async def start(
        self, bind: str, ws_port: int, http_port: int | None, *, http_port_optional: bool = False
    ) -> None:
        """Listen on `ws_port` and (unless None) `http_port`; 0 picks a free port.

        Raises:
            OSError: if a port cannot be bound (the HTTP port only if not optional).
        """
        if http_port is not None and http_port == ws_port and ws_port != 0:
            app = self.ws_app()
            app.router.add_get(msgs.GETPARAM_PATH, self.handle_getparam)
            self.ws_port = self.http_port = await self._serve(app, bind, ws_port, "winet")
            return
        self.ws_port = await self._serve(self.ws_app(), bind, ws_port, "winet-ws")
        if http_port is None:
            return
        try:
            self.http_port = await self._serve(self.http_app(), bind, http_port, "winet-http")
        except OSError as exc:
            if not http_port_optional:
                await self.close()
                raise
            logger.warning(
                "winet: cannot bind HTTP port %s on %s (%s): serving the WebSocket without "
                "getParam; run with privilege or choose --http-port",
                http_port,
                bind,
                exc.strerror or exc,
            )

    async def close(self) -> None:
        """Close client connections and stop listening."""
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"server shutdown")
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    async def _delay(self) -> None:
        if self.options.reply_delay_s:
            await asyncio.sleep(self.options.reply_delay_s)


async def start_winet(
    sim: RegisterSource,
    options: object = None,
    bind: str = "127.0.0.1",
    ws_port: int = 8082,
    http_port: int | None = 80,
    *,
    http_port_optional: bool = False,
    seed: int = 0,
    limits: Limits | None = None,
    recorder: Recorder = NULL,
) -> WinetServer:
    """Start the WiNet-S dongle over `sim`; port 0 picks a free port, http_port None skips.

    `options` is a WinetOptions (kept and used live: assign its fields at run time) or a
    model/mapping with the same fields (copied). With `http_port_optional` an HTTP port
    that cannot be bound (e.g. 80 unprivileged) is a warning and the WebSocket is served
    alone (`server.http_port` stays None).

    Raises:
        OSError: if a required port cannot be bound.
    """
    server = WinetServer(sim, options, seed=seed, limits=limits, recorder=recorder)
    await server.start(bind, ws_port, http_port, http_port_optional=http_port_optional)
    logger.info(
        "winet: WebSocket ws://%s:%s%s, getParam %s",
        bind,
        server.ws_port,
        msgs.WS_PATH,
        f"http://{bind}:{server.http_port}{msgs.GETPARAM_PATH}" if server.http_port else "off",
    )
    return server


def _outcome(answer: Mapping[str, Any]) -> str:
    """ok, exception-N (a Modbus exception behind a read) or error-<result_code>."""
    code = answer.get("result_code")
    if code == msgs.SUCCESS:
        return OK
    detail = answer.get("result_data", {}).get("detail")
    if isinstance(detail, str) and detail.startswith(EXCEPTION_DETAIL):
        return "exception-" + detail.removeprefix(EXCEPTION_DETAIL)
    return f"error-{code}"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _json(message: dict[str, Any]) -> web.Response:
    return web.Response(text=msgs.dumps(message), content_type="application/json")


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the client's connection without an answer."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=499)
