"""Run `sungrow-sim ctl` in the workload container and read its JSON answer.

No charm concerns here: callers get parsed JSON or a CtlError with a message fit for a
user (the command's stderr, a timeout, or an unreachable container).
"""

from __future__ import annotations

import json
import re
from typing import Any

import ops

from layer import CONTROL_URL

CTL_TIMEOUT = 30.0


class CtlError(Exception):
    """The control command could not run or reported an error."""


def ctl_command(unit_id: int | None, args: list[str]) -> list[str]:
    """The command line that runs `ctl ARGS` against the simulator's control API.

    With a unit id, commands act on (and `state` prints) that inverter only; without,
    `state` prints the whole simulator: version, protocols and every inverter.
    """
    unit = ["--unit-id", str(unit_id)] if unit_id is not None else []
    return ["sungrow-sim", "ctl", "--url", CONTROL_URL, *unit, *args]


def run_ctl(
    container: ops.Container,
    unit_id: int | None,
    args: list[str],
    timeout: float = CTL_TIMEOUT,
    environment: dict[str, str] | None = None,
) -> Any:
    """Run `sungrow-sim ctl --url URL [--unit-id N] ARGS...` and return its parsed JSON.

    `environment` is added to the command's (e.g. the control token, SUNGROW_SIM_TOKEN).
    """
    command = ctl_command(unit_id, args)
    what = f"sungrow-sim ctl {args[0]}" if args else "sungrow-sim ctl"
    try:
        stdout, _ = container.exec(command, timeout=timeout, environment=environment).wait_output()
    except ops.pebble.ExecError as e:
        stderr = e.stderr if isinstance(e.stderr, str) else ""
        detail = stderr.strip() or f"exit code {e.exit_code}"
        raise CtlError(f"{what} failed: {detail}") from None
    except ops.pebble.TimeoutError:
        raise CtlError(f"{what} did not answer within {timeout:g} s") from None
    except ops.pebble.ChangeError as e:
        raise CtlError(f"{what} failed: {e.err}") from None
    except (ops.pebble.ConnectionError, ops.pebble.APIError) as e:
        raise CtlError(f"cannot reach the simulator container: {e}") from None
    try:
        return json.loads(stdout)
    except json.JSONDecodeError:
        raise CtlError(f"{what} printed no JSON: {stdout.strip()[:200]!r}") from None


def own_inverter(state: Any, unit_id: int) -> dict[str, Any]:
    """The inverter entry for the unit id, from `ctl state` with or without --unit-id."""
    if "inverters" not in state:
        return state
    inverters: list[dict[str, Any]] = state["inverters"]
    return next((inv for inv in inverters if inv.get("unit_id") == unit_id), inverters[0])


def _key(name: object) -> str:
    """A Juju result key: lowercase letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-") or "value"


def _value(value: Any) -> Any:
    if isinstance(value, dict):
        return {_key(k): _value(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        items: dict[str, Any] = {}
        for index, item in enumerate(value):
            name = item.get("id", index) if isinstance(item, dict) else index
            items[_key(name)] = _value(item)
        return items
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_results(answer: Any, list_key: str = "items") -> dict[str, Any]:
    """Convert ctl JSON into Juju action results.

    Keys become lowercase and hyphenated, lists become maps keyed by the item's id (or
    its index), nulls are left out, and every value is a string.
    """
    converted = _value(answer)
    if isinstance(answer, list):
        return {list_key: converted, "count": str(len(answer))}
    if not isinstance(converted, dict):
        return {"value": converted}
    return converted
