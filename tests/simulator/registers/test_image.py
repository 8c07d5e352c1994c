"""The register image's two views: words (control API, WiNet-S) and wire bytes (Modbus)."""

from __future__ import annotations

import struct

import pytest
from sungrow_sim.registers import ExceptionCode, RegisterImage, catalogue

MODELS = ("SH10RT", "SG10RT", "SH5.0RS")


def image(model: str) -> RegisterImage:
    return RegisterImage(catalogue().model(model), catalogue().registers_of(model), "SIM0000001")


@pytest.mark.parametrize("model", MODELS)
def test_wire_bytes_are_the_words_big_endian_over_every_span(model):
    img = image(model)
    spans = 0
    for table in ("input", "holding"):
        for start, count in catalogue().model(model).blocks(table):
            for address in range(start, start + count, 7):
                for n in (1, 2, 61, 125):
                    words = img.read(table, address, n)
                    wire = img.read_wire(table, address, n)
                    if isinstance(words, int):
                        assert wire == words  # the same exception either way
                        continue
                    assert len(words) == n
                    assert wire == b"".join(w.to_bytes(2, "big") for w in words)
                    spans += 1
    assert spans > 100


def test_a_refresh_reaches_both_views_low_word_first():
    img = image("SH10RT")
    img.refresh({"pv_power_w": 70_000.0})  # 0x00011170: documented 5017, U32
    assert img.read("input", 5016, 2) == [0x1170, 0x0001]
    assert img.read_wire("input", 5016, 2) == bytes([0x11, 0x70, 0x00, 0x01])
    img.refresh({"pv_power_w": 0.0})
    assert img.read_wire("input", 5016, 2) == bytes(4)


def test_the_serial_is_ascii_on_the_wire():
    img = image("SG10RT")
    assert img.read_wire("input", 4989, 10) == b"SIM0000001".ljust(20, b"\0")


def test_settings_slots_write_the_wire_image():
    img = image("SH10RT")
    slots = img.holding_slots([(13049, [2]), (60_000, [1])])  # EMS mode, and no such address
    assert len(slots) == 1
    img.put_slots(slots)
    assert img.read_wire("holding", 13049, 1) == b"\x00\x02"


@pytest.mark.parametrize("count", [0, 126])
def test_counts_out_of_range_are_illegal_values_in_both_views(count):
    img = image("SH10RT")
    assert img.read("input", 4999, count) == ExceptionCode.ILLEGAL_VALUE
    assert img.read_wire("input", 4999, count) == ExceptionCode.ILLEGAL_VALUE


def test_a_read_past_a_block_end_is_an_illegal_address():
    img = image("SH10RT")
    start, wire = img.blocks["input"][0]
    count = len(wire) // 2
    assert img.read_wire("input", start + count - 1, 2) == ExceptionCode.ILLEGAL_ADDRESS
    assert isinstance(img.read_wire("input", start + count - 2, 2), bytes)
    words = struct.unpack(">2H", img.read_wire("input", start + count - 2, 2))  # type: ignore[arg-type]
    assert list(words) == img.read("input", start + count - 2, 2)
