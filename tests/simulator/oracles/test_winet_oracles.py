"""The WiNet-S dongle of a real simulator, driven by aiohttp's HTTP and WebSocket client.

Oracles: getParam must show the same registers a pymodbus 3 client reads over Modbus
TCP from the same simulator at the same moment (with the plant pinned); devicelist codes
are SunGather's device_type_code table (its register file), not the simulator's
catalogue; every transport fault kind must change what getParam answers the way
docs/protocols.md says.
"""

from __future__ import annotations

import json
import math
import time

import aiohttp
import pytest
from sungrow_sim.faults import FaultSpec
from support.oracle import sungather_datarange

RESULT_OK, USER_LIMIT, TOKEN_INVALID, READ_FAILED, NOT_LOGGED_IN = 1, 100, 106, 301, 401


def sungather_device_codes() -> dict[str, int]:
    """Model name -> device type code, from SunGather's device_type_code datarange."""
    return {label: code for code, label in sungather_datarange("device_type_code").items()}


class Dongle:
    def __init__(self, service, http: aiohttp.ClientSession) -> None:
        self.service = service
        self.http = http
        self.ws_url = f"http://127.0.0.1:{service.ports['ws_port']}/ws/home/overview"
        self.getparam_url = f"http://127.0.0.1:{service.ports['http_port']}/device/getParam"

    async def ws(self):
        return await self.http.ws_connect(self.ws_url)

    @staticmethod
    async def request(ws, token: str, service: str, **extra) -> dict:
        await ws.send_str(
            json.dumps({"lang": "en_us", "token": token, "service": service} | extra)
        )
        return json.loads(await ws.receive_str(timeout=10))

    async def connect(self, ws) -> str:
        reply = await self.request(ws, "", "connect")
        assert reply["result_code"] == RESULT_OK, reply
        return reply["result_data"]["token"]

    async def get_param(
        self, token: str, address: int = 5031, count: int = 2, unit: int = 1, timeout: float = 10
    ) -> dict:
        query = {
            "dev_id": str(unit), "dev_type": "21", "dev_code": "9267", "type": "3",
            "param_addr": str(address), "param_num": str(count), "param_type": "0",
            "token": token, "lang": "en_us", "time123456": str(int(time.time())),
        }  # fmt: skip
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with self.http.get(self.getparam_url, params=query, timeout=client_timeout) as r:
            assert r.status == 200
            return json.loads(await r.text())


def words(reply: dict) -> list[int]:
    data = bytes.fromhex(reply["result_data"]["param_value"].replace(" ", ""))
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


@pytest.fixture
async def dongle(start_service):
    service = await start_service(
        protocols=["modbus", "http"],
        inverters=[
            {"model": "SG10RT", "unit_id": 1, "serial": "SIMWINET01"},
            {"model": "SH10RT", "unit_id": 2, "serial": "SIMWINET02"},
            {"model": "SG5.0RS", "unit_id": 7, "serial": "SIMWINET07"},
        ],
    )
    service.sim.set_power(1, 4321)
    async with aiohttp.ClientSession() as http:
        yield Dongle(service, http)


async def test_getparam_shows_what_modbus_shows(dongle, modbus_client):
    client = await modbus_client(dongle.service.ports["modbus_port"])
    async with await dongle.ws() as ws:
        token = await dongle.connect(ws)
        reply = await dongle.get_param(token, 5031, 2)  # documented 5031: active power
    modbus = await client.read_input_registers(5030, count=2, device_id=1)
    assert reply["result_code"] == RESULT_OK
    assert words(reply) == modbus.registers == [4321, 0]


async def test_devicelist_lists_every_inverter_with_sungathers_device_codes(dongle):
    async with await dongle.ws() as ws:
        token = await dongle.connect(ws)
        reply = await dongle.request(ws, token, "devicelist", type="0", is_check_token="0")
    assert reply["result_code"] == RESULT_OK
    entries = reply["result_data"]["list"]
    assert reply["result_data"]["count"] == 3
    codes = sungather_device_codes()
    assert [(e["dev_id"], e["dev_code"]) for e in entries] == [
        (1, codes["SG10RT"]), (2, codes["SH10RT"]), (7, codes["SG5.0RS"]),
    ]  # fmt: skip
    assert [e["dev_sn"] for e in entries] == ["SIMWINET01", "SIMWINET02", "SIMWINET07"]


async def test_a_token_works_only_on_the_websocket_that_opened_it(dongle):
    async with await dongle.ws() as first, await dongle.ws() as second:
        token = await dongle.connect(first)
        stolen = await dongle.request(second, token, "devicelist", type="0")
        assert stolen["result_code"] == TOKEN_INVALID
        own = await dongle.request(first, token, "devicelist", type="0")
        assert own["result_code"] == RESULT_OK
        # connect on the other socket with the first one's token gets a new token
        again = await dongle.request(second, token, "connect")
        assert again["result_code"] == RESULT_OK
        assert again["result_data"]["token"] != token


async def test_wrong_credentials_are_refused_and_right_ones_let_the_client_in(dongle):
    options = dongle.service.winet.options if hasattr(dongle.service, "winet") else None
    if options is None:
        pytest.fail("the service does not expose its WiNet-S options")
    options.login_required = True
    async with await dongle.ws() as ws:
        token = await dongle.connect(ws)
        assert (await dongle.request(ws, token, "devicelist"))["result_code"] == NOT_LOGGED_IN
        assert (await dongle.get_param(token))["result_code"] == NOT_LOGGED_IN
        for user, password in (("admin", "wrong"), ("root", options.password), ("", "")):
            refused = await dongle.request(ws, token, "login", username=user, passwd=password)
            assert refused["result_code"] == NOT_LOGGED_IN, (user, password)
        assert (await dongle.get_param(token))["result_code"] == NOT_LOGGED_IN
        login = await dongle.request(
            ws, token, "login", username=options.username, passwd=options.password
        )
        assert login["result_code"] == RESULT_OK
        fresh = login["result_data"]["token"]
        assert (await dongle.request(ws, fresh, "devicelist"))["result_code"] == RESULT_OK
        assert (await dongle.get_param(fresh))["result_code"] == RESULT_OK


async def test_refuse_connections_drops_getparam_too(dongle):
    async with await dongle.ws() as ws:
        token = await dongle.connect(ws)
        dongle.service.sim.inject(FaultSpec(kind="refuse-connections", scope="http"))
        with pytest.raises(aiohttp.ClientError):
            await dongle.get_param(token, timeout=5)
        dongle.service.sim.clear_faults()
        assert (await dongle.get_param(token))["result_code"] == RESULT_OK


@pytest.mark.parametrize("kind", ["drop-connection", "no-reply"])
async def test_getparam_unanswered_kinds_leave_the_client_without_an_answer(dongle, kind):
    async with await dongle.ws() as ws:
        token = await dongle.connect(ws)
        dongle.service.sim.inject(FaultSpec(kind=kind, scope="http", delay_s=1.0))
        with pytest.raises((aiohttp.ClientError, TimeoutError)):
            await dongle.get_param(token, timeout=3)


@pytest.mark.parametrize("kind", ["exception", "malformed-exception"])
async def test_getparam_exception_kinds_answer_301(dongle, kind):
    async with await dongle.ws() as ws:
        token = await dongle.connect(ws)
        dongle.service.sim.inject(FaultSpec(kind=kind, scope="http", start=5031))
        assert (await dongle.get_param(token, 5031, 2))["result_code"] == READ_FAILED
        assert (await dongle.get_param(token, 5001, 1))["result_code"] == RESULT_OK


@pytest.mark.parametrize("kind", ["corrupt-reply", "short-reply"])
async def test_getparam_damaged_replies_do_not_decode_to_the_registers(dongle, kind):
    async with await dongle.ws() as ws:
        token = await dongle.connect(ws)
        dongle.service.sim.inject(FaultSpec(kind=kind, scope="http"))
        reply = await dongle.get_param(token, 5031, 2)
    text = reply["result_data"]["param_value"]
    try:
        decoded = words(reply)
    except ValueError:
        return  # not hex at all
    assert decoded != [4321, 0], text


async def test_getparam_slow_reply_waits_for_its_delay(dongle):
    async with await dongle.ws() as ws:
        token = await dongle.connect(ws)
        dongle.service.sim.inject(FaultSpec(kind="slow-reply", scope="http", delay_s=0.6))
        began = time.monotonic()
        reply = await dongle.get_param(token)
        assert time.monotonic() - began >= 0.6
        assert reply["result_code"] == RESULT_OK


async def test_getparam_token_expiry_and_session_limit(dongle):
    async with await dongle.ws() as ws:
        token = await dongle.connect(ws)
        dongle.service.sim.inject(FaultSpec(kind="session-limit", scope="http"))
        async with await dongle.ws() as other:
            refused = await dongle.request(other, "", "connect")
            assert refused["result_code"] == USER_LIMIT
        assert (await dongle.get_param(token))["result_code"] == RESULT_OK
        dongle.service.sim.inject(FaultSpec(kind="token-expiry", scope="http"))
        assert (await dongle.get_param(token))["result_code"] == TOKEN_INVALID


async def test_getparam_fault_probability_and_unit_scope(dongle):
    async with await dongle.ws() as ws:
        token = await dongle.connect(ws)
        dongle.service.sim.inject(
            FaultSpec(kind="exception", scope="http", unit_id=1, probability=0.25)
        )
        trials = 200
        failed = 0
        for _ in range(trials):
            failed += (await dongle.get_param(token, unit=1))["result_code"] == READ_FAILED
        spread = 4.5 * math.sqrt(trials * 0.25 * 0.75)
        assert abs(failed - trials * 0.25) <= spread, failed
        for _ in range(20):
            assert (await dongle.get_param(token, unit=7))["result_code"] == RESULT_OK
