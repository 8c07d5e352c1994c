"""Register encoding round trips for every data type, and byte-exact framing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sungrow_sim.protocols.modbus import framing
from sungrow_sim.registers import decode, decode_ascii, encode, encode_ascii, to_raw

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


def test_ascii_is_big_endian_per_register_and_nul_padded():
    assert encode_ascii("AB1")[:3] == [0x4142, 0x3100, 0]


def test_mbap_frames_are_built_and_measured_byte_for_byte():
    frame = framing.build_mbap(0x0102, 1, bytes([4, 0x13, 0x87, 0, 1]))
    assert frame == bytes.fromhex("0102 0000 0006 01 04 1387 0001")
    assert framing.mbap_frame_length(frame) == len(frame)
    assert framing.mbap_frame_length(frame[:-1]) == 0
    assert framing.mbap_frame_length(b"\x00\x01\x00\x05" + frame[4:]) == -1


def test_the_key_reply_is_25_bytes_with_the_key_at_9():
    key = framing.public_key_for("seed")
    reply = framing.key_reply(key)
    assert len(reply) == 25
    assert reply[:9] == bytes.fromhex("6868 0000 0013 f7 04 10")
    assert reply[9:] == key
    assert key not in (b"\0" * 16, b"\xff" * 16)


def test_encrypted_frames_use_the_sungrow_header_and_decrypt_back():
    cipher = framing.SungrowCipher(framing.public_key_for("x"))
    adu = bytes.fromhex("1234 0000 0006 01 04 1387 0001")
    wire = cipher.encrypt_frame(adu)
    assert wire[:4] == bytes([1, 0, 12, 4])
    assert len(wire) == 4 + 16
    used, plain = cipher.decrypt_frame(wire + b"extra")
    assert used == len(wire)
    assert plain == b"\x68\x68" + adu[2:]


def test_an_encrypted_frame_cannot_carry_more_than_255_bytes():
    cipher = framing.SungrowCipher(framing.public_key_for("x"))
    with pytest.raises(ValueError, match="255"):
        cipher.encrypt_frame(bytes(256))


def test_a_bad_encrypted_header_is_rejected():
    cipher = framing.SungrowCipher(framing.public_key_for("x"))
    with pytest.raises(ValueError):
        cipher.decrypt_frame(bytes([1, 0, 12, 5]) + bytes(17))
