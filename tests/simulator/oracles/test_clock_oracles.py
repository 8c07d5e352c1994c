"""The clock registers judged by the time zone's own rules (zoneinfo), read over Modbus.

The inverter's clock sits in holding registers 5000-5005 (documented; wire 4999-5004):
year, month, day, hour, minute, second in the inverter's local time. A reading is right
when some UTC instant between the start and the read, taken through zoneinfo's rules for
the zone, shows exactly those fields - including across Europe/Berlin's DST changes
(2026-03-29 01:00 UTC: 02:00 CET becomes 03:00 CEST; 2026-10-25 01:00 UTC: 03:00 CEST
becomes 02:00 CET).

Downtime: a saved clock moves on by the wall time the simulator was down times the time
scale (what a real inverter's RTC does), judged by time.time(), not by the simulator.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sungrow_sim.faults import FaultSpec
from sungrow_sim.persistence import STATE_FILE
from support.oracle import reg

BERLIN = ZoneInfo("Europe/Berlin")
CLOCK_WIRE, CLOCK_COUNT = 4999, 6


async def read_clock(client, unit: int = 1) -> tuple[int, ...]:
    response = await client.read_holding_registers(CLOCK_WIRE, count=CLOCK_COUNT, device_id=unit)
    assert not response.isError(), response
    return tuple(response.registers)


def instants(fields: tuple[int, ...], zone: ZoneInfo) -> list[datetime]:
    """Every UTC instant whose local time in `zone` shows these fields (0, 1 or 2)."""
    year, month, day, hour, minute, second = fields
    local = datetime(year, month, day, hour, minute, second)
    found = []
    for fold in (0, 1):
        candidate = local.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        # zoneinfo maps a nonexistent local time too: keep only round trips.
        back = candidate.astimezone(zone).replace(tzinfo=None)
        if back == local and candidate not in found:
            found.append(candidate)
    return found


def assert_shows(fields, zone, earliest: datetime, latest: datetime) -> datetime:
    """The fields are the local time of an instant in [earliest, latest]."""
    matches = [t for t in instants(fields, zone) if earliest - timedelta(seconds=1) <= t <= latest]
    assert matches, (
        f"clock shows {fields}, which in {zone} is {instants(fields, zone)}; "
        f"expected an instant in {earliest}..{latest}"
    )
    return matches[0]


async def wait_for(condition, timeout_s: float = 20.0, interval_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(interval_s)


@pytest.mark.parametrize(
    ("start", "before_hour", "after_hour"),
    [
        (datetime(2026, 3, 29, 0, 59, 0, tzinfo=UTC), 1, 3),  # spring forward, no 02:xx
        (datetime(2026, 10, 25, 0, 59, 0, tzinfo=UTC), 2, 2),  # fall back, 02:xx twice
    ],
    ids=["spring-forward", "fall-back"],
)
async def test_clock_registers_follow_the_zone_across_a_dst_change(
    start_service, modbus_client, start, before_hour, after_hour
):
    scale = 30.0  # a simulated minute every two wall seconds
    began = time.monotonic()
    service = await start_service(
        start_time=start.isoformat(), timezone="Europe/Berlin", time_scale=scale
    )
    client = await modbus_client(service.ports["modbus_port"])
    first = await read_clock(client)
    latest = start + timedelta(seconds=(time.monotonic() - began) * scale)
    shown = assert_shows(first, BERLIN, start, latest)
    assert first[3] == before_hour, first
    assert shown < datetime(2026, start.month, start.day, 1, 0, tzinfo=UTC)

    async def past_the_change():
        fields = await read_clock(client)
        return fields if 1 <= fields[4] <= 30 and fields[3] == after_hour else None

    second = await wait_for(past_the_change)
    latest = start + timedelta(seconds=(time.monotonic() - began) * scale)
    shown = assert_shows(second, BERLIN, start, latest)
    assert shown >= datetime(2026, start.month, start.day, 1, 0, tzinfo=UTC)
    assert shown.utcoffset() == timedelta(0)


async def test_clock_registers_use_the_configured_zone_not_utc(start_service, modbus_client):
    start = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # already 2027 in Tokyo
    began = time.monotonic()
    service = await start_service(start_time=start.isoformat(), timezone="Asia/Tokyo")
    client = await modbus_client(service.ports["modbus_port"])
    fields = await read_clock(client)
    latest = start + timedelta(seconds=time.monotonic() - began)
    assert_shows(fields, ZoneInfo("Asia/Tokyo"), start, latest)
    assert fields[:4] == (2027, 1, 1, 8)


async def test_a_clock_written_over_modbus_is_local_time(start_service, modbus_client):
    service = await start_service(
        start_time="2026-06-21T12:00:00+00:00", timezone="America/New_York"
    )
    client = await modbus_client(service.ports["modbus_port"])
    written = (2026, 7, 4, 9, 30, 0)
    began = time.monotonic()
    response = await client.write_registers(CLOCK_WIRE, list(written), device_id=1)
    assert not response.isError(), response
    fields = await read_clock(client)
    at = datetime(*written, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)
    assert_shows(fields, ZoneInfo("America/New_York"), at, at + timedelta(
        seconds=time.monotonic() - began + 1))  # fmt: skip


async def _saved_state(start_service, tmp_path, **settings) -> dict:
    """Run a simulator with a state dir, stop it cleanly; return the saved JSON."""
    service = await start_service(state_dir=str(tmp_path), **settings)
    await service.stop()
    return json.loads((tmp_path / STATE_FILE).read_text())


async def test_the_clock_moves_on_by_the_downtime_times_the_time_scale(
    start_service, modbus_client, tmp_path
):
    saved = await _saved_state(
        start_service, tmp_path, start_time="2026-06-21T12:00:00+00:00", time_scale=10.0
    )
    saved_clock = datetime.fromisoformat(saved["clock"])
    saved["saved_at"] = time.time() - 600  # as if it had been down for ten minutes
    (tmp_path / STATE_FILE).write_text(json.dumps(saved))
    began = time.monotonic()
    service = await start_service(state_dir=str(tmp_path), start_time=None, time_scale=10.0)
    client = await modbus_client(service.ports["modbus_port"])
    fields = await read_clock(client)
    expected = saved_clock + timedelta(seconds=600 * 10)  # 100 simulated minutes later
    latest = expected + timedelta(seconds=(time.monotonic() - began + 2) * 10)
    assert_shows(fields, ZoneInfo("UTC"), expected - timedelta(seconds=20), latest)
    assert service.sim is not None


async def test_counters_are_kept_only_for_the_same_inverter(
    start_service, modbus_client, tmp_path
):
    """Same model and serial: totals go on. Another serial at the unit id: fresh totals."""
    settings = {"start_time": "2026-06-21T12:00:00+00:00", "cloudiness": 0.0}
    first = await start_service(
        state_dir=str(tmp_path), inverters=[{"model": "SG10RT", "serial": "SIMKEEP001"}],
        **settings,
    )  # fmt: skip
    first.sim.inverters[1].plant.counters.total_yield_kwh = 54321.0
    await first.stop()

    async def total_after_restart(serial: str) -> float:
        service = await start_service(
            state_dir=str(tmp_path), inverters=[{"model": "SG10RT", "serial": serial}],
            **settings,
        )  # fmt: skip
        client = await modbus_client(service.ports["modbus_port"])
        total = reg("SG10RT", "total_power_yields")
        response = await client.read_input_registers(total.wire, count=total.width, device_id=1)
        await service.stop()
        return total.value(response.registers)

    assert await total_after_restart("SIMKEEP001") == pytest.approx(54321, abs=2)
    assert abs(await total_after_restart("SIMOTHER01") - 54321) > 100


async def test_expired_faults_are_not_restored_and_live_ones_are(
    start_service, modbus_client, tmp_path
):
    service = await start_service(state_dir=str(tmp_path))
    service.sim.inject(FaultSpec(kind="exception", code=6, duration_s=3600, start=5001))
    service.sim.inject(FaultSpec(kind="exception", code=5, duration_s=3600, start=5004))
    await service.stop()
    saved = json.loads((tmp_path / STATE_FILE).read_text())
    assert len(saved["faults"]) == 2
    for fault in saved["faults"]:
        if fault["code"] == 6:
            fault["expires"] = time.time() - 1  # ran out while the simulator was down
    (tmp_path / STATE_FILE).write_text(json.dumps(saved))
    restarted = await start_service(state_dir=str(tmp_path))
    client = await modbus_client(restarted.ports["modbus_port"])
    expired = await client.read_input_registers(5000, count=1, device_id=1)
    live = await client.read_input_registers(5003, count=1, device_id=1)
    assert not expired.isError(), "an expired fault came back after the restart"
    assert live.isError() and live.exception_code == 5
