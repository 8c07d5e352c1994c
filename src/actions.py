"""Action parameters, validated on construction, and the ctl arguments they map to."""

from __future__ import annotations

from typing import Any, Literal

import pydantic
from charms.sungrow_sim_k8s.v0.inverter import describe_validation_error

from fault_kinds import FaultKind


def _number(value: float) -> str:
    """Format a number for the command line without a pointless ".0"."""
    return str(int(value)) if float(value).is_integer() else str(value)


class ActionParams(pydantic.BaseModel):
    """Parameters of one action; a bad value raises a ValueError of one line.

    `event.load_params(Params, errors="fail")` fails the action with that line, so the
    user reads e.g. "give exactly one of watts=N or auto=true" instead of pydantic's
    multi-line report.
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **params: Any):
        try:
            super().__init__(**params)
        except pydantic.ValidationError as e:
            raise ValueError(describe_validation_error(e)) from None

    def ctl_args(self) -> list[str]:
        """Arguments for `sungrow-sim ctl`, starting with the command."""
        raise NotImplementedError


class GetReadingsParams(ActionParams):
    """get-readings takes no parameters."""

    def ctl_args(self) -> list[str]:  # noqa: D102
        return ["state"]


class GetDashboardParams(ActionParams):
    """get-dashboard takes no parameters and runs no ctl command (src/dashboard.py)."""


class ListFaultsParams(ActionParams):
    """list-faults takes no parameters."""

    def ctl_args(self) -> list[str]:  # noqa: D102
        return ["faults"]


class _WattsOrAuto(ActionParams):
    watts: float | None = pydantic.Field(default=None, ge=0)
    auto: bool | None = None

    @pydantic.model_validator(mode="after")
    def _exactly_one(self) -> _WattsOrAuto:
        if (self.watts is None) == (not self.auto):
            raise ValueError("give exactly one of watts=N or auto=true")
        return self

    def _target(self) -> str:
        return "auto" if self.auto else _number(self.watts or 0)


class SetPowerParams(_WattsOrAuto):
    """set-power: fixed PV power in watts, or auto."""

    def ctl_args(self) -> list[str]:  # noqa: D102
        return ["set-power", self._target()]


class SetLoadParams(_WattsOrAuto):
    """set-load: fixed house load in watts, or auto."""

    def ctl_args(self) -> list[str]:  # noqa: D102
        return ["set-load", self._target()]


class SetStateParams(ActionParams):
    """set-state: run, stop or standby."""

    state: Literal["run", "stop", "standby"]

    def ctl_args(self) -> list[str]:  # noqa: D102
        return ["set-state", self.state]


class SetBatteryParams(ActionParams):
    """set-battery: state of charge and/or battery power (or auto)."""

    soc: float | None = pydantic.Field(default=None, ge=0, le=100)
    power: float | None = None
    auto: bool | None = None

    @pydantic.model_validator(mode="after")
    def _something_to_set(self) -> SetBatteryParams:
        if self.power is not None and self.auto:
            raise ValueError("give power=W or auto=true, not both")
        if self.soc is None and self.power is None and not self.auto:
            raise ValueError("give soc=PCT, power=W or auto=true")
        return self

    def ctl_args(self) -> list[str]:  # noqa: D102
        args = ["set-battery"]
        if self.soc is not None:
            args += ["--soc", _number(self.soc)]
        if self.auto:
            args += ["--power", "auto"]
        elif self.power is not None:
            args += ["--power", _number(self.power)]
        return args


class SetClockParams(ActionParams):
    """set-clock: ISO 8601 time or "now"."""

    time: str = pydantic.Field(min_length=1)

    def ctl_args(self) -> list[str]:  # noqa: D102
        return ["set-clock", self.time]


class InjectFaultParams(ActionParams):
    """inject-fault: kind and its optional shaping parameters."""

    kind: FaultKind
    duration: float | None = pydantic.Field(default=None, ge=0)
    scope: Literal["modbus", "sungrow", "http", "all"] | None = None
    probability: float | None = pydantic.Field(default=None, ge=0, le=1)
    code: int | None = pydantic.Field(default=None, ge=0, le=65535)
    start: int | None = pydantic.Field(default=None, ge=0, le=65535)
    count: int | None = pydantic.Field(default=None, ge=1, le=65536)
    delay: float | None = pydantic.Field(default=None, ge=0)
    max_sessions: int | None = pydantic.Field(default=None, ge=0)

    def ctl_args(self) -> list[str]:  # noqa: D102
        args = ["inject-fault", self.kind]
        options = self.model_dump(exclude={"kind"}, exclude_none=True)
        for name, value in options.items():
            args += [f"--{name.replace('_', '-')}", _number(value) if name != "scope" else value]
        return args


class ClearFaultsParams(ActionParams):
    """clear-faults: all, or one kind."""

    kind: FaultKind | None = None

    def ctl_args(self) -> list[str]:  # noqa: D102
        return ["clear-faults", self.kind] if self.kind else ["clear-faults"]


# Every action of charmcraft.yaml and its parameters (a unit test checks they agree).
ACTIONS: dict[str, type[ActionParams]] = {
    "get-readings": GetReadingsParams,
    "get-dashboard": GetDashboardParams,
    "list-faults": ListFaultsParams,
    "set-power": SetPowerParams,
    "set-load": SetLoadParams,
    "set-state": SetStateParams,
    "set-battery": SetBatteryParams,
    "set-clock": SetClockParams,
    "inject-fault": InjectFaultParams,
    "clear-faults": ClearFaultsParams,
}
