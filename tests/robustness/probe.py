"""Helpers for the robustness suite: reply checks and a valid reader (wire: tools.wire).

The valid reader is a real pymodbus 3 client reading registers whose values the
simulator's control API states exactly (device code, serial, overridden active power);
every answer it gets during an abuse run is compared with that state.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from pymodbus.client import AsyncModbusTcpClient
from sungrow_sim.registers import decode

from tools.wire import HOST, decode_ascii

DEVICE_CODE_WIRE = 4999
SERIAL_WIRE = 4989
ACTIVE_POWER_WIRE = 13033  # documented 13034 total_active_power, S32 low word first


def check_pdu(pdu: bytes) -> None:
    """A response PDU is an exception (2 bytes) or a register reply with a true count."""
    if pdu[0] & 0x80:
        assert len(pdu) == 2, f"exception PDU {pdu.hex()}"
    elif pdu[0] in (3, 4):
        assert len(pdu) == 2 + pdu[1] and pdu[1] % 2 == 0, f"read reply {pdu[:8].hex()}"


@dataclass
class Expected:
    """What the valid client must read, from the control API's state."""

    device_code: int
    serial: str
    active_power_w: int

    @classmethod
    def from_state(cls, inverter: dict) -> Expected:
        """From one `ctl state` inverter entry."""
        return cls(
            inverter["device_code"],
            inverter["serial"],
            round(inverter["readings"]["active_power_w"]),
        )


@dataclass
class ValidReader:
    """Reads the expected registers over and over until stopped; records every mismatch."""

    port: int
    expected: Expected
    unit: int = 1
    reads: int = 0
    errors: list[str] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        """Read until `stop()`; reconnect never (a dropped valid connection is an error)."""
        client = AsyncModbusTcpClient(HOST, port=self.port, timeout=5, retries=0)
        if not await client.connect():
            self.errors.append("valid client could not connect")
            return
        try:
            while not self._stop.is_set():
                await self._one(client)
                await asyncio.sleep(0.005)
        finally:
            client.close()

    async def _one(self, client: AsyncModbusTcpClient) -> None:
        exp = self.expected
        checks = (
            (DEVICE_CODE_WIRE, 1, lambda r: r[0] == exp.device_code),
            (SERIAL_WIRE, 10, lambda r: decode_ascii(r) == exp.serial),
            (ACTIVE_POWER_WIRE, 2, lambda r: decode("S32", r) == exp.active_power_w),
        )
        for address, count, good in checks:
            try:
                reply = await client.read_input_registers(
                    address, count=count, device_id=self.unit
                )
            except Exception as err:
                self.errors.append(f"read {address}/{count}: {type(err).__name__}: {err}")
                continue
            self.reads += 1
            if reply.isError() or not good(reply.registers):
                self.errors.append(f"read {address}/{count}: wrong answer {reply}")

    def stop(self) -> None:
        """Ask `run` to finish after the current read."""
        self._stop.set()


@contextlib.asynccontextmanager
async def reading_alongside(port: int, expected: Expected):
    """Run a ValidReader during the block; assert it read and got only right answers."""
    reader = ValidReader(port, expected)
    task = asyncio.create_task(reader.run())
    try:
        yield reader
    finally:
        reader.stop()
        await asyncio.wait_for(task, 30)
    assert reader.errors == [], reader.errors[:5]
    assert reader.reads > 0


def unexpected_tracebacks(log: str) -> list[str]:
    """Tracebacks in a server log, except aiohttp's for requests it answered 400.

    aiohttp logs "Error handling request" with a traceback for a request its HTTP parser
    rejects (e.g. a request line over 8190 bytes) after answering it 400: that is the
    server working, not failing.
    """
    found = []
    for chunk in log.split("Traceback (most recent call last):")[1:]:
        lines = [line for line in chunk.splitlines() if line and not line.startswith(" ")]
        last = lines[0] if lines else ""
        if not last.startswith("aiohttp.http_exceptions."):
            found.append(last)
    return found
