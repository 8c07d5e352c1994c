"""Health: problems the background tasks report, shown by `GET /v1/health`.

`{"status": "ok"}` while nothing is wrong; `{"status": "degraded", "problems": [...]}`
while a background task (plant ticker, state flusher, a listener at its limits) has a
problem it is recovering from. Each problem is `{"component", "message", "since"}`;
a component clears its problem once it works again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


class Health:
    """The current problems, one per component."""

    def __init__(self) -> None:
        self._problems: dict[str, dict[str, Any]] = {}
        self._checks: dict[str, Callable[[], str | None]] = {}

    def add_check(self, component: str, check: Callable[[], str | None]) -> None:
        """A live check, run for every view: a message while there is a problem."""
        self._checks[component] = check

    def report(self, component: str, message: str) -> None:
        """Record (or update) the problem of a component."""
        known = self._problems.get(component)
        since = known["since"] if known else datetime.now(UTC).isoformat(timespec="seconds")
        self._problems[component] = {"component": component, "message": message, "since": since}

    def clear(self, component: str) -> bool:
        """Forget a component's problem; True if it had one."""
        return self._problems.pop(component, None) is not None

    def has(self, component: str) -> bool:
        """Whether a component has a problem now."""
        return component in self._problems

    def view(self) -> dict[str, Any]:
        """What `GET /v1/health` answers."""
        for component, check in self._checks.items():
            problem = check()
            if problem is None:
                self.clear(component)
            else:
                self.report(component, problem)
        if not self._problems:
            return {"status": "ok"}
        return {"status": "degraded", "problems": list(self._problems.values())}
