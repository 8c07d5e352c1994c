"""Logging: text (the default) or one JSON object per line, with repeats rate-limited.

Structured fields ride on the standard `extra=` argument of the logging calls, e.g.
`log.info("closing connection: %s", why, extra={"peer": host, "protocol": "modbus"})`;
the JSON format puts them next to time, level, logger and message, the text format
appends them as `key=value`.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

LogFormat = Literal["text", "json"]
FIELDS = ("peer", "protocol", "unit", "range", "fault", "listener", "suppressed")
# A message (same logger, level and format string) may be logged BURST times per
# WINDOW_S seconds; later repeats in the window are counted and reported with the next
# one that gets through.
BURST = 5
WINDOW_S = 10.0
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a record carries (see FIELDS)."""
    return {name: getattr(record, name) for name in FIELDS if hasattr(record, name)}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, then the fields."""

    def format(self, record: logging.LogRecord) -> str:  # noqa: D102
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **fields_of(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """The classic line, with any structured fields appended as key=value."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:  # noqa: D102
        line = super().format(record)
        extra = fields_of(record)
        if extra:
            line += " " + " ".join(f"{k}={v}" for k, v in extra.items())
        return line


class RepeatFilter(logging.Filter):
    """Let a message through BURST times per window; count and report the rest."""

    def __init__(
        self,
        burst: int = BURST,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.burst = burst
        self.window_s = window_s
        self._clock = clock
        # key -> [window start, passed in window, suppressed since last passed]
        self._seen: dict[tuple[str, int, str], list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: D102
        key = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        seen = self._seen.get(key)
        if seen is None or now - seen[0] >= self.window_s:
            suppressed = int(seen[2]) if seen else 0
            self._seen[key] = [now, 1, 0]
            if len(self._seen) > 4096:  # forget the oldest windows
                for old in list(self._seen)[:1024]:
                    del self._seen[old]
            if suppressed:
                record.suppressed = suppressed
            return True
        if seen[1] < self.burst:
            seen[1] += 1
            return True
        seen[2] += 1
        return False


def configure(level: str, fmt: LogFormat = "text", stream: TextIO | None = None) -> None:
    """Set up the root logger for `serve`: format, level, repeat limiting."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
