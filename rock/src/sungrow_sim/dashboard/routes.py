"""aiohttp routes of the dashboard, mounted on the control API's application.

Static files (HTML, CSS, JavaScript shipped in the package) are public GET paths, since
a browser cannot send a token when it opens a page; every data route stays behind the
control API's guard (loopback, or the bearer token), which the page sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from importlib import resources

from aiohttp import web

from sungrow_sim.control import ControlApi
from sungrow_sim.dashboard import views
from sungrow_sim.inverter import Inverter

# URL path -> (packaged file, content type).
STATIC_FILES: dict[str, tuple[str, str]] = {
    "/": ("index.html", "text/html"),
    "/ui/dashboard.css": ("dashboard.css", "text/css"),
    "/ui/dashboard.js": ("dashboard.js", "text/javascript"),
    "/ui/icon.svg": ("icon.svg", "image/svg+xml"),
}
# Control routes other helpers add (the request recorder, device settings): the page asks
# /v1/features first and shows "no record" instead of calling a route that is missing.
OPTIONAL_ROUTES = ("requests", "settings")
KEEPALIVE_S = 15.0  # a comment line this often keeps proxies from closing an idle stream
MAX_STREAMS = 32  # open event streams at once; more are answered 503 (no unbounded tasks)
MIN_INTERVAL_S = 0.2  # at most five events a second per stream, however fast the tick


class Dashboard:
    """The dashboard's routes over one control API (and its simulator)."""

    def __init__(self, api: ControlApi) -> None:
        self.api = api
        self.sim = api.sim
        self._closing = False
        self._streams = 0
        self._files = resources.files("sungrow_sim.dashboard.static")

    def routes(self) -> list[web.RouteDef]:
        """Static files and the dashboard's data routes."""
        return [
            *(web.get(path, self.static) for path in STATIC_FILES),
            web.get("/v1/events", self.events),
            web.get("/v1/samples", self.samples),
            web.get("/v1/registers", self.registers),
            web.get("/v1/fault-forms", self.fault_forms),
            web.get("/v1/features", self.features),
        ]

    async def static(self, request: web.Request) -> web.Response:
        """One packaged file (no directory listing, no paths from the request)."""
        name, content_type = STATIC_FILES[request.path]
        body = self._files.joinpath(name).read_bytes()
        return web.Response(
            body=body,
            content_type=content_type,
            charset="utf-8" if content_type.startswith("text/") else None,
            headers={
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'self'; img-src 'self' data:",
            },
        )

    async def samples(self, request: web.Request) -> web.Response:
        """GET /v1/samples[?unit_id=N]: the last simulated day of one inverter."""
        inverter = self.sim.inverter(self.api._unit(request))
        return web.json_response(views.samples_view(self.sim, inverter))

    async def registers(self, request: web.Request) -> web.Response:
        """GET /v1/registers[?unit_id=N]: catalogue entries with raw words and values."""
        inverter = self.sim.inverter(self.api._unit(request))
        return web.json_response(
            {"unit_id": inverter.info.unit_id, "registers": views.register_rows(inverter)}
        )

    async def fault_forms(self, request: web.Request) -> web.Response:
        """GET /v1/fault-forms: each fault kind's description and form options."""
        return web.json_response(views.fault_forms())

    async def features(self, request: web.Request) -> web.Response:
        """GET /v1/features: which optional control routes this simulator has."""
        paths = {r.canonical for r in self.api.app.router.resources()}
        return web.json_response(
            {name: f"/v1/{name}" in paths for name in OPTIONAL_ROUTES}
            | {"units": sorted(self.sim.inverters)}
        )

    async def events(self, request: web.Request) -> web.StreamResponse:
        """GET /v1/events[?unit_id=N][&registers=1]: server-sent events, one a tick."""
        inverter = self.sim.inverter(self.api._unit(request))
        registers = request.query.get("registers") == "1"
        if self._streams >= MAX_STREAMS:
            raise web.HTTPServiceUnavailable(reason=f"too many event streams ({MAX_STREAMS} open)")
        self._streams += 1
        try:
            return await self._stream(request, inverter, registers)
        finally:
            self._streams -= 1

    async def _stream(
        self, request: web.Request, inverter: Inverter, registers: bool
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        pulse = self.sim.pulse
        seen = -1
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ConnectionError):
            while not self._closing:
                if pulse.count != seen:
                    seen = pulse.count
                    data = json.dumps(views.snapshot(self.sim, inverter, registers))
                    await response.write(f"event: state\ndata: {data}\n\n".encode())
                    sent = loop.time()
                    await asyncio.sleep(max(0.0, MIN_INTERVAL_S - (loop.time() - sent)))
                    continue
                if await pulse.wait(seen, KEEPALIVE_S) == seen and not self._closing:
                    await response.write(b": keepalive\n\n")
        return response

    async def close(self, app: web.Application) -> None:
        """on_shutdown: end every open event stream, so the listener closes at once."""
        del app
        self._closing = True
        self.sim.pulse.fire()


def mount(api: ControlApi) -> Dashboard:
    """Add the dashboard to a control API (before it starts serving)."""
    dashboard = Dashboard(api)
    api.app.add_routes(dashboard.routes())
    api.public_paths.update(STATIC_FILES)
    api.app.on_shutdown.append(dashboard.close)
    return dashboard
