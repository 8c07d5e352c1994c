"""The register image of one inverter: encoded words per supported block.

Refreshed from quantities; reads slice it; addresses outside the blocks answer exception 2.
"""

from __future__ import annotations

from sungrow_sim.registers.catalogue import ModelSpec, RegisterSpec, Table
from sungrow_sim.registers.codes import ExceptionCode
from sungrow_sim.registers.encoding import encode, encode_ascii, to_raw

MAX_COUNT = 125


class RegisterImage:
    """Words for every block the model answers, in both tables."""

    def __init__(self, spec: ModelSpec, registers: list[RegisterSpec], serial: str) -> None:
        self.spec = spec
        self.blocks: dict[Table, list[tuple[int, list[int]]]] = {
            table: [(start, [0] * count) for start, count in spec.blocks(table)]
            for table in ("input", "holding")
        }
        # Registers fed by a quantity, and the raw value each last got; constants are
        # encoded once here (the serial by set_serial).
        self._slots: list[tuple[RegisterSpec, list[int], int]] = []
        for reg in registers:
            slot = self._locate(reg.table, reg.address - 1, reg.width)
            if slot is None or reg.datatype == "UTF-8":
                continue
            if reg.source is None:
                _put(reg, *slot, to_raw(reg.value or 0.0, reg.scale))
            else:
                self._slots.append((reg, *slot))
        self._raw: list[int | None] = [None] * len(self._slots)
        self.set_serial(serial)

    def _locate(self, table: Table, wire: int, width: int) -> tuple[list[int], int] | None:
        for start, words in self.blocks[table]:
            if start <= wire and wire + width <= start + len(words):
                return words, wire - start
        return None

    def set_serial(self, serial: str) -> None:
        """Write the ASCII serial (documented 4990, ten registers)."""
        slot = self._locate("input", 4989, 10)
        if slot is not None:
            words, offset = slot
            words[offset : offset + 10] = encode_ascii(serial)

    def refresh(self, quantities: dict[str, float]) -> None:
        """Re-encode the registers whose value changed in this snapshot of quantities."""
        last = self._raw
        for index, (reg, words, offset) in enumerate(self._slots):
            raw = to_raw(quantities.get(reg.source, 0.0), reg.scale)  # type: ignore[arg-type]
            if raw != last[index]:
                last[index] = raw
                _put(reg, words, offset, raw)

    def holding_slots(
        self, entries: list[tuple[int, list[int]]]
    ) -> list[tuple[list[int], int, list[int]]]:
        """Where words at wire addresses of the holding table go (the device settings).

        Addresses outside the model's holding blocks are left out: the model does not
        answer them. Write them with `put_slots`.
        """
        slots = []
        for wire, encoded in entries:
            slot = self._locate("holding", wire, len(encoded))
            if slot is not None:
                slots.append((*slot, encoded))
        return slots

    @staticmethod
    def put_slots(slots: list[tuple[list[int], int, list[int]]]) -> None:
        """Write located words (see `holding_slots`)."""
        for words, offset, encoded in slots:
            words[offset : offset + len(encoded)] = encoded

    def read(self, table: Table, address: int, count: int) -> list[int] | int:
        """Registers at wire `address`, or a Modbus exception code."""
        if not 1 <= count <= MAX_COUNT:
            return ExceptionCode.ILLEGAL_VALUE
        for start, words in self.blocks[table]:
            if start <= address and address + count <= start + len(words):
                return words[address - start : address - start + count]
        return ExceptionCode.ILLEGAL_ADDRESS

    def supports(self, table: Table, address: int, count: int) -> bool:
        """Whether a read of this span would be answered with data."""
        return isinstance(self.read(table, address, count), list)


def _put(reg: RegisterSpec, words: list[int], offset: int, raw: int) -> None:
    encoded = encode(reg.datatype, raw)
    words[offset : offset + len(encoded)] = encoded
