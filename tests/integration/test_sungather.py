"""The sungather-k8s charm, pointed at the simulator, really reads it (live Juju model).

sungather-k8s has no `inverter` endpoint, so it is configured from the databag the
simulator publishes on its relation with the tester charm (what any requirer reads):
`inverter-host`, `inverter-port` and `connection-type`. What sungather-k8s exposes and
this test asserts on:

- its `test-connection` action (runs SunGather once against the inverter; results
  `status` "success" or "failed" with a `message`),
- its `run-once` action (one collection cycle; results `output` and `error`),
- SunGather's web export (the `webserver` export, `webserver-port`, default 8080): an
  HTML page with one row per register SunGather decoded,
- and, from the simulator's side, `Simulator.requests()`: what SunGather's pod read.

Its `get-inverter-info` action returns a fixed dict (no model, no serial), so nothing is
asserted on it. Deploys `sungather-k8s` from Charmhub (SUNGATHER_CHARM, SUNGATHER_CHANNEL
override it; a local .charm needs SUNGATHER_IMAGE for its `sungather-image` resource).
"""

from __future__ import annotations

import os
import re
import urllib.request
from pathlib import Path

import jubilant
import pytest
from juju_helpers import TESTER
from sungrow_sim_k8s_testing import CHARM_NAME, Simulator, wait_until

APP = CHARM_NAME
SUNGATHER = "sungather-k8s"
WEB_PORT = 8080  # sungather-k8s's webserver-port default
SCAN_INTERVAL = 10  # seconds, so a change shows in the web export quickly


@pytest.mark.juju_setup
def test_deploy(
    juju: jubilant.Juju, sim: Simulator, charm_path: Path, rock_image: str, tester_charm_path: Path
):
    sim.deploy(charm_path, image=rock_image, config={"model": "SG10RT"})
    juju.deploy(tester_charm_path, TESTER)
    juju.integrate(APP, TESTER)
    charm = os.environ.get("SUNGATHER_CHARM", SUNGATHER)
    local = charm.endswith(".charm")
    juju.deploy(
        Path(charm) if local else charm,
        SUNGATHER,
        channel=None if local else os.environ.get("SUNGATHER_CHANNEL", "latest/edge"),
        resources={"sungather-image": os.environ["SUNGATHER_IMAGE"]} if local else None,
        config={"scan-interval": SCAN_INTERVAL, "enable-webserver": True},
    )
    juju.wait(
        lambda s: jubilant.all_active(s, APP, TESTER) and jubilant.all_agents_idle(s, APP, TESTER),
        error=lambda s: jubilant.any_error(s, APP, TESTER),
        timeout=900,
    )


def configure_sungather(juju: jubilant.Juju, sim: Simulator) -> None:
    inverter = sim.inverter()  # the simulator unit's own `inverter` databag
    juju.config(
        SUNGATHER,
        {
            "inverter-host": inverter.host,
            "inverter-port": inverter.port_for("modbus"),
            "connection-type": "modbus",
        },
    )
    juju.wait(
        lambda s: jubilant.all_active(s, SUNGATHER) and jubilant.all_agents_idle(s, SUNGATHER),
        error=lambda s: jubilant.any_error(s, SUNGATHER),
        timeout=900,
    )


def sungather_address(juju: jubilant.Juju) -> str:
    unit = juju.status().apps[SUNGATHER].units[f"{SUNGATHER}/0"]
    assert unit.address, "sungather-k8s/0 has no address yet"
    return unit.address


def web_export(juju: jubilant.Juju) -> dict[str, str]:
    """Register name -> value text from SunGather's web export page (pod IP, port 8080)."""
    url = f"http://{sungather_address(juju)}:{WEB_PORT}/"
    with urllib.request.urlopen(url, timeout=10) as response:
        page = response.read().decode("utf-8", "replace")
    rows = re.findall(r"<tr><td>[^<]*</td><td>([^<]+)</td><td>([^<]*)</td></tr>", page)
    return {name: value.strip() for name, value in rows}


def watts(text: str | None) -> float | None:
    match = re.match(r"-?\d+(\.\d+)?", text or "")
    return float(match.group()) if match else None


def test_test_connection_reads_the_simulator(juju: jubilant.Juju, sim: Simulator):
    configure_sungather(juju, sim)
    before = {(r.peer, r.address) for r in sim.requests()}

    results = juju.run(f"{SUNGATHER}/0", "test-connection").results

    assert results.get("status") == "success", results
    peer = sungather_address(juju)
    reads = [r for r in sim.requests() if r.peer == peer and r.function == "read"]
    assert reads, f"no reads from sungather-k8s's pod {peer} in {sim.requests()}"
    assert {(r.peer, r.address) for r in reads} - before or any(r.requests > 1 for r in reads)
    assert any(r.covers(5000) for r in reads)  # the device type code, read to detect the model


def test_run_once_collects_a_cycle(juju: jubilant.Juju, sim: Simulator):
    peer = sungather_address(juju)

    def polled() -> int:
        return sum(r.requests for r in sim.requests() if r.peer == peer)

    before = polled()
    juju.run(f"{SUNGATHER}/0", "run-once")  # raises jubilant.TaskError if it failed

    # The service polls too (scan-interval); a cycle adds at least one read per range.
    assert polled() > before


def test_web_export_shows_model_serial_and_set_power(juju: jubilant.Juju, sim: Simulator):
    inverter = sim.inverter()
    sim.set_power(3000)

    def showing_3000_w() -> dict[str, str] | None:
        page = web_export(juju)
        return page if 2500 < (watts(page.get("total_active_power")) or 0) <= 3000 else None

    page = wait_until(
        showing_3000_w,
        timeout=SCAN_INTERVAL * 12,
        interval=5,
        what="SunGather's web export showing 3000 W",
        ignore=(OSError,),
    )

    assert page is not None  # wait_until returns only a truthy value
    assert inverter.model is not None and inverter.serial is not None
    assert page.get("device_type_code") == inverter.model, page
    assert page.get("serial_number") == inverter.serial, page


def test_web_export_shows_an_injected_inverter_fault(juju: jubilant.Juju, sim: Simulator):
    sim.set_power(3000)
    sim.inject_fault("inverter-fault", code=38, duration=600)
    try:
        wait_until(
            lambda: watts(web_export(juju).get("total_active_power")) == 0,
            timeout=SCAN_INTERVAL * 12,
            interval=5,
            what="SunGather's web export showing 0 W under an inverter fault",
            ignore=(OSError,),
        )
    finally:
        sim.clear_faults()
