"""The register image of one inverter: encoded words per supported block.

Two layers build it. The register map from Sungrow's documents (data/protocol.json) sets
the blocks a real unit answers, sentinels for unsupported values, constants, texts and
the quantity behind each value; SunGather's catalogue (data/registers.json) adds the
registers the documents lack. Refreshed from quantities; reads slice it; addresses
outside the blocks answer exception 2.
"""

from __future__ import annotations

import struct
from typing import NamedTuple, TypeVar

from sungrow_sim.registers.catalogue import (
    DataType,
    ModelSpec,
    ProtocolFamily,
    ProtocolRegister,
    RegisterSpec,
    Table,
    protocol_map,
)
from sungrow_sim.registers.codes import ExceptionCode
from sungrow_sim.registers.encoding import encode, encode_ascii, encode_text, to_raw

MAX_COUNT = 125
# Layouts by (model, its SunGather registers), built once per process.
_PROTOTYPES: dict[tuple[ModelSpec, tuple[object, ...]], _Built] = {}
# Documented registers closer than this many words share one block (the gap reads as 0).
BLOCK_GAP = 16
TABLES: tuple[Table, Table] = ("input", "holding")


class Slot(NamedTuple):
    """A register fed by a quantity: where its words live and how to encode them."""

    quantity: str
    scale: float
    datatype: DataType
    words: bytearray
    offset: int


def string_count(spec: ModelSpec, registers: list[RegisterSpec]) -> int:
    """Strings the model reports (7013ff): the document's device table, else SunGather's."""
    per_mppt = spec.strings_per_mppt
    if per_mppt is not None:
        # A document value of 1 string per MPPT means no string currents are reported;
        # a single figure holds for every MPPT.
        if max(per_mppt) <= 1:
            return 0
        return per_mppt[0] * spec.mppt_count if len(per_mppt) == 1 else sum(per_mppt)
    return sum(1 for r in registers if r.name.startswith("string_"))


class RegisterImage:
    """Words for every block the model answers, in both tables."""

    def __init__(self, spec: ModelSpec, registers: list[RegisterSpec], serial: str) -> None:
        self.spec = spec
        key = (spec, tuple((r.table, r.address, r.name, r.source, r.value) for r in registers))
        prototype = _PROTOTYPES.get(key)
        if prototype is None:
            prototype = _PROTOTYPES[key] = _Built(spec, registers)
        # Each image owns its words, held as they go on the wire (big-endian, two bytes
        # a register): a read is one copy of bytes, whatever its length. The layout is
        # worked out once per model.
        self.blocks: dict[Table, list[tuple[int, bytearray]]] = {
            t: [(start, bytearray(wire)) for start, wire in prototype.wire[t]] for t in TABLES
        }
        self._slots = [
            Slot(q, scale, datatype, self.blocks[table][block][1], offset)
            for q, scale, datatype, table, block, offset in prototype.places
        ]
        self._raw: list[int | None] = [None] * len(self._slots)
        self._seen: list[float | None] = [None] * len(self._slots)  # the last value encoded
        self.set_serial(serial)

    def set_serial(self, serial: str) -> None:
        """Write the ASCII serial (documented 4990, ten registers)."""
        slot = _locate(self.blocks["input"], 4989, 10, size=2)
        if slot is not None:
            _write(*slot, encode_ascii(serial))

    def refresh(self, quantities: dict[str, float]) -> None:
        """Re-encode the registers whose value changed in this snapshot of quantities."""
        last, seen = self._raw, self._seen
        get = quantities.get
        for index, slot in enumerate(self._slots):
            value = get(slot.quantity, 0.0)
            if value == seen[index]:
                continue  # most quantities (the filed history above all) hold still
            seen[index] = value
            raw = to_raw(value, slot.scale)
            if raw != last[index]:
                last[index] = raw
                _put(slot.datatype, slot.words, slot.offset, raw)

    def holding_slots(
        self, entries: list[tuple[int, list[int]]]
    ) -> list[tuple[bytearray, int, list[int]]]:
        """Where words at wire addresses of the holding table go (the device settings).

        Addresses outside the model's holding blocks are left out: the model does not
        answer them. Write them with `put_slots`.
        """
        slots = []
        for wire, encoded in entries:
            slot = _locate(self.blocks["holding"], wire, len(encoded), size=2)
            if slot is not None:
                slots.append((*slot, encoded))
        return slots

    @staticmethod
    def put_slots(slots: list[tuple[bytearray, int, list[int]]]) -> None:
        """Write located words (see `holding_slots`)."""
        for words, offset, encoded in slots:
            _write(words, offset, encoded)

    def read(self, table: Table, address: int, count: int) -> list[int] | int:
        """Registers at wire `address`, or a Modbus exception code."""
        wire = self.read_wire(table, address, count)
        if isinstance(wire, int):
            return wire
        return list(struct.unpack(f">{count}H", wire))

    def read_wire(self, table: Table, address: int, count: int) -> bytes | int:
        """The same registers as they go on the wire (two bytes each, big-endian)."""
        if not 1 <= count <= MAX_COUNT:
            return ExceptionCode.ILLEGAL_VALUE
        for start, words in self.blocks[table]:
            if start <= address and 2 * (address + count - start) <= len(words):
                return bytes(words[2 * (address - start) : 2 * (address - start + count)])
        return ExceptionCode.ILLEGAL_ADDRESS

    def supports(self, table: Table, address: int, count: int) -> bool:
        """Whether a read of this span would be answered with data."""
        return isinstance(self.read(table, address, count), list)


class _Built:
    """The layout of one model's image: blocks with their initial words, and the slots.

    Laid out as lists of words; `wire` holds the finished blocks as the images copy them.
    """

    def __init__(self, spec: ModelSpec, registers: list[RegisterSpec]) -> None:
        self.spec = spec
        family = protocol_map().families[spec.family]
        self.blocks: dict[Table, list[tuple[int, list[int]]]] = {}
        for table in TABLES:
            spans = [(start, start + count) for start, count in spec.blocks(table)]
            spans += [(r.address - 1, r.address - 1 + r.width) for r in family.table(table)]
            self.blocks[table] = [(lo, [0] * (hi - lo)) for lo, hi in _merge(spans)]
        self._slots: list[_Place] = []
        live, claimed = self._lay_out(family, string_count(spec, registers))
        self._add_sungather(registers, family, claimed)
        for table, reg in live:
            self._add_value(family, table, reg)
        # Each slot with its table and block index instead of the word list itself.
        where: dict[int, tuple[Table, int]] = {
            id(w): (t, i) for t in TABLES for i, (_, w) in enumerate(self.blocks[t])
        }
        self.places: list[tuple[str, float, DataType, Table, int, int]] = [
            (s.quantity, s.scale, s.datatype, *where[id(s.words)], s.offset) for s in self._slots
        ]
        self.wire: dict[Table, list[tuple[int, bytes]]] = {
            t: [(start, _pack(words)) for start, words in self.blocks[t]] for t in TABLES
        }
        del self.blocks, self._slots  # only the finished layout is kept

    def _entry(self, table: Table, reg: ProtocolRegister) -> tuple[list[int], int]:
        slot = _locate(self.blocks[table], reg.address - 1, reg.width)
        assert slot is not None, reg.name  # the blocks are built to cover every map entry
        return slot

    def _lay_out(
        self, family: ProtocolFamily, strings: int
    ) -> tuple[list[tuple[Table, ProtocolRegister]], dict[Table, set[int]]]:
        """Sentinels and fill words of the map; the entries with a value of their own."""
        claimed: dict[Table, set[int]] = {"input": set(), "holding": set()}
        live: list[tuple[Table, ProtocolRegister]] = []
        for table in TABLES:
            for reg in family.table(table):
                words, offset = self._entry(table, reg)
                applies = reg.applies_to(self.spec, strings)
                if applies and reg.live:
                    live.append((table, reg))
                elif not applies and reg.absent is not None:
                    words[offset : offset + reg.width] = [reg.absent] * reg.width
                else:
                    words[offset : offset + reg.width] = reg.unsupported_words()
                if reg.live or not applies:
                    claimed[table].update(range(reg.address - 1, reg.address - 1 + reg.width))
        return live, claimed

    def _add_sungather(
        self, registers: list[RegisterSpec], family: ProtocolFamily, claimed: dict[Table, set[int]]
    ) -> None:
        """SunGather's registers fill what the map leaves open."""
        for reg in registers:
            wire = reg.address - 1
            if claimed[reg.table].intersection(range(wire, wire + reg.width)):
                continue
            slot = _locate(self.blocks[reg.table], wire, reg.width)
            if slot is None or reg.datatype == "UTF-8":
                continue
            if reg.source is not None:
                self._slots.append(_Place(reg.source, reg.scale, reg.datatype, *slot))
            elif reg.value is not None or not _covered(family.table(reg.table), wire):
                words, offset = slot
                encoded = encode(reg.datatype, to_raw(reg.value or 0.0, reg.scale))
                words[offset : offset + len(encoded)] = encoded

    def _add_value(self, family: ProtocolFamily, table: Table, reg: ProtocolRegister) -> None:
        """A map entry's own value: text, a quantity slot or its default."""
        words, offset = self._entry(table, reg)
        if reg.text:
            text = family.text_for(reg.name, self.spec.phases)
            words[offset : offset + reg.width] = encode_text(text, reg.width)
        elif reg.quantity is not None:
            self._slots.append(_Place(reg.quantity, reg.scale, reg.type, words, offset))
        elif reg.name in ARRAYS:
            for index, quantity in enumerate(_array_quantities(reg.name, reg.count)):
                element = offset + index * (reg.width // reg.count)
                self._slots.append(_Place(quantity, reg.scale, reg.type, words, element))
        else:
            element = encode(reg.type, to_raw(reg.default or 0.0, reg.scale))
            words[offset : offset + reg.width] = element * reg.count


# The documented day/month/year arrays (hybrids): register name -> (flow, period). Element n
# of a daily array is day n of this month, of a monthly one month n of this year; a yearly
# array ends with this year (our reading: its element 19 is the current year, 18 the one
# before, ...).
ARRAYS: dict[str, tuple[str, str]] = {
    "daily_pv_energy_yields": ("yield", "day"),
    "monthly_pv_energy_yields": ("yield", "month"),
    "yearly_pv_energy_yields": ("yield", "year"),
    "direct_power_consumption_pv": ("direct", "day"),
    "direct_power_consumption_monthly_pv": ("direct", "month"),
    "direct_power_consumption_yearly_pv": ("direct", "year"),
    "export_power_from_pv": ("export", "day"),
    "export_power_from_pv_monthly": ("export", "month"),
    "export_power_from_pv_yearly": ("export", "year"),
    "battery_charge_power_from_pv": ("battery_charge", "day"),
    "battery_charge_power_from_pv_monthly": ("battery_charge", "month"),
    "battery_charge_power_from_pv_yearly": ("battery_charge", "year"),
}


def _array_quantities(name: str, count: int) -> list[str]:
    flow, period = ARRAYS[name]
    if period == "year":
        return [f"{flow}_kwh_years_back_{count - 1 - i}" for i in range(count)]
    return [f"{flow}_kwh_{period}_{n}" for n in range(1, count + 1)]


class _Place(NamedTuple):
    """A slot while the layout is built: the words are still a list."""

    quantity: str
    scale: float
    datatype: DataType
    words: list[int]
    offset: int


_Words = TypeVar("_Words", list[int], bytearray)


def _locate(
    blocks: list[tuple[int, _Words]], wire: int, width: int, size: int = 1
) -> tuple[_Words, int] | None:
    """The block holding registers wire..wire+width-1, and the offset in it (in registers).

    `size` is the length of one register in the block: 1 in a list of words, 2 in wire bytes.
    """
    for start, words in blocks:
        if start <= wire and size * (wire + width - start) <= len(words):
            return words, wire - start
    return None


def _pack(words: list[int]) -> bytes:
    return struct.pack(f">{len(words)}H", *words)


def _write(words: bytearray, offset: int, encoded: list[int]) -> None:
    """Put registers into a wire-format block at register `offset`."""
    struct.pack_into(f">{len(encoded)}H", words, 2 * offset, *encoded)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1] + BLOCK_GAP:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def _covered(regs: tuple[ProtocolRegister, ...], wire: int) -> bool:
    return any(r.address - 1 <= wire < r.address - 1 + r.width for r in regs)


def _put(datatype: DataType, words: bytearray, offset: int, raw: int) -> None:
    _write(words, offset, encode(datatype, raw))
