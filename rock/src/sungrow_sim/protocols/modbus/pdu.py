"""The Modbus application layer: request PDU in, response PDU out, over the simulator."""

from __future__ import annotations

import struct
from functools import cache
from typing import TYPE_CHECKING

from sungrow_sim.protocols.source import RegisterStore
from sungrow_sim.registers import ExceptionCode, Table

if TYPE_CHECKING:
    from pymodbus.pdu import DecodePDU

TABLES: dict[int, Table] = {3: "holding", 4: "input"}


@cache
def _decoder() -> DecodePDU:
    # pymodbus is imported on the first write: reads never need it (start time, memory).
    from pymodbus.pdu import DecodePDU

    return DecodePDU(is_server=True)


def exception_pdu(function_code: int, code: int) -> bytes:
    """An exception response PDU: the function code with bit 7 set, then the code."""
    return bytes([(function_code | 0x80) & 0xFF, code & 0xFF])


def read_request(pdu: bytes) -> tuple[int, int, int] | None:
    """(function code, wire address, count) of an FC3/FC4 request, else None."""
    if len(pdu) == 5 and pdu[0] in TABLES:
        address, count = struct.unpack_from(">HH", pdu, 1)
        return pdu[0], address, count
    return None


def registers_pdu(function_code: int, wire: bytes) -> bytes:
    """A read-registers response PDU around registers in wire format."""
    return bytes((function_code, len(wire))) + wire


def handle(sim: RegisterStore, unit: int, pdu: bytes) -> bytes:
    """Answer one request PDU."""
    if not pdu:
        return exception_pdu(0, ExceptionCode.ILLEGAL_FUNCTION)
    if (read := read_request(pdu)) is not None:
        function_code, address, count = read
        result = sim.read_wire(unit, TABLES[function_code], address, count)
        if isinstance(result, int):
            return exception_pdu(function_code, result)
        return registers_pdu(function_code, result)
    return _handle_other(sim, unit, pdu)


def _handle_other(sim: RegisterStore, unit: int, pdu: bytes) -> bytes:
    from pymodbus.pdu.register_message import (  # lazy: see _decoder
        WriteMultipleRegistersRequest,
        WriteMultipleRegistersResponse,
        WriteSingleRegisterRequest,
        WriteSingleRegisterResponse,
    )

    function_code = pdu[0] & 0x7F
    if function_code in TABLES:
        return exception_pdu(function_code, ExceptionCode.ILLEGAL_VALUE)  # wrong length for a read
    request = _decoder().decode(pdu)
    if isinstance(request, WriteSingleRegisterRequest):
        values = [request.registers[0]]
        response = WriteSingleRegisterResponse(address=request.address, registers=values)
    elif isinstance(request, WriteMultipleRegistersRequest):
        values = list(request.registers)
        response = WriteMultipleRegistersResponse(address=request.address, count=len(values))
    else:
        code = (
            ExceptionCode.ILLEGAL_VALUE
            if function_code in (6, 16)
            else ExceptionCode.ILLEGAL_FUNCTION
        )
        return exception_pdu(function_code, code)
    if (error := sim.write(unit, request.address, values)) is not None:
        return exception_pdu(function_code, error)
    return bytes([function_code]) + response.encode()
