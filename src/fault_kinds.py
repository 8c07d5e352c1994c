"""Fault kinds the simulator can inject, for the charm's action parameters.

Generated from rock/src/sungrow_sim/faults.py by tools/gen_fault_kinds.py;
do not edit by hand, run `python tools/gen_fault_kinds.py` instead.
"""

from typing import Literal

FaultKind = Literal[
    "inverter-fault",  # inverter reports fault state with --code in its fault registers, power 0
    "grid-loss",  # grid gone: string models trip (fault 010), hybrids run off-grid
    "night-standby",  # no sun: zero PV, standby work state
    "exception",  # reads answer Modbus exception --code (default 4)
    "malformed-exception",  # reads answer the WiNet-S exception with MBAP length 2
    "no-reply",  # requests get no answer (the client times out)
    "slow-reply",  # answers are delayed by --delay seconds (default 5)
    "drop-connection",  # the connection is closed instead of answering
    "refuse-connections",  # new connections are closed at once
    "corrupt-reply",  # answers carry a wrong byte count and garbage
    "short-reply",  # answers are cut short
    "stale-values",  # register values freeze at their current reading
    "session-limit",  # at most --max-sessions concurrent sessions (default 1)
    "token-expiry",  # WiNet-S tokens expire at once (result_code 106)
]
