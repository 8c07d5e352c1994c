"""Helpers for the field-abuse tests: HTTP calls, Modbus reads, deadlines, process memory."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

from pymodbus.client import ModbusTcpClient

T = TypeVar("T")


def http(
    base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """(status, decoded JSON) of one control API call; body is JSON-encoded unless bytes."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        text = err.read()
        try:
            return err.code, json.loads(text)
        except ValueError:
            return err.code, text.decode(errors="replace")


def wait_until(check: Callable[[], T], timeout_s: float = 15.0, what: str = "condition") -> T:
    """Poll `check` until it returns a truthy value; fail after the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def read_input(port: int, wire: int, count: int, unit: int = 1) -> list[int]:
    """Input registers at a wire address, through a real pymodbus 3 client."""
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=0)
    assert client.connect(), "Modbus port does not accept connections"
    try:
        reply = client.read_input_registers(wire, count=count, device_id=unit)
        assert not reply.isError(), reply
        return list(reply.registers)
    finally:
        client.close()


def u32(registers: list[int]) -> int:
    """A Sungrow U32: low word first (the protocol's double-word order)."""
    return registers[0] | registers[1] << 16


def rss_kib(pid: int) -> int:
    """Resident set size of a process (Linux /proc)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")
