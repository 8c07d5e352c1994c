"""Codes the device answers with: Modbus exception codes and the start/stop command words."""

from __future__ import annotations

from enum import IntEnum


class ExceptionCode(IntEnum):
    """Modbus exception codes the simulator answers (Modbus application protocol 1.1b3)."""

    ILLEGAL_FUNCTION = 1
    ILLEGAL_ADDRESS = 2
    ILLEGAL_VALUE = 3
    DEVICE_FAILURE = 4
    GATEWAY_TARGET_FAILED = 11  # no inverter answers at this unit id


# The start/stop holding register (documented 5006 on string models, 13000 on hybrids)
# takes these two command words.
START = 0xCF
STOP = 0xCE
