"""Test helpers for charms that consume the sungrow-sim-k8s simulator (jubilant).

Deploy the simulator next to your charm, relate them, steer power and faults, and
check what your charm reads::

    import jubilant
    from sungrow_sim_k8s_testing import Simulator

    def test_my_charm_reads_the_inverter(juju: jubilant.Juju):
        sim = Simulator(juju)
        sim.deploy(channel="latest/edge", config={"model": "SH10RT"})
        juju.deploy("./my-charm.charm", "my-charm")
        juju.integrate(sim.app, "my-charm")
        sim.wait_active()

        inverter = sim.inverter()          # host, ports, model, device_code, serial
        sim.set_power(3000)
        fault = sim.inject_fault("no-reply", duration=60)
        ...
        sim.clear_faults()

Without Juju, `LocalSimulator` runs `sungrow-sim serve` on free local ports with the
same methods; `wait_until(predicate, timeout)` waits for a consumer to see a change;
`requests()` says which client read what.

`bundle_path("sungather-sim")` is a bundle with SunGather and the simulator.
See docs/consumer-testing.md in the repository for a complete test.
"""

from __future__ import annotations

from pathlib import Path

from sungrow_sim_k8s_testing.connection import (
    ConnectionInfoError,
    inverter_from_state,
    inverter_from_unit_info,
)
from sungrow_sim_k8s_testing.control import (
    RequestRecord,
    Setting,
    WaitTimeoutError,
    as_results,
    parse_requests,
    parse_settings,
    wait_until,
)
from sungrow_sim_k8s_testing.local import ControlApiError, LocalSimulator
from sungrow_sim_k8s_testing.params import (
    CHARM_NAME,
    FAULT_KINDS,
    FAULT_SCOPES,
    IMAGE_RESOURCE,
    DeployArgs,
    deploy_args,
    fault_params,
    power_params,
)
from sungrow_sim_k8s_testing.simulator import Simulator
from sungrow_sim_k8s_testing.state import (
    Fault,
    InverterState,
    ResultsError,
    SimulatorState,
    parse_faults,
)

BUNDLES = Path(__file__).parent / "bundles"


def bundle_path(name: str) -> Path:
    """Path of a bundle shipped with this package, e.g. "sungather-sim"."""
    path = BUNDLES / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in BUNDLES.glob("*.yaml"))
        raise FileNotFoundError(f"no bundle {name!r}; have {known}")
    return path


__all__ = [
    "BUNDLES",
    "CHARM_NAME",
    "FAULT_KINDS",
    "FAULT_SCOPES",
    "IMAGE_RESOURCE",
    "ConnectionInfoError",
    "ControlApiError",
    "DeployArgs",
    "Fault",
    "InverterState",
    "LocalSimulator",
    "RequestRecord",
    "ResultsError",
    "Setting",
    "Simulator",
    "SimulatorState",
    "WaitTimeoutError",
    "as_results",
    "bundle_path",
    "deploy_args",
    "fault_params",
    "inverter_from_state",
    "inverter_from_unit_info",
    "parse_faults",
    "parse_requests",
    "parse_settings",
    "power_params",
    "wait_until",
]
