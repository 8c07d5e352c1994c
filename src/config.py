"""The charm's configuration, validated on construction."""

from __future__ import annotations

import zoneinfo

import pydantic

from sungrow_models import MODELS, ModelInfo

PROTOCOLS = ("modbus", "sungrow", "http")
LOG_LEVELS = ("debug", "info", "warning", "error")
CONTROL_PORT = 8090
METRICS_PORT = 8091  # /metrics for Prometheus (the metrics-endpoint relation)

_MODELS_BY_UPPER = {name.upper(): name for name in MODELS}


class Config(pydantic.BaseModel):
    """Juju config options of the charm (dashes in option names become underscores)."""

    model_config = pydantic.ConfigDict(frozen=True, extra="ignore")

    model: str = "SG10RT"
    serial: str = ""
    unit_id: int = pydantic.Field(default=1, ge=1, le=246)
    protocols: tuple[str, ...] = PROTOCOLS
    modbus_port: int = pydantic.Field(default=502, ge=1, le=65535)
    ws_port: int = pydantic.Field(default=8082, ge=1, le=65535)
    http_port: int = pydantic.Field(default=80, ge=1, le=65535)
    seed: int = pydantic.Field(default=0, ge=0)
    time_scale: float = pydantic.Field(default=1.0, gt=0, le=3600)
    latitude: float = pydantic.Field(default=48.14, ge=-90, le=90)
    longitude: float = pydantic.Field(default=11.58, ge=-180, le=180)
    timezone: str = "UTC"
    array_kwp: float = pydantic.Field(default=0.0, ge=0, le=10000)
    battery_kwh: float = pydantic.Field(default=10.0, gt=0, le=1000)
    log_level: str = "info"
    dashboard: bool = False

    @pydantic.field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        name = _MODELS_BY_UPPER.get(value.strip().upper())
        if name is None:
            raise ValueError(f"unknown model {value!r} (e.g. SG10RT, SG5.0RS, SH10RT)")
        return name

    @pydantic.field_validator("serial")
    @classmethod
    def _plain_serial(cls, value: str) -> str:
        if len(value) > 20 or not ((value.isascii() and value.isalnum()) or value == ""):
            raise ValueError(f"{value!r} is not up to 20 ASCII letters and digits")
        return value

    @pydantic.field_validator("protocols", mode="before")
    @classmethod
    def _split_protocols(cls, value: object) -> tuple[str, ...]:
        if not isinstance(value, str):
            raise ValueError("must be a comma-separated string")
        names = {name.strip().lower() for name in value.split(",") if name.strip()}
        unknown = sorted(names - set(PROTOCOLS))
        if unknown:
            raise ValueError(f"unknown protocol {unknown[0]!r} (use {', '.join(PROTOCOLS)})")
        if not names:
            raise ValueError(f"enable at least one of {', '.join(PROTOCOLS)}")
        return tuple(name for name in PROTOCOLS if name in names)

    @pydantic.field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            raise ValueError(f"unknown time zone {value!r} (e.g. UTC, Europe/Berlin)") from None
        return value

    @pydantic.field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.strip().lower()
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r} (use {', '.join(LOG_LEVELS)})")
        return level

    @pydantic.model_validator(mode="after")
    def _distinct_ports(self) -> Config:
        taken = {CONTROL_PORT: "the control API", METRICS_PORT: "the metrics endpoint"}
        for option, port in self.ports.items():
            if port in taken:
                raise ValueError(f"{option}: port {port} is already used by {taken[port]}")
            taken[port] = option
        return self

    @property
    def info(self) -> ModelInfo:
        """Device code, family and nominal power of the configured model."""
        return MODELS[self.model]

    @property
    def ports(self) -> dict[str, int]:
        """Listening ports of the enabled protocols, by config option name."""
        ports: dict[str, int] = {}
        if "modbus" in self.protocols or "sungrow" in self.protocols:
            ports["modbus-port"] = self.modbus_port
        if "http" in self.protocols:
            ports["ws-port"] = self.ws_port
            ports["http-port"] = self.http_port
        return ports

    def serial_for(self, unit_number: int) -> str:
        """The configured serial, or "SIM" + the 7-digit unit number when empty."""
        return self.serial or f"SIM{unit_number:07d}"
