"""Pure encoding of engineering values into 16-bit Modbus registers, and back."""

from __future__ import annotations

from collections.abc import Sequence

from sungrow_sim.registers.catalogue import DataType

_LIMITS = {
    "U16": (0, 0xFFFF),
    "S16": (-0x8000, 0x7FFF),
    "U32": (0, 0xFFFFFFFF),
    "S32": (-0x80000000, 0x7FFFFFFF),
}


def to_raw(value: float, scale: float) -> int:
    """Engineering value to the integer a register holds (value / scale, rounded)."""
    return round(value / scale)


def encode(datatype: DataType, raw: int) -> list[int]:
    """Encode one integer; 32-bit values are low word first. Out of range values clamp."""
    lo, hi = _LIMITS[datatype]
    raw = min(max(raw, lo), hi)
    if datatype in ("U16", "S16"):
        return [raw & 0xFFFF]
    raw &= 0xFFFFFFFF
    return [raw & 0xFFFF, raw >> 16]


def decode(datatype: DataType, words: Sequence[int]) -> int:
    """Inverse of `encode` for numeric types."""
    if datatype in ("U16", "S16"):
        value = words[0]
        return value - 0x10000 if datatype == "S16" and value & 0x8000 else value
    value = words[0] | (words[1] << 16)
    return value - 0x100000000 if datatype == "S32" and value & 0x80000000 else value


def encode_ascii(text: str, registers: int = 10) -> list[int]:
    """ASCII text, two characters per register big-endian, NUL padded."""
    data = text.encode("ascii")[: registers * 2].ljust(registers * 2, b"\0")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def decode_ascii(words: Sequence[int]) -> str:
    """Inverse of `encode_ascii`."""
    return b"".join(w.to_bytes(2, "big") for w in words).rstrip(b"\0").decode("ascii")


def encode_text(text: str, registers: int) -> list[int]:
    """UTF-8 text, two bytes per register big-endian, NUL padded (too long: cut)."""
    data = text.encode("utf-8")[: registers * 2].ljust(registers * 2, b"\0")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def decode_text(words: Sequence[int]) -> str:
    """Inverse of `encode_text` (trailing NULs dropped)."""
    return b"".join(w.to_bytes(2, "big") for w in words).rstrip(b"\0").decode("utf-8")
