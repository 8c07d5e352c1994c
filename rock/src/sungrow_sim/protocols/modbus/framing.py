"""Pure framing: Modbus TCP (MBAP) and Sungrow's AES-128-ECB wrapper around it."""

from __future__ import annotations

import hashlib
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers import Cipher

MBAP_HEADER = 7
MAX_ADU = 260  # 7-byte MBAP + 253-byte PDU
PRIV_KEY = b"Grow#0*2Sun68CbE"
GET_KEY = bytes.fromhex("686800000006f7040ae70008")  # unit 247, FC4, address 2791, count 8
KEY_UNIT = 247
CRYPTO_HEADER = 4
MAX_ENCRYPTED_ADU = 255  # the length travels in one byte


def mbap_frame_length(buffer: bytes | bytearray) -> int:
    """Length of the first complete MBAP frame: 0 = need more bytes, -1 = not Modbus TCP."""
    if len(buffer) < MBAP_HEADER + 1:
        return 0
    length = int.from_bytes(buffer[4:6], "big")
    if buffer[2:4] != b"\0\0" or not 2 <= length <= MAX_ADU - 6:
        return -1
    total = 6 + length
    return total if len(buffer) >= total else 0


def build_mbap(tid: int, unit: int, pdu: bytes) -> bytes:
    """A Modbus TCP frame around a PDU."""
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def is_encrypted(buffer: bytes | bytearray) -> bool:
    """Sungrow's crypto header has a non-zero length/padding where MBAP has protocol 0."""
    return len(buffer) >= 4 and buffer[2:4] != b"\0\0"


def public_key_for(seed: str) -> bytes:
    """A stable 16-byte public key (never all 0x00 or 0xFF, which mean 'no encryption')."""
    key = hashlib.sha256(b"sungrow-sim:" + seed.encode()).digest()[:16]
    return key if key not in (b"\0" * 16, b"\xff" * 16) else b"\x01" * 16


def key_reply(public_key: bytes) -> bytes:
    """The 25-byte answer to GET_KEY: an FC4 response of 8 registers holding the key."""
    return build_mbap(0x6868, KEY_UNIT, bytes([4, 16]) + public_key)


class SungrowCipher:
    """AES-128-ECB with the session key = public key XOR the well-known private key."""

    def __init__(self, public_key: bytes) -> None:
        self._key = bytes(a ^ b for a, b in zip(public_key, PRIV_KEY, strict=True))
        self._aes: Cipher | None = None

    @property
    def _cipher(self) -> Cipher:
        # cryptography is imported on the first encrypted frame (start time, idle memory).
        if self._aes is None:
            from cryptography.hazmat.primitives.ciphers import (
                Cipher,
                algorithms,
                modes,
            )

            self._aes = Cipher(algorithms.AES(self._key), modes.ECB())  # noqa: S305 - the protocol's choice
        return self._aes

    def encrypt_frame(self, adu: bytes) -> bytes:
        """Header [1, 0, L, pad] + AES(0x6868 + ADU[2:] + 0xFF * pad); L must fit a byte."""
        length = len(adu)
        if length > MAX_ENCRYPTED_ADU:
            raise ValueError(f"an encrypted frame carries at most 255 bytes, not {length}")
        pad = 16 - length % 16
        plain = b"\x68\x68" + adu[2:] + b"\xff" * pad
        encryptor = self._cipher.encryptor()
        return bytes([1, 0, length, pad]) + encryptor.update(plain) + encryptor.finalize()

    def decrypt_frame(self, buffer: bytes | bytearray) -> tuple[int, bytes | None]:
        """(bytes used, ADU) from the front of a buffer; (0, None) = need more bytes.

        Raises ValueError for a header that cannot be a Sungrow frame.
        """
        if len(buffer) < CRYPTO_HEADER:
            return 0, None
        length, pad = buffer[2], buffer[3]
        if (length + pad) % 16 or not 1 <= pad <= 16 or length < MBAP_HEADER + 1:
            raise ValueError("bad encrypted frame header")
        total = CRYPTO_HEADER + length + pad
        if len(buffer) < total:
            return 0, None
        decryptor = self._cipher.decryptor()
        plain = decryptor.update(bytes(buffer[CRYPTO_HEADER:total])) + decryptor.finalize()
        return total, plain[:length]
