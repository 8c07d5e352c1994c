"""The WiNet-S dongle: WebSocket and getParam server, its messages and its sessions.

The server (and with it aiohttp) loads on first use: the configuration needs only the
session options, and the Modbus listener starts before the HTTP stack is loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sungrow_sim.protocols.winet.sessions import WinetOptions

if TYPE_CHECKING:
    from sungrow_sim.protocols.winet.server import WinetServer, start_winet

__all__ = ["WinetOptions", "WinetServer", "start_winet"]


def __getattr__(name: str) -> Any:
    if name in ("WinetServer", "start_winet"):
        return getattr(importlib.import_module("sungrow_sim.protocols.winet.server"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
