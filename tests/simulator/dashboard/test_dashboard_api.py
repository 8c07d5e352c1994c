"""The dashboard's routes on the control listener: access, samples, registers, events."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import aiohttp
import pytest
from sungrow_sim.dashboard import STATIC_FILES, routes
from sungrow_sim.registers import decode


def url(service, path: str) -> str:
    return f"http://127.0.0.1:{service.ports['control_port']}{path}"


async def get(service, path: str, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(url(service, path), headers=headers) as response,
    ):
        return response.status, await response.read()


async def test_static_files_load_without_the_token_and_data_needs_it(start_service):
    service = await start_service(control_token="t0ken")
    for path in STATIC_FILES:
        status, body = await get(service, path)
        assert status == 200 and body, path
    for path in ("/v1/state", "/v1/samples", "/v1/registers", "/v1/events", "/v1/features"):
        assert (await get(service, path))[0] == 401, path
        assert (await get(service, path, "wrong"))[0] == 401, path
    assert (await get(service, "/v1/features", "t0ken"))[0] == 200
    assert (await get(service, "/v1/health"))[0] == 200  # probes hold no token
    status, _ = await get(service, "/ui/../registers/data/models.json", "t0ken")
    assert status == 404


async def test_samples_fill_as_the_plant_ticks(start_service):
    service = await start_service(inverters=[{"model": "SH10RT"}], time_scale=3600, tick_s=0.05)
    deadline = time.monotonic() + 10
    while True:
        _, body = await get(service, "/v1/samples?unit_id=1")
        data = json.loads(body)
        if len(data["samples"]) >= 5:
            break
        assert time.monotonic() < deadline, data
        await asyncio.sleep(0.05)
    times = [s["t"] for s in data["samples"]]
    assert times == sorted(times) and times[-1] - times[0] <= data["span_s"]
    assert all(b - a >= data["spacing_s"] for a, b in itertools.pairwise(times))
    assert all(s["soc_pct"] is not None for s in data["samples"])
    assert (await get(service, "/v1/samples?unit_id=9"))[0] == 422


async def test_register_rows_carry_the_words_a_modbus_client_reads(start_service, modbus_client):
    service = await start_service()
    await get(service, "/v1/state")
    async with aiohttp.ClientSession() as session:
        await session.post(url(service, "/v1/power"), json={"watts": 3000})
    status, body = await get(service, "/v1/registers?unit_id=1")
    assert status == 200
    rows = json.loads(body)["registers"]
    by_address = {(r["table"], r["address"]): r for r in rows}
    client = await modbus_client(service.ports["modbus_port"])
    for address in (5001, 5017, 5031):
        row = by_address[("input", address)]
        response = await client.read_input_registers(
            address - 1, count=len(row["words"]), device_id=1
        )
        assert response.registers == row["words"], row
    active = by_address[("input", 5031)]
    assert active["value"] == decode("U32", active["words"]) == 3000
    assert by_address[("input", 4990)]["value"] == "SIM0000001"
    assert by_address[("input", 5000)]["value"].startswith("SG10RT")
    assert all(r["block"].startswith(r["table"]) for r in rows)


async def test_events_stream_once_a_tick_and_end_when_the_service_stops(start_service):
    service = await start_service(time_scale=60, tick_s=0.1)
    clocks: list[str] = []
    async with (
        aiohttp.ClientSession() as session,
        session.get(url(service, "/v1/events?unit_id=1&registers=1")) as response,
    ):
        assert response.headers["Content-Type"].startswith("text/event-stream")
        async for line in response.content:
            if line.startswith(b"data: "):
                event = json.loads(line[6:])
                assert len(event["registers"]) > 50
                clocks.append(event["inverter"]["clock"])
            if len(clocks) == 4:
                break
    assert len(set(clocks)) >= 3  # the simulated clock moved between events

    async with (
        aiohttp.ClientSession() as session,
        session.get(url(service, "/v1/events")) as response,
    ):
        await response.content.readline()
        started = time.monotonic()
        await service.stop()
        rest = await asyncio.wait_for(response.content.read(), 5)
        assert time.monotonic() - started < 5
        del rest


@pytest.mark.parametrize("kind", ["exception", "slow-reply", "inverter-fault", "session-limit"])
async def test_fault_forms_offer_only_options_the_fault_api_accepts(start_service, kind):
    service = await start_service()
    _, body = await get(service, "/v1/fault-forms")
    form = json.loads(body)["kinds"][kind]
    names = [o["name"] for o in form["options"]]
    assert "duration_s" in names
    values = {"unit_id": 1, "duration_s": 30, "scope": "all", "probability": 1,
              "code": 3, "start": 5001, "count": 2, "delay_s": 0.5, "max_sessions": 1}  # fmt: skip
    spec = {"kind": kind, **{n: values[n] for n in names}}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url(service, "/v1/faults"), json=spec) as response,
    ):
        assert response.status == 201, await response.text()


async def test_event_streams_are_bounded(start_service, monkeypatch):
    monkeypatch.setattr(routes, "MAX_STREAMS", 2)
    service = await start_service()
    async with aiohttp.ClientSession() as session:
        first = await session.get(url(service, "/v1/events"))
        second = await session.get(url(service, "/v1/events"))
        await first.content.readline()
        await second.content.readline()
        third = await session.get(url(service, "/v1/events"))
        assert third.status == 503
        assert "too many event streams" in (await third.json())["error"]
        third.release()
        first.close()
        deadline = time.monotonic() + 5
        while True:  # the closed stream's slot frees once the server notices
            again = await session.get(url(service, "/v1/events"))
            if again.status == 200:
                again.close()
                break
            again.release()
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        second.close()
