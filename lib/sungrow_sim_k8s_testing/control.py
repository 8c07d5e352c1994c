"""The simulator's control API JSON, turned into the helpers' typed values.

`LocalSimulator` reads the control API directly; `Simulator` reads the same JSON from
inside the workload container. Both return the types the action results give, so one
test body runs against either.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def _key(name: object) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-") or "value"


def as_results(value: Any) -> Any:
    """Control API JSON in the shape the charm's actions return (see state.py).

    The same conversion as the charm's `to_results`: keys lowercase and hyphenated,
    lists as maps keyed by the item's id (or index), nulls left out, values strings.
    """
    if isinstance(value, Mapping):
        return {_key(k): as_results(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return {
            _key(item.get("id", index) if isinstance(item, Mapping) else index): as_results(item)
            for index, item in enumerate(value)
        }
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclasses.dataclass(frozen=True)
class RequestRecord:
    """What one client asked for, from `GET /v1/requests` (the request recorder).

    One record per (protocol, peer, unit, table, function, address, count); `address` is
    the documented address (wire address + 1), like a fault's `start`.
    """

    protocol: str
    peer: str
    unit_id: int | None
    table: str | None
    function: str
    address: int | None
    count: int | None
    requests: int
    outcomes: dict[str, int]
    last_outcome: str | None
    first: str | None
    last: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestRecord:
        """Parse one entry of the `requests` list."""
        return cls(
            protocol=str(data["protocol"]),
            peer=str(data.get("peer", "")),
            unit_id=data.get("unit_id"),
            table=data.get("table"),
            function=str(data.get("function", "")),
            address=data.get("address"),
            count=data.get("count"),
            requests=int(data.get("requests", 0)),
            outcomes={str(k): int(v) for k, v in (data.get("outcomes") or {}).items()},
            last_outcome=data.get("last_outcome"),
            first=data.get("first"),
            last=data.get("last"),
        )

    def covers(self, address: int) -> bool:
        """Whether this request's range includes a documented register address."""
        if self.address is None:
            return False
        return self.address <= address < self.address + (self.count or 1)


def parse_requests(answer: Mapping[str, Any]) -> list[RequestRecord]:
    """Parse `GET /v1/requests`: {"requests": [...]}."""
    if "requests" not in answer or not isinstance(answer["requests"], list):
        raise ValueError(f"/v1/requests: expected a 'requests' list, got {sorted(answer)}")
    return [RequestRecord.from_json(item) for item in answer["requests"]]


@dataclasses.dataclass(frozen=True)
class Setting:
    """One device setting (holding register), from `GET /v1/settings`."""

    name: str
    address: int
    value: Any
    raw: int | None = None
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    choices: dict[str, int] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Setting:
        """Parse one entry of `settings`, or the `setting` of a POST's answer."""
        return cls(
            name=str(data["name"]),
            address=int(data["address"]),
            value=data.get("value"),
            raw=data.get("raw"),
            unit=data.get("unit"),
            min=data.get("min"),
            max=data.get("max"),
            choices=dict(data["choices"]) if data.get("choices") else None,
        )


def parse_settings(answer: Mapping[str, Any]) -> list[Setting]:
    """Parse `GET /v1/settings`: {"unit_id": 1, "settings": [...]}."""
    if "settings" not in answer or not isinstance(answer["settings"], list):
        raise ValueError(f"/v1/settings: expected a 'settings' list, got {sorted(answer)}")
    return [Setting.from_json(item) for item in answer["settings"]]


class WaitTimeoutError(TimeoutError):
    """wait_until gave up; the message has the last value or error seen."""


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 60.0,
    *,
    interval: float = 0.5,
    what: str | None = None,
    ignore: tuple[type[BaseException], ...] = (),
) -> T:
    """Call `predicate` until it returns something truthy; return that value.

    Use it to wait until a consumer has seen a change, with a deadline instead of a
    sleep::

        sim.set_power(3000)
        wait_until(lambda: my_charm_reading() == 3000, timeout=120, what="power seen")

    Exceptions of the types in `ignore` count as "not yet" (e.g. ConnectionError while
    a service restarts); any other propagates at once. Raises WaitTimeoutError after
    `timeout` seconds, naming `what` and the last value or error.
    """
    if timeout < 0 or interval <= 0:
        raise ValueError("timeout must be >= 0 and interval > 0")
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = predicate()
        except ignore as e:
            last = e
        else:
            if value:
                return value
            last = value
        if time.monotonic() >= deadline:
            name = what or getattr(predicate, "__name__", "condition")
            raise WaitTimeoutError(f"{name}: not true after {timeout:g} s (last: {last!r})")
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
