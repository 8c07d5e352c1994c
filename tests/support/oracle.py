"""Independent oracles: SunGather's register file decodes what a client reads.

The address, data type and scale of a register come from SunGather's own register file
(shared/reference/sungather-registers-sungrow.yaml), not from the simulator's catalogue,
so a register moved, retyped or rescaled in the simulator is caught. Words are decoded
here (Sungrow's 32-bit values are low word first), not with the simulator's encoder.

Names of the running-state bits (register 13001) are those a real SH8.0RT-20 reports
(shared/reference/sungrow-device: raw 163 = PV, charging, import, bit 7; raw 145 = PV,
feed-in, bit 7), and its meter power is positive while importing (morning dump: meter
+93 W with export power -93 W; afternoon: meter -7314 W while exporting).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
RUNNING_BITS = {
    "pv": 1 << 0,
    "charging": 1 << 1,
    "discharging": 1 << 2,
    "load": 1 << 3,
    "feed_in": 1 << 4,
    "import": 1 << 5,
}


def register_file() -> Path:
    """SunGather's register file: $SUNGATHER_REGISTERS, or shared/ beside the repository.

    (Or beside a folder above it: a git worktree may sit deeper than the checkout.)
    """
    env = os.environ.get("SUNGATHER_REGISTER_FILE") or os.environ.get("SUNGATHER_REGISTERS")
    if env:
        return Path(env)
    relative = Path("shared") / "reference" / "sungather-registers-sungrow.yaml"
    for folder in REPO.parents:
        if (folder / relative).exists():
            return folder / relative
    return REPO.parent / relative


@dataclass(frozen=True)
class Reg:
    """One register as SunGather documents it."""

    name: str
    table: str  # "input" or "holding"
    address: int  # documented; the wire address is one less
    datatype: str
    accuracy: float
    models: tuple[str, ...] | None

    @property
    def wire(self) -> int:
        return self.address - 1

    @property
    def width(self) -> int:
        return 2 if self.datatype in ("U32", "S32") else 1

    def value(self, words: Sequence[int]) -> float:
        """Engineering value of the words a client read."""
        if self.width == 2:
            raw = words[0] | (words[1] << 16)
            if self.datatype == "S32" and raw & 0x80000000:
                raw -= 1 << 32
        else:
            raw = words[0]
            if self.datatype == "S16" and raw & 0x8000:
                raw -= 1 << 16
        return raw * self.accuracy


@cache
def register_data() -> dict:
    """SunGather's register file, parsed once per process (libyaml's loader when present)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(register_file().read_text(), Loader=loader)  # noqa: S506 (a safe loader)


@cache
def sungather_datarange(name: str) -> dict[int, str]:
    """SunGather's decoding of an enumerated register (its datarange): response -> label."""
    for group in register_data()["registers"]:
        for key in ("read", "hold"):
            for entry in group.get(key, []):
                if entry["name"] == name and "datarange" in entry:
                    return {int(d["response"]): d["value"] for d in entry["datarange"]}
    raise KeyError(name)


@cache
def _entries() -> tuple[Reg, ...]:
    data = register_data()
    out: list[Reg] = []
    for group in data["registers"]:
        for key, table in (("read", "input"), ("hold", "holding")):
            for entry in group.get(key, []):
                models = entry.get("models")
                out.append(
                    Reg(
                        name=entry["name"],
                        table=table,
                        address=int(entry["address"]),
                        datatype=entry["datatype"],
                        accuracy=float(entry.get("accuracy", 1)),
                        models=tuple(models) if models else None,
                    )
                )
    return tuple(out)


def reg(model: str, name: str, table: str = "input") -> Reg:
    """SunGather's entry for a register of a model (the one naming the model first).

    Registers SunGather does not list (battery settings from the vendor's documents) fall
    back to the simulator's catalogue for their address and type only.
    """
    found = [r for r in _entries() if r.name == name and r.table == table]
    for entry in found:
        if entry.models and model in entry.models:
            return entry
    for entry in found:
        if entry.models is None:
            return entry
    from sungrow_sim.registers import catalogue

    for spec in catalogue().registers_of(model):
        if spec.name == name and spec.table == table and name not in _names():
            return Reg(name, table, spec.address, spec.datatype, float(spec.scale), None)
    raise KeyError(f"SunGather has no {table} register {name!r} for {model}")


@cache
def _names() -> frozenset[str]:
    return frozenset(r.name for r in _entries())


Reader = Callable[[str, int, int], Sequence[int]]


def read_value(read: Reader, model: str, name: str, table: str = "input") -> float:
    """A register's value through `read(table, wire, count)`, decoded by SunGather's file."""
    entry = reg(model, name, table)
    return entry.value(read(entry.table, entry.wire, entry.width))


def mppt_voltage_address(n: int) -> int:
    """Documented address of MPPT n's voltage (0.1 V; its current follows at +1).

    MPPTs 1-3 at 5011, 4-8 at 5115, 9-12 at 5130, two registers each, in both documents.
    """
    if n <= 3:
        return 5011 + 2 * (n - 1)
    if n <= 8:
        return 5115 + 2 * (n - 4)
    return 5130 + 2 * (n - 9)
