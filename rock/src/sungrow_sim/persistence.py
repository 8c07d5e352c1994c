"""Atomic save and restore of energy counters, overrides, faults and the clock."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sungrow_sim.faults import Fault
from sungrow_sim.plant import Counters

log = logging.getLogger(__name__)
STATE_FILE = "state.json"


class SavedInverter(BaseModel):
    """One inverter's durable state."""

    model: str
    serial: str
    counters: dict[str, Any]
    overrides: dict[str, Any]
    settings: dict[str, int] = {}


class SavedState(BaseModel):
    """The state file."""

    version: int = 1
    saved_at: float
    clock: datetime
    inverters: dict[int, SavedInverter]
    faults: list[Fault]

    def counters_for(self, unit_id: int, model: str, serial: str) -> Counters | None:
        """Saved counters if this unit still is the same inverter."""
        saved = self.inverters.get(unit_id)
        if saved is None or (saved.model, saved.serial) != (model, serial):
            return None
        known = {f.name for f in fields(Counters)}
        return Counters(**{k: v for k, v in saved.counters.items() if k in known})

    def clock_now(self, time_scale: float) -> datetime:
        """Where the simulated clock would be had it kept running."""
        return self.clock + timedelta(seconds=(time.time() - self.saved_at) * time_scale)


class StateStore:
    """state.json in a directory, replaced atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / STATE_FILE

    def load(self) -> SavedState | None:
        """The saved state, or None; a corrupt file is kept aside, never overwritten."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        try:
            return SavedState.model_validate_json(text)
        except ValidationError as err:
            aside = self.path.with_name(f"{STATE_FILE}.corrupt-{int(time.time())}")
            os.replace(self.path, aside)
            log.error("state file unreadable (%s errors); kept as %s", err.error_count(), aside)
            return None

    def save(self, state: SavedState) -> None:
        """Write to a temporary file, fsync, rename over the old one, fsync the folder."""
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
        data = state.model_dump_json().encode()
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        folder = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def snapshot(sim: Any) -> SavedState:
    """The durable part of a running simulator."""
    return SavedState(
        saved_at=time.time(),
        clock=sim.clock.now(),
        inverters={
            unit: SavedInverter(
                model=inv.info.model,
                serial=inv.info.serial,
                counters=inv.plant.counters.as_dict(),
                overrides=inv.overrides.as_dict(),
                settings=inv.settings.saved(),
            )
            for unit, inv in sim.inverters.items()
        },
        faults=sim.faults.active(),
    )


def dumps(state: SavedState) -> str:
    """Pretty JSON of a state (for debugging and tests)."""
    return json.dumps(json.loads(state.model_dump_json()), indent=1)
