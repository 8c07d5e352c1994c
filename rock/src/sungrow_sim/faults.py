"""The fault catalogue: what can be injected, with which options, and matching."""

from __future__ import annotations

import math
import random
import time
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FaultKind = Literal[
    "inverter-fault",
    "grid-loss",
    "night-standby",
    "exception",
    "malformed-exception",
    "no-reply",
    "slow-reply",
    "drop-connection",
    "refuse-connections",
    "corrupt-reply",
    "short-reply",
    "stale-values",
    "session-limit",
    "token-expiry",
]
Scope = Literal["modbus", "sungrow", "http", "all"]

# What each kind does, for `--help` and the control API's listing.
DESCRIPTIONS: dict[str, str] = {
    "inverter-fault": "inverter reports fault state with --code in its fault registers, power 0",
    "grid-loss": "grid gone: string models trip (fault 010), hybrids run off-grid",
    "night-standby": "no sun: zero PV, standby work state",
    "exception": "reads answer Modbus exception --code (default 4)",
    "malformed-exception": "reads answer the WiNet-S exception with MBAP length 2",
    "no-reply": "requests get no answer (the client times out)",
    "slow-reply": "answers are delayed by --delay seconds (default 5)",
    "drop-connection": "the connection is closed instead of answering",
    "refuse-connections": "new connections are closed at once",
    "corrupt-reply": "answers carry a wrong byte count and garbage",
    "short-reply": "answers are cut short",
    "stale-values": "register values freeze at their current reading",
    "session-limit": "at most --max-sessions concurrent sessions (default 1)",
    "token-expiry": "WiNet-S tokens expire at once (result_code 106)",
}
# Kinds that act on one request of a protocol adapter (Modbus or WiNet-S).
TRANSPORT_KINDS = (
    "no-reply",
    "drop-connection",
    "slow-reply",
    "exception",
    "malformed-exception",
    "corrupt-reply",
    "short-reply",
)
PLANT_KINDS = {"inverter-fault", "grid-loss", "night-standby", "stale-values"}
DEFAULT_CODES = {"inverter-fault": 38, "exception": 4, "malformed-exception": 2}
GRID_LOSS_CODE = 10


class FaultSpec(BaseModel):
    """What a user asks for."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    kind: FaultKind
    unit_id: int | None = Field(default=None, ge=0, le=255)
    duration_s: float | None = Field(default=None, gt=0, le=30 * 86400)
    scope: Scope = "all"
    probability: float = Field(default=1.0, gt=0, le=1)
    code: int | None = Field(default=None, ge=0, le=0xFFFF)
    start: int | None = Field(default=None, ge=1, le=0xFFFF, description="documented address")
    count: int | None = Field(default=None, ge=1, le=0xFFFF)
    delay_s: float | None = Field(default=None, ge=0, le=600)
    max_sessions: int | None = Field(default=None, ge=0, le=1000)

    @model_validator(mode="after")
    def _check(self) -> FaultSpec:
        if self.kind == "exception" and self.code is not None and not 1 <= self.code <= 255:
            raise ValueError("code: a Modbus exception code is 1..255")
        if self.count is not None and self.start is None:
            raise ValueError("count: needs start")
        return self


class Fault(FaultSpec):
    """An active fault."""

    id: str
    created: float
    expires: float | None = None

    @property
    def effective_code(self) -> int:
        """The code the fault reports (defaults per kind)."""
        return self.code if self.code is not None else DEFAULT_CODES.get(self.kind, 0)

    def covers(
        self, protocols: tuple[str, ...], unit_id: int | None, wire: int | None, count: int
    ) -> bool:
        """Whether a request of these protocols, unit and wire range is affected."""
        if self.scope != "all" and self.scope not in protocols:
            return False
        if self.unit_id is not None and unit_id is not None and unit_id != self.unit_id:
            return False
        if self.start is None or wire is None:
            return True
        lo, hi = self.start - 1, self.start - 1 + (self.count or 1)
        return wire < hi and lo < wire + count


class FaultLimitError(ValueError):
    """More faults than the configured maximum would be active."""


DEFAULT_MAX_FAULTS = 1000


class FaultSet:
    """Active faults, with expiry and seeded probability.

    Indexed by kind, so matching a request only looks at the kinds it asks about, and
    expiry is checked only when the earliest expiry has passed: both stay cheap however
    many faults are active (at most `max_faults`).
    """

    def __init__(self, seed: int = 0, clock=time.time, max_faults: int = DEFAULT_MAX_FAULTS):
        self._faults: dict[str, Fault] = {}
        self._by_kind: dict[str, dict[str, Fault]] = {}
        self._rank: dict[str, int] = {}  # insertion order, for matching across kinds
        self._inserted = 0
        self._next_expiry = math.inf
        self._rng = random.Random(seed)
        self._clock = clock
        self.max_faults = max_faults
        self.version = 0  # bumped on every change, for persistence and image refresh

    def _insert(self, fault: Fault) -> None:
        self._faults[fault.id] = fault
        self._inserted += 1
        self._rank[fault.id] = self._inserted
        self._by_kind.setdefault(fault.kind, {})[fault.id] = fault
        if fault.expires is not None:
            self._next_expiry = min(self._next_expiry, fault.expires)

    def _remove(self, fault: Fault) -> None:
        del self._faults[fault.id]
        del self._rank[fault.id]
        of_kind = self._by_kind[fault.kind]
        del of_kind[fault.id]
        if not of_kind:
            del self._by_kind[fault.kind]

    def add(self, spec: FaultSpec) -> Fault:
        """Activate a fault.

        Raises:
            FaultLimitError: if `max_faults` faults are active already.
        """
        self._expire()
        if len(self._faults) >= self.max_faults:
            raise FaultLimitError(
                f"{len(self._faults)} faults are active, the maximum (--max-faults); "
                "clear some first"
            )
        now = self._clock()
        fault = Fault(
            **spec.model_dump(),
            id=uuid.uuid4().hex[:8],
            created=now,
            expires=now + spec.duration_s if spec.duration_s else None,
        )
        self._insert(fault)
        self.version += 1
        return fault

    def restore(self, faults: list[Fault]) -> int:
        """Re-activate saved faults that have not expired (up to the maximum); how many."""
        kept = 0
        for fault in faults:
            if len(self._faults) >= self.max_faults:
                break
            if fault.id in self._faults:
                self._remove(self._faults[fault.id])
            self._insert(fault)
            kept += 1
        self.version += 1
        self._expire(force=True)
        return kept

    def clear(self, kind: str | None = None) -> list[Fault]:
        """Remove all faults, or all of one kind; returns what was removed."""
        if kind is None:
            removed = list(self._faults.values())
        else:
            removed = list(self._by_kind.get(kind, {}).values())
        for fault in removed:
            self._remove(fault)
        if removed:
            self.version += 1
        return removed

    def remove(self, faults: list[Fault]) -> None:
        """Remove these faults (those still active)."""
        for fault in faults:
            if fault.id in self._faults:
                self._remove(self._faults[fault.id])
                self.version += 1

    def _expire(self, force: bool = False) -> None:
        now = self._clock()
        if not force and now < self._next_expiry:
            return
        expired = [f for f in self._faults.values() if f.expires is not None and f.expires <= now]
        for fault in expired:
            self._remove(fault)
        self._next_expiry = min(
            (f.expires for f in self._faults.values() if f.expires is not None), default=math.inf
        )
        if expired:
            self.version += 1

    def __len__(self) -> int:
        self._expire()
        return len(self._faults)

    def active(self) -> list[Fault]:
        """Faults in force now (expired ones are dropped)."""
        self._expire()
        return list(self._faults.values())

    def of_kind(self, kind: str, unit_id: int | None = None) -> Fault | None:
        """First active fault of a kind that applies to a unit (plant faults)."""
        if kind not in self._by_kind:
            return None
        self._expire()
        for fault in self._by_kind.get(kind, {}).values():
            if fault.unit_id is None or unit_id is None or fault.unit_id == unit_id:
                return fault
        return None

    def hit(
        self,
        kinds: tuple[str, ...],
        protocols: tuple[str, ...],
        unit_id: int | None = None,
        wire: int | None = None,
        count: int = 1,
    ) -> Fault | None:
        """The first matching transport fault that fires (probability drawn per request)."""
        if not self._faults:
            return None
        self._expire()
        candidates = [self._by_kind[k] for k in kinds if k in self._by_kind]
        if not candidates:
            return None
        if len(candidates) > 1:  # keep insertion order across kinds, as before
            matching = sorted(
                (f for group in candidates for f in group.values()),
                key=lambda f: self._rank[f.id],
            )
        else:
            matching = list(candidates[0].values())
        for fault in matching:
            if fault.covers(protocols, unit_id, wire, count):
                if fault.probability >= 1 or self._rng.random() < fault.probability:
                    return fault
        return None
