"""Atomic save and restore of energy counters, overrides, faults and the clock."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import threading
import time
from dataclasses import fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sungrow_sim.faults import Fault
from sungrow_sim.plant import Counters

log = logging.getLogger(__name__)
STATE_FILE = "state.json"
MAX_STATE_BYTES = 64 * 1024 * 1024  # far beyond any real state (1000 faults: ~300 kB)
EARLIEST_SAVE = 946_684_800.0  # 2000-01-01T00:00:00Z: the clock's documented first year
FUTURE_SLACK_S = 86_400.0  # a saved_at ahead of the wall clock by more than this is damage
MAX_ENERGY_KWH = 1e9  # a terawatt-hour: beyond any residential counter
MAX_RUNNING_H = 1e7
_TMP = re.compile(r"^\." + re.escape(STATE_FILE) + r"\.(\d+)\.tmp$")


class StateRejectedError(ValueError):
    """A state file that parses but cannot be this simulator's state (the message says why)."""


def _check_counters(raw: dict[str, Any]) -> dict[str, Any]:
    """Counters: every known field of the right type, finite and in its physical range."""
    out: dict[str, Any] = {}
    known = {f.name: f for f in fields(Counters)}
    for key, value in raw.items():
        if key not in known:
            continue  # a newer version's counter: ignored, not an error
        if key in ("days", "months", "years"):
            # The day/month/year arrays: Counters refits their shape and drops bad entries.
            if not isinstance(value, dict):
                raise ValueError(f"{key}: {value!r} is not a mapping of flows")
            out[key] = value
            continue
        if key == "commissioned":
            if not isinstance(value, str) or len(value) > 64:
                raise ValueError(f"{key}: {value!r} is not an ISO 8601 time")
            out[key] = value
            continue
        if key in ("day", "month", "year"):
            pattern = {"day": r"\d{4}-\d{2}-\d{2}", "month": r"\d{4}-\d{2}", "year": r"\d{4}"}[key]
            if not isinstance(value, str) or not (value == "" or re.fullmatch(pattern, value)):
                raise ValueError(f"{key}: {value!r} is not a date of that form")
        else:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{key}: {value!r} is not a number")
            value = float(value)
            high = (
                100.0
                if key == "battery_soc_pct"
                else MAX_RUNNING_H * 60
                if key.endswith("_min")
                else MAX_RUNNING_H
                if key.endswith("_h")
                else MAX_ENERGY_KWH
            )
            if not math.isfinite(value) or not 0 <= value <= high:
                raise ValueError(f"{key}: {value!r} is outside 0..{high:g}")
        out[key] = value
    return out


class SavedOverrides(BaseModel):
    """Overrides as saved: generic physical bounds (per-model bounds are checked on restore)."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, strict=True, defer_build=True)

    power_w: float | None = Field(default=None, ge=0, le=10_000_000)
    state: Literal["stop", "standby"] | None = None
    load_w: float | None = Field(default=None, ge=0, le=100_000)
    battery_power_w: float | None = Field(default=None, ge=-10_000_000, le=10_000_000)


class SavedInverter(BaseModel):
    """One inverter's durable state."""

    model_config = ConfigDict(defer_build=True)

    model: str = Field(max_length=64)
    serial: str = Field(max_length=64)
    counters: dict[str, Any]
    overrides: dict[str, Any]
    settings: dict[str, int] = {}

    @field_validator("counters")
    @classmethod
    def _counters(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_counters(value)

    @field_validator("overrides")
    @classmethod
    def _overrides(cls, value: dict[str, Any]) -> dict[str, Any]:
        return SavedOverrides.model_validate(value).model_dump()


class SavedState(BaseModel):
    """The state file."""

    model_config = ConfigDict(allow_inf_nan=False, defer_build=True)

    version: Literal[1] = 1
    saved_at: float
    clock: datetime
    inverters: dict[int, SavedInverter]
    faults: list[Fault]

    @field_validator("saved_at")
    @classmethod
    def _sane_saved_at(cls, value: float) -> float:
        latest = time.time() + FUTURE_SLACK_S
        if not EARLIEST_SAVE <= value <= latest:
            raise ValueError(f"{value!r} is not a time between 2000 and now")
        return value

    @field_validator("clock")
    @classmethod
    def _clock_in_range(cls, value: datetime) -> datetime:
        if value.tzinfo is None or not 2000 <= value.year <= 2099:
            raise ValueError(f"{value.isoformat()} is not an aware time in 2000..2099")
        return value

    @field_validator("inverters")
    @classmethod
    def _unit_ids(cls, value: dict[int, SavedInverter]) -> dict[int, SavedInverter]:
        if any(not 1 <= unit <= 247 for unit in value):
            raise ValueError("unit ids must be 1..247")
        return value

    @model_validator(mode="after")
    def _finite_faults(self) -> SavedState:
        for fault in self.faults:
            if not math.isfinite(fault.created) or (
                fault.expires is not None and not math.isfinite(fault.expires)
            ):
                raise ValueError(f"fault {fault.id}: created/expires must be finite")
        return self

    def counters_for(self, unit_id: int, model: str, serial: str) -> Counters | None:
        """Saved counters if this unit still is the same inverter."""
        saved = self.inverters.get(unit_id)
        if saved is None or (saved.model, saved.serial) != (model, serial):
            return None
        known = {f.name for f in fields(Counters)}
        return Counters(**{k: v for k, v in saved.counters.items() if k in known})

    def clock_now(self, time_scale: float) -> datetime:
        """Where the simulated clock would be had it kept running (never before the save)."""
        return self.clock + timedelta(seconds=self.downtime_s() * time_scale)

    def downtime_s(self) -> float:
        """Real seconds since the save (0 if the wall clock went back)."""
        return max(0.0, time.time() - self.saved_at)


class StateStore:
    """state.json in a directory, replaced atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / STATE_FILE
        self._lock = threading.Lock()  # the flusher's worker thread and the final save

    def load(self) -> SavedState | None:
        """The saved state, or None; a damaged file is kept aside, never overwritten.

        Damaged: unreadable, not UTF-8, not JSON, or any field of the wrong type, not
        finite or out of its physical range. Stale temporary files of dead processes
        (left by kill -9 mid-save) are removed first.
        """
        self.remove_stale_temporaries()
        try:
            size = self.path.stat().st_size
            if size > MAX_STATE_BYTES:
                self.put_aside(f"{size} bytes, more than {MAX_STATE_BYTES}")
                return None
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            log.error("state file %s cannot be read (%s): starting fresh", self.path, err)
            return None
        try:
            data.decode("utf-8")
            return SavedState.model_validate_json(data)
        except UnicodeDecodeError as err:
            self.put_aside(f"not UTF-8 at byte {err.start}")
        except ValidationError as err:
            self.put_aside(f"{err.error_count()} errors, first: {_first_error(err)}")
        except (ValueError, OverflowError, RecursionError) as err:
            self.put_aside(f"{type(err).__name__}: {err}")
        return None

    def put_aside(self, reason: str) -> Path | None:
        """Keep the state file as state.json.corrupt-<time> and say so; starting fresh."""
        aside = self.path.with_name(f"{STATE_FILE}.corrupt-{time.time_ns()}")
        try:
            os.replace(self.path, aside)
        except OSError as err:
            log.error("state file rejected (%s) and cannot be moved aside: %s", reason, err)
            return None
        log.error("state file unreadable (%s); kept as %s; starting fresh", reason[:300], aside)
        return aside

    def remove_stale_temporaries(self) -> list[Path]:
        """Delete .state.json.<pid>.tmp files of processes that are gone (or of this pid)."""
        removed = []
        try:
            names = os.listdir(self.directory)
        except OSError:
            return removed
        for name in names:
            match = _TMP.match(name)
            if match is None:
                continue
            pid = int(match.group(1))
            if pid != os.getpid() and _alive(pid):
                continue
            path = self.directory / name
            try:
                path.unlink()
            except OSError:
                continue
            removed.append(path)
        if removed:
            log.info("removed %d stale temporary state file(s)", len(removed))
        return removed

    def save(self, state: SavedState) -> None:
        """Write to a temporary file, fsync, rename over the old one, fsync the folder."""
        with self._lock:
            self._save(state)

    def _save(self, state: SavedState) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
        data = state.model_dump_json().encode()
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()  # a partial file would hold the space a retry needs
            raise
        folder = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _first_error(err: ValidationError) -> str:
    first = err.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}"[:200]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, another user's
    return True


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
