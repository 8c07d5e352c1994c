"""Device settings by name: the control API (GET/POST /v1/settings), `ctl setting(s)`.

Judged by what a Modbus client reads back at the documented holding addresses and by
what the plant then serves, and across a real `serve --state-dir` restart.
"""

from __future__ import annotations

import time

import aiohttp
import pytest
from pymodbus.client import ModbusTcpClient
from support.simproc import launch, serve_command


async def call(service, method: str, path: str, **kwargs):
    url = f"http://127.0.0.1:{service.ports['control_port']}{path}"
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, **kwargs) as response,
    ):
        return response.status, await response.json()


@pytest.fixture
async def hybrid(start_service, modbus_client):
    service = await start_service(inverters=[{"model": "SH10RT"}])
    return service, await modbus_client(service.ports["modbus_port"])


async def holding(client, address: int, count: int = 1) -> list[int]:
    response = await client.read_holding_registers(address - 1, count=count, device_id=1)
    assert not response.isError(), response
    return response.registers


async def test_get_settings_lists_every_setting_with_its_documented_address(hybrid):
    service, client = hybrid
    status, body = await call(service, "GET", "/v1/settings?unit_id=1")
    assert status == 200 and body["unit_id"] == 1
    by_name = {s["name"]: s for s in body["settings"]}
    ems = by_name["ems_mode"]
    assert ems["address"] == 13050 and ems["value"] == "self-consumption" and ems["raw"] == 0
    assert ems["choices"] == {"self-consumption": 0, "forced": 2, "external": 3, "vpp": 4}
    max_soc = by_name["max_soc"]
    assert (max_soc["min"], max_soc["max"], max_soc["unit"]) == (50, 100, "%")
    checked = 0
    for setting in body["settings"]:
        address = setting["address"]
        response = await client.read_holding_registers(address - 1, count=1, device_id=1)
        if response.isError():
            # 31222, 33148 and 33208ff lie outside the holding blocks the model answers
            # today (the register map's to extend); the 13xxx block must answer.
            assert address > 31000 and address not in (33047, 33048), setting["name"]
            continue
        assert response.registers == [setting["raw"]], setting["name"]
        checked += 1
    assert checked >= 15


async def test_post_a_setting_by_name_steers_the_plant(hybrid):
    service, client = hybrid
    await call(service, "POST", "/v1/battery", json={"soc_pct": 50})  # room to charge
    for name, value in (
        ("ems_mode", "forced"),
        ("charge_discharge_command", "charge"),
        ("charge_discharge_power", 2500),
    ):
        status, body = await call(
            service, "POST", "/v1/settings", json={"name": name, "value": value}
        )
        assert status == 200 and body["setting"]["value"] == value, body
    assert await holding(client, 13050, 3) == [2, 0xAA, 2500]
    battery = await client.read_input_registers(13021, count=1, device_id=1)
    assert battery.registers == [2500]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "max_soc", "value": 40}, "max_soc: 40 is outside 50..100"),
        ({"name": "ems_mode", "value": "turbo"}, "ems_mode: 'turbo' is not one of"),
        ({"name": "warp_drive", "value": 1}, "warp_drive: no such setting"),
        ({"name": "max_soc", "value": [1]}, "value"),
        ({"name": "max_soc"}, "value"),
    ],
)
async def test_a_bad_setting_is_a_422_naming_it_and_changes_nothing(hybrid, body, message):
    service, client = hybrid
    status, reply = await call(service, "POST", "/v1/settings", json=body)
    assert status == 422 and message in reply["error"]
    assert await holding(client, 13058) == [1000]


def test_ctl_setting_sets_shows_and_survives_a_restart(tmp_path):
    state = tmp_path / "state"
    argv = serve_command(
        "--model", "SH10RT", "--state-dir", str(state), "--start-time", "2026-12-21T23:00:00"
    )
    sim = launch(argv, tmp_path)
    try:
        assert sim.ctl("setting", "ems_mode", "forced")["setting"]["raw"] == 2
        sim.ctl("setting", "charge_discharge_command", "charge")
        shown = sim.ctl("setting", "charge_discharge_power", "3000")["setting"]
        assert shown["value"] == 3000 and shown["address"] == 13052
        assert sim.ctl("setting", "ems_mode")["setting"]["value"] == "forced"
        names = [s["name"] for s in sim.ctl("settings")["settings"]]
        assert {"ems_mode", "max_soc", "min_soc", "soc_reserve", "backup_mode"} <= set(names)
        bad = sim.ctl("setting", "max_soc", "20", check=False)
        assert bad.returncode == 1 and "max_soc: 20 is outside 50..100" in bad.stderr
        client = ModbusTcpClient("127.0.0.1", port=sim.ports["modbus_port"], timeout=2)
        assert client.connect()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if client.read_input_registers(13021, count=1, device_id=1).registers == [3000]:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("battery power never read 3000 W")
        client.close()
    finally:
        sim.stop()
    again = launch(argv, tmp_path)
    try:
        client = ModbusTcpClient("127.0.0.1", port=again.ports["modbus_port"], timeout=2)
        assert client.connect()
        words = client.read_holding_registers(13049, count=3, device_id=1).registers
        assert words == [2, 0xAA, 3000]
        client.close()
    finally:
        again.stop()
