"""SunGather's charm, configured from the simulator's relation data, reads the simulator.

The public SunGather charm ("sungather") has no `inverter` endpoint, so it is pointed at
the simulator with its inverter-host/inverter-port options, taken from the databag the
simulator publishes on its relation with the tester (what any requirer reads). When the
charm cannot be deployed here (not on Charmhub under that name, no network), the tests
skip and say why.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jubilant
import pytest
from juju_helpers import TESTER
from sungrow_sim_k8s_testing import CHARM_NAME, Simulator

APP = CHARM_NAME
SUNGATHER = "sungather"


def sungather_deployed(juju: jubilant.Juju) -> None:
    if SUNGATHER not in juju.status().apps:
        pytest.skip("sungather was not deployed (see test_deploy's skip reason)")


@pytest.mark.juju_setup
def test_deploy(
    juju: jubilant.Juju, sim: Simulator, charm_path: Path, rock_image: str, tester_charm_path: Path
):
    sim.deploy(charm_path, image=rock_image)
    juju.deploy(tester_charm_path, TESTER)
    juju.integrate(APP, TESTER)
    juju.wait(
        lambda s: jubilant.all_active(s, APP, TESTER) and jubilant.all_agents_idle(s, APP, TESTER),
        error=lambda s: jubilant.any_error(s, APP, TESTER),
        timeout=900,
    )

    charm = os.environ.get("SUNGATHER_CHARM", SUNGATHER)
    local = charm.endswith(".charm")
    try:
        juju.deploy(
            Path(charm) if local else charm,
            SUNGATHER,
            channel=None if local else os.environ.get("SUNGATHER_CHANNEL", "latest/edge"),
            resources={"sungather-image": os.environ.get("SUNGATHER_IMAGE", "bohdans/sungather")}
            if local
            else None,
        )
    except jubilant.CLIError as e:
        pytest.skip(f"sungather-k8s cannot be deployed from {charm!r}: {e.stderr.strip()}")


def test_sungather_configured_from_relation_data_reads_the_simulator(
    juju: jubilant.Juju, sim: Simulator
):
    sungather_deployed(juju)
    inverter = sim.inverter()  # the simulator unit's own `inverter` databag
    juju.config(
        SUNGATHER,
        {
            "inverter-host": inverter.host,
            "inverter-port": inverter.ports["modbus"],
            "connection-type": "modbus",
        },
    )
    juju.wait(
        lambda s: jubilant.all_active(s, SUNGATHER) and jubilant.all_agents_idle(s, SUNGATHER),
        error=lambda s: jubilant.any_error(s, SUNGATHER),
        timeout=900,
    )

    try:
        results = juju.run(f"{SUNGATHER}/0", "get-inverter-info").results
    except ValueError as e:  # jubilant: the action does not exist in this revision
        pytest.skip(f"this sungather revision has no get-inverter-info action: {e}")

    # The charm's result keys are its own; what it found must name our inverter.
    found = json.dumps(results)
    assert inverter.model is not None and inverter.serial is not None
    assert inverter.model in found, found
    assert inverter.serial in found, found
