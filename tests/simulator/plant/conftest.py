"""A simulator service whose clock the test steps, read through a real pymodbus 3 client.

Registers are decoded here from the addresses and types of Sungrow's protocol documents
(documented address = wire address + 1; 32-bit values low word first), not from the
simulator's catalogue, so a wrong mapping shows as a failure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient
from sungrow_sim.config import ServeConfig
from sungrow_sim.service import Service


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value & (1 << (bits - 1)) else value


@dataclass
class Device:
    """One running service: its simulator with a stepped clock and a Modbus client."""

    service: Service
    client: AsyncModbusTcpClient
    wall: list[float]
    stopped: bool = False

    async def stop(self) -> None:
        """Stop the service now (it saves its state), as a restart would."""
        self.client.close()
        await self.service.stop()
        self.stopped = True

    @property
    def sim(self) -> Any:
        return self.service.sim

    def advance(self, seconds: float) -> None:
        """Move simulated time on by `seconds` and let the plant take that step."""
        self.wall[0] += seconds / self.sim.clock.time_scale
        self.sim.tick()

    async def words(self, table: str, address: int, count: int = 1) -> list[int]:
        """Raw words at a documented address (input or holding table)."""
        call = (
            self.client.read_input_registers
            if table == "input"
            else self.client.read_holding_registers
        )
        response = await call(address - 1, count=count, device_id=1)
        assert not response.isError(), f"{table} {address}: {response}"
        return list(response.registers)

    async def u16(self, address: int, table: str = "input") -> int:
        return (await self.words(table, address))[0]

    async def s16(self, address: int, table: str = "input") -> int:
        return _signed(await self.u16(address, table), 16)

    async def u32(self, address: int, table: str = "input") -> int:
        lo, hi = await self.words(table, address, 2)
        return lo | hi << 16

    async def s32(self, address: int, table: str = "input") -> int:
        return _signed(await self.u32(address, table), 32)

    async def write(self, address: int, value: int) -> Any:
        """FC6 at a documented holding address."""
        return await self.client.write_register(address - 1, value, device_id=1)

    async def write_many(self, address: int, values: list[int]) -> Any:
        """FC16 from a documented holding address."""
        return await self.client.write_registers(address - 1, values, device_id=1)


DeviceFactory = Callable[..., Awaitable[Device]]


@pytest.fixture
async def device() -> AsyncIterator[DeviceFactory]:
    """Start services (port 0) with a stepped clock and a connected client each."""
    started: list[Device] = []

    async def start(**settings: Any) -> Device:
        settings.setdefault("protocols", ["modbus"])
        settings.setdefault("start_time", "2026-06-21T12:00:00+00:00")
        # No year of history unless a test asks for it (commissioned=None: a year before).
        settings.setdefault("commissioned", settings["start_time"])
        for key in ("modbus_port", "control_port"):
            settings.setdefault(key, 0)
        service = Service(ServeConfig.model_validate(settings))
        wall = [0.0]
        now = service.sim.clock.now()
        service.sim.clock._monotonic = lambda: wall[0]
        service.sim.set_clock(now)
        await service.start()
        client = AsyncModbusTcpClient("127.0.0.1", port=service.ports["modbus_port"], timeout=3)
        assert await client.connect()
        dev = Device(service, client, wall)
        started.append(dev)
        return dev

    yield start
    for dev in started:
        if not dev.stopped:
            await dev.stop()
