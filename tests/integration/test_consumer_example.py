"""The consumer example of docs/consumer-testing.md, run for real.

Here "my charm" is the tester charm and the simulator comes from CHARM_PATH/ROCK_IMAGE;
a consumer deploys its own charm and `sim.deploy(channel=...)` from Charmhub instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import jubilant
import pytest
from sungrow_sim_k8s_testing import Simulator

MY_CHARM = "tester"


@pytest.mark.juju_setup
def test_deploy(
    juju: jubilant.Juju, sim: Simulator, charm_path: Path, rock_image: str, tester_charm_path: Path
):
    sim.deploy(charm_path, image=rock_image, config={"model": "SH10RT"})
    juju.deploy(tester_charm_path, MY_CHARM)
    juju.integrate(sim.app, MY_CHARM)
    sim.wait_active()
    juju.wait(lambda s: jubilant.all_active(s, MY_CHARM))


def my_charm_reads(juju: jubilant.Juju, address: int, count: int = 1) -> list[int]:
    """What my charm reads over Modbus (the tester's action stands in for your charm)."""
    params = {"protocol": "modbus", "address": address, "count": count}
    return json.loads(juju.run(f"{MY_CHARM}/0", "read-registers", params).results["registers"])


def test_my_charm_finds_the_inverter(juju: jubilant.Juju, sim: Simulator):
    inverter = sim.inverter()  # what the simulator publishes on the relation

    assert (inverter.model, inverter.device_code) == ("SH10RT", 0x0E03)
    assert my_charm_reads(juju, 4999) == [inverter.device_code]


def test_my_charm_follows_the_battery_power(juju: jubilant.Juju, sim: Simulator):
    sim.run("set-battery", {"soc": 80, "power": 2000})

    power, soc = my_charm_reads(juju, 13021, 2)  # documented 13022-13023, W and 0.1 %

    assert power == 2000
    assert 800 <= soc <= 802  # charging goes on between the action and the read


def test_my_charm_survives_a_silent_inverter(juju: jubilant.Juju, sim: Simulator):
    sim.inject_fault("no-reply", scope="modbus", duration=120)

    with pytest.raises(jubilant.TaskError):
        my_charm_reads(juju, 4999)

    sim.clear_faults()
    assert my_charm_reads(juju, 4999) == [0x0E03]
