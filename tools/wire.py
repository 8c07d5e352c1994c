"""Client-side wire helpers, written from the protocol description (SPEC.md), not the server.

One home for what the tests and the bench both speak to the simulator: Modbus TCP frames,
raw socket exchanges with deadlines, Sungrow's encrypted framing (key exchange and
AES-128-ECB, client side), lean blocking and asyncio register clients, and ASCII decoding
of text registers. Nothing here imports the simulator, so tests judging the simulator's
wire output with it do not reuse the server's own code. The clients are deliberately thin
so that, in the bench, the server's cost dominates what is measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable, Sequence
from typing import Literal

HOST = "127.0.0.1"  # every helper talks to loopback only
GET_KEY = bytes.fromhex("686800000006f7040ae70008")  # FC4 2791/8 at unit 247: the public key
KEY_REPLY_SIZE = 25  # MBAP header + FC4 reply of 8 registers: 9 bytes, then the 16-byte key
PRIV_KEY = b"Grow#0*2Sun68CbE"
FUNCTION = {"input": 4, "holding": 3}
LATE_S = 5.0  # how long a loaded machine may take to send what is still owed
Read = tuple[Literal["input", "holding"], int, int]  # (table, wire address, count)
Done = Callable[[bytes], bool]


class ReadError(RuntimeError):
    """A reply that is not the expected register reply."""


# -- Modbus TCP frames -------------------------------------------------------------------


def mbap(tid: int, unit: int, pdu: bytes) -> bytes:
    """An MBAP frame around a PDU."""
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def read_pdu(fc: int, address: int, count: int) -> bytes:
    """A register read PDU (FC3/FC4)."""
    return struct.pack(">BHH", fc, address, count)


def request(tid: int, unit: int, read: Read) -> bytes:
    """An FC3/FC4 request ADU."""
    table, address, count = read
    return mbap(tid, unit, read_pdu(FUNCTION[table], address, count))


def check(adu: bytes, tid: int | None, read: Read) -> bytes:
    """The register bytes of a reply ADU; raises ReadError for anything else."""
    table, _, count = read
    if tid is not None and struct.unpack_from(">H", adu)[0] != tid:
        raise ReadError(f"transaction id {adu[:2].hex()} != {tid:04x}")
    if adu[7] != FUNCTION[table] or adu[8] != 2 * count or len(adu) != 9 + 2 * count:
        raise ReadError(f"unexpected reply {adu[:12].hex()} to {read}")
    return adu[9:]


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


def decode_ascii(registers: Sequence[int]) -> str:
    """Text registers: two big-endian ASCII bytes per register, NUL padded."""
    return b"".join(r.to_bytes(2, "big") for r in registers).rstrip(b"\0").decode("ascii")


# -- raw exchanges with deadlines --------------------------------------------------------


def _count_frames(size_of: Callable[[bytes], int | None], count: int) -> Done:
    def done(data: bytes) -> bool:
        seen = 0
        while seen < count and (size := size_of(data)) is not None and len(data) >= size:
            data, seen = data[size:], seen + 1
        return seen >= count

    return done


def _mbap_size(data: bytes) -> int | None:
    return 6 + int.from_bytes(data[4:6], "big") if len(data) >= 6 else None


def _encrypted_size(data: bytes) -> int | None:
    return 4 + data[2] + data[3] if len(data) >= 4 else None


def frame_count(count: int) -> Done:
    """`done` for `exchange`: at least `count` whole MBAP frames arrived."""
    return _count_frames(_mbap_size, count)


def encrypted_count(count: int) -> Done:
    """`done` for `exchange`: at least `count` whole encrypted frames arrived."""
    return _count_frames(_encrypted_size, count)


def at_least(size: int) -> Done:
    """`done` for `exchange`: at least `size` bytes arrived."""
    return lambda data: len(data) >= size


def _whole_frames(data: bytes | bytearray) -> bool:
    """True unless the data ends inside an MBAP frame (encrypted streams count as whole)."""
    while len(data) >= 6 and data[2:4] == b"\0\0":
        size = 6 + int.from_bytes(data[4:6], "big")
        if len(data) < size:
            return False
        data = data[size:]
    return len(data) == 0 or data[2:4] != b"\0\0" or len(data) >= 6


async def exchange(
    port: int, data: bytes, wait_s: float = 0.3, done: Done | None = None
) -> tuple[bytes, bool]:
    """Send bytes on a fresh connection, collect the answer; (reply, closed by the server).

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


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ReadError("connection closed")
        data += chunk
    return bytes(data)


def _connect(port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection((HOST, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _recv_mbap(sock: socket.socket) -> bytes:
    head = _recv_exact(sock, 7)
    return head + _recv_exact(sock, struct.unpack_from(">H", head, 4)[0] - 1)


# -- Sungrow's encrypted framing ---------------------------------------------------------


class Session:
    """One public key's AES-128-ECB cipher (public key XOR the well-known private key)."""

    def __init__(self, public_key: bytes) -> None:
        # Imported here: suites that never encrypt (integration) need not install it.
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        key = bytes(a ^ b for a, b in zip(public_key, PRIV_KEY, strict=True))
        self.cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305 - the protocol's

    def encrypt(self, adu: bytes) -> bytes:
        """[1, 0, L, pad] + AES(0x6868 + ADU[2:] + 0xFF * pad)."""
        pad = 16 - len(adu) % 16
        enc = self.cipher.encryptor()
        body = enc.update(b"\x68\x68" + adu[2:] + b"\xff" * pad) + enc.finalize()
        return bytes([1, 0, len(adu), pad]) + body

    def decrypt_body(self, length: int, body: bytes) -> bytes:
        """The ADU of one frame's encrypted body (`length` from its header)."""
        dec = self.cipher.decryptor()
        return (dec.update(body) + dec.finalize())[:length]

    def decrypt(self, data: bytes) -> list[bytes]:
        """Every encrypted reply frame in a stream, decrypted to its ADU."""
        adus = []
        while data:
            assert len(data) >= 4 and data[:2] == b"\x01\x00", data[:4].hex()
            length, pad = data[2], data[3]
            adus.append(self.decrypt_body(length, data[4 : 4 + length + pad]))
            data = data[4 + length + pad :]
        return adus


async def fetch_key(port: int) -> bytes:
    """The public key, as SungrowModbusTcpClient asks for it (its own connection)."""
    reply, _ = await exchange(port, GET_KEY, done=at_least(KEY_REPLY_SIZE))
    assert len(reply) == KEY_REPLY_SIZE, reply.hex()
    return reply[9:]


def fetch_key_blocking(port: int, timeout: float = 5.0) -> bytes:
    """`fetch_key` over a blocking socket: connect, ask for the key, close."""
    with _connect(port, timeout) as sock:
        sock.sendall(GET_KEY)
        return _recv_exact(sock, KEY_REPLY_SIZE)[9:]


# -- lean register clients ---------------------------------------------------------------


class PlainClient:
    """Blocking Modbus TCP over one connection."""

    def __init__(self, port: int, unit: int = 1, timeout: float = 5.0) -> None:
        self.sock = _connect(port, timeout)
        self.unit = unit
        self.tid = 0

    def read_raw(self, read: Read, unit: int | None = None) -> bytes:
        """One read; returns the whole reply ADU unchecked (exceptions included)."""
        self.tid = (self.tid + 1) & 0xFFFF
        self.sock.sendall(request(self.tid, unit or self.unit, read))
        return _recv_mbap(self.sock)

    def read(self, read: Read, unit: int | None = None) -> bytes:
        """One read; returns the register bytes."""
        return check(self.read_raw(read, unit), self.tid, read)

    def close(self) -> None:
        """Close the connection."""
        self.sock.close()


class EncryptedClient:
    """Blocking Sungrow encrypted Modbus over one connection (key fetched beforehand)."""

    def __init__(self, port: int, public_key: bytes, unit: int = 1, timeout: float = 5.0):
        self.sock = _connect(port, timeout)
        self.session = Session(public_key)
        self.unit = unit

    def read_raw(self, read: Read) -> bytes:
        """One read; returns the decrypted reply ADU (exceptions included)."""
        self.sock.sendall(self.session.encrypt(request(0, self.unit, read)))
        head = _recv_exact(self.sock, 4)
        length, pad = head[2], head[3]
        return self.session.decrypt_body(length, _recv_exact(self.sock, length + pad))

    def read(self, read: Read) -> bytes:
        """One read; returns the register bytes."""
        return check(self.read_raw(read), None, read)

    def close(self) -> None:
        """Close the connection."""
        self.sock.close()


class AsyncClient:
    """Modbus TCP over one asyncio connection, one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.tid = 0

    @classmethod
    async def connect(cls, port: int) -> AsyncClient:
        """Open a connection."""
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def read(self, read: Read, unit: int = 1) -> bytes:
        """One read; returns the register bytes."""
        self.tid = (self.tid + 1) & 0xFFFF
        self.writer.write(request(self.tid, unit, read))
        head = await self.reader.readexactly(7)
        body = await self.reader.readexactly(struct.unpack_from(">H", head, 4)[0] - 1)
        return check(head + body, self.tid, read)

    async def close(self) -> None:
        """Close the connection."""
        self.writer.close()
        await self.writer.wait_closed()
