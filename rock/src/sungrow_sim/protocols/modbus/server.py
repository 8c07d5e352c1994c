"""Modbus TCP server: one asyncio protocol per connection.

Plain and encrypted frames share one port; transport faults apply per request.
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
import time
from dataclasses import dataclass

from sungrow_sim.protocols.limits import Limits, Listener, Watchdog, peer_of
from sungrow_sim.protocols.modbus import framing, pdu
from sungrow_sim.protocols.source import RegisterStore
from sungrow_sim.protocols.transport import Effect, TransportFaults
from sungrow_sim.ratelimit import log_limited
from sungrow_sim.registers import ExceptionCode
from sungrow_sim.telemetry import NULL, Recorder, exception_outcome
from sungrow_sim.telemetry.recorder import DROPPED, OK

log = logging.getLogger(__name__)

MAX_BUFFER = 4096
# Back-pressure: above this many unsent reply bytes the connection stops reading requests
# until the client has taken most of them (asyncio's pause_writing/resume_writing).
WRITE_HIGH_WATER = 64 * 1024
WRITE_LOW_WATER = 16 * 1024
SCOPES = ("modbus", "sungrow")  # the fault scopes this port serves: plain, encrypted
LISTENER = "modbus"  # the port's name in the telemetry (connections, sessions)
WRITES = (6, 16)


@dataclass
class ModbusOptions:
    """Which framings the port speaks."""

    plain: bool = True
    encrypted: bool = True
    public_key: bytes = b""


class ModbusServer:
    """Listens on one port; tracks sessions for the session-limit fault."""

    def __init__(
        self,
        sim: RegisterStore,
        options: ModbusOptions,
        limits: Limits | None = None,
        recorder: Recorder = NULL,
    ) -> None:
        self.sim = sim
        self.listener = Listener("modbus", limits)
        self.options = options
        self.recorder = recorder
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
        return self.refusal() is None

    def refusal(self) -> str | None:
        """The connection fault that turns a new connection away, if one does."""
        if self.faults.refuses():
            return "refuse-connections"
        limit = self.faults.session_limit()
        if limit is not None and len(self.sessions) >= limit:
            return "session-limit"
        return None

    def garbage(self, size: int) -> bytes:
        """Deterministic junk for corrupt replies."""
        return bytes(self._rng.randrange(256) for _ in range(size))


class ModbusConnection(asyncio.Protocol):
    """One client connection."""

    def __init__(self, server: ModbusServer) -> None:
        self.server = server
        self.buffer = bytearray()
        self.transport: asyncio.Transport
        self.recorder = server.recorder
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
        refusal = self.server.refusal()
        if refusal is not None:
            self.recorder.fault_fired(refusal, LISTENER)
            transport.abort()
            return
        self.server.sessions.add(self)
        self.recorder.connection_opened(LISTENER)

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        if self in self.server.sessions:
            self.server.sessions.discard(self)
            self.recorder.connection_closed(LISTENER)
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
            self._drop(err)

    def data_received(self, data: bytes) -> None:  # noqa: D102
        if self.watchdog is None:
            return
        self.watchdog.touch()
        self.buffer += data
        waiting = len(self.buffer)
        try:
            self._drain()
        except ValueError as err:
            self._drop(err)
            return
        if len(self.buffer) < waiting or self.paused:
            self.watchdog.end_request()  # a frame completed: the next one gets its own time
        if self.buffer and not self.paused:
            self.watchdog.start_request()  # a partial frame: it must be complete in time

    def _drop(self, err: ValueError) -> None:
        """Close the connection over malformed traffic: log (rate-limited), record, abort."""
        protocol = "sungrow" if framing.is_encrypted(self.buffer) else "modbus"
        extra = {"peer": self.peer, "protocol": protocol}
        log_limited(log, logging.INFO, "bad-frame", "closing connection: %s", err, extra=extra)
        self.recorder.request(
            protocol, self.peer, None, None, "other", None, None, DROPPED,
            bytes_in=len(self.buffer),
        )  # fmt: skip
        self.transport.abort()

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
            sent = self._send(framing.key_reply(key), encrypted=False)
            self.recorder.traffic("sungrow", size, sent)
        elif self.server.options.plain:
            self._request(frame, "modbus", size)
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
            self._request(adu, "sungrow", used)
        return used

    def _request(self, adu: bytes, protocol: str, size_in: int) -> None:
        started = time.perf_counter()
        tid, unit, request = struct.unpack_from(">H", adu)[0], adu[6], adu[7:]
        read = pdu.read_request(request)
        wire, count = (read[1], read[2]) if read else (None, 1)
        effect = self.server.faults.request(protocol, unit, wire, count)
        kind = effect.fault and effect.fault.kind
        if kind is not None:
            _log_fault(kind, protocol, self.peer, unit, wire, count)
        if not effect.answer:
            if effect.close:
                self.transport.abort()
            self._record(protocol, unit, request, read, kind or OK, None, size_in, 0, kind)
            return
        encrypted = protocol == "sungrow"
        if effect.malformed:
            # WiNet-S bug: an exception PDU announced with MBAP length 2 instead of 3.
            function = (request[0] & 0x7F) | 0x80
            frame = struct.pack(">HHHBBB", tid, 0, 2, unit, function, effect.exception or 0)
            outcome = kind
        else:
            response = self._response(effect, unit, request, encrypted)
            frame = framing.build_mbap(tid, unit, response)
            outcome = kind or (exception_outcome(response[1]) if response[0] & 0x80 else OK)
        sent = self._send(frame, encrypted, effect)
        latency = time.perf_counter() - started + effect.delay_s
        if read is not None:  # the common case, recorded without parsing again
            self.recorder.request(
                protocol, self.peer, unit, pdu.TABLES[read[0]], "read", read[1] + 1, read[2],
                outcome or OK, latency, size_in, sent, kind,
            )  # fmt: skip
            return
        self._record(protocol, unit, request, read, outcome or OK, latency, size_in, sent, kind)

    def _record(
        self,
        protocol: str,
        unit: int,
        request: bytes,
        read: tuple[int, int, int] | None,
        outcome: str,
        latency: float | None,
        size_in: int,
        size_out: int,
        fault: str | None,
    ) -> None:
        """Tell the recorder about one request (documented addresses: wire + 1)."""
        code = request[0] if request else 0
        table: str | None = None
        wire = count = None
        if read is not None:
            table, function = pdu.TABLES[read[0]], "read"
            wire, count = read[1], read[2]
        elif code in WRITES and len(request) >= 5:
            table, function = "holding", "write"
            wire = struct.unpack_from(">H", request, 1)[0]
            count = 1 if code == 6 else struct.unpack_from(">H", request, 3)[0]
            if outcome == OK:
                self.recorder.registers_written(unit, wire, count, protocol)
        else:
            function = "other"
        address = None if wire is None else wire + 1
        self.recorder.request(
            protocol, self.peer, unit, table, function, address, count, outcome,
            latency, size_in, size_out, fault,
        )  # fmt: skip

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

    def _send(self, frame: bytes, encrypted: bool, effect: Effect | None = None) -> int:
        """Send (or schedule) a reply; returns its size in bytes."""
        if encrypted and self.server.cipher is not None:
            frame = self.server.cipher.encrypt_frame(frame)
        if effect is not None and effect.damage == "short":
            frame = frame[: max(1, len(frame) // 2)]
        if effect is not None and effect.delay_s:
            asyncio.get_running_loop().call_later(effect.delay_s, self._write_later, frame)
            return len(frame)
        self.transport.write(frame)
        return len(frame)

    def _write_later(self, frame: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(frame)


def _log_fault(
    kind: str, protocol: str, peer: str, unit: int, wire: int | None, count: int
) -> None:
    """One line per fired fault (repeats are rate-limited by the log filter)."""
    where = "" if wire is None else f"{wire + 1}+{count}"
    log.info(
        "fault %s fired on a %s request",
        kind,
        protocol,
        extra={"fault": kind, "protocol": protocol, "peer": peer, "unit": unit, "range": where},
    )
