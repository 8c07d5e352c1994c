"""The model and register catalogue: pydantic models over the package's data files."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict

Table = Literal["input", "holding"]
Family = Literal["string", "hybrid"]
DataType = Literal["U16", "S16", "U32", "S32", "UTF-8"]


class ModelSpec(BaseModel):
    """One inverter model: identity, ratings and the wire-address blocks it answers."""

    model_config = ConfigDict(frozen=True)

    name: str
    device_code: int
    family: Family
    nominal_power_w: int
    phases: Literal[1, 3]
    mppt_count: int
    input_blocks: tuple[tuple[int, int], ...]
    holding_blocks: tuple[tuple[int, int], ...]

    def blocks(self, table: Table) -> tuple[tuple[int, int], ...]:
        """(wire start, count) blocks of one table."""
        return self.input_blocks if table == "input" else self.holding_blocks


class RegisterSpec(BaseModel):
    """One register as SunGather documents it, plus the plant quantity behind it."""

    model_config = ConfigDict(frozen=True)

    table: Table
    address: int  # documented address; the wire address is one less
    name: str
    datatype: DataType
    scale: float = 1
    unit: str | None = None
    level: int = 3
    models: tuple[str, ...] | None = None
    source: str | None = None
    value: float | None = None
    enum: dict[str, str] | None = None

    @property
    def width(self) -> int:
        """Number of 16-bit registers the value occupies."""
        return {"U16": 1, "S16": 1, "U32": 2, "S32": 2, "UTF-8": 10}[self.datatype]

    def applies_to(self, model: str) -> bool:
        """Whether the model has this register."""
        return self.models is None or model in self.models


class Catalogue(BaseModel):
    """All models and registers the simulator knows."""

    models: dict[str, ModelSpec]
    registers: tuple[RegisterSpec, ...]
    scan: dict[Table, tuple[tuple[int, int], ...]]

    def model(self, name: str) -> ModelSpec:
        """Look a model up by name; the error lists close names."""
        try:
            return self.models[name]
        except KeyError:
            close = [m for m in self.models if m.upper().startswith(name.upper()[:4])]
            hint = f" (did you mean {', '.join(close[:5])}?)" if close else ""
            raise KeyError(f"unknown model {name!r}{hint}") from None

    def registers_of(self, model: str) -> list[RegisterSpec]:
        """Every register the model has, in both tables."""
        return [r for r in self.registers if r.applies_to(model)]


def _load(name: str) -> dict:
    return json.loads(resources.files("sungrow_sim.registers.data").joinpath(name).read_text())


@cache
def catalogue() -> Catalogue:
    """The packaged catalogue (loaded once)."""
    models = {m["name"]: ModelSpec(**m) for m in _load("models.json")["models"]}
    regs = _load("registers.json")
    return Catalogue(models=models, registers=regs["registers"], scan=regs["scan"])
