"""The model and register catalogue: pydantic models over the package's data files.

The models are the data files' schema. The files ship inside the package and do not
change after the build, so a serving process loads them as trusted records
(`catalogue`, `protocol_map`) without building the models' validators (about 1 MiB of
resident memory); `validated_catalogue` and `validated_protocol_map` validate them in
full, and the tests check on every run that both give the same records.
"""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from importlib import resources
from itertools import pairwise
from types import UnionType
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.dataclasses import dataclass

Table = Literal["input", "holding"]
Family = Literal["string", "hybrid"]
DataType = Literal["U16", "S16", "U32", "S32", "UTF-8"]
_MODEL_LISTS: dict[tuple[str, ...], tuple[str, ...]] = {}
# The packaged data is validated in the tests, not at every start (see the module text).
_TRUSTED = ConfigDict(defer_build=True)
_TRUSTED_STRICT = ConfigDict(defer_build=True, extra="forbid")


def _shared(models: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """Most registers name the same long model lists: one shared tuple of interned names."""
    if models is None:
        return None
    return _MODEL_LISTS.setdefault(models, tuple(sys.intern(name) for name in models))


@dataclass(frozen=True, slots=True, kw_only=True, config=_TRUSTED)
class ModelSpec:
    """One inverter model: identity, ratings and the wire-address blocks it answers."""

    name: str
    device_code: int
    family: Family
    nominal_power_w: int
    phases: Literal[1, 3]
    mppt_count: int
    input_blocks: tuple[tuple[int, int], ...]
    holding_blocks: tuple[tuple[int, int], ...]
    # Strings per MPPT from the protocol documents' device tables (None: not listed there).
    strings_per_mppt: tuple[int, ...] | None = None

    def blocks(self, table: Table) -> tuple[tuple[int, int], ...]:
        """(wire start, count) blocks of one table."""
        return self.input_blocks if table == "input" else self.holding_blocks


@dataclass(frozen=True, slots=True, kw_only=True, config=_TRUSTED)
class RegisterSpec:
    """One register as SunGather documents it, plus the plant quantity behind it."""

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

    @field_validator("models")
    @classmethod
    def _one_copy(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return _shared(value)

    @property
    def width(self) -> int:
        """Number of 16-bit registers the value occupies."""
        return {"U16": 1, "S16": 1, "U32": 2, "S32": 2, "UTF-8": 10}[self.datatype]

    def applies_to(self, model: str) -> bool:
        """Whether the model has this register."""
        return self.models is None or model in self.models


class Catalogue(BaseModel):
    """All models and registers the simulator knows."""

    model_config = _TRUSTED

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


_Record = TypeVar("_Record")


def _types(annotation: Any) -> set[Any]:
    """The plain types an annotation admits (`float | str | None` -> float, str, None)."""
    args = get_args(annotation)
    if get_origin(annotation) in (Union, UnionType):
        return set().union(*(_types(arg) for arg in args))
    return {get_origin(annotation) or annotation}


@cache
def _float_only(annotation: Any) -> bool:
    """Whether the field takes a JSON integer as a float (it admits float, not int)."""
    kinds = _types(annotation)
    return float in kinds and int not in kinds


@cache
def _tuple_items(annotation: Any) -> tuple[Any, bool]:
    """The element annotations of a tuple annotation, and whether they repeat (`...`)."""
    union = get_origin(annotation) in (Union, UnionType)
    for arg in get_args(annotation) if union else (annotation,):
        if get_origin(arg) is tuple:
            items = get_args(arg)
            if len(items) == 2 and items[1] is Ellipsis:
                return (items[0],), True
            return items, False
    return (Any,), True


def _as_validated(value: Any, annotation: Any) -> Any:
    """A JSON value as the field's validator returns it: arrays as tuples, 1 as 1.0 for a float."""
    if isinstance(value, list):
        items, repeat = _tuple_items(annotation)
        if repeat:
            kind = items[0]
            return tuple(_as_validated(item, kind) for item in value)
        return tuple(_as_validated(item, kind) for item, kind in zip(value, items, strict=True))
    if type(value) is int and _float_only(annotation):
        return float(value)
    return value


def trusted(cls: type[_Record], data: dict[str, Any]) -> _Record:
    """A record of packaged data as validation would build it, without the validator.

    For the pydantic dataclasses and flat models here: nested records are built by the
    caller. The tests compare every record with its validated twin.
    """
    fields = cls.__pydantic_fields__  # type: ignore[attr-defined]
    given = {
        name: _as_validated(data[info.alias or name], info.annotation)
        for name, info in fields.items()
        if (info.alias or name) in data or info.is_required()
    }
    if issubclass(cls, BaseModel):
        return cls.model_construct(**given)  # type: ignore[return-value]
    record = object.__new__(cls)
    for name, info in fields.items():
        # Defaults are not validated either.
        object.__setattr__(record, name, given[name] if name in given else info.get_default())
    return record


@cache
def catalogue() -> Catalogue:
    """The packaged catalogue (loaded once, trusted: see `validated_catalogue`)."""
    models = {m["name"]: trusted(ModelSpec, m) for m in _load("models.json")["models"]}
    regs = _load("registers.json")
    registers = []
    for entry in regs["registers"]:
        reg = trusted(RegisterSpec, entry)
        object.__setattr__(reg, "models", _shared(reg.models))
        registers.append(reg)
    blocks = tuple[tuple[int, int], ...]
    scan = {table: _as_validated(spans, blocks) for table, spans in regs["scan"].items()}
    return Catalogue.model_construct(models=models, registers=tuple(registers), scan=scan)


def validated_catalogue() -> Catalogue:
    """The packaged catalogue validated in full by its models (the tests' check)."""
    models = {m["name"]: ModelSpec(**m) for m in _load("models.json")["models"]}
    regs = _load("registers.json")
    return Catalogue(models=models, registers=regs["registers"], scan=regs["scan"])


# The register map from Sungrow's protocol documents (data/protocol.json) --------------------

WORDS = {"U16": 1, "S16": 1, "U32": 2, "S32": 2}
# What a unit answers for a value it does not support (the documents' rule; low word first).
SENTINEL = {"U16": (0xFFFF,), "S16": (0x7FFF,), "U32": (0xFFFF, 0xFFFF), "S32": (0xFFFF, 0x7FFF)}


@dataclass(frozen=True, slots=True, kw_only=True, config=_TRUSTED_STRICT)
class ProtocolRegister:
    """One register (or array of registers) of a family's register map."""

    address: int = Field(ge=1, le=65536)  # documented, one-based
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: DataType
    count: int = Field(default=1, ge=1)  # array elements; for UTF-8 the number of words
    scale: float = 1
    unit: str | None = None
    range: tuple[float, float] | None = None  # engineering units
    enum: dict[str, str] | None = None  # raw value (decimal or 0x hex) -> meaning
    bits: dict[str, str] | None = None  # bit number -> meaning
    quantity: str | None = None  # plant quantity (sungrow_sim.registers.quantities)
    default: float | None = None  # engineering value while nothing drives it
    text: bool = False  # UTF-8 text from the family's texts (4990: the serial)
    setting: bool = False  # a device setting: writes belong to the settings store
    reserved: bool = False
    fill: int | None = Field(default=None, ge=0, le=0xFFFF)  # word when nothing else is known
    absent: int | None = Field(default=None, ge=0, le=0xFFFF)  # word when not applicable
    mppt: int | None = None  # applies when the model has at least this many MPPTs
    string: int | None = None  # applies when the model reports at least this many strings
    only: str | None = None  # regex: applies only to matching model names
    exclude: str | None = Field(default=None, alias="except")  # regex: not for these
    observed: bool = False  # not in the document; answered by the real SH8.0RT-20

    @field_validator("enum")
    @classmethod
    def _enum_keys_are_integers(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None:
            raws = [int(key, 0) for key in value]
            if len(set(raws)) != len(raws):
                raise ValueError("enumeration has duplicate raw values")
            if not value or any(not label for label in value.values()):
                raise ValueError("enumeration needs labelled values")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ProtocolRegister:
        if self.text and self.type != "UTF-8":
            raise ValueError(f"{self.name}: only UTF-8 registers carry text")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError(f"{self.name}: range is reversed")
        if self.enum is not None and self.type not in ("U16", "S16", "U32", "S32"):
            raise ValueError(f"{self.name}: enumeration on a non-numeric type")
        return self

    @property
    def raw_enum(self) -> dict[int, str]:
        """The enumeration keyed by raw integer."""
        return {int(k, 0): v for k, v in (self.enum or {}).items()}

    @property
    def width(self) -> int:
        """Number of 16-bit registers the entry occupies."""
        return self.count if self.type == "UTF-8" else WORDS[self.type] * self.count

    @property
    def live(self) -> bool:
        """Whether the entry has a value of its own (quantity, default or text)."""
        return self.quantity is not None or self.default is not None or self.text

    def unsupported_words(self) -> list[int]:
        """The words a unit answers when it does not support this value."""
        if self.fill is not None:
            return [self.fill] * self.width
        if self.reserved or self.type == "UTF-8":
            return [0] * self.width
        return list(SENTINEL[self.type]) * self.count

    def applies_to(self, spec: ModelSpec, strings: int) -> bool:
        """Whether the model has this value (otherwise it answers `absent` or the sentinel)."""
        if self.mppt is not None and self.mppt > spec.mppt_count:
            return False
        if self.string is not None and self.string > strings:
            return False
        if self.only is not None and not re.search(self.only, spec.name):
            return False
        return self.exclude is None or not re.search(self.exclude, spec.name)


@dataclass(frozen=True, slots=True, kw_only=True, config=_TRUSTED_STRICT)
class ProtocolModel:
    """One row of a document's device table."""

    name: str
    code: str = Field(pattern=r"^0x[0-9A-F]{4}$")
    mppt: int = Field(ge=1, le=12)
    strings: tuple[int, ...] = Field(min_length=1)
    phases: Literal[1, 3]

    @property
    def device_code(self) -> int:
        """The device type code as an integer."""
        return int(self.code, 16)


class ProtocolFamily(BaseModel):
    """A family's register map: both tables, the device table and the text registers."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    document: str
    models: tuple[ProtocolModel, ...]
    texts: dict[str, str]
    texts_single_phase: dict[str, str]
    input: tuple[ProtocolRegister, ...]
    holding: tuple[ProtocolRegister, ...]

    @model_validator(mode="after")
    def _tables_are_well_formed(self) -> ProtocolFamily:
        for table in ("input", "holding"):
            regs = self.table(table)
            names = [r.name for r in regs]
            dupes = {n for n in names if names.count(n) > 1}
            if dupes:
                raise ValueError(f"{table}: duplicate names {sorted(dupes)}")
            ordered = sorted(regs, key=lambda r: r.address)
            for before, after in pairwise(ordered):
                if before.address + before.width > after.address:
                    raise ValueError(f"{table}: {before.name} overlaps {after.name}")
            if ordered[-1].address + ordered[-1].width > 65537:
                raise ValueError(f"{table}: {ordered[-1].name} runs past the address space")
        for reg in (*self.input, *self.holding):
            if reg.text and reg.name != "serial_number" and reg.name not in self.texts:
                raise ValueError(f"{reg.name}: no text for it in texts")
        for name, text in {**self.texts, **self.texts_single_phase}.items():
            if len(text.encode()) > 30:
                raise ValueError(f"text {name} is longer than 15 registers")
        return self

    def table(self, table: Table) -> tuple[ProtocolRegister, ...]:
        """The entries of one table."""
        return self.input if table == "input" else self.holding

    def text_for(self, name: str, phases: int) -> str:
        """The text a model with this many phases shows in a text register."""
        if phases == 1 and name in self.texts_single_phase:
            return self.texts_single_phase[name]
        return self.texts.get(name, "")

    def settings(self) -> list[ProtocolRegister]:
        """Holding registers that are device settings (the settings store owns their writes)."""
        return [r for r in self.holding if r.setting]


class ProtocolMap(BaseModel):
    """The register maps of both families."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    about: str
    families: dict[Family, ProtocolFamily]


@cache
def protocol_map() -> ProtocolMap:
    """The packaged register map from the vendor documents (loaded once, trusted)."""
    raw = _load("protocol.json")
    families = {}
    for name, family in raw["families"].items():
        families[name] = ProtocolFamily.model_construct(
            document=family["document"],
            models=tuple(trusted(ProtocolModel, row) for row in family["models"]),
            texts=family["texts"],
            texts_single_phase=family["texts_single_phase"],
            input=tuple(trusted(ProtocolRegister, reg) for reg in family["input"]),
            holding=tuple(trusted(ProtocolRegister, reg) for reg in family["holding"]),
        )
    return ProtocolMap.model_construct(about=raw["about"], families=families)


def validated_protocol_map() -> ProtocolMap:
    """The packaged register map validated in full by its models (the tests' check)."""
    return ProtocolMap.model_validate(_load("protocol.json"))
