"""What SunGather (SungrowClient 0.1.0) reads for a model and level, from our catalogue.

Mirrors SungrowClient.configure_registers: a register is selected when its level is at
most the configured level and it names the model (or names none); a scan range is read
when a selected register's documented address lies in [start, start + range].
"""

from __future__ import annotations

from sungrow_sim.registers import Table, catalogue


def ranges(model: str, level: int) -> list[tuple[Table, int, int]]:
    """(table, wire start, count) of every range SunGather reads per scrape."""
    cat = catalogue()
    selected = [
        r for r in cat.registers
        if (r.level <= level or level == 3) and (level == 3 or r.applies_to(model))
    ]  # fmt: skip
    out: list[tuple[Table, int, int]] = []
    for table in ("input", "holding"):
        for start, count in cat.scan[table]:
            if any(r.table == table and start <= r.address <= start + count for r in selected):
                out.append((table, start, count))
    return out
