"""Abuse of the WiNet-S listeners (WebSocket messages and getParam queries).

Malformed WebSocket messages close that connection (or get an error answer), malformed
getParam queries get an error answer; the dongle keeps serving valid sessions and a
valid Modbus client alongside reads correctly.
"""

from __future__ import annotations

import json
import random
import string

import aiohttp
import pytest
from robustness.probe import DEVICE_CODE_WIRE, Expected, reading_alongside
from support.simproc import SimProcess

SEED = 5
CONNECT = {"lang": "en_us", "token": "", "service": "connect"}


def ws_url(sim: SimProcess) -> str:
    return f"http://127.0.0.1:{sim.ports['ws_port']}/ws/home/overview"


def getparam_url(sim: SimProcess) -> str:
    return f"http://127.0.0.1:{sim.ports['http_port']}/device/getParam"


async def token_and_device_code(http: aiohttp.ClientSession, sim: SimProcess) -> tuple[str, int]:
    """A valid session: connect over the WebSocket, read the device code by getParam."""
    async with http.ws_connect(ws_url(sim)) as ws:
        await ws.send_json(CONNECT)
        token = (await ws.receive_json(timeout=5))["result_data"]["token"]
        query = {
            "token": token, "dev_id": "1", "type": "3", "param_addr": str(DEVICE_CODE_WIRE + 1),
            "param_num": "1", "param_type": "0",
        }  # fmt: skip
        async with http.get(getparam_url(sim), params=query) as reply:
            body = await reply.json(content_type=None)
    assert body["result_code"] == 1, body
    return token, int(body["result_data"]["param_value"].replace(" ", ""), 16)


def random_text(rng: random.Random) -> str:
    alphabet = string.printable + 'é€🙂\u0000{}[]":,'
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 200)))


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.parametrize(
    "text",
    ["not json", "{", "[]", "1", "null", '"connect"', '{"service": 5}', '{"service": null}',
     '{"token": "x"}', "x" * 70_000, "[" * 30_000 + "]" * 30_000],
    ids=lambda t: t[:12],
)  # fmt: skip
async def test_malformed_messages_close_that_websocket_only(
    sim: SimProcess, expected: Expected, http: aiohttp.ClientSession, text: str
):
    async with reading_alongside(sim.ports["modbus_port"], expected):
        async with http.ws_connect(ws_url(sim)) as ws:
            await ws.send_str(text)
            message = await ws.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code in (1003, 1009)
        assert (await token_and_device_code(http, sim))[1] == expected.device_code


async def test_random_text_messages_get_an_answer_or_a_close(
    sim: SimProcess, expected: Expected, http: aiohttp.ClientSession
):
    rng = random.Random(SEED)
    async with reading_alongside(sim.ports["modbus_port"], expected):
        for _ in range(60):
            async with http.ws_connect(ws_url(sim)) as ws:
                await ws.send_str(random_text(rng))
                message = await ws.receive(timeout=5)
            if message.type == aiohttp.WSMsgType.TEXT:
                assert json.loads(message.data)["result_code"] != 1
            else:
                assert ws.close_code == 1003
        assert (await token_and_device_code(http, sim))[1] == expected.device_code


@pytest.mark.parametrize(
    "message",
    [
        {"service": "reboot"},
        {"service": "", "token": ""},
        {"service": "devicelist", "token": "forged"},
        {"service": "login", "token": 12, "username": ["admin"], "passwd": {"a": 1}},
        {"service": "connect", "token": 3.5},
    ],
    ids=lambda m: str(m["service"]) or "empty",
)
async def test_unknown_services_and_wrong_types_get_an_error_answer(
    sim: SimProcess, http: aiohttp.ClientSession, message: dict
):
    async with http.ws_connect(ws_url(sim)) as ws:
        await ws.send_json(message)
        answer = await ws.receive_json(timeout=5)
        if message["service"] == "connect":  # a bad token just opens a fresh session
            assert answer["result_code"] == 1
        else:
            assert answer["result_code"] in (106, 301), answer
            assert isinstance(answer["result_msg"], str) and answer["result_msg"]


async def test_binary_frames_close_the_websocket(sim: SimProcess, http: aiohttp.ClientSession):
    async with http.ws_connect(ws_url(sim)) as ws:
        await ws.send_bytes(b"\x00\xff" * 100)
        message = await ws.receive(timeout=5)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.close_code == 1003


GARBAGE_QUERIES = [
    {},
    {"token": "nope"},
    {"dev_id": "1", "type": "3", "param_addr": "5000", "param_num": "1", "param_type": "0"},
]
BAD_FIELDS = [
    {"dev_id": "abc"},
    {"dev_id": "-1"},
    {"dev_id": "300"},
    {"type": "1"},
    {"param_addr": "0"},
    {"param_addr": "70000"},
    {"param_addr": "1e3"},
    {"param_num": "0"},
    {"param_num": "126"},
    {"param_num": "99999999999999999999"},
    {"param_type": "7"},
    {"param_type": ""},
    {"param_addr": "x" * 4000},
    {"dev_id": "\u00e9\u20ac"},
    {"dev_id": "2"},
    {"param_addr": "1", "param_num": "10"},
]


async def test_garbage_getparam_queries_get_an_error_answer(
    sim: SimProcess, expected: Expected, http: aiohttp.ClientSession
):
    async with reading_alongside(sim.ports["modbus_port"], expected):
        async with http.ws_connect(ws_url(sim)) as ws:  # keeps the token alive
            await ws.send_json(CONNECT)
            token = (await ws.receive_json(timeout=5))["result_data"]["token"]
            good = {
                "token": token, "dev_id": "1", "type": "3", "param_addr": "5000",
                "param_num": "1", "param_type": "0",
            }  # fmt: skip
            queries = [*GARBAGE_QUERIES, *({**good, **bad} for bad in BAD_FIELDS)]
            for query in queries:
                async with http.get(getparam_url(sim), params=query) as reply:
                    assert reply.status == 200, query
                    body = await reply.json(content_type=None)
                assert body["result_code"] in (106, 301), (query, body)
                assert isinstance(body["result_msg"], str) and body["result_msg"]
            async with http.get(getparam_url(sim), params=good) as reply:
                body = await reply.json(content_type=None)
    assert int(body["result_data"]["param_value"].replace(" ", ""), 16) == expected.device_code


async def test_an_overlong_request_line_gets_a_4xx_not_a_crash(
    sim: SimProcess, http: aiohttp.ClientSession
):
    async with http.get(getparam_url(sim), params={"token": "t" * 20_000}) as reply:
        assert 400 <= reply.status < 500
    assert (await token_and_device_code(http, sim))[0]
