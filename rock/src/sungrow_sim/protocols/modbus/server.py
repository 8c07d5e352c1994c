"""Modbus TCP server: one asyncio protocol per connection.

Plain and encrypted frames share one port; transport faults apply per request.
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
from dataclasses import dataclass

from sungrow_sim.protocols.limits import Limits, Listener, Watchdog, peer_of
from sungrow_sim.protocols.modbus import framing, pdu
from sungrow_sim.protocols.source import RegisterStore
from sungrow_sim.protocols.transport import Effect, TransportFaults
from sungrow_sim.ratelimit import log_limited
from sungrow_sim.registers import ExceptionCode

log = logging.getLogger(__name__)

MAX_BUFFER = 4096
# Back-pressure: above this many unsent reply bytes the connection stops reading requests
# until the client has taken most of them (asyncio's pause_writing/resume_writing).
WRITE_HIGH_WATER = 64 * 1024
WRITE_LOW_WATER = 16 * 1024
SCOPES = ("modbus", "sungrow")  # the fault scopes this port serves: plain, encrypted


@dataclass
class ModbusOptions:
    """Which framings the port speaks."""

    plain: bool = True
    encrypted: bool = True
    public_key: bytes = b""


class ModbusServer:
    """Listens on one port; tracks sessions for the session-limit fault."""

    def __init__(
        self, sim: RegisterStore, options: ModbusOptions, limits: Limits | None = None
    ) -> None:
        self.sim = sim
        self.listener = Listener("modbus", limits)
        self.options = options
        self.faults = TransportFaults(sim.faults, SCOPES)
        self.cipher = framing.SungrowCipher(options.public_key) if options.encrypted else None
        self.sessions: set[ModbusConnection] = set()
        self.server: asyncio.Server | None = None
        self._rng = random.Random(0)

    async def start(self, host: str, port: int) -> int:
        """Bind and listen; returns the port (useful with port 0)."""
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: ModbusConnection(self), host, port, reuse_address=True, backlog=512
        )
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close every session."""
        if self.server is not None:
            self.server.close()
            for session in list(self.sessions):
                session.transport.abort()
            await self.server.wait_closed()

    def admit(self) -> bool:
        """Whether a new connection may open, given connection faults."""
        if self.faults.refuses():
            return False
        limit = self.faults.session_limit()
        return limit is None or len(self.sessions) < limit

    def garbage(self, size: int) -> bytes:
        """Deterministic junk for corrupt replies."""
        return bytes(self._rng.randrange(256) for _ in range(size))


class ModbusConnection(asyncio.Protocol):
    """One client connection."""

    def __init__(self, server: ModbusServer) -> None:
        self.server = server
        self.buffer = bytearray()
        self.transport: asyncio.Transport
        self.peer = "?"
        self.watchdog: Watchdog | None = None
        self.paused = False  # reading paused: too many replies unsent

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.peer = peer_of(transport)
        if not self.server.listener.admit(self.peer):
            transport.abort()
            return
        self.watchdog = Watchdog(self.server.listener, transport, self.peer)
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER, low=WRITE_LOW_WATER)
        if not self.server.admit():
            transport.abort()
            return
        self.server.sessions.add(self)

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        self.server.sessions.discard(self)
        if self.watchdog is not None:
            self.watchdog.stop()
            self.watchdog = None
            self.server.listener.release(self.peer)

    def pause_writing(self) -> None:  # noqa: D102
        # The client does not read its replies: stop reading its requests.
        self.paused = True
        if not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_writing(self) -> None:  # noqa: D102
        self.paused = False
        if self.transport.is_closing():
            return
        self.transport.resume_reading()
        try:
            self._drain()  # requests that arrived before the pause
        except ValueError as err:
            log_limited(log, logging.INFO, "bad-frame", "closing connection: %s", err)
            self.transport.abort()

    def data_received(self, data: bytes) -> None:  # noqa: D102
        if self.watchdog is None:
            return
        self.watchdog.touch()
        self.buffer += data
        waiting = len(self.buffer)
        try:
            self._drain()
        except ValueError as err:
            log_limited(log, logging.INFO, "bad-frame", "closing connection: %s", err)
            self.transport.abort()
            return
        if len(self.buffer) < waiting or self.paused:
            self.watchdog.end_request()  # a frame completed: the next one gets its own time
        if self.buffer and not self.paused:
            self.watchdog.start_request()  # a partial frame: it must be complete in time

    def _drain(self) -> None:
        while self.buffer and not self.transport.is_closing() and not self.paused:
            if framing.is_encrypted(self.buffer):
                used = self._encrypted_frame()
            else:
                used = self._plain_frame()
            if not used:
                if len(self.buffer) > MAX_BUFFER:
                    raise ValueError("oversized frame")
                return
            del self.buffer[:used]

    def _plain_frame(self) -> int:
        size = framing.mbap_frame_length(self.buffer)
        if size < 0:
            raise ValueError("not a Modbus TCP frame")
        if size == 0:
            return 0
        frame = bytes(self.buffer[:size])
        if frame == framing.GET_KEY:
            key = self.server.options.public_key if self.server.cipher else b"\0" * 16
            self._send(framing.key_reply(key), encrypted=False)
        elif self.server.options.plain:
            self._request(frame, "modbus")
        else:
            raise ValueError("plain Modbus is switched off on this port")
        return size

    def _encrypted_frame(self) -> int:
        cipher = self.server.cipher
        if cipher is None:
            raise ValueError("encrypted frame but the sungrow protocol is switched off")
        used, adu = cipher.decrypt_frame(self.buffer)
        if adu is not None:
            if framing.mbap_frame_length(adu) != len(adu):
                raise ValueError("encrypted frame does not hold one Modbus frame")
            self._request(adu, "sungrow")
        return used

    def _request(self, adu: bytes, protocol: str) -> None:
        tid, unit, request = struct.unpack_from(">H", adu)[0], adu[6], adu[7:]
        read = pdu.read_request(request)
        wire, count = (read[1], read[2]) if read else (None, 1)
        effect = self.server.faults.request(protocol, unit, wire, count)
        if effect.close:
            self.transport.abort()
            return
        if not effect.answer:
            return
        encrypted = protocol == "sungrow"
        if effect.malformed:
            # WiNet-S bug: an exception PDU announced with MBAP length 2 instead of 3.
            function = (request[0] & 0x7F) | 0x80
            frame = struct.pack(">HHHBBB", tid, 0, 2, unit, function, effect.exception or 0)
        else:
            frame = framing.build_mbap(tid, unit, self._response(effect, unit, request, encrypted))
        self._send(frame, encrypted, effect)

    def _response(self, effect: Effect, unit: int, request: bytes, encrypted: bool) -> bytes:
        """The response PDU to a request, under the fault's effect."""
        if effect.exception is not None:
            return pdu.exception_pdu(request[0], effect.exception)
        response = pdu.handle(self.server.sim, unit, request)
        if encrypted and len(response) + framing.MBAP_HEADER > framing.MAX_ENCRYPTED_ADU:
            # The one-byte length cannot frame this reply (more than 123 registers): answer
            # a clean exception so only this read fails and the stream stays in step.
            return pdu.exception_pdu(request[0], ExceptionCode.ILLEGAL_VALUE)
        if effect.damage == "corrupt" and len(response) > 2:
            wrong = (response[1] + 2) & 0xFF
            return response[:1] + bytes([wrong]) + self.server.garbage(len(response) - 2)
        return response

    def _send(self, frame: bytes, encrypted: bool, effect: Effect | None = None) -> None:
        if encrypted and self.server.cipher is not None:
            frame = self.server.cipher.encrypt_frame(frame)
        if effect is not None and effect.damage == "short":
            frame = frame[: max(1, len(frame) // 2)]
        if effect is not None and effect.delay_s:
            asyncio.get_running_loop().call_later(effect.delay_s, self._write_later, frame)
            return
        self.transport.write(frame)

    def _write_later(self, frame: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(frame)
