"""Register encoding round trips for every data type: numbers, scales, ASCII text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sungrow_sim.registers import decode, decode_ascii, encode, encode_ascii, to_raw

from tools import wire

LIMITS = {
    "U16": (0, 0xFFFF),
    "S16": (-0x8000, 0x7FFF),
    "U32": (0, 0xFFFFFFFF),
    "S32": (-0x80000000, 0x7FFFFFFF),
}


@pytest.mark.parametrize("datatype", list(LIMITS))
@given(data=st.data())
def test_every_numeric_type_round_trips(datatype, data):
    lo, hi = LIMITS[datatype]
    value = data.draw(st.integers(lo, hi))
    words = encode(datatype, value)
    assert all(0 <= w <= 0xFFFF for w in words)
    assert decode(datatype, words) == value


def test_32_bit_values_are_low_word_first():
    assert encode("U32", 0x12345678) == [0x5678, 0x1234]
    assert encode("S32", -2) == [0xFFFE, 0xFFFF]


def test_out_of_range_values_clamp_instead_of_wrapping():
    assert encode("U16", -5) == [0]
    assert encode("S16", 40000) == [0x7FFF]
    assert encode("U32", 1 << 40) == [0xFFFF, 0xFFFF]


def test_scaled_values_round_to_the_register_resolution():
    assert to_raw(12.34, 0.1) == 123
    assert to_raw(49.99, 0.01) == 4999


@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)
)
def test_ascii_serials_round_trip(serial):
    words = encode_ascii(serial)
    assert len(words) == 10
    assert decode_ascii(words) == serial
    assert wire.decode_ascii(words) == serial  # the encoding as an independent client reads it


def test_ascii_is_big_endian_per_register_and_nul_padded():
    assert encode_ascii("AB1")[:3] == [0x4142, 0x3100, 0]
