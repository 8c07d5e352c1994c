"""The bench's table: one row per comparison, a verdict where there is a target."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    """One line of the table."""

    what: str
    sim: str
    base: str = ""
    ratio: float | None = None
    target: float | None = None

    def cells(self) -> list[str]:
        """The row's columns as text."""
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}"
        if self.target is None:
            verdict = ""
        else:
            verdict = "ok" if (self.ratio or 0) <= self.target else "MISSED"
        target = "" if self.target is None else f"<= {self.target:g}"
        return [self.what, self.sim, self.base, ratio, target, verdict]


def print_table(rows: list[Row]) -> None:
    """Aligned columns."""
    header = ["comparison", "simulator", "baseline", "ratio", "target", ""]
    table = [header, *(r.cells() for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
