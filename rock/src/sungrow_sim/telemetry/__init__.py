"""Telemetry: the request recorder, `/metrics` and structured logs."""

from sungrow_sim.telemetry.recorder import (
    NULL,
    NullRecorder,
    Recorder,
    exception_outcome,
    holding_names,
)

__all__ = ["NULL", "NullRecorder", "Recorder", "exception_outcome", "holding_names"]
