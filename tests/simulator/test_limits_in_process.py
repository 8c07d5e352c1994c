"""In-process checks of the robustness settings: fault maximum, ticker recovery, health."""

from __future__ import annotations

import asyncio

import aiohttp
from sungrow_sim.ratelimit import RateLimiter


async def post_fault(session: aiohttp.ClientSession, port: int) -> int:
    spec = {"kind": "no-reply", "scope": "http"}
    async with session.post(f"http://127.0.0.1:{port}/v1/faults", json=spec) as reply:
        return reply.status


async def test_the_fault_maximum_is_configurable(start_service):
    service = await start_service(max_faults=3)
    port = service.ports["control_port"]
    async with aiohttp.ClientSession() as session:
        assert [await post_fault(session, port) for _ in range(4)] == [201, 201, 201, 409]


async def test_a_failing_tick_is_reported_and_the_ticker_recovers(start_service):
    service = await start_service(tick_s=0.05)
    port = service.ports["control_port"]
    real_tick = service.sim.tick_cooperatively  # what the ticker calls
    failing = True

    async def tick() -> None:
        if failing:
            raise OverflowError("date value out of range")
        await real_tick()

    service.sim.tick_cooperatively = tick  # type: ignore[method-assign]
    url = f"http://127.0.0.1:{port}/v1/health"
    async with aiohttp.ClientSession() as session:

        async def health() -> dict:
            async with session.get(url) as reply:
                assert reply.status == 200
                return await reply.json()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while (seen := await health())["status"] != "degraded":
            assert loop.time() < deadline, seen
            await asyncio.sleep(0.02)
        assert seen["problems"][0]["component"] == "ticker"
        assert "OverflowError" in seen["problems"][0]["message"]
        failing = False
        deadline = loop.time() + 5
        while (seen := await health()) != {"status": "ok"}:
            assert loop.time() < deadline, seen
            await asyncio.sleep(0.02)


def test_the_rate_limiter_passes_one_event_per_kind_and_interval_and_counts_the_rest():
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert limiter.allow("a") == 0
    assert [limiter.allow("a") for _ in range(5)] == [None] * 5
    assert limiter.allow("b") == 0  # kinds are independent
    now[0] = 60.0
    assert limiter.allow("a") == 5  # the next report carries the count
