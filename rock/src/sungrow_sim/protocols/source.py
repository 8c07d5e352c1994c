"""What a protocol adapter needs from the simulator: registers, inverters and faults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol

from sungrow_sim.faults import FaultSet
from sungrow_sim.registers import Table


class InverterInfo(Protocol):
    """The identity a dongle lists for one inverter."""

    @property
    def model(self) -> str: ...  # noqa: D102

    @property
    def device_code(self) -> int: ...  # noqa: D102

    @property
    def family(self) -> Literal["string", "hybrid"]: ...  # noqa: D102

    @property
    def serial(self) -> str: ...  # noqa: D102


class HasInfo(Protocol):
    """An inverter as adapters see it."""

    @property
    def info(self) -> InverterInfo: ...  # noqa: D102


class RegisterSource(Protocol):
    """The simulator as a read-only adapter sees it (`sungrow_sim.simulator.Simulator`)."""

    @property
    def inverters(self) -> Mapping[int, HasInfo]:
        """Inverters by unit id."""
        ...

    @property
    def faults(self) -> FaultSet:
        """The active faults, for the transport faults each adapter applies."""
        ...

    def read(self, unit_id: int, table: Table, address: int, count: int) -> list[int] | int:
        """Registers at a wire address, or a Modbus exception code."""
        ...


class RegisterStore(RegisterSource, Protocol):
    """The simulator as the Modbus adapter sees it: reads in wire format, and writes."""

    def read_wire(self, unit_id: int, table: Table, address: int, count: int) -> bytes | int:
        """`read` as the registers go on the wire (two bytes each, big-endian)."""
        ...

    def write(self, unit_id: int, address: int, values: list[int]) -> int | None:
        """A holding-register write; an exception code, or None when it was applied."""
        ...
