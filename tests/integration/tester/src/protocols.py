"""Read inverter registers over each protocol, written from the protocol descriptions.

Independent of the simulator's code: plain Modbus TCP through pymodbus 3, Sungrow's
encrypted Modbus TCP (key exchange, AES-128-ECB framing) over a raw socket, and the
WiNet-S WebSocket login plus HTTP getParam. No charm concerns here.
"""

from __future__ import annotations

import json
import secrets
import socket
import struct
import time
import urllib.error
import urllib.request
from typing import Any, Literal
from urllib.parse import urlencode

import websocket
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

Table = Literal["input", "holding"]
FUNCTION_CODES = {"input": 4, "holding": 3}
KEY_REQUEST = bytes.fromhex("6868 0000 0006 f7 04 0ae7 0008")
KEY_REPLY_LENGTH = 25
XOR_KEY = b"Grow#0*2Sun68CbE"
WS_PATH = "/ws/home/overview"
GETPARAM_PATH = "/device/getParam"


class ReadError(Exception):
    """The inverter did not answer the read with registers."""


def read_modbus(
    host: str, port: int, unit_id: int, table: Table, address: int, count: int, timeout: float
) -> list[int]:
    """Read registers over plain Modbus TCP (function code 4 or 3)."""
    client = ModbusTcpClient(host, port=port, timeout=timeout, retries=0)
    try:
        if not client.connect():
            raise ReadError(f"cannot connect to {host}:{port}")
        read = client.read_input_registers if table == "input" else client.read_holding_registers
        reply = read(address, count=count, device_id=unit_id)
    except ModbusException as e:
        raise ReadError(f"modbus read failed: {e}") from None
    finally:
        client.close()
    if reply.isError():
        raise ReadError(f"modbus exception code {getattr(reply, 'exception_code', '?')}")
    return list(reply.registers)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ReadError(f"connection closed after {len(data)} of {size} bytes")
        data += chunk
    return data


def sungrow_session_key(host: str, port: int, timeout: float) -> bytes:
    """Ask for the public key (unit 247, FC4 2791/8) and derive the AES key."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(KEY_REQUEST)
        reply = _recv_exact(sock, KEY_REPLY_LENGTH)
    public = reply[9:25]
    if public in (bytes(16), b"\xff" * 16):
        raise ReadError("no public key: the device speaks plain Modbus only")
    return bytes(a ^ b for a, b in zip(public, XOR_KEY, strict=True))


def encrypt_request(key: bytes, adu: bytes) -> bytes:
    """Frame an ADU: [1, 0, L, pad] + AES(68 68 + ADU[2:] + pad x FF)."""
    pad = 16 - len(adu) % 16
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 (protocol)
    body = encryptor.update(b"\x68\x68" + adu[2:] + b"\xff" * pad) + encryptor.finalize()
    return bytes([1, 0, len(adu), pad]) + body


def read_sungrow(
    host: str, port: int, unit_id: int, table: Table, address: int, count: int, timeout: float
) -> list[int]:
    """Read registers over encrypted Modbus TCP, reconnecting after the key exchange."""
    key = sungrow_session_key(host, port, timeout)
    adu = struct.pack(
        ">HHHBBHH", secrets.randbits(16), 0, 6, unit_id, FUNCTION_CODES[table], address, count
    )
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(encrypt_request(key, adu))
        header = _recv_exact(sock, 4)
        length, pad = header[2], header[3]
        body = _recv_exact(sock, length + pad)
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()  # noqa: S305 (protocol)
    plain = (decryptor.update(body) + decryptor.finalize())[:length]
    if len(plain) < 9:
        raise ReadError(f"short reply: {plain.hex(' ')}")
    function = plain[7]
    if function & 0x80:
        raise ReadError(f"modbus exception code {plain[8]}")
    size = plain[8]
    if len(plain) < 9 + size or size != 2 * count:
        raise ReadError(f"reply of {size} bytes for {count} registers: {plain.hex(' ')}")
    return list(struct.unpack(f">{count}H", plain[9 : 9 + size]))


def _ws_call(ws: websocket.WebSocket, message: dict[str, Any]) -> dict[str, Any]:
    ws.send(json.dumps(message))
    answer = json.loads(ws.recv())
    if answer.get("result_code") != 1:
        raise ReadError(f"WiNet-S {message['service']} failed: {answer}")
    return answer["result_data"]


def read_http(
    host: str,
    ws_port: int,
    http_port: int,
    unit_id: int,
    table: Table,
    address: int,
    count: int,
    timeout: float,
) -> list[int]:
    """Log in over the WebSocket, then read with HTTP getParam (documented address)."""
    try:
        ws = websocket.create_connection(f"ws://{host}:{ws_port}{WS_PATH}", timeout=timeout)
    except (OSError, websocket.WebSocketException) as e:
        raise ReadError(f"cannot open the WiNet-S WebSocket: {e}") from None
    try:
        token = _ws_call(ws, {"lang": "en_us", "token": "", "service": "connect"})["token"]
        devices = _ws_call(
            ws,
            {
                "lang": "en_us",
                "token": token,
                "service": "devicelist",
                "type": "0",
                "is_check_token": "0",
            },
        )["list"]
        device = next((d for d in devices if int(d["dev_id"]) == unit_id), None)
        if device is None:
            raise ReadError(f"no device with id {unit_id} in {devices}")
        query = {
            "dev_id": device["dev_id"],
            "dev_type": device["dev_type"],
            "dev_code": device["dev_code"],
            "type": "3",
            "param_addr": address + 1,
            "param_num": count,
            "param_type": 0 if table == "input" else 1,
            "token": token,
            "lang": "en_us",
            "time123456": int(time.time() * 1000),
        }
        url = f"http://{host}:{http_port}{GETPARAM_PATH}?{urlencode(query)}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                answer = json.loads(response.read())
        except (OSError, urllib.error.URLError) as e:
            raise ReadError(f"getParam failed: {e}") from None
    except (OSError, websocket.WebSocketException) as e:
        raise ReadError(f"WiNet-S WebSocket failed: {e}") from None
    finally:
        ws.close()
    if answer.get("result_code") != 1:
        raise ReadError(f"getParam answered {answer}")
    hex_bytes = answer["result_data"]["param_value"].split()
    if len(hex_bytes) != 2 * count:
        raise ReadError(f"getParam returned {len(hex_bytes)} bytes for {count} registers")
    return [int(hex_bytes[i], 16) << 8 | int(hex_bytes[i + 1], 16) for i in range(0, 2 * count, 2)]
