"""Each charm action, run as the charm runs it, changes what a Modbus client reads.

The simulator is started from the charm's own layer (test_charm_service's pattern); each
action's ctl command line comes from the charm's action classes; the effect is judged by
a pymodbus 3 client reading registers decoded with SunGather's register file (names of
state values from its dataranges), not by `ctl state`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient
from support.oracle import RUNNING_BITS, reg, sungather_datarange
from test_charm_service import Running, ctl, start

from actions import ACTIONS
from config import Config

MODEL = "SH10RT"


@pytest.fixture
def hybrid(tmp_path: Path) -> Iterator[Running]:
    yield from start(Config(model=MODEL, unit_id=3), tmp_path)


def act(running: Running, action: str, **params: Any) -> dict[str, Any]:
    args = ACTIONS[action].model_validate(params).ctl_args()
    done = ctl(running, args, whole=action == "get-readings")
    assert done.returncode == 0, f"{action} {params}: {done.stderr}"
    return json.loads(done.stdout)


class Reader:
    def __init__(self, client: AsyncModbusTcpClient, unit: int) -> None:
        self.client, self.unit = client, unit

    async def words(self, table: str, wire: int, count: int):
        call = (
            self.client.read_input_registers if table == "input"
            else self.client.read_holding_registers
        )  # fmt: skip
        return await call(wire, count=count, device_id=self.unit)

    async def value(self, name: str, table: str = "input") -> float:
        entry = reg(MODEL, name, table)
        response = await self.words(entry.table, entry.wire, entry.width)
        assert not response.isError(), (name, response)
        return entry.value(response.registers)


async def reader_for(running: Running) -> tuple[AsyncModbusTcpClient, Reader]:
    client = AsyncModbusTcpClient("127.0.0.1", port=running.ports["modbus_port"], timeout=5)
    assert await client.connect()
    return client, Reader(client, running.config.unit_id)


@pytest.mark.timeout(120)
async def test_plant_actions_change_the_registers(hybrid: Running):
    client, r = await reader_for(hybrid)
    try:
        act(hybrid, "set-clock", time="2026-06-21T12:00:00")
        clock = await r.words("holding", 4999, 6)
        assert clock.registers[:5] == [2026, 6, 21, 12, 0]

        act(hybrid, "set-load", watts=750.5)
        assert await r.value("load_power_hybrid") in (750, 751)

        act(hybrid, "set-power", watts=2500)
        assert await r.value("total_active_power") == pytest.approx(2500, abs=1)
        readings = act(hybrid, "get-readings")
        unit = next(i for i in readings["inverters"] if i["unit_id"] == 3)
        assert unit["readings"]["active_power_w"] == await r.value("total_active_power")

        act(hybrid, "set-battery", soc=80, power=-2000)
        assert await r.value("battery_level") == pytest.approx(80.0, abs=0.2)
        assert await r.value("battery_power") == pytest.approx(2000, abs=1)
        assert int(await r.value("running_state")) & RUNNING_BITS["discharging"]
        act(hybrid, "set-battery", auto=True)

        states = sungather_datarange("system_state")
        act(hybrid, "set-state", state="standby")
        assert states[int(await r.value("system_state"))] == "Standby"
        assert await r.value("total_active_power") == 0
        act(hybrid, "set-state", state="stop")
        assert states[int(await r.value("system_state"))] == "Stop"
        act(hybrid, "set-state", state="run")
        act(hybrid, "set-power", auto=True)
        assert states[int(await r.value("system_state"))] == "Run"
    finally:
        client.close()


@pytest.mark.timeout(120)
async def test_fault_actions_change_what_clients_get(hybrid: Running):
    client, r = await reader_for(hybrid)
    try:
        act(
            hybrid, "inject-fault", kind="exception", scope="modbus", code=2, start=13001,
            count=10, duration=600,
        )  # fmt: skip
        hit = await r.words("input", 13000, 1)
        assert hit.isError() and hit.exception_code == 2
        assert not (await r.words("input", 13010, 1)).isError()
        listed = act(hybrid, "list-faults")
        assert [f["kind"] for f in listed["faults"]] == ["exception"]

        act(hybrid, "clear-faults")
        assert not (await r.words("input", 13000, 1)).isError()

        act(hybrid, "inject-fault", kind="slow-reply", delay=1.5)
        began = time.monotonic()
        assert not (await r.words("input", 13000, 1)).isError()
        assert time.monotonic() - began >= 1.5
        act(hybrid, "clear-faults", kind="slow-reply")

        act(hybrid, "inject-fault", kind="session-limit", max_sessions=1)
        reader, writer = await asyncio.open_connection("127.0.0.1", hybrid.ports["modbus_port"])
        try:
            assert await asyncio.wait_for(reader.read(), 10) == b"", "a second session was kept"
        finally:
            writer.close()
        assert not (await r.words("input", 13000, 1)).isError()
        act(hybrid, "clear-faults")

        act(hybrid, "inject-fault", kind="grid-loss")
        states = sungather_datarange("grid_state") if _has_datarange("grid_state") else None
        grid = int(await r.value("grid_state"))
        assert grid == 0xAA if states is None else states[grid] != states.get(0x55)
        assert await r.value("export_power_hybrid") == 0
    finally:
        client.close()


def _has_datarange(name: str) -> bool:
    try:
        sungather_datarange(name)
    except KeyError:
        return False
    return True
