"""The WiNet-S server on port 0, driven by a real aiohttp HTTP and WebSocket client."""

import asyncio
import json
import socket
import string
from dataclasses import dataclass

import aiohttp
import pydantic
import pytest
from sungrow_sim.faults import FaultSet, FaultSpec
from sungrow_sim.protocols.winet.server import start_winet
from sungrow_sim.protocols.winet.sessions import WinetOptions


@dataclass
class Info:
    model: str
    device_code: int
    family: str
    serial: str


@dataclass
class Inverter:
    info: Info


class RegisterImage:
    """A stand-in register source: input register n holds n & 0xFFFF, holding ~n."""

    def __init__(self):
        self.inverters = {1: Inverter(Info("SH10RT", 0x0E03, "hybrid", "SIM0000001"))}
        self.faults = FaultSet(seed=0)  # none active unless a test injects one
        self.reads: list[tuple[int, str, int, int]] = []

    def read(self, unit_id: int, table: str, address: int, count: int) -> list[int] | int:
        self.reads.append((unit_id, table, address, count))
        if address >= 40000:
            return 2
        if table == "input":
            return [(address + i) & 0xFFFF for i in range(count)]
        return [~(address + i) & 0xFFFF for i in range(count)]


@pytest.fixture
def image():
    return RegisterImage()


@pytest.fixture
async def dongle(image):
    server = await start_winet(image, bind="127.0.0.1", ws_port=0, http_port=0)
    yield server
    await server.close()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def ws_request(ws, token, service, **extra):
    message = {"lang": "en_us", "token": token, "service": service} | extra
    await ws.send_str(json.dumps(message))
    return json.loads(await ws.receive_str(timeout=5))


async def open_ws(http, dongle):
    return await http.ws_connect(f"http://127.0.0.1:{dongle.ws_port}/ws/home/overview")


async def connect(ws) -> str:
    reply = await ws_request(ws, "", "connect")
    assert reply["result_code"] == 1, reply
    return reply["result_data"]["token"]


async def get_param(http, dongle, token, **override):
    query = {
        "dev_id": "1",
        "dev_type": "35",
        "dev_code": "3587",
        "type": "3",
        "param_addr": "5000",
        "param_num": "2",
        "param_type": "0",
        "token": token,
        "lang": "en_us",
        "time123456": "1700000000",
    } | override
    url = f"http://127.0.0.1:{dongle.http_port}/device/getParam"
    async with http.get(url, params=query) as response:
        assert response.status == 200
        return json.loads(await response.text())


async def test_connect_then_devicelist_as_the_client_sends_them(dongle, http):
    async with await open_ws(http, dongle) as ws:
        token = await connect(ws)
        reply = await ws_request(ws, token, "devicelist", **{"type": "0", "is_check_token": "0"})
    assert reply["result_code"] == 1
    assert reply["result_msg"] == "success"
    entry = reply["result_data"]["list"][0]
    assert (entry["dev_type"], entry["dev_code"], entry["dev_id"]) == (35, 3587, 1)


async def test_getparam_reads_documented_address_minus_one(dongle, http, image):
    async with await open_ws(http, dongle) as ws:
        token = await connect(ws)
        reply = await get_param(http, dongle, token, param_addr="13000", param_num="3")
        assert image.reads[-1] == (1, "input", 12999, 3)
        assert reply == {
            "result_code": 1,
            "result_msg": "success",
            "result_data": {"param_value": "32 c7 32 c8 32 c9 "},
        }
        holding = await get_param(http, dongle, token, param_addr="5000", param_type="1")
        assert holding["result_data"]["param_value"] == "ec 78 ec 77 "
        assert image.reads[-1] == (1, "holding", 4999, 2)


async def test_getparam_answers_125_registers(dongle, http):
    async with await open_ws(http, dongle) as ws:
        token = await connect(ws)
        reply = await get_param(http, dongle, token, param_addr="13000", param_num="125")
    assert len(reply["result_data"]["param_value"].split(" ")) == 251


async def test_unknown_token_gets_106(dongle, http):
    reply = await get_param(http, dongle, "not-a-token")
    assert reply["result_code"] == 106
    async with await open_ws(http, dongle) as ws:
        reply = await ws_request(ws, "nope", "devicelist")
    assert reply["result_code"] == 106
    assert reply["result_data"] == {"service": "devicelist"}


async def test_token_dies_with_its_websocket(dongle, http):
    ws = await open_ws(http, dongle)
    token = await connect(ws)
    await ws.close()
    for _ in range(50):
        if dongle.sessions.count == 0:
            break
        await asyncio.sleep(0.01)
    assert (await get_param(http, dongle, token))["result_code"] == 106


async def test_token_expires_after_its_ttl(dongle, http):
    dongle.options.token_ttl_s = 0.2
    async with await open_ws(http, dongle) as ws:
        token = await connect(ws)
        assert (await get_param(http, dongle, token))["result_code"] == 1
        await asyncio.sleep(0.3)
        assert (await get_param(http, dongle, token))["result_code"] == 106
        assert await connect(ws) != token


async def test_expire_tokens_fault_gives_106(dongle, http):
    async with await open_ws(http, dongle) as ws:
        token = await connect(ws)
        assert dongle.expire_tokens() == 1
        assert (await get_param(http, dongle, token))["result_code"] == 106


async def test_login_required_answers_401_until_login(dongle, http):
    dongle.options.login_required = True
    async with await open_ws(http, dongle) as ws:
        token = await connect(ws)
        refused = await ws_request(ws, token, "devicelist", type="0")
        assert refused["result_code"] == 401
        assert refused["result_msg"] == "I18N_COMMON_INTER_ABNORMAL"
        assert (await get_param(http, dongle, token))["result_code"] == 401
        bad = await ws_request(ws, token, "login", **{"username": "admin", "passwd": "x"})
        assert bad["result_code"] == 401
        creds = {"username": "admin", "passwd": "pw8888"}
        login = await ws_request(ws, token, "login", **creds)
        assert login["result_code"] == 1
        fresh = login["result_data"]["token"]
        listed = await ws_request(ws, fresh, "devicelist", type="0")
        assert listed["result_code"] == 1
        assert (await get_param(http, dongle, fresh))["result_code"] == 1
        assert (await get_param(http, dongle, token))["result_code"] == 106


async def test_session_limit_answers_100_for_one_session_too_many(dongle, http):
    dongle.options.max_sessions = 1
    async with await open_ws(http, dongle) as first, await open_ws(http, dongle) as second:
        await connect(first)
        refused = await ws_request(second, "", "connect")
        assert refused["result_code"] == 100
        assert refused["result_data"] == {"service": "connect"}


async def test_read_failures_answer_301_with_the_configured_probability(dongle, http):
    dongle.options.read_failure_probability = 1.0
    async with await open_ws(http, dongle) as ws:
        token = await connect(ws)
        assert (await get_param(http, dongle, token))["result_code"] == 301
        dongle.options.read_failure_probability = 0.0
        assert (await get_param(http, dongle, token))["result_code"] == 1


async def test_modbus_exception_and_unknown_device_answer_301(dongle, http):
    async with await open_ws(http, dongle) as ws:
        token = await connect(ws)
        exc = await get_param(http, dongle, token, param_addr="40001")
        assert (exc["result_code"], exc["result_data"]) == (301, {"detail": "modbus exception 2"})
        missing = await get_param(http, dongle, token, dev_id="7")
        assert missing["result_code"] == 301


@pytest.mark.parametrize(
    "override", [{"param_num": "126"}, {"param_addr": "x"}, {"param_type": "9"}, {"type": "1"}]
)
async def test_malformed_getparam_gets_an_error_answer(dongle, http, override):
    async with await open_ws(http, dongle) as ws:
        token = await connect(ws)
        reply = await get_param(http, dongle, token, **override)
        assert reply["result_code"] == 301
        assert reply["result_msg"] == "I18N_COMMON_PARAMETER_ERROR"
        assert (await get_param(http, dongle, token))["result_code"] == 1


@pytest.mark.parametrize("text", ["not json", "[1]", '{"service": 1}'])
async def test_malformed_ws_message_closes_that_connection_only(dongle, http, text):
    async with await open_ws(http, dongle) as ws:
        await ws.send_str(text)
        closing = await ws.receive(timeout=5)
        assert closing.type == aiohttp.WSMsgType.CLOSE
        assert closing.data == 1003
    async with await open_ws(http, dongle) as ws:
        assert await connect(ws)


async def test_unknown_service_gets_an_error_answer(dongle, http):
    async with await open_ws(http, dongle) as ws:
        token = await connect(ws)
        reply = await ws_request(ws, token, "runtime")
        assert (reply["result_code"], reply["result_data"]) == (301, {"service": "runtime"})


async def test_binary_frame_closes_the_connection(dongle, http):
    async with await open_ws(http, dongle) as ws:
        await ws.send_bytes(b"\x00\x01")
        assert (await ws.receive(timeout=5)).type == aiohttp.WSMsgType.CLOSE


async def test_getparam_is_not_served_on_the_websocket_port(dongle, http):
    url = f"http://127.0.0.1:{dongle.ws_port}/device/getParam"
    async with http.get(url) as response:
        assert response.status == 404


async def test_reply_delay_slows_answers(dongle, http):
    dongle.options.reply_delay_s = 0.3
    loop = asyncio.get_running_loop()
    async with await open_ws(http, dongle) as ws:
        start = loop.time()
        await connect(ws)
        assert loop.time() - start >= 0.3


async def test_busy_explicit_http_port_is_an_error(image):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError):
            await start_winet(image, bind="127.0.0.1", ws_port=0, http_port=port)


async def test_optional_http_port_that_cannot_be_bound_serves_websocket_alone(image, caplog):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = await start_winet(
            image, bind="127.0.0.1", ws_port=0, http_port=port, http_port_optional=True
        )
    try:
        assert server.http_port is None
        assert server.ws_port
        assert "cannot bind HTTP port" in caplog.text
    finally:
        await server.close()


async def test_options_object_is_shared_with_the_caller(image):
    options = WinetOptions(max_sessions=3)
    server = await start_winet(image, ws_port=0, http_port=None, options=options)
    try:
        assert server.options is options
        assert server.http_port is None
    finally:
        await server.close()


# Faults injected into the simulator's fault set, scope http ------------------------------


@pytest.fixture
async def faulty(image):
    image.faults = FaultSet(seed=0)
    server = await start_winet(image, None, "127.0.0.1", 0, 0)
    yield server
    await server.close()


def inject(image, kind: str, **options):
    return image.faults.add(FaultSpec(kind=kind, scope="http", **options))  # type: ignore[arg-type]


async def test_faults_of_other_scopes_do_not_touch_the_dongle(faulty, http, image):
    image.faults.add(FaultSpec(kind="exception", scope="modbus"))
    async with await open_ws(http, faulty) as ws:
        token = await connect(ws)
        assert (await get_param(http, faulty, token))["result_code"] == 1


async def test_token_expiry_fault_answers_106_and_a_new_connect_works_once_cleared(
    faulty, http, image
):
    async with await open_ws(http, faulty) as ws:
        token = await connect(ws)
        inject(image, "token-expiry")
        assert (await get_param(http, faulty, token))["result_code"] == 106
        image.faults.clear("token-expiry")
        fresh = await connect(ws)
        assert (await get_param(http, faulty, fresh))["result_code"] == 1


async def test_session_limit_fault_answers_100(faulty, http, image):
    inject(image, "session-limit", max_sessions=1)
    async with await open_ws(http, faulty) as first, await open_ws(http, faulty) as second:
        await connect(first)
        assert (await ws_request(second, "", "connect"))["result_code"] == 100


async def test_exception_fault_answers_301_for_its_range_only(faulty, http, image):
    inject(image, "exception", code=2, start=13000, count=10)
    async with await open_ws(http, faulty) as ws:
        token = await connect(ws)
        hit = await get_param(http, faulty, token, param_addr="13005", param_num="1")
        assert (hit["result_code"], hit["result_data"]) == (301, {"detail": "modbus exception 2"})
        assert (await get_param(http, faulty, token, param_addr="5000"))["result_code"] == 1


@pytest.mark.parametrize("kind", ["short-reply", "corrupt-reply"])
async def test_damaged_replies_do_not_decode_to_the_registers_asked_for(faulty, http, image, kind):
    inject(image, kind)
    async with await open_ws(http, faulty) as ws:
        token = await connect(ws)
        reply = await get_param(http, faulty, token, param_num="4")
    tokens = reply["result_data"]["param_value"].split(" ")
    tokens.pop()
    decodable = all(len(t) == 2 and set(t) <= set(string.hexdigits) for t in tokens)
    assert reply["result_code"] == 1
    assert len(tokens) != 8 or not decodable, tokens


async def test_drop_connection_fault_closes_without_an_answer(faulty, http, image):
    async with await open_ws(http, faulty) as ws:
        token = await connect(ws)
        inject(image, "drop-connection")
        with pytest.raises(aiohttp.ClientError):
            await get_param(http, faulty, token)


async def test_slow_reply_fault_delays_the_answer(faulty, http, image):
    async with await open_ws(http, faulty) as ws:
        token = await connect(ws)
        inject(image, "slow-reply", delay_s=0.3)
        start = asyncio.get_running_loop().time()
        assert (await get_param(http, faulty, token))["result_code"] == 1
        assert asyncio.get_running_loop().time() - start >= 0.3


async def test_refuse_connections_fault_closes_new_websockets(faulty, http, image):
    inject(image, "refuse-connections")
    async with await open_ws(http, faulty) as ws:
        assert (await ws.receive(timeout=5)).type == aiohttp.WSMsgType.CLOSE


async def test_config_model_with_the_same_fields_is_accepted(image):
    class Config(pydantic.BaseModel):
        login_required: bool = True
        max_sessions: int | None = 2

    server = await start_winet(image, Config(), "127.0.0.1", 0, None)
    try:
        assert server.options.login_required
        assert server.options.max_sessions == 2
    finally:
        await server.close()


async def test_tokens_are_bounded_per_websocket_and_in_total(image, http):
    options = WinetOptions(max_tokens_per_socket=3, max_tokens=5)
    dongle = await start_winet(image, options, "127.0.0.1", 0, 0)
    try:
        async with await open_ws(http, dongle) as first, await open_ws(http, dongle) as second:
            tokens = [await connect(first) for _ in range(10)]
            # One socket holds its 3 newest tokens; the older ones read 106 (invalid).
            codes = [(await get_param(http, dongle, t))["result_code"] for t in tokens]
            assert codes == [106] * 7 + [1] * 3
            assert [await connect(second) for _ in range(2)]  # 5 in all
            refused = await ws_request(second, "", "connect")
            assert refused["result_code"] == 100  # no more tokens anywhere
            assert (await get_param(http, dongle, tokens[-1]))["result_code"] == 1
        # Closing the sockets frees their tokens: a new socket gets one.
        async with await open_ws(http, dongle) as third:
            await wait_for_token_count(dongle, 0)
            assert await connect(third)
    finally:
        await dongle.close()


async def wait_for_token_count(dongle, count: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while dongle.sessions.count != count:
        assert loop.time() < deadline, dongle.sessions.count
        await asyncio.sleep(0.02)
