"""The `dashboard` option: the control listener on the pod address, behind a token.

The token is random, made once per unit and kept in a unit-owned Juju secret (each unit
runs its own simulator, so each has its own dashboard). The service gets it through its
environment (`SUNGROW_SIM_CONTROL_TOKEN`), never on the command line, and the charm's own
`sungrow-sim ctl` calls send it (`SUNGROW_SIM_TOKEN`). With the option off nothing
changes: the control API stays on loopback with no token.
"""

from __future__ import annotations

import secrets
import shlex
from typing import Any

import ops

from config import CONTROL_PORT
from layer import SERVICE_NAME

SECRET_LABEL = "dashboard-token"  # noqa: S105 (names, not secrets)
SERVE_TOKEN_ENV = "SUNGROW_SIM_CONTROL_TOKEN"  # noqa: S105 read by `sungrow-sim serve`
CTL_TOKEN_ENV = "SUNGROW_SIM_TOKEN"  # noqa: S105 read by `sungrow-sim ctl`
PUBLIC_BIND = "0.0.0.0"  # noqa: S104 (the point of the option; the token guards it)


class DashboardError(Exception):
    """The dashboard cannot be shown (the message says what to do)."""


def token(unit: ops.Unit, model: ops.Model, create: bool = True) -> str | None:
    """This unit's dashboard token: from its secret, made on first use when `create`."""
    try:
        secret = model.get_secret(label=SECRET_LABEL)
        return secret.get_content(refresh=True)["token"]
    except ops.SecretNotFoundError:
        if not create:
            return None
    value = secrets.token_urlsafe(24)
    unit.add_secret(
        {"token": value}, label=SECRET_LABEL, description="sungrow-sim dashboard token"
    )
    return value


def expose(layer: ops.pebble.Layer, value: str) -> ops.pebble.Layer:
    """The layer with the control listener on every address and the token in its env."""
    data: dict[str, Any] = dict(layer.to_dict())
    service = data["services"][SERVICE_NAME]
    args = shlex.split(service["command"])
    args[args.index("--control-bind") + 1] = PUBLIC_BIND
    service["command"] = shlex.join(args)
    service["environment"] = {**service.get("environment", {}), SERVE_TOKEN_ENV: value}
    return ops.pebble.Layer(data)  # pyright: ignore[reportArgumentType]


def ctl_environment(unit: ops.Unit, model: ops.Model, enabled: bool) -> dict[str, str]:
    """The environment for the charm's `sungrow-sim ctl` calls (the token when on)."""
    value = token(unit, model, create=False) if enabled else None
    return {CTL_TOKEN_ENV: value} if value else {}


def results(host: str, enabled: bool, value: str | None) -> dict[str, str]:
    """The get-dashboard action's results: where to open it and the token to enter."""
    if not enabled:
        raise DashboardError(
            "the dashboard is off: run `juju config APP dashboard=true` to serve it"
        )
    if value is None:
        raise DashboardError("the dashboard token is not made yet; try again shortly")
    return {"url": f"http://{host}:{CONTROL_PORT}/", "token": value}
