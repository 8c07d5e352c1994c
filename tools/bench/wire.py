"""Lean Modbus clients for the bench: plain MBAP, Sungrow's encrypted framing, asyncio.

They are deliberately thin so the server's cost dominates what is measured. Each read is
checked: a register reply must carry the function code, the byte count and the
transaction id asked for.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Literal

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

GET_KEY = bytes.fromhex("686800000006f7040ae70008")
PRIV_KEY = b"Grow#0*2Sun68CbE"
FUNCTION = {"input": 4, "holding": 3}
Read = tuple[Literal["input", "holding"], int, int]  # (table, wire address, count)


class ReadError(RuntimeError):
    """A reply that is not the expected register reply."""


def request(tid: int, unit: int, read: Read) -> bytes:
    """An FC3/FC4 request ADU."""
    table, address, count = read
    return struct.pack(">HHHBBHH", tid, 0, 6, unit, FUNCTION[table], address, count)


def check(adu: bytes, tid: int | None, read: Read) -> bytes:
    """The register bytes of a reply ADU; raises ReadError for anything else."""
    table, _, count = read
    if tid is not None and struct.unpack_from(">H", adu)[0] != tid:
        raise ReadError(f"transaction id {adu[:2].hex()} != {tid:04x}")
    if adu[7] != FUNCTION[table] or adu[8] != 2 * count or len(adu) != 9 + 2 * count:
        raise ReadError(f"unexpected reply {adu[:12].hex()} to {read}")
    return adu[9:]


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ReadError("connection closed")
        data += chunk
    return bytes(data)


class PlainClient:
    """Blocking Modbus TCP over one connection."""

    def __init__(self, port: int, unit: int = 1, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.unit = unit
        self.tid = 0

    def read(self, read: Read, unit: int | None = None) -> bytes:
        """One read; returns the register bytes."""
        self.tid = (self.tid + 1) & 0xFFFF
        self.sock.sendall(request(self.tid, unit or self.unit, read))
        head = _recv_exact(self.sock, 7)
        body = _recv_exact(self.sock, struct.unpack_from(">H", head, 4)[0] - 1)
        return check(head + body, self.tid, read)

    def read_raw(self, read: Read) -> bytes:
        """One read; returns the whole reply ADU unchecked (exceptions included)."""
        self.tid = (self.tid + 1) & 0xFFFF
        self.sock.sendall(request(self.tid, self.unit, read))
        head = _recv_exact(self.sock, 7)
        return head + _recv_exact(self.sock, struct.unpack_from(">H", head, 4)[0] - 1)

    def close(self) -> None:
        """Close the connection."""
        self.sock.close()


def session_cipher(public_key: bytes) -> Cipher:
    """AES-128-ECB with public key XOR the well-known private key."""
    key = bytes(a ^ b for a, b in zip(public_key, PRIV_KEY, strict=True))
    return Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305 - the protocol's choice


def fetch_key(port: int, timeout: float = 5.0) -> bytes:
    """Connect, ask for the public key, close (SungrowModbusTcpClient's first step)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(GET_KEY)
        return _recv_exact(sock, 25)[9:]


def encrypt(cipher: Cipher, adu: bytes) -> bytes:
    """Sungrow framing of one ADU."""
    pad = 16 - len(adu) % 16
    enc = cipher.encryptor()
    body = enc.update(b"\x68\x68" + adu[2:] + b"\xff" * pad) + enc.finalize()
    return bytes([1, 0, len(adu), pad]) + body


class EncryptedClient:
    """Blocking Sungrow encrypted Modbus over one connection (key fetched beforehand)."""

    def __init__(self, port: int, public_key: bytes, unit: int = 1, timeout: float = 5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.cipher = session_cipher(public_key)
        self.unit = unit

    def read_raw(self, read: Read) -> bytes:
        """One read; returns the decrypted reply ADU (exceptions included)."""
        self.sock.sendall(encrypt(self.cipher, request(0, self.unit, read)))
        head = _recv_exact(self.sock, 4)
        length, pad = head[2], head[3]
        dec = self.cipher.decryptor()
        plain = dec.update(_recv_exact(self.sock, length + pad)) + dec.finalize()
        return plain[:length]

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
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
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
