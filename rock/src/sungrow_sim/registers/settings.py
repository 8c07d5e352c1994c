"""Device settings: the holding registers a client writes to steer the plant.

The data file (data/settings.json) lists each setting with its documented address, type,
scale, unit, range or enumeration and default. A store holds one inverter's raw values:
Modbus writes are range checked against it, reads answer from it, persistence saves it
and the plant takes its `PlantSettings` from it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict

from sungrow_sim.plant import PlantSettings
from sungrow_sim.registers.catalogue import DataType, Family, trusted
from sungrow_sim.registers.encoding import encode

Limit = float | str  # a number, or the name of a per-model value (nominal_power_w ...)


class SettingError(ValueError):
    """A setting value that cannot be applied (the message says why)."""


class SettingSpec(BaseModel):
    """One setting as the protocol documents define it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    address: int  # documented; the wire address is one less
    family: Family
    datatype: DataType = "U16"
    scale: float = 1
    unit: str | None = None
    min: Limit | None = None
    max: Limit | None = None
    choices: dict[str, int] | None = None
    default: Limit
    about: str = ""
    alias_of: str | None = None  # the same setting at another address and scale


class SettingsFile(BaseModel):
    """data/settings.json."""

    model_config = ConfigDict(defer_build=True)

    about: str = ""
    exception_code: int = 3
    settings: tuple[SettingSpec, ...]


def _settings_file() -> dict[str, Any]:
    text = resources.files("sungrow_sim.registers.data").joinpath("settings.json").read_text()
    return json.loads(text)


@cache
def settings_catalogue() -> SettingsFile:
    """The packaged settings (loaded once, trusted like the catalogue: see `validated_settings`)."""
    raw = _settings_file()
    specs = tuple(trusted(SettingSpec, spec) for spec in raw["settings"])
    return trusted(SettingsFile, {**raw, "settings": specs})


def validated_settings() -> SettingsFile:
    """The packaged settings validated in full by their models (the tests' check)."""
    return SettingsFile.model_validate(_settings_file())


class SettingsStore:
    """One inverter's settings, raw register values by name."""

    def __init__(self, family: Family, context: dict[str, float]) -> None:
        self.context = context
        self.specs = {s.name: s for s in settings_catalogue().settings if s.family == family}
        self.by_wire = {s.address - 1: s for s in self.specs.values()}
        self.raw: dict[str, int] = {name: self._default_raw(s) for name, s in self.specs.items()}
        self.version = 0
        self._plant: PlantSettings | None = None

    # -- values ---------------------------------------------------------------------------

    def _limit(self, limit: Limit | None) -> float | None:
        if isinstance(limit, str):
            return float(self.context[limit])
        return limit

    def _default_raw(self, spec: SettingSpec) -> int:
        if spec.choices is not None:
            return spec.choices[str(spec.default)]
        value = self._limit(spec.default)
        assert value is not None
        return round(value / spec.scale)

    def raw_range(self, spec: SettingSpec) -> tuple[int, int]:
        """Lowest and highest raw value a numeric setting takes."""
        lo, hi = self._limit(spec.min), self._limit(spec.max)
        low = round(lo / spec.scale) if lo is not None else 0
        high = round(hi / spec.scale) if hi is not None else 0xFFFF
        return low, min(high, 0xFFFF)

    def check_raw(self, spec: SettingSpec, raw: int) -> str | None:
        """Why a raw value is refused, or None when the setting takes it."""
        if spec.choices is not None:
            if raw not in spec.choices.values():
                names = ", ".join(f"{k} ({v})" for k, v in spec.choices.items())
                return f"{raw} is not one of {names}"
            return None
        low, high = self.raw_range(spec)
        if not low <= raw <= high:
            return (
                f"{raw * spec.scale:g} is outside {low * spec.scale:g}..{high * spec.scale:g}"
                f"{' ' + spec.unit if spec.unit else ''}"
            )
        return None

    def set_raw(self, name: str, raw: int) -> None:
        """Store a checked raw value (and the same value in its alias' scale)."""
        if self.raw.get(name) != raw:
            self.raw[name] = raw
            self.version += 1
            self._plant = None
        spec = self.specs[name]
        for other in self.specs.values():
            partner = other.name == spec.alias_of or other.alias_of == name
            if partner and other.name != name:
                low, high = self.raw_range(other)
                mirrored = min(max(round(raw * spec.scale / other.scale), low), high)
                if self.raw.get(other.name) != mirrored:
                    self.raw[other.name] = mirrored
                    self.version += 1

    def value(self, name: str) -> float | str:
        """A setting in engineering units, or its choice name."""
        spec, raw = self.specs[name], self.raw[name]
        if spec.choices is not None:
            return next((k for k, v in spec.choices.items() if v == raw), str(raw))
        return round(raw * spec.scale, 6)

    def set_value(self, name: str, value: Any) -> None:
        """Set by engineering value or choice name; SettingError says what is wrong."""
        spec = self.specs.get(name)
        if spec is None:
            known = ", ".join(sorted(self.specs))
            raise SettingError(f"{name}: no such setting on this inverter (have {known})")
        if spec.choices is not None:
            if isinstance(value, str) and value in spec.choices:
                raw = spec.choices[value]
            elif isinstance(value, int) and not isinstance(value, bool):
                raw = value
            else:
                raise SettingError(f"{name}: {value!r} is not one of {', '.join(spec.choices)}")
        else:
            if isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    raise SettingError(f"{name}: {value!r} is not a number") from None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SettingError(f"{name}: {value!r} is not a number")
            raw = round(value / spec.scale)
        why = self.check_raw(spec, raw)
        if why is not None:
            raise SettingError(f"{name}: {why}")
        self.set_raw(name, raw)

    def describe(self, name: str) -> dict[str, Any]:
        """One setting as the control API shows it."""
        spec = self.specs[name]
        low = high = None
        if spec.choices is None:
            lo_raw, hi_raw = self.raw_range(spec)
            low, high = round(lo_raw * spec.scale, 6), round(hi_raw * spec.scale, 6)
        return {
            "name": name,
            "address": spec.address,
            "value": self.value(name),
            "raw": self.raw[name],
            "unit": spec.unit,
            "min": low,
            "max": high,
            "choices": dict(spec.choices) if spec.choices is not None else None,
        }

    def words(self) -> list[tuple[int, list[int]]]:
        """(wire address, encoded words) of every setting, for the register image."""
        return [
            (spec.address - 1, encode(spec.datatype, self.raw[name]))
            for name, spec in self.specs.items()
        ]

    # -- persistence ----------------------------------------------------------------------

    def saved(self) -> dict[str, int]:
        """Raw values for the state file."""
        return dict(self.raw)

    def restore(self, raw: dict[str, Any]) -> None:
        """Take saved raw values; unknown names and refused values keep the default."""
        for name, value in raw.items():
            spec = self.specs.get(name)
            if spec is None or not isinstance(value, int) or self.check_raw(spec, value):
                continue
            self.set_raw(name, value)

    # -- the plant's view -----------------------------------------------------------------

    def _on(self, name: str) -> bool:
        return self.value(name) == "enable"

    def plant(self) -> PlantSettings:
        """What the settings ask of the plant (cached until a setting changes)."""
        if self._plant is not None:
            return self._plant
        v, on = self.value, self._on
        if "ems_mode" in self.specs:
            windows = ()
            if "forced_charging" in self.specs and on("forced_charging"):
                windows = tuple(
                    (
                        int(v(f"forced_charging_start_hour_{k}")) * 60
                        + int(v(f"forced_charging_start_minute_{k}")),
                        int(v(f"forced_charging_end_hour_{k}")) * 60
                        + int(v(f"forced_charging_end_minute_{k}")),
                        float(v(f"forced_charging_target_soc_{k}")),
                    )
                    for k in (1, 2)
                )
            result = PlantSettings(
                forced_charging=windows,
                forced_charging_weekdays_only=(
                    "forced_charging_valid_time" in self.specs
                    and v("forced_charging_valid_time") == "weekday"
                ),
                ems_mode=v("ems_mode"),  # type: ignore[arg-type]
                command=v("charge_discharge_command"),  # type: ignore[arg-type]
                command_power_w=float(v("charge_discharge_power")),
                max_soc_pct=float(v("max_soc")),
                min_soc_pct=float(v("min_soc")),
                soc_reserve_pct=float(v("soc_reserve")),
                backup=on("backup_mode"),
                export_limit_w=(
                    float(v("export_power_limitation_value"))
                    if on("export_power_limitation")
                    else None
                ),
                power_limit_pct=(
                    float(v("power_limitation_ratio")) if on("power_limitation") else None
                ),
                max_charge_w=float(v("max_charge_power")),
                max_discharge_w=float(v("max_discharge_power")),
            )
        else:
            result = PlantSettings(
                export_limit_w=(
                    float(v("export_power_limitation_value"))
                    if on("export_power_limitation")
                    else None
                ),
                power_limit_pct=(
                    float(v("power_limitation_ratio")) if on("power_limitation") else None
                ),
            )
        self._plant = result
        return result
