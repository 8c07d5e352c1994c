"""Steering: the control API (HTTP JSON) and its command-line client, `sungrow-sim ctl`."""

from sungrow_sim.control.api import ControlApi, start_control

__all__ = ["ControlApi", "start_control"]
