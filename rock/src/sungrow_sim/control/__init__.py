"""Steering: the control API (HTTP JSON) and its command-line client, `sungrow-sim ctl`.

The API (and with it aiohttp) loads on first use, so `sungrow-sim ctl` and a `serve`
whose Modbus listener comes first do not wait for the HTTP stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sungrow_sim.control.api import ControlApi, start_control

__all__ = ["ControlApi", "start_control"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("sungrow_sim.control.api"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
