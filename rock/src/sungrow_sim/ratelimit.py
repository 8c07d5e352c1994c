"""Rate-limited logging: at most one line per kind and interval, with a count of the rest.

Abuse (malformed frames, bad HTTP requests, failed logins, accept errors at the fd limit)
must not turn into a log flood: every caller names a kind, the first event of a kind in an
interval is logged, the others are counted and reported with the next line of that kind.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

DEFAULT_INTERVAL_S = 60.0
MAX_KINDS = 256  # kinds are short fixed strings; the bound keeps a bug from growing a table


class RateLimiter:
    """Decides, per kind, whether an event is logged now."""

    def __init__(
        self, interval_s: float = DEFAULT_INTERVAL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._next: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def allow(self, kind: str) -> int | None:
        """None: suppress this event; otherwise log it (the number suppressed since)."""
        now = self._clock()
        if now < self._next.get(kind, 0.0):
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return None
        if kind not in self._next and len(self._next) >= MAX_KINDS:
            self._next.clear()
            self._suppressed.clear()
        self._next[kind] = now + self.interval_s
        return self._suppressed.pop(kind, 0)


_LIMITER = RateLimiter()


def log_limited(
    logger: logging.Logger,
    level: int,
    kind: str,
    message: str,
    *args: object,
    exc_info: bool = False,
    extra: Mapping[str, object] | None = None,
) -> bool:
    """Log `message % args` unless `kind` was logged in the last minute; True if logged.

    `extra` carries structured fields (peer, protocol, ...) for `--log-format json`.
    """
    suppressed = _LIMITER.allow(f"{logger.name}:{kind}")
    if suppressed is None:
        return False
    if suppressed:
        message += " (and %d more like it since the last report)"
        args = (*args, suppressed)
    logger.log(level, message, *args, exc_info=exc_info, extra=extra)
    return True


class RateLimitFilter(logging.Filter):
    """A logging filter that passes one record per (logger, message template) and interval.

    Installed on the loggers of libraries that log per bad request (aiohttp's server
    logs every malformed HTTP request with a traceback).
    """

    def __init__(self, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        super().__init__()
        self.limiter = RateLimiter(interval_s)

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: D102
        kind = f"{record.name}:{record.msg}"
        exc_type, exc = (record.exc_info or (None, None, None))[:2]
        if exc_type is not None:
            kind += ":" + exc_type.__name__
        suppressed = self.limiter.allow(kind)
        if suppressed is None:
            return False
        if exc_type is not None:  # one line, no traceback: the client sent garbage
            summary = " ".join(str(exc).split())[:200]
            record.msg = f"{record.getMessage()}: {exc_type.__name__}: {summary}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        if suppressed:
            record.msg = f"{record.msg} (and {suppressed} more like it since the last report)"
        return True


def limit_library_logs() -> None:
    """Rate-limit the library loggers that log once per malformed request."""
    for name in ("aiohttp.server", "aiohttp.web", "aiohttp.websocket", "pymodbus.logging"):
        target = logging.getLogger(name)
        if not any(isinstance(f, RateLimitFilter) for f in target.filters):
            target.addFilter(RateLimitFilter())
