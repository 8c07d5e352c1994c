"""`GET /metrics` over aiohttp: a route for the control API, or a listener of its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from sungrow_sim.telemetry.metrics import CONTENT_TYPE, Metrics


def metrics_handler(metrics: Metrics) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler that renders `metrics` on every request."""

    async def handle(request: web.Request) -> web.Response:
        del request
        body = metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    return handle


async def start_metrics(metrics: Metrics, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `/metrics` alone on host:port; returns the runner (for cleanup) and the port."""
    app = web.Application()
    app.router.add_get("/metrics", metrics_handler(metrics))
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, reuse_address=True).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, runner.addresses[0][1]
