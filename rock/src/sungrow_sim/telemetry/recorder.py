"""The request recorder: what every protocol listener served, to whom, and how it went.

The protocol servers call it once per request (a few dictionary updates, no I/O, no
locks: everything runs on the event loop). Two views read it: `requests()` (the control
API's `GET /v1/requests`, one entry per peer and register range, bounded) and the
aggregate counters behind `/metrics`, which are never dropped.
"""

from __future__ import annotations

import heapq
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

# Room for one logger scraping every unit id a Modbus server can address (247) over 30
# ranges each, so a fleet's steady scrape never churns the record.
MAX_ENTRIES = 8192
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
    __slots__ = ("bytes_in", "bytes_out", "first", "last", "last_outcome", "outcomes", "requests")

    def __init__(self, now: float) -> None:
        self.requests = 0
        self.outcomes: dict[str, int] = {}
        self.last_outcome = OK
        self.first = now
        self.last = now
        self.bytes_in = 0
        self.bytes_out = 0


class Histogram:
    """Cumulative-at-read latency histogram: counts per bucket, sum and count."""

    __slots__ = ("buckets", "count", "sum")

    def __init__(self) -> None:
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.sum = 0.0
        self.count = 0

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
        self._entries: dict[EntryKey, _Entry] = {}
        # What entries dropped from the record had counted, so the totals never go back.
        self._dropped_counts: dict[CountKey, int] = {}
        self._dropped_bytes: dict[str, list[int]] = {}
        self._traffic: dict[str, list[int]] = {}  # bytes outside any request entry
        self.latency: dict[str, Histogram] = {}
        self.open_connections: dict[str, int] = {}
        self.connections: dict[str, int] = {}  # opened since start
        self.faults_fired: dict[tuple[str, str], int] = {}
        self.faults_injected: dict[str, int] = {}
        self.settings_writes: dict[tuple[str, str], int] = {}

    # -- the hot path: one dictionary lookup and a few attribute updates ---------------

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
        entry = self._entries.get(key)
        if entry is None:
            entry = self._add(key, now)
        entry.requests += 1
        outcomes = entry.outcomes
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        entry.last_outcome = outcome
        entry.last = now
        entry.bytes_in += bytes_in
        entry.bytes_out += bytes_out
        if latency_s is not None:
            histogram = self.latency.get(protocol)
            if histogram is None:
                histogram = self.latency[protocol] = Histogram()
            histogram.buckets[bisect_left(LATENCY_BUCKETS, latency_s)] += 1
            histogram.sum += latency_s
            histogram.count += 1
        if fault is not None:
            self.fault_fired(fault, protocol)

    def _add(self, key: EntryKey, now: float) -> _Entry:
        """A new entry; when the record is full, the least recently seen eighth goes."""
        entries = self._entries
        if len(entries) >= self.max_entries:
            victims = heapq.nsmallest(
                max(1, self.max_entries // 8), entries.items(), key=lambda kv: kv[1].last
            )
            for old_key, old in victims:
                del entries[old_key]
                self._fold(old_key, old)
        entry = entries[key] = _Entry(now)
        return entry

    def _fold(self, key: EntryKey, entry: _Entry) -> None:
        protocol, _, unit, table, function, _, _ = key
        for outcome, n in entry.outcomes.items():
            ckey = (protocol, function, unit, table, outcome)
            self._dropped_counts[ckey] = self._dropped_counts.get(ckey, 0) + n
        sums = self._dropped_bytes.setdefault(protocol, [0, 0])
        sums[0] += entry.bytes_in
        sums[1] += entry.bytes_out

    def traffic(self, protocol: str, bytes_in: int, bytes_out: int) -> None:
        """Bytes received and sent outside a recorded request (e.g. a key exchange)."""
        sums = self._traffic.setdefault(protocol, [0, 0])
        sums[0] += bytes_in
        sums[1] += bytes_out

    # -- totals (read at scrape time) ------------------------------------------------

    @property
    def counts(self) -> dict[CountKey, int]:
        """Requests by (protocol, function, unit, table, outcome), since start."""
        counts = dict(self._dropped_counts)
        for key, entry in list(self._entries.items()):
            protocol, _, unit, table, function, _, _ = key
            for outcome, n in list(entry.outcomes.items()):
                ckey = (protocol, function, unit, table, outcome)
                counts[ckey] = counts.get(ckey, 0) + n
        return counts

    def _bytes(self, index: int) -> dict[str, int]:
        totals: dict[str, int] = {}
        for source in (self._dropped_bytes, self._traffic):
            for protocol, sums in list(source.items()):
                totals[protocol] = totals.get(protocol, 0) + sums[index]
        for key, entry in list(self._entries.items()):
            n = entry.bytes_out if index else entry.bytes_in
            totals[key[0]] = totals.get(key[0], 0) + n
        return totals

    @property
    def bytes_in(self) -> dict[str, int]:
        """Bytes received, by protocol, since start."""
        return self._bytes(0)

    @property
    def bytes_out(self) -> dict[str, int]:
        """Bytes sent, by protocol, since start."""
        return self._bytes(1)

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
        """The request record, in the order first seen (Contract A of the control API)."""
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
