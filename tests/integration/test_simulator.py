"""The simulator charm on its rock, related to a requirer charm, in a live Kubernetes model.

The tester charm requires `inverter` through the interface library and reads registers
from inside the cluster over each protocol; the simulator's own view comes from its
get-readings action (sungrow_sim_k8s_testing.Simulator).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import jubilant
import pytest
from juju_helpers import (
    DEVICE_CODE,
    NOMINAL_POWER,
    SERIAL,
    TESTER,
    TOTAL_ACTIVE_POWER,
    read,
    seen_inverters,
    u32,
)
from sungrow_sim_k8s_testing import CHARM_NAME, InverterState, Simulator

from tools.wire import decode_ascii

APP = CHARM_NAME
PROTOCOLS = ("modbus", "sungrow", "http")
NOON = "2026-06-21T12:00:00"
SG10RT, SH10RT = 0x2433, 0x0E03


def wait_settled(juju: jubilant.Juju, timeout: float = 900) -> jubilant.Status:
    return juju.wait(
        lambda s: jubilant.all_active(s, APP, TESTER) and jubilant.all_agents_idle(s, APP, TESTER),
        error=lambda s: jubilant.any_error(s, APP, TESTER),
        timeout=timeout,
    )


def model_name(juju: jubilant.Juju) -> str:
    assert juju.model is not None
    return juju.model.rsplit(":", 1)[-1]


@pytest.mark.juju_setup
def test_deploy_and_relate(
    juju: jubilant.Juju, sim: Simulator, charm_path: Path, rock_image: str, tester_charm_path: Path
):
    sim.deploy(charm_path, image=rock_image)
    juju.deploy(tester_charm_path, TESTER)
    juju.integrate(APP, TESTER)

    wait_settled(juju)
    # Daylight, so the plant produces power whatever the hour of the CI run.
    sim.run("set-clock", {"time": NOON})


def test_each_unit_publishes_its_inverter_and_the_requirer_sees_it(
    juju: jubilant.Juju, sim: Simulator
):
    published = sim.inverter()
    own = sim.readings()

    (seen,) = seen_inverters(juju)

    assert seen["unit_name"] == f"{APP}/0"
    assert seen["host"] == published.host
    # The pod's FQDN on the app's headless service (whatever the cluster domain).
    assert published.host.startswith(f"{APP}-0.{APP}-endpoints.{model_name(juju)}.svc.")
    assert seen["protocols"] == ["modbus", "sungrow", "http"]
    assert seen["ports"] == {"modbus": 502, "sungrow": 502, "http": 80, "ws": 8082}
    assert (seen["model"], seen["device_code"], seen["serial"], seen["unit_id"]) == (
        own.model, own.device_code, own.serial, own.unit_id,
    )  # fmt: skip
    assert (own.model, own.device_code, own.serial) == ("SG10RT", SG10RT, "SIM0000000")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_registers_read_in_the_cluster_equal_the_simulator_state(
    juju: jubilant.Juju, sim: Simulator, protocol: str
):
    own = sim.readings()
    assert own.nominal_power_w is not None

    assert read(juju, protocol, DEVICE_CODE) == [own.device_code]
    assert decode_ascii(read(juju, protocol, SERIAL, 10)) == own.serial
    assert read(juju, protocol, NOMINAL_POWER) == [round(own.nominal_power_w / 100)]


@pytest.mark.parametrize("watts", [4000, 1500])
def test_set_power_is_seen_by_the_requirer_over_every_protocol(
    juju: jubilant.Juju, sim: Simulator, watts: int
):
    inverter = sim.set_power(watts)

    assert inverter.overrides["power-w"] == watts
    for protocol in PROTOCOLS:
        assert u32(read(juju, protocol, TOTAL_ACTIVE_POWER, 2)) == watts, protocol


def test_injected_fault_is_seen_and_clear_faults_recovers(juju: jubilant.Juju, sim: Simulator):
    fault = sim.inject_fault("exception", code=2, scope="modbus")
    assert [f.id for f in sim.faults()] == [fault.id]

    with pytest.raises(jubilant.TaskError) as failed:
        read(juju, "modbus")
    assert "exception code 2" in failed.value.task.message
    assert read(juju, "sungrow") == [SG10RT]  # scope: modbus only

    sim.clear_faults()

    assert sim.faults() == []
    assert read(juju, "modbus") == [SG10RT]


def test_a_model_change_propagates_over_the_relation(juju: jubilant.Juju, sim: Simulator):
    juju.config(APP, {"model": "SH10RT"})
    wait_settled(juju)
    try:
        (seen,) = seen_inverters(juju)
        assert (seen["model"], seen["device_code"]) == ("SH10RT", SH10RT)
        assert sim.readings().device_code == SH10RT
        assert read(juju, "modbus") == [SH10RT]
    finally:
        juju.config(APP, reset="model")
        wait_settled(juju)
    assert seen_inverters(juju)[0]["model"] == "SG10RT"


def test_scaling_to_three_units_gives_three_inverters(juju: jubilant.Juju, sim: Simulator):
    juju.add_unit(APP, num_units=2)
    wait_settled(juju)
    try:
        seen = sorted(seen_inverters(juju), key=lambda i: i["unit_name"])
        names = [f"{APP}/{n}" for n in range(3)]
        assert [i["unit_name"] for i in seen] == names
        assert [i["serial"] for i in seen] == ["SIM0000000", "SIM0000001", "SIM0000002"]
        assert len({i["host"] for i in seen}) == 3
        for name, inverter in zip(names, seen, strict=True):
            registers = read(juju, "modbus", SERIAL, 10, unit=name)
            assert decode_ascii(registers) == inverter["serial"] == sim.readings(name).serial
    finally:
        juju.remove_unit(APP, num_units=2)
        juju.wait(lambda s: len(s.apps[APP].units) == 1, timeout=600)
        wait_settled(juju)


def kubectl() -> list[str] | None:
    """The kubectl to delete a pod with: $KUBECTL (e.g. "sudo k8s kubectl"), or kubectl."""
    command = os.environ.get("KUBECTL", "kubectl").split()
    return command if shutil.which(command[0]) else None


def test_a_pod_restart_keeps_the_energy_totals(juju: jubilant.Juju, sim: Simulator):
    command = kubectl()
    if command is None:
        pytest.skip("no kubectl on PATH (set KUBECTL) to delete the simulator pod")
    juju.config(APP, {"time-scale": 120.0})
    wait_settled(juju)
    sim.run("set-clock", {"time": NOON})
    sim.set_power(10000)
    time.sleep(30)  # an hour of simulated sun at 10 kW
    before = sim.readings().reading("total_yield_kwh")
    assert isinstance(before, float | int)

    unit = f"{APP}/0"
    old_address = juju.status().apps[APP].units[unit].address
    subprocess.run([*command, "-n", model_name(juju), "delete", "pod", f"{APP}-0"], check=True)
    juju.wait(lambda s: new_address(s, unit) not in ("", old_address), timeout=600)
    wait_settled(juju)

    after = readings_when_ready(sim).reading("total_yield_kwh")
    assert isinstance(after, float | int)
    assert after >= before, "the energy total went back after the pod restarted"
    juju.config(APP, reset="time-scale")
    sim.set_power("auto")
    wait_settled(juju)


def new_address(status: jubilant.Status, unit: str) -> str:
    """The unit's address, "" while the unit is missing (its pod being recreated)."""
    app = status.apps.get(APP)
    found = app.units.get(unit) if app else None
    return found.address if found else ""


def readings_when_ready(sim: Simulator, timeout: float = 300) -> InverterState:
    """get-readings, retried while the restarted workload is not reachable yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return sim.readings()
        except jubilant.TaskError:
            if time.monotonic() > deadline:
                raise
            time.sleep(5)
