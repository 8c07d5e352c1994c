"""Serve configuration: pydantic models shared by the config file and the CLI flags."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sungrow_sim.protocols.winet.sessions import WinetOptions
from sungrow_sim.registers import catalogue
from sungrow_sim.validation import problems

Protocol = Literal["modbus", "sungrow", "http"]
ALL_PROTOCOLS: tuple[Protocol, ...] = ("modbus", "sungrow", "http")
DEFAULT_HTTP_PORT = 80


class ConfigError(ValueError):
    """Invalid configuration; the message names every bad key."""


class InverterConfig(BaseModel):
    """One inverter behind the server."""

    model_config = ConfigDict(extra="forbid")

    model: str = "SG10RT"
    serial: str = Field(default="SIM0000001", min_length=1, max_length=20)
    unit_id: int = Field(default=1, ge=1, le=246)
    array_kwp: float | None = Field(default=None, gt=0, le=10_000)
    battery_kwh: float = Field(default=10.0, ge=0, le=1_000)

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        try:
            catalogue().model(value)
        except KeyError as err:
            raise ValueError(err.args[0]) from None
        return value

    @field_validator("serial")
    @classmethod
    def _ascii_serial(cls, value: str) -> str:
        if not value.isascii() or not value.isprintable():
            raise ValueError("must be printable ASCII")
        return value


class ServeConfig(BaseModel):
    """Everything `sungrow-sim serve` can be told."""

    model_config = ConfigDict(extra="forbid")

    bind: str = "127.0.0.1"
    protocols: list[Protocol] = Field(default_factory=lambda: list(ALL_PROTOCOLS), min_length=1)
    modbus_port: int = Field(default=5020, ge=0, le=65535)
    ws_port: int = Field(default=8082, ge=0, le=65535)
    http_port: int = Field(default=DEFAULT_HTTP_PORT, ge=0, le=65535)
    control_bind: str = "127.0.0.1"
    control_port: int = Field(default=8090, ge=0, le=65535)
    control_token: str | None = None
    state_dir: Path | None = None
    flush_interval_s: float = Field(default=5.0, gt=0, le=3600)
    seed: int = 0
    time_scale: float = Field(default=1.0, gt=0, le=1_000_000)
    start_time: datetime | None = None
    timezone: str = "UTC"
    latitude: float = Field(default=48.14, ge=-90, le=90)
    longitude: float = Field(default=11.58, ge=-180, le=180)
    cloudiness: float = Field(default=0.2, ge=0, le=1)
    tick_s: float = Field(default=1.0, gt=0, le=60)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = "text"
    metrics_bind: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    ready_file: Path | None = None
    # Limits (docs/robustness.md): per listener, per peer address, idle and slow clients.
    max_connections: int = Field(default=512, ge=1, le=100_000)
    max_connections_per_peer: int = Field(default=256, ge=1, le=100_000)
    idle_timeout_s: float = Field(default=300.0, ge=0, le=86_400)
    request_timeout_s: float = Field(default=10.0, gt=0, le=3600)
    max_faults: int = Field(default=1000, ge=1, le=100_000)
    winet: WinetOptions = Field(default_factory=WinetOptions)
    inverters: list[InverterConfig] = Field(
        default_factory=lambda: [InverterConfig()], min_length=1
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)"
            ) from None
        return value

    @field_validator("start_time")
    @classmethod
    def _clock_range(cls, value: datetime | None) -> datetime | None:
        if value is not None and not 2000 <= value.year <= 2099:
            raise ValueError("the inverter clock shows years 2000..2099 only")
        return value

    @field_validator("control_token")
    @classmethod
    def _token_on_public_bind(cls, value: str | None, info: ValidationInfo) -> str | None:
        bind = info.data.get("control_bind", "127.0.0.1")
        if value is not None and not value.strip() and not is_loopback_host(bind):
            raise ValueError(
                f"an empty token with --control-bind {bind} would open the control API to "
                "every peer; set a token or bind the control API to 127.0.0.1"
            )
        return value

    @field_validator("protocols", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return value

    @model_validator(mode="after")
    def _unique_units(self) -> ServeConfig:
        units = [i.unit_id for i in self.inverters]
        if len(units) != len(set(units)):
            raise ValueError("inverters: unit_id values must be unique")
        return self

    @property
    def http_port_is_default(self) -> bool:
        """True when nobody asked for the HTTP port (it may then be skipped if privileged)."""
        return "http_port" not in self.model_fields_set


def is_loopback_host(host: str) -> bool:
    """Whether a bind address only accepts peers on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _flag(loc: list[str], message: str) -> tuple[str, str]:
    """A location as the command-line flag that sets it (the first inverter's are flat)."""
    if loc[:2] == ["inverters", "0"]:
        loc = loc[2:]
    if not loc:
        return "", message
    if len(loc) > 1 and loc[1].isdigit():
        message = f"item {int(loc[1]) + 1}: {message}"
    return "--" + loc[0].replace("_", "-"), message


def describe(error: ValidationError, flags: bool = False) -> str:
    """One line per problem, naming the key (or the CLI flag) and what to change."""
    return "\n".join(problems(error, _flag) if flags else problems(error))


def load(
    path: Path | None, overrides: dict[str, object], inverter: dict[str, object]
) -> ServeConfig:
    """Merge a YAML file with CLI flags (flags win) and validate."""
    data: dict[str, object] = {}
    if path is not None:
        import yaml  # only config files need it (start time)

        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"{path}: {err}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of keys")
        data.update(loaded)
    data.update(overrides)
    if inverter:
        listed = data.get("inverters")
        if isinstance(listed, list) and len(listed) > 1:
            raise ConfigError(
                f"--{next(iter(inverter)).replace('_', '-')}: the config file defines "
                f"{len(listed)} inverters; set per-inverter values in the file"
            )
        first = dict(listed[0]) if isinstance(listed, list) and listed else {}
        data["inverters"] = [{**first, **inverter}]
    try:
        return ServeConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(describe(err, flags=path is None)) from None
