"""Arguments for deploying the simulator and parameters for its actions.

Checked here, before Juju is called, so a mistake in a test reads as a clear
ValueError instead of a failed action in the model.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

CHARM_NAME = "sungrow-sim-k8s"
IMAGE_RESOURCE = "simulator-image"
FAULT_KINDS = (
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
)
FAULT_SCOPES = ("modbus", "sungrow", "http", "all")

ConfigValue = bool | int | float | str


@dataclasses.dataclass(frozen=True)
class DeployArgs:
    """Positional and keyword arguments for `jubilant.Juju.deploy`."""

    charm: str | Path
    app: str
    channel: str | None
    config: dict[str, ConfigValue]
    num_units: int
    resources: dict[str, str] | None


def is_local_charm(charm: str | Path) -> bool:
    """Whether `charm` names a packed .charm file rather than a Charmhub charm."""
    return isinstance(charm, Path) or charm.endswith(".charm") or charm.startswith(("/", "."))


def deploy_args(
    charm: str | Path = CHARM_NAME,
    app: str = CHARM_NAME,
    *,
    channel: str | None = None,
    image: str | None = None,
    config: Mapping[str, ConfigValue] | None = None,
    num_units: int = 1,
) -> DeployArgs:
    """Check and assemble what `Juju.deploy` needs to deploy the simulator.

    Args:
        charm: Charmhub name, or path to a packed .charm file.
        app: application name in the model.
        channel: Charmhub channel (Charmhub charms only).
        image: OCI image for the simulator container (required for a local charm;
            optional for Charmhub, which ships its own).
        config: charm options by their kebab-case name, e.g. {"model": "SH10RT"}.
        num_units: how many units (each is one inverter).
    """
    local = is_local_charm(charm)
    if local:
        path = Path(charm)
        if not path.is_file():
            raise ValueError(f"charm file {path} does not exist; pack it with charmcraft pack")
        if channel is not None:
            raise ValueError("channel applies to Charmhub charms only, not to a local .charm")
        if not image:
            raise ValueError(
                f"a local charm needs image=... for its {IMAGE_RESOURCE!r} resource, "
                "e.g. localhost:32000/sungrow-sim:0.1.0"
            )
        charm = path  # jubilant passes a relative Path as ./path, as Juju needs
    if num_units < 1:
        raise ValueError(f"num_units must be at least 1, got {num_units}")
    options = dict(config or {})
    for key, value in options.items():
        if not key or key != key.lower() or "_" in key:
            raise ValueError(f"config option {key!r}: use the kebab-case name, e.g. modbus-port")
        if not isinstance(value, bool | int | float | str):
            raise ValueError(f"config option {key!r}: {value!r} is not a string or number")
    return DeployArgs(
        charm=charm,
        app=app,
        channel=channel,
        config=options,
        num_units=num_units,
        resources={IMAGE_RESOURCE: image} if image else None,
    )


def unit_name(app: str, unit: int | str) -> str:
    """`app/N` for a unit number, a full unit name unchanged, `app/leader` for "leader"."""
    if isinstance(unit, int):
        if unit < 0:
            raise ValueError(f"unit number must not be negative, got {unit}")
        return f"{app}/{unit}"
    if "/" in unit:
        return unit
    if unit == "leader" or unit.isdigit():
        return f"{app}/{unit}"
    raise ValueError(f"unit must be a number, 'leader' or 'app/N', got {unit!r}")


def _finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value


def power_params(watts: float | Literal["auto"]) -> dict[str, float | bool]:
    """Parameters of set-power (or set-load): a fixed power in watts, or "auto"."""
    if watts == "auto":
        return {"auto": True}
    if _finite("watts", watts) < 0:
        raise ValueError(f"watts must not be negative, got {watts}")
    return {"watts": watts}


def fault_params(
    kind: str,
    *,
    duration: float | None = None,
    scope: str | None = None,
    probability: float | None = None,
    code: int | None = None,
    start: int | None = None,
    count: int | None = None,
    delay: float | None = None,
    max_sessions: int | None = None,
) -> dict[str, str | float | int]:
    """Parameters of inject-fault, with the options that were given."""
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
    if scope is not None and scope not in FAULT_SCOPES:
        raise ValueError(f"unknown scope {scope!r}; one of {', '.join(FAULT_SCOPES)}")
    if probability is not None and not 0 <= _finite("probability", probability) <= 1:
        raise ValueError(f"probability must be between 0 and 1, got {probability}")
    for name, value in (("duration", duration), ("delay", delay)):
        if value is not None and _finite(name, value) < 0:
            raise ValueError(f"{name} must not be negative, got {value}")
    params: dict[str, str | float | int] = {"kind": kind}
    options = {
        "duration": duration,
        "scope": scope,
        "probability": probability,
        "code": code,
        "start": start,
        "count": count,
        "delay": delay,
        "max-sessions": max_sessions,
    }
    params.update({key: value for key, value in options.items() if value is not None})
    return params


def clear_params(kind: str | None = None) -> dict[str, str] | None:
    """Parameters of clear-faults: one kind, or None to clear all."""
    if kind is None:
        return None
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
    return {"kind": kind}
