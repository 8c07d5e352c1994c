"""The recorder behind a served simulator: real clients, GET /v1/requests and /metrics.

The client's own call counts are the oracle; /metrics is parsed with prometheus-client's
parser (the text format, not our collector's internals).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusIOException

UNIT = 1


async def get_json(url: str) -> dict:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def scrape(url: str) -> dict[str, list]:
    """Samples of every family, by sample name: [(labels, value)]."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples: dict[str, list], name: str, **labels: str) -> float:
    """The one sample of `name` whose labels include `labels` (0 when there is none)."""
    found = [v for sl, v in samples.get(name, []) if labels.items() <= sl.items()]
    assert len(found) <= 1, (name, labels, found)
    return found[0] if found else 0.0


def control(service) -> str:
    return f"http://127.0.0.1:{service.ports['control_port']}"


async def test_reads_writes_and_exceptions_are_recorded_per_range(start_service, modbus_client):
    service = await start_service(inverters=[{"model": "SH10RT"}])
    client = await modbus_client(service.ports["modbus_port"])
    for _ in range(3):
        assert not (await client.read_input_registers(5002, count=10, device_id=UNIT)).isError()
    bad = await client.read_input_registers(1, count=4, device_id=UNIT)
    assert bad.isError() and bad.exception_code == 2
    assert not (await client.write_register(13049, 2, device_id=UNIT)).isError()

    entries = (await get_json(f"{control(service)}/v1/requests"))["requests"]

    by_range = {(e["function"], e["table"], e["address"], e["count"]): e for e in entries}
    read = by_range[("read", "input", 5003, 10)]
    assert read["requests"] == 3 and read["outcomes"] == {"ok": 3}
    assert read["protocol"] == "modbus" and read["peer"] == "127.0.0.1" and read["unit_id"] == 1
    assert by_range[("read", "input", 2, 4)]["outcomes"] == {"exception-2": 1}
    assert by_range[("write", "holding", 13050, 1)]["last_outcome"] == "ok"
    assert len(entries) == 3

    samples = await scrape(f"{control(service)}/metrics")
    total = "sungrow_sim_requests_total"
    assert value(samples, total, protocol="modbus", function="read", outcome="ok") == 3
    assert value(samples, total, protocol="modbus", outcome="exception-2") == 1
    assert value(samples, total, function="write", table="holding", unit="1") == 1
    assert value(samples, "sungrow_sim_request_duration_seconds_count", protocol="modbus") == 5
    writes = "sungrow_sim_settings_writes_total"
    assert value(samples, writes, register="ems_mode_selection", via="modbus") == 1
    # MBAP requests: 12 bytes each; replies: 9 + 20 (reads), 9 (exception), 12 (write).
    assert value(samples, "sungrow_sim_received_bytes_total", protocol="modbus") == 5 * 12
    assert value(samples, "sungrow_sim_sent_bytes_total", protocol="modbus") == 3 * 29 + 9 + 12
    assert value(samples, "sungrow_sim_open_connections", listener="modbus") == 1
    assert value(samples, "sungrow_sim_open_sessions", listener="modbus") == 1


async def test_unit_filter_and_a_bad_unit_id(start_service, modbus_client):
    inverters = [{"unit_id": 1}, {"unit_id": 2, "serial": "SIM0000002"}]
    service = await start_service(inverters=inverters)
    client = await modbus_client(service.ports["modbus_port"])
    await client.read_input_registers(5002, count=2, device_id=1)
    await client.read_input_registers(5002, count=2, device_id=2)

    only_two = await get_json(f"{control(service)}/v1/requests?unit_id=2")

    assert [e["unit_id"] for e in only_two["requests"]] == [2]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{control(service)}/v1/requests?unit_id=x") as response:
            assert response.status == 400
            assert "unit_id" in (await response.json())["error"]


async def test_injected_faults_are_counted_injected_active_and_fired(start_service, modbus_client):
    service = await start_service()
    url = control(service)
    async with aiohttp.ClientSession() as http:
        fault = {"kind": "exception", "code": 3, "scope": "modbus", "start": 5003, "count": 1}
        async with http.post(f"{url}/v1/faults", json=fault) as response:
            assert response.status == 201
    client = await modbus_client(service.ports["modbus_port"])
    for _ in range(2):
        hit = await client.read_input_registers(5002, count=1, device_id=UNIT)
        assert hit.isError() and hit.exception_code == 3
    assert not (await client.read_input_registers(5010, count=1, device_id=UNIT)).isError()

    samples = await scrape(f"{url}/metrics")

    assert value(samples, "sungrow_sim_faults_injected_total", kind="exception") == 1
    assert value(samples, "sungrow_sim_faults_active", kind="exception") == 1
    fired = "sungrow_sim_faults_fired_total"
    assert value(samples, fired, kind="exception", protocol="modbus") == 2
    assert value(samples, "sungrow_sim_requests_total", outcome="exception") == 2
    entries = (await get_json(f"{url}/v1/requests"))["requests"]
    assert {e["address"]: e["outcomes"] for e in entries} == {
        5003: {"exception": 2},
        5011: {"ok": 1},
    }


async def test_a_dropped_reply_and_a_refused_connection(start_service, modbus_client):
    service = await start_service()
    url = control(service)
    async with aiohttp.ClientSession() as http:
        await http.post(f"{url}/v1/faults", json={"kind": "drop-connection", "start": 5003})
    client = AsyncModbusTcpClient(
        "127.0.0.1", port=service.ports["modbus_port"], timeout=1, retries=0
    )
    assert await client.connect()
    with pytest.raises(ModbusIOException):
        await client.read_input_registers(5002, count=1, device_id=UNIT)
    client.close()
    accepted = value(await scrape(f"{url}/metrics"), "sungrow_sim_connections_total")
    async with aiohttp.ClientSession() as http:
        await http.delete(f"{url}/v1/faults")
        await http.post(f"{url}/v1/faults", json={"kind": "refuse-connections"})
    reader, writer = await asyncio.open_connection("127.0.0.1", service.ports["modbus_port"])
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed at once
    writer.close()

    samples = await scrape(f"{url}/metrics")

    fired = "sungrow_sim_faults_fired_total"
    assert value(samples, fired, kind="drop-connection", protocol="modbus") == 1
    assert value(samples, fired, kind="refuse-connections", protocol="modbus") == 1
    assert value(samples, "sungrow_sim_requests_total", outcome="drop-connection") == 1
    assert accepted >= 1
    assert value(samples, "sungrow_sim_connections_total", listener="modbus") == accepted
    assert value(samples, "sungrow_sim_open_connections", listener="modbus") == 0


async def test_malformed_traffic_is_recorded_as_dropped(start_service):
    service = await start_service()
    reader, writer = await asyncio.open_connection("127.0.0.1", service.ports["modbus_port"])
    writer.write(b"GET / HTTP/1.1\r\n\r\n")
    assert await asyncio.wait_for(reader.read(), 5) == b""  # the server closes the connection
    writer.close()

    entries = (await get_json(f"{control(service)}/v1/requests"))["requests"]

    assert [(e["function"], e["last_outcome"], e["address"]) for e in entries] == [
        ("other", "dropped", None)
    ]


async def test_winet_getparam_and_websocket_are_recorded(start_service):
    service = await start_service(protocols=["http"], inverters=[{"model": "SH10RT"}])
    ws_url = f"http://127.0.0.1:{service.ports['ws_port']}/ws/home/overview"
    get_url = f"http://127.0.0.1:{service.ports['http_port']}/device/getParam"
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url) as ws:
        await ws.send_str(json.dumps({"lang": "en_us", "token": "", "service": "connect"}))
        token = json.loads(await ws.receive_str(timeout=5))["result_data"]["token"]
        query = {"dev_id": "1", "type": "3", "param_type": "0", "token": token}
        for address, count in (("5003", "2"), ("5003", "2"), ("1", "2")):
            params = query | {"param_addr": address, "param_num": count}
            async with http.get(get_url, params=params) as response:
                assert response.status == 200
        async with http.get(get_url, params=query | {"token": "nope"}) as response:
            assert json.loads(await response.text())["result_code"] == 106
        samples = await scrape(f"{control(service)}/metrics")
        assert value(samples, "sungrow_sim_open_connections", listener="ws") == 1
        assert value(samples, "sungrow_sim_open_sessions", listener="winet") == 1

    entries = (await get_json(f"{control(service)}/v1/requests"))["requests"]

    http_reads = {(e["address"], e["count"]): e for e in entries if e["protocol"] == "http"}
    assert http_reads[(5003, 2)]["outcomes"] == {"ok": 2}
    assert http_reads[(5003, 2)]["unit_id"] == 1 and http_reads[(5003, 2)]["table"] == "input"
    assert http_reads[(1, 2)]["outcomes"] == {"exception-2": 1}
    assert http_reads[(None, None)]["outcomes"] == {"error-106": 1}
    ws = [e for e in entries if e["protocol"] == "ws"]
    assert [(e["function"], e["outcomes"]) for e in ws] == [("connect", {"ok": 1})]
    total = "sungrow_sim_requests_total"
    assert value(samples, total, protocol="http", outcome="ok") == 2
    assert value(samples, total, protocol="ws", function="connect") == 1


async def test_plant_gauges_clock_and_inverter_identity(start_service):
    service = await start_service(
        inverters=[{"model": "SH10RT", "serial": "SIMGAUGE01"}], time_scale=60.0
    )
    url = control(service)
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/v1/power", json={"watts": 4321.0}) as response:
            assert response.status == 200
        async with http.post(f"{url}/v1/battery", json={"soc_pct": 63.0}) as response:
            assert response.status == 200
        async with http.get(f"{url}/v1/state") as response:
            readings = (await response.json())["inverters"][0]["readings"]

    samples = await scrape(f"{url}/metrics")

    ident = {"unit": "1", "model": "SH10RT", "serial": "SIMGAUGE01"}
    assert value(samples, "sungrow_sim_ac_power_watts", **ident) == readings["active_power_w"]
    assert value(samples, "sungrow_sim_battery_soc_percent", **ident) == 63.0
    assert value(samples, "sungrow_sim_work_state", state=readings["work_state"]) == 1
    assert sum(v for _, v in samples["sungrow_sim_work_state"]) == 1
    assert value(samples, "sungrow_sim_inverter_info", family="hybrid", device_code="0x0E03")
    assert value(samples, "sungrow_sim_time_scale") == 60.0
    simulated = value(samples, "sungrow_sim_clock_seconds")
    assert abs(simulated - service.sim.clock.now().timestamp()) < 120


async def test_metrics_on_their_own_listener_serve_only_metrics(start_service, tmp_path):
    ready = tmp_path / "ready.json"
    service = await start_service(metrics_port=0, ready_file=ready)
    port = service.ports["metrics_port"]
    assert json.loads(ready.read_text())["metrics_port"] == port

    samples = await scrape(f"http://127.0.0.1:{port}/metrics")

    assert "sungrow_sim_time_scale" in samples
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/v1/state") as response:
            assert response.status == 404


async def test_metrics_on_the_control_listener_need_the_token_when_one_is_set(start_service):
    service = await start_service(control_token="s3cret")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{control(service)}/metrics") as response:
            assert response.status == 401
        headers = {"Authorization": "Bearer s3cret"}
        async with http.get(f"{control(service)}/metrics", headers=headers) as response:
            assert response.status == 200


async def test_counting_is_cheap(start_service):
    """A recorded request costs a few microseconds: far below one Modbus round trip."""
    service = await start_service()
    rec = service.recorder
    n = 20000
    started = time.perf_counter()
    for i in range(n):
        rec.request(
            "modbus", "127.0.0.1", 1, "input", "read", 5001 + i % 20, 10, "ok", 1e-4, 12, 29
        )
    per_request = (time.perf_counter() - started) / n
    logging.getLogger(__name__).info("recorder: %.2f us per request", per_request * 1e6)
    assert per_request < 20e-6
