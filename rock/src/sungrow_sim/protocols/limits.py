"""Connection limits shared by every listener: counts, idle and slow clients, the fd limit.

Each listener (Modbus, WiNet-S WebSocket, WiNet-S HTTP, control API) has a `Listener`
that admits or refuses a new connection: at most `max_connections` at once, at most
`max_connections_per_peer` from one peer address, and never so many that the process
runs out of file descriptors (a reserve is kept so /v1/health and state saves still
work). A refused connection is closed at once and logged once a minute per reason.

Open connections are closed when idle for `idle_timeout_s` (nothing received; a WiNet-S
dongle drops idle sockets too) or when a request head (HTTP) or frame (Modbus) takes
longer than `request_timeout_s` to arrive (slowloris). The Modbus server applies these
itself; aiohttp listeners get them through `protocols.site.GuardedSite`, which wraps each
connection's protocol in `GuardedProtocol`. (This module does not import aiohttp: the
Modbus listener starts before the HTTP stack is loaded.)
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import resource
from collections import Counter
from dataclasses import dataclass

from sungrow_sim.ratelimit import log_limited

log = logging.getLogger(__name__)

PROTOCOL_RESERVE_FDS = 48  # protocol listeners stop this far below the fd limit
CONTROL_RESERVE_FDS = 16  # the control API (health checks) may go closer
_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d{1,12})[ \t]*\r", re.IGNORECASE)
_PASSTHROUGH = re.compile(rb"\r\n(upgrade:[^\r]*websocket|transfer-encoding:[^\r]*chunked)", re.I)


@dataclass(frozen=True)
class Limits:
    """The configurable limits (ServeConfig's max_connections, ... keys)."""

    max_connections: int = 512
    max_connections_per_peer: int = 256
    idle_timeout_s: float = 300.0  # 0: never
    request_timeout_s: float = 10.0


class FdBudget:
    """How many file descriptors the process may still use for new connections."""

    def __init__(self) -> None:
        self.open = 0  # connections admitted by any listener and not yet closed
        self._baseline: int | None = None

    def problem(self) -> str | None:
        """For /v1/health: a message while protocol listeners would refuse for lack of fds."""
        if self.admits(PROTOCOL_RESERVE_FDS):
            return None
        return f"refusing new connections: near the open-file limit ({self.limit()})"

    @staticmethod
    def limit() -> int:
        """The soft RLIMIT_NOFILE."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        return soft if soft != resource.RLIM_INFINITY else 1 << 20

    @staticmethod
    def in_use() -> int:
        """File descriptors open now (Linux: /proc/self/fd)."""
        try:
            return len(os.listdir("/proc/self/fd"))
        except OSError:
            return 0

    def admits(self, reserve: int) -> bool:
        """Whether one more connection leaves `reserve` descriptors free."""
        limit = self.limit()
        if self._baseline is None:
            self._baseline = max(0, self.in_use() - self.open)
        if self._baseline + self.open + reserve < limit:
            return True
        # Close to the limit: count for real (the baseline may have moved).
        self._baseline = max(0, self.in_use() - self.open)
        return self._baseline + self.open + reserve < limit


BUDGET = FdBudget()


class Listener:
    """Admission and bookkeeping of one listening port's connections."""

    def __init__(
        self,
        name: str,
        limits: Limits | None = None,
        reserve: int = PROTOCOL_RESERVE_FDS,
        budget: FdBudget = BUDGET,
    ) -> None:
        self.name = name
        self.limits = limits or Limits()
        self.reserve = reserve
        self.budget = budget
        self.count = 0
        self.refused = 0
        self._per_peer: Counter[str] = Counter()

    def admit(self, peer: str) -> bool:
        """Count a new connection from `peer`, or refuse it (False: close it now)."""
        reason = None
        if self.count >= self.limits.max_connections:
            reason = f"{self.count} connections open (max-connections)"
        elif self._per_peer[peer] >= self.limits.max_connections_per_peer:
            reason = f"{self._per_peer[peer]} connections from it (max-connections-per-peer)"
        elif not self.budget.admits(self.reserve):
            reason = "near the open-file limit (RLIMIT_NOFILE)"
        if reason is not None:
            self.refused += 1
            if "RLIMIT_NOFILE" in reason:
                warn_fd_limit(f"{self.name}: refusing a connection from {peer}")
            else:
                log_limited(
                    log, logging.WARNING, f"refuse:{self.name}:{reason.split(' (')[-1]}",
                    "%s: refusing a connection from %s: %s", self.name, peer, reason,
                )  # fmt: skip
            return False
        self.count += 1
        self._per_peer[peer] += 1
        self.budget.open += 1
        return True

    def release(self, peer: str) -> None:
        """A connection admitted for `peer` closed."""
        self.count -= 1
        self.budget.open -= 1
        self._per_peer[peer] -= 1
        if self._per_peer[peer] <= 0:
            del self._per_peer[peer]


def warn_fd_limit(detail: str) -> None:
    """One warning a minute, whoever meets the open-file limit (a listener, accept())."""
    log_limited(
        log, logging.WARNING, "fd-limit",
        "%s: near the open-file limit (RLIMIT_NOFILE %d): refusing new connections",
        detail, FdBudget.limit(),
    )  # fmt: skip


def peer_of(transport: asyncio.BaseTransport) -> str:
    """The peer's host address, or '?'."""
    peer = transport.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else "?"


class Watchdog:
    """Idle timeout and request deadline of one connection, on the event loop's timers."""

    def __init__(self, listener: Listener, transport: asyncio.Transport, peer: str) -> None:
        self.listener = listener
        self.transport = transport
        self.peer = peer
        self._loop = asyncio.get_running_loop()
        self.last_data = self._loop.time()
        self._idle: asyncio.TimerHandle | None = None
        self._deadline: asyncio.TimerHandle | None = None
        if listener.limits.idle_timeout_s:
            self._idle = self._loop.call_later(listener.limits.idle_timeout_s, self._check_idle)

    def touch(self) -> None:
        """Data arrived."""
        self.last_data = self._loop.time()

    def _check_idle(self) -> None:
        timeout = self.listener.limits.idle_timeout_s
        quiet = self._loop.time() - self.last_data
        if quiet >= timeout:
            log_limited(
                log, logging.INFO, f"idle:{self.listener.name}",
                "%s: closing a connection from %s idle for %.0f s (idle-timeout)",
                self.listener.name, self.peer, quiet,
            )  # fmt: skip
            self.transport.abort()
            return
        self._idle = self._loop.call_later(timeout - quiet, self._check_idle)

    def start_request(self) -> None:
        """The first byte of a request head or frame arrived: it must be complete in time."""
        if self._deadline is None:
            self._deadline = self._loop.call_later(
                self.listener.limits.request_timeout_s, self._too_slow
            )

    def end_request(self) -> None:
        """The request head or frame is complete."""
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        log_limited(
            log, logging.INFO, f"slow:{self.listener.name}",
            "%s: closing a connection from %s: a request took longer than %g s to arrive "
            "(request-timeout)",
            self.listener.name, self.peer, self.listener.limits.request_timeout_s,
        )  # fmt: skip
        self.transport.abort()

    def stop(self) -> None:
        """The connection closed."""
        for handle in (self._idle, self._deadline):
            if handle is not None:
                handle.cancel()
        self._idle = self._deadline = None


class GuardedProtocol(asyncio.Protocol):
    """Wraps an aiohttp connection protocol: admission, idle timeout, request-head deadline.

    The head of each HTTP request (up to the blank line) and its Content-Length body must
    arrive within the request timeout of its first byte. After a WebSocket upgrade (or a
    chunked body) only the idle timeout applies to the connection.
    """

    def __init__(self, inner: asyncio.Protocol, listener: Listener) -> None:
        self.inner = inner
        self.listener = listener
        self.peer = "?"
        self.watchdog: Watchdog | None = None
        self._admitted = False
        self._head = bytearray()  # the head of the request being received
        self._body_left = 0
        self._passthrough = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102
        assert isinstance(transport, asyncio.Transport)
        self.peer = peer_of(transport)
        if not self.listener.admit(self.peer):
            transport.abort()
            return
        self._admitted = True
        self.watchdog = Watchdog(self.listener, transport, self.peer)
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:  # noqa: D102
        if not self._admitted:
            return
        assert self.watchdog is not None
        self.watchdog.touch()
        if not self._passthrough:
            self._track(data)
        self.inner.data_received(data)

    def _track(self, data: bytes) -> None:
        """Follow request boundaries: arm the deadline at a head's first byte."""
        assert self.watchdog is not None
        view = memoryview(data)
        while view and not self._passthrough:
            if self._body_left:
                used = min(self._body_left, len(view))
                self._body_left -= used
                view = view[used:]
                if not self._body_left:
                    self.watchdog.end_request()
                continue
            self.watchdog.start_request()
            start = max(0, len(self._head) - 3)
            self._head += view
            end = self._head.find(_HEAD_END, start)
            if end < 0:
                if len(self._head) > 65536:  # aiohttp refuses such a head anyway
                    self._head = self._head[-3:]
                return
            head = bytes(self._head[: end + 4])
            rest = len(self._head) - (end + 4)
            view = view[len(view) - rest :] if rest else view[len(view) :]
            self._head = bytearray()
            if _PASSTHROUGH.search(head):
                self._passthrough = True
                self.watchdog.end_request()
                return
            length = _CONTENT_LENGTH.search(head)
            self._body_left = int(length.group(1)) if length else 0
            if not self._body_left:
                self.watchdog.end_request()

    def eof_received(self) -> bool | None:  # noqa: D102
        if not self._admitted:
            return None
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        if not self._admitted:
            return
        self._admitted = False
        if self.watchdog is not None:
            self.watchdog.stop()
        self.listener.release(self.peer)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:  # noqa: D102
        self.inner.pause_writing()

    def resume_writing(self) -> None:  # noqa: D102
        self.inner.resume_writing()
