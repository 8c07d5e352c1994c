"""Modbus TCP: framing (plain MBAP and Sungrow's encrypted frames), PDUs, the server."""

from sungrow_sim.protocols.modbus.framing import public_key_for
from sungrow_sim.protocols.modbus.server import ModbusOptions, ModbusServer

__all__ = ["ModbusOptions", "ModbusServer", "public_key_for"]
