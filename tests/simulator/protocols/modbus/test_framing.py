"""Modbus framing byte for byte: MBAP frames, the key exchange, Sungrow's encrypted frames."""

from __future__ import annotations

import pytest
from sungrow_sim.protocols.modbus import framing


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
