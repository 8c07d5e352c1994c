"""Byte-for-byte tests of the WiNet-S message formatting."""

import json

import pytest
from sungrow_sim.protocols.winet import messages as msgs

SH10RT = msgs.Device(
    unit_id=1, model="SH10RT", device_code=0x0E03, family="hybrid", serial="SIM0000001"
)


def test_hex_bytes_are_two_digit_big_endian_each_followed_by_a_space():
    assert msgs.hex_bytes([0x0E03, 0x0001, 0xFFFF, 0]) == "0e 03 00 01 ff ff 00 00 "


def test_hex_bytes_of_nothing_is_empty():
    assert msgs.hex_bytes([]) == ""


def test_hex_bytes_survive_the_clients_split_and_pop():
    # SungrowModbusWebClient: value.split(' '), pop() the trailing empty token, fromhex each.
    tokens = msgs.hex_bytes([0x1234, 0xABCD]).split(" ")
    tokens.pop()
    assert b"".join(bytes.fromhex(t) for t in tokens) == b"\x12\x34\xab\xcd"


def test_getparam_reply_is_exact_json_with_integer_result_code():
    text = msgs.dumps(msgs.getparam_reply([0x0E03]))
    assert text == (
        '{"result_code":1,"result_msg":"success","result_data":{"param_value":"0e 03 "}}'
    )


def test_connect_reply_is_exact_json():
    text = msgs.dumps(msgs.connect_reply("tok"))
    assert text == (
        '{"result_code":1,"result_msg":"success","result_data":'
        '{"service":"connect","token":"tok","uid":1,"tips_disable":1}}'
    )


def test_devicelist_reply_lists_the_inverter_with_decimal_dev_code():
    reply = msgs.devicelist_reply([SH10RT])
    assert reply["result_code"] == 1
    assert reply["result_msg"] == "success"
    data = reply["result_data"]
    assert data["service"] == "devicelist"
    assert data["count"] == 1
    entry = data["list"][0]
    assert entry["dev_type"] == 35
    assert entry["dev_code"] == 3587
    assert entry["dev_id"] == 1
    assert entry["id"] == 1
    assert entry["dev_sn"] == "SIM0000001"
    assert entry["dev_model"] == "SH10RT"
    assert entry["dev_name"] == "SH10RT(COM1-001)"


def test_string_inverters_are_dev_type_21():
    sg = SH10RT.model_copy(update={"model": "SG10RT", "device_code": 0x2433, "family": "string"})
    assert msgs.device_entry(1, sg)["dev_type"] == 21


def test_error_answers_name_the_service():
    text = msgs.dumps(msgs.error(msgs.NOT_LOGGED_IN, msgs.MSG_NOT_LOGGED_IN, "devicelist"))
    assert text == (
        '{"result_code":401,"result_msg":"I18N_COMMON_INTER_ABNORMAL",'
        '"result_data":{"service":"devicelist"}}'
    )


def test_error_without_service_has_empty_result_data():
    assert msgs.dumps(msgs.error(106, "x")) == (
        '{"result_code":106,"result_msg":"x","result_data":{}}'
    )


def test_parse_getparam_reads_the_clients_query():
    query = {
        "dev_id": "1",
        "dev_type": "35",
        "dev_code": "3587",
        "type": "3",
        "param_addr": "13000",
        "param_num": "125",
        "param_type": "0",
        "token": "t",
        "lang": "en_us",
        "time123456": "1700000000",
    }
    parsed = msgs.parse_getparam(query)
    assert (parsed.dev_id, parsed.table, parsed.wire_address, parsed.param_num) == (
        1,
        "input",
        12999,
        125,
    )
    assert msgs.parse_getparam({**query, "param_type": "1"}).table == "holding"


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"param_num": "126"}, "param_num"),
        ({"param_num": "0"}, "param_num"),
        ({"param_addr": "abc"}, "param_addr"),
        ({"param_type": "2"}, "param_type"),
        ({"type": "2"}, "type"),
        ({"dev_id": ""}, "dev_id"),
    ],
)
def test_parse_getparam_names_the_bad_parameter(change, names):
    query = {"dev_id": "1", "type": "3", "param_addr": "5000", "param_num": "1"}
    query |= {"param_type": "0", "token": "t"} | change
    with pytest.raises(ValueError, match=names):
        msgs.parse_getparam(query)


def test_parse_getparam_names_a_missing_parameter():
    with pytest.raises(ValueError, match="param_addr"):
        msgs.parse_getparam(
            {"token": "t", "dev_id": "1", "type": "3", "param_num": "1"} | {"param_type": "0"}
        )


@pytest.mark.parametrize("text", ["", "{", "[]", '{"token": ""}', '{"service": 5}', "null"])
def test_parse_ws_message_rejects_malformed_requests(text):
    with pytest.raises(ValueError, match=r"JSON"):
        msgs.parse_ws_message(text)


def test_parse_ws_message_returns_the_request():
    request = {"lang": "en_us", "token": "", "service": "connect"}
    assert msgs.parse_ws_message(json.dumps(request)) == request
