"""The request recorder: what every protocol listener served, to whom, and how it went.

The protocol servers call it once per request (a few dictionary updates, no I/O, no
locks: everything runs on the event loop). Two views read it: `requests()` (the control
API's `GET /v1/requests`, one entry per peer and register range, bounded) and the
aggregate counters behind `/metrics`, which are never dropped.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

MAX_ENTRIES = 1024
# Upper bounds (seconds) of the latency histogram's buckets; +Inf is implied.
LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
OK = "ok"
DROPPED = "dropped"

# (protocol, peer host, unit, table, function, documented address, count)
EntryKey = tuple[str, str, int | None, str | None, str, int | None, int | None]
# (protocol, function, unit, table, outcome)
CountKey = tuple[str, str, int | None, str | None, str]
# Register names written at (unit, wire address, count), for the settings counter.
NameResolver = Callable[[int, int, int], Iterable[str]]


def exception_outcome(code: int) -> str:
    """The outcome of a request answered with Modbus exception `code`."""
    return f"exception-{code}"


class _Entry:
    __slots__ = ("first", "last", "last_outcome", "outcomes", "requests")

    def __init__(self, now: float) -> None:
        self.requests = 0
        self.outcomes: dict[str, int] = {}
        self.last_outcome = OK
        self.first = now
        self.last = now


class Histogram:
    """Cumulative-at-read latency histogram: counts per bucket, sum and count."""

    __slots__ = ("buckets", "count", "sum")

    def __init__(self) -> None:
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.sum = 0.0
        self.count = 0

    def observe(self, seconds: float) -> None:  # noqa: D102
        self.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.sum += seconds
        self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        """(upper bound, cumulative count) pairs as Prometheus wants them, +Inf last."""
        total, out = 0, []
        for bound, n in zip((*map(repr, LATENCY_BUCKETS), "+Inf"), self.buckets, strict=True):
            total += n
            out.append((bound, total))
        return out


class Recorder:
    """Counts requests, connections, bytes, fired faults and settings writes."""

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        register_names: NameResolver | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_entries = max_entries
        self.register_names = register_names
        self._clock = clock
        self._entries: OrderedDict[EntryKey, _Entry] = OrderedDict()
        self.counts: dict[CountKey, int] = {}
        self.latency: dict[str, Histogram] = {}
        self.bytes_in: dict[str, int] = {}
        self.bytes_out: dict[str, int] = {}
        self.open_connections: dict[str, int] = {}
        self.connections: dict[str, int] = {}  # opened since start
        self.faults_fired: dict[tuple[str, str], int] = {}
        self.faults_injected: dict[str, int] = {}
        self.settings_writes: dict[tuple[str, str], int] = {}

    # -- the hot path ----------------------------------------------------------------

    def request(
        self,
        protocol: str,
        peer: str,
        unit: int | None,
        table: str | None,
        function: str,
        address: int | None,
        count: int | None,
        outcome: str,
        latency_s: float | None = None,
        bytes_in: int = 0,
        bytes_out: int = 0,
        fault: str | None = None,
    ) -> None:
        """Record one request; `address` is documented (wire + 1), `fault` the kind that fired."""
        now = self._clock()
        key = (protocol, peer, unit, table, function, address, count)
        entries = self._entries
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = _Entry(now)
            if len(entries) > self.max_entries:
                entries.popitem(last=False)
        else:
            entries.move_to_end(key)
        entry.requests += 1
        entry.outcomes[outcome] = entry.outcomes.get(outcome, 0) + 1
        entry.last_outcome = outcome
        entry.last = now
        ckey = (protocol, function, unit, table, outcome)
        counts = self.counts
        counts[ckey] = counts.get(ckey, 0) + 1
        if latency_s is not None:
            histogram = self.latency.get(protocol)
            if histogram is None:
                histogram = self.latency[protocol] = Histogram()
            histogram.observe(latency_s)
        if bytes_in or bytes_out:
            self.traffic(protocol, bytes_in, bytes_out)
        if fault is not None:
            self.fault_fired(fault, protocol)

    def traffic(self, protocol: str, bytes_in: int, bytes_out: int) -> None:
        """Bytes received and sent outside a recorded request (e.g. a key exchange)."""
        self.bytes_in[protocol] = self.bytes_in.get(protocol, 0) + bytes_in
        self.bytes_out[protocol] = self.bytes_out.get(protocol, 0) + bytes_out

    # -- connections, faults, settings -----------------------------------------------

    def connection_opened(self, listener: str) -> None:  # noqa: D102
        self.open_connections[listener] = self.open_connections.get(listener, 0) + 1
        self.connections[listener] = self.connections.get(listener, 0) + 1

    def connection_closed(self, listener: str) -> None:  # noqa: D102
        self.open_connections[listener] = max(0, self.open_connections.get(listener, 0) - 1)

    def fault_fired(self, kind: str, protocol: str) -> None:
        """A fault changed what a client got (a request, a connection or a session)."""
        key = (kind, protocol)
        self.faults_fired[key] = self.faults_fired.get(key, 0) + 1

    def fault_injected(self, kind: str) -> None:  # noqa: D102
        self.faults_injected[kind] = self.faults_injected.get(kind, 0) + 1

    def setting_written(self, name: str, via: str) -> None:
        """A holding register (setting) `name` was written through `via` (e.g. control)."""
        key = (name, via)
        self.settings_writes[key] = self.settings_writes.get(key, 0) + 1

    def registers_written(self, unit: int, wire: int, count: int, via: str) -> None:
        """An accepted Modbus write: count it once per register name it touched."""
        if self.register_names is None:
            return
        for name in self.register_names(unit, wire, count):
            self.setting_written(name, via)

    # -- views -----------------------------------------------------------------------

    @property
    def entry_count(self) -> int:
        """How many entries the request record holds now."""
        return len(self._entries)

    def requests(self, unit_id: int | None = None) -> list[dict[str, Any]]:
        """The request record, oldest first (Contract A of the control API)."""
        out = []
        for key, entry in self._entries.items():
            protocol, peer, unit, table, function, address, count = key
            if unit_id is not None and unit != unit_id:
                continue
            out.append(
                {
                    "protocol": protocol,
                    "peer": peer,
                    "unit_id": unit,
                    "table": table,
                    "function": function,
                    "address": address,
                    "count": count,
                    "requests": entry.requests,
                    "outcomes": dict(entry.outcomes),
                    "last_outcome": entry.last_outcome,
                    "first": _iso(entry.first),
                    "last": _iso(entry.last),
                }
            )
        return out


class NullRecorder(Recorder):
    """Records nothing: the default of a protocol server built without telemetry."""

    def request(self, *args: Any, **kwargs: Any) -> None:  # noqa: D102
        return

    def traffic(self, protocol: str, bytes_in: int, bytes_out: int) -> None:  # noqa: D102
        return

    def connection_opened(self, listener: str) -> None:  # noqa: D102
        return

    def connection_closed(self, listener: str) -> None:  # noqa: D102
        return

    def fault_fired(self, kind: str, protocol: str) -> None:  # noqa: D102
        return

    def fault_injected(self, kind: str) -> None:  # noqa: D102
        return

    def setting_written(self, name: str, via: str) -> None:  # noqa: D102
        return


NULL = NullRecorder()


def holding_names(registers: Iterable[Any], wire: int, count: int) -> list[str]:
    """Names of the holding registers (catalogue specs) that words wire..wire+count-1 touch."""
    names = []
    for reg in registers:
        if reg.table != "holding":
            continue
        start = reg.address - 1
        if start < wire + count and wire < start + reg.width:
            names.append(reg.name)
    return names


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
