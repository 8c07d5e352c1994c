"""WiNet-S dongle messages: pure JSON and hex formatting, and query parsing.

Shapes follow SungrowModbusWebClient 0.3.2 and reports of real dongles: every answer is
`{"result_code": int, "result_msg": str, "result_data": {...}}`, register values travel as
two-digit hex bytes, each followed by a space.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

WS_PATH = "/ws/home/overview"
GETPARAM_PATH = "/device/getParam"

SUCCESS = 1
USER_LIMIT = 100
TOKEN_INVALID = 106
READ_FAILED = 301
NOT_LOGGED_IN = 401
# No real dongle's code for a malformed request is known; clients fail on any code but 1.
BAD_REQUEST = READ_FAILED

MSG_SUCCESS = "success"
MSG_USER_LIMIT = "I18N_COMMON_USER_LIMIT"
MSG_TOKEN_INVALID = "I18N_COMMON_TOKEN_INVALID"  # noqa: S105 - a message, not a secret
MSG_READ_FAILED = "I18N_COMMON_READ_FAILED"
MSG_NOT_LOGGED_IN = "I18N_COMMON_INTER_ABNORMAL"
MSG_LOGIN_FAILED = "I18N_COMMON_LOGIN_FAILED"
MSG_BAD_REQUEST = "I18N_COMMON_PARAMETER_ERROR"
MSG_UNKNOWN_SERVICE = "I18N_COMMON_UNKNOWN_SERVICE"

# WiNet-S device types: 21 PV (string) inverter, 35 hybrid inverter.
DEV_TYPES = {"string": 21, "hybrid": 35}

# The dongle reads at most one Modbus frame's worth of registers.
MAX_PARAM_NUM = 125


def dumps(message: Mapping[str, Any]) -> str:
    """Serialise a message compactly, as the dongle does."""
    return json.dumps(message, separators=(",", ":"))


def hex_bytes(registers: Sequence[int]) -> str:
    """Format 16-bit registers as big-endian hex bytes, each followed by a space.

    >>> hex_bytes([0x0E03, 1])
    '0e 03 00 01 '
    """
    return "".join(f"{byte:02x} " for reg in registers for byte in reg.to_bytes(2, "big"))


def answer(code: int, msg: str, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build one dongle answer."""
    return {"result_code": code, "result_msg": msg, "result_data": dict(data or {})}


def error(code: int, msg: str, service: str | None = None) -> dict[str, Any]:
    """Build an error answer; WebSocket errors name the service they answer."""
    return answer(code, msg, {"service": service} if service else None)


def connect_reply(token: str) -> dict[str, Any]:
    """Answer the `connect` service with a fresh token."""
    data = {"service": "connect", "token": token, "uid": 1, "tips_disable": 1}
    return answer(SUCCESS, MSG_SUCCESS, data)


def login_reply(token: str) -> dict[str, Any]:
    """Answer a successful `login` with the token to use from now on."""
    data = {"service": "login", "token": token, "uid": 1, "role": 0, "tips_disable": 1}
    return answer(SUCCESS, MSG_SUCCESS, data)


class Device(BaseModel):
    """One inverter as the dongle lists it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    unit_id: int
    model: str
    device_code: int
    family: Literal["string", "hybrid"]
    serial: str


def device_entry(index: int, device: Device) -> dict[str, Any]:
    """One `devicelist` entry; dev_id is the Modbus unit id the client reads with."""
    return {
        "id": index,
        "dev_id": device.unit_id,
        "dev_code": device.device_code,
        "dev_type": DEV_TYPES[device.family],
        "dev_procotol": 2,
        "inv_type": 0,
        "dev_sn": device.serial,
        "dev_name": f"{device.model}(COM1-{device.unit_id:03d})",
        "dev_model": device.model,
        "port_name": "COM1",
        "phys_addr": str(device.unit_id),
        "logc_addr": str(device.unit_id),
        "link_status": 1,
        "init_status": 1,
        "dev_special": "0",
    }


def devicelist_reply(devices: Sequence[Device]) -> dict[str, Any]:
    """Answer the `devicelist` service."""
    entries = [device_entry(index, device) for index, device in enumerate(devices, start=1)]
    data = {"service": "devicelist", "list": entries, "count": len(entries)}
    return answer(SUCCESS, MSG_SUCCESS, data)


def getparam_reply(registers: Sequence[int]) -> dict[str, Any]:
    """Answer a successful `getParam` read."""
    return answer(SUCCESS, MSG_SUCCESS, {"param_value": hex_bytes(registers)})


class GetParamQuery(BaseModel):
    """The query of `GET /device/getParam` (other parameters are ignored)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    token: str = Field(min_length=1)
    dev_id: int = Field(ge=0, le=255)
    type: int = Field(ge=3, le=3, description="3 = read parameters")
    param_addr: int = Field(ge=1, le=65536)
    param_num: int = Field(ge=1, le=MAX_PARAM_NUM)
    param_type: int = Field(ge=0, le=1, description="0 input, 1 holding registers")

    @property
    def table(self) -> Literal["input", "holding"]:
        """Register table: param_type 0 reads input registers, 1 holding registers."""
        return "input" if self.param_type == 0 else "holding"

    @property
    def wire_address(self) -> int:
        """param_addr is the documented address; the wire address is one less."""
        return self.param_addr - 1


def parse_getparam(query: Mapping[str, str]) -> GetParamQuery:
    """Validate a getParam query.

    Raises:
        ValueError: naming the first invalid or missing parameter.
    """
    try:
        return GetParamQuery.model_validate(dict(query))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "query"
        raise ValueError(f"{where}: {first['msg']}") from None


def parse_ws_message(text: str) -> dict[str, Any]:
    """Decode one WebSocket request.

    Raises:
        ValueError: if it is not a JSON object naming a service.
    """
    try:
        message = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg}") from None
    except RecursionError:  # e.g. 30000 nested arrays: json.loads gives up
        raise ValueError("not JSON: nested too deeply") from None
    if not isinstance(message, dict) or not isinstance(message.get("service"), str):
        raise ValueError("not a JSON object with a string 'service'")
    return message
