"""The control API: overrides visible at once, clear 4xx errors, loopback and token guard."""

from __future__ import annotations

import asyncio
from unittest import mock

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request
from sungrow_sim.control.api import ControlApi


async def call(service, method: str, path: str, token: str | None = None, **kwargs):
    url = f"http://127.0.0.1:{service.ports['control_port']}{path}"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, headers=headers, **kwargs) as response,
    ):
        return response.status, await response.json()


async def input_words(client, address: int, count: int, unit: int = 1) -> list[int]:
    response = await client.read_input_registers(address, count=count, device_id=unit)
    assert not response.isError(), response
    return response.registers


@pytest.fixture
async def hybrid(start_service, modbus_client):
    service = await start_service(inverters=[{"model": "SH10RT"}])
    return service, await modbus_client(service.ports["modbus_port"])


async def test_overrides_show_in_the_next_read_without_waiting_for_a_tick(hybrid):
    service, client = hybrid
    status, body = await call(service, "POST", "/v1/power", json={"watts": 3000})
    assert status == 200 and body["readings"]["active_power_w"] == 3000
    assert (await input_words(client, 13033, 2))[0] == 3000  # total active power (hybrid)
    await call(service, "POST", "/v1/load", json={"watts": 1200})
    assert await input_words(client, 13007, 2) == [1200, 0]
    await call(service, "POST", "/v1/battery", json={"soc_pct": 80, "power_w": -2000})
    words = await input_words(client, 13021, 2)
    assert words == [2000, 800]  # battery power magnitude, SOC 80.0 %
    running = (await input_words(client, 13000, 1))[0]
    assert running & 4 and not running & 2  # discharging, not charging
    await call(service, "POST", "/v1/state", json={"state": "stop"})
    assert (await input_words(client, 12999, 1))[0] == 0x2
    _, body = await call(service, "POST", "/v1/clock", json={"time": "2027-01-02T03:04:05"})
    clock = await client.read_holding_registers(4999, count=6, device_id=1)
    assert clock.registers == [2027, 1, 2, 3, 4, 5] and body["clock"] == "2027-01-02T03:04:05"


async def test_auto_returns_to_the_plant_model(hybrid):
    service, _client = hybrid
    await call(service, "POST", "/v1/power", json={"watts": 100})
    await call(service, "POST", "/v1/power", json={"watts": None})
    status, body = await call(service, "GET", "/v1/state?unit_id=1")
    assert status == 200 and body["overrides"]["power_w"] is None
    assert body["readings"]["pv_power_w"] > 1000  # midsummer noon again


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "message"),
    [
        ("POST", "/v1/power", b"{not json", 400, "body is not valid JSON"),
        ("POST", "/v1/power", b"[1, 2]", 400, "body must be a JSON object"),
        (
            "POST",
            "/v1/power",
            b'{"watts": -5}',
            422,
            "watts: Input should be greater than or equal to 0",
        ),
        ("POST", "/v1/power", b'{"watts": 50000}', 422, "watts: 50000 is outside 0..10000"),
        ("POST", "/v1/power", b'{"wats": 5}', 422, "wats: Extra inputs are not permitted"),
        ("POST", "/v1/power", b'{"watts": true}', 422, "watts: Input should be a valid number"),
        ("POST", "/v1/power", b'{"watts": "300"}', 422, "watts: Input should be a valid number"),
        (
            "POST",
            "/v1/state",
            b'{"state": "dance"}',
            422,
            "state: Input should be 'run', 'stop' or 'standby'",
        ),
        (
            "POST",
            "/v1/battery",
            b'{"soc_pct": 101}',
            422,
            "soc_pct: Input should be less than or equal to 100",
        ),
        ("POST", "/v1/battery", b'{"power_w": 99999}', 422, "power: 99999 is outside -5000..5000"),
        (
            "POST",
            "/v1/clock",
            b'{"time": "yesterday"}',
            422,
            "time: Input should be a valid datetime",
        ),
        ("POST", "/v1/faults", b'{"kind": "meteor"}', 422, "kind: Input should be"),
        (
            "POST",
            "/v1/faults",
            b'{"kind": "exception", "code": 999}',
            422,
            "code: a Modbus exception code is 1..255",
        ),
        (
            "POST",
            "/v1/faults",
            b'{"kind": "slow-reply", "probability": 2}',
            422,
            "probability: Input should be less than or equal to 1",
        ),
        ("POST", "/v1/faults", b'{"kind": "exception", "count": 5}', 422, "count: needs start"),
        ("DELETE", "/v1/faults?kind=meteor", None, 400, "kind: unknown fault kind 'meteor'"),
        ("GET", "/v1/state?unit_id=7", None, 422, "unit_id: no inverter 7 (have 1)"),
        ("GET", "/v1/state?unit_id=x", None, 400, "unit_id: 'x' is not an integer"),
        ("GET", "/v1/nothing", None, 404, "Not Found"),
    ],
)
async def test_bad_requests_get_a_4xx_that_says_what_is_wrong(
    hybrid, method, path, payload, status, message
):
    service, _ = hybrid
    got, body = await call(service, method, path, data=payload)
    assert got == status
    assert message in body["error"]


async def test_set_battery_on_a_string_inverter_is_refused(start_service):
    service = await start_service(inverters=[{"model": "SG10RT"}])
    status, body = await call(service, "POST", "/v1/battery", json={"soc_pct": 50})
    assert status == 422 and "SG10RT is a string inverter: it has no battery" in body["error"]


async def test_faults_are_listed_and_cleared_by_kind(hybrid):
    service, _ = hybrid
    for kind in ("slow-reply", "grid-loss"):
        status, _ = await call(service, "POST", "/v1/faults", json={"kind": kind})
        assert status == 201
    _, listed = await call(service, "GET", "/v1/faults")
    assert sorted(f["kind"] for f in listed["faults"]) == ["grid-loss", "slow-reply"]
    _, cleared = await call(service, "DELETE", "/v1/faults?kind=grid-loss")
    assert [f["kind"] for f in cleared["cleared"]] == ["grid-loss"]
    _, listed = await call(service, "GET", "/v1/faults")
    assert [f["kind"] for f in listed["faults"]] == ["slow-reply"]


async def test_a_token_is_required_when_configured(start_service):
    service = await start_service(control_token="s3cret")
    status, body = await call(service, "GET", "/v1/state")
    assert status == 401 and "token" in body["error"]
    status, _ = await call(service, "GET", "/v1/state", token="wrong")
    assert status == 401
    status, body = await call(service, "GET", "/v1/state", token="s3cret")
    assert status == 200 and body["inverters"][0]["model"] == "SG10RT"


@pytest.mark.parametrize(
    ("peer", "allowed"),
    [("127.0.0.1", True), ("::1", True), ("10.1.2.3", False), ("192.0.2.7", False)],
)
async def test_only_loopback_peers_are_served_without_a_token(start_service, peer, allowed):
    """No second host here, so the peer address is set on the request the middleware sees."""
    service = await start_service()
    api = ControlApi(service.sim)
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (peer, 5555) if name == "peername" else default
    )
    request = make_mocked_request("GET", "/v1/health", transport=transport, app=api.app)
    response = await api._guard(request, api.health)
    assert response.status == (200 if allowed else 403)


async def test_control_changes_while_clients_read_never_give_wrong_answers(hybrid, modbus_client):
    service, _ = hybrid
    await call(service, "POST", "/v1/power", json={"watts": 1000})
    clients = [await modbus_client(service.ports["modbus_port"]) for _ in range(4)]
    stop = asyncio.Event()
    seen: list[int] = []

    async def reader(client) -> None:
        while not stop.is_set():
            words = await input_words(client, 13033, 2)
            seen.append(words[0] + (words[1] << 16))

    readers = [asyncio.create_task(reader(c)) for c in clients]
    for watts in [2000, 3000, 1000] * 10 + [2500]:
        await call(service, "POST", "/v1/power", json={"watts": watts})
    after_last_write = len(seen)
    deadline = asyncio.get_running_loop().time() + 10
    while len(seen) < after_last_write + 2 * len(clients):  # reads after the last write
        assert asyncio.get_running_loop().time() < deadline, "the readers stopped reading"
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.gather(*readers)
    assert len(seen) > 20
    assert set(seen) <= {1000, 2000, 3000, 2500}
    assert seen[-1] == 2500
