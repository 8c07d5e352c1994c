"""Helpers for the robustness suite: raw exchanges, frame checks and a valid reader.

The valid reader is a real pymodbus 3 client reading registers whose values the
simulator's control API states exactly (device code, serial, overridden active power);
every answer it gets during an abuse run is compared with that state.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from pymodbus.client import AsyncModbusTcpClient
from sungrow_sim.registers import decode, decode_ascii

HOST = "127.0.0.1"  # every fuzz loop targets loopback only
DEVICE_CODE_WIRE = 4999
SERIAL_WIRE = 4989
ACTIVE_POWER_WIRE = 13033  # documented 13034 total_active_power, S32 low word first


LATE_S = 5.0  # how long a loaded machine may take to send what is still owed


async def exchange(
    port: int, data: bytes, wait_s: float = 0.3, done: Callable[[bytes], bool] | None = None
) -> tuple[bytes, bool]:
    """Send bytes, collect the answer; (reply, closed by the server).

    Reads until `done(reply)` holds, the server closes, or `wait_s` passes with `done`
    unset; a reply that ends in a partial MBAP frame is read on for up to LATE_S.
    """
    reader, writer = await asyncio.open_connection(HOST, port)
    received = bytearray()
    closed = False
    loop = asyncio.get_running_loop()
    quiet = loop.time() + (LATE_S if done else wait_s)
    hard = loop.time() + LATE_S
    try:
        writer.write(data)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        while not (done and done(bytes(received))):
            deadline = quiet if _whole_frames(received) else hard
            if (left := deadline - loop.time()) <= 0:
                break
            try:
                chunk = await asyncio.wait_for(reader.read(4096), left)
            except TimeoutError:
                break
            except ConnectionError:
                chunk = b""
            if not chunk:
                closed = True
                break
            received += chunk
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return bytes(received), closed


def _whole_frames(data: bytes | bytearray) -> bool:
    """True unless the data ends inside an MBAP frame (encrypted streams count as whole)."""
    while len(data) >= 6 and data[2:4] == b"\0\0":
        size = 6 + int.from_bytes(data[4:6], "big")
        if len(data) < size:
            return False
        data = data[size:]
    return len(data) == 0 or data[2:4] != b"\0\0" or len(data) >= 6


def frame_count(count: int) -> Callable[[bytes], bool]:
    """`done` for `exchange`: at least `count` whole MBAP frames arrived."""

    def done(data: bytes) -> bool:
        seen = 0
        while len(data) >= 6 and seen < count:
            size = 6 + int.from_bytes(data[4:6], "big")
            if len(data) < size:
                break
            data, seen = data[size:], seen + 1
        return seen >= count

    return done


def encrypted_count(count: int) -> Callable[[bytes], bool]:
    """`done` for `exchange`: at least `count` whole encrypted frames arrived."""

    def done(data: bytes) -> bool:
        seen = 0
        while len(data) >= 4 and seen < count:
            size = 4 + data[2] + data[3]
            if len(data) < size:
                break
            data, seen = data[size:], seen + 1
        return seen >= count

    return done


def at_least(size: int) -> Callable[[bytes], bool]:
    """`done` for `exchange`: at least `size` bytes arrived."""
    return lambda data: len(data) >= size


def mbap_frames(data: bytes) -> list[tuple[int, int, bytes]]:
    """Split a reply stream into (transaction id, unit, PDU); AssertionError if malformed."""
    frames = []
    while data:
        assert len(data) >= 8, f"truncated MBAP frame {data.hex()}"
        tid, proto, length, unit = struct.unpack_from(">HHHB", data)
        assert proto == 0, f"protocol id {proto} in {data[:8].hex()}"
        assert 2 <= length <= 254 and len(data) >= 6 + length, f"bad length in {data.hex()}"
        frames.append((tid, unit, data[7 : 6 + length]))
        data = data[6 + length :]
    return frames


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


# Sungrow's encrypted framing, written from the protocol description (SPEC.md) so the
# tests do not reuse the server's own code.
GET_KEY = bytes.fromhex("686800000006f7040ae70008")
PRIV_KEY = b"Grow#0*2Sun68CbE"


async def fetch_key(port: int) -> bytes:
    """The public key, as SungrowModbusTcpClient asks for it."""
    reply, _ = await exchange(port, GET_KEY, done=at_least(25))
    assert len(reply) == 25, reply.hex()
    return reply[9:]


def _aes(public_key: bytes):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = bytes(a ^ b for a, b in zip(public_key, PRIV_KEY, strict=True))
    return Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305 - the protocol's choice


def encrypt(public_key: bytes, adu: bytes) -> bytes:
    """[1, 0, L, pad] + AES(0x6868 + ADU[2:] + 0xFF * pad)."""
    pad = 16 - len(adu) % 16
    enc = _aes(public_key).encryptor()
    body = enc.update(b"\x68\x68" + adu[2:] + b"\xff" * pad) + enc.finalize()
    return bytes([1, 0, len(adu), pad]) + body


def decrypt(public_key: bytes, data: bytes) -> list[bytes]:
    """Every encrypted reply frame in a stream, decrypted to its ADU."""
    adus = []
    while data:
        assert len(data) >= 4 and data[:2] == b"\x01\x00", data[:4].hex()
        length, pad = data[2], data[3]
        dec = _aes(public_key).decryptor()
        plain = dec.update(data[4 : 4 + length + pad]) + dec.finalize()
        adus.append(plain[:length])
        data = data[4 + length + pad :]
    return adus


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
