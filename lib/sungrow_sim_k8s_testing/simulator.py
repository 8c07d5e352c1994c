"""Drive a deployed sungrow-sim-k8s application from a jubilant test."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import jubilant
from sungrow_sim_k8s_lib.inverter import DEFAULT_RELATION_NAME, Inverter

from sungrow_sim_k8s_testing.connection import (
    ConnectionInfoError,
    inverter_from_state,
    inverter_from_unit_info,
)
from sungrow_sim_k8s_testing.control import (
    RequestRecord,
    Setting,
    parse_requests,
    parse_settings,
)
from sungrow_sim_k8s_testing.params import (
    CHARM_NAME,
    ConfigValue,
    battery_params,
    clear_params,
    deploy_args,
    fault_params,
    power_params,
    unit_name,
)
from sungrow_sim_k8s_testing.state import Fault, InverterState, SimulatorState, parse_faults

CONTROL_PORT = 8090  # the charm's control API port, on the pod's loopback (src/config.py)

Unit = int | str
"""A unit number (0), "leader", or a full unit name ("sungrow-sim-k8s/0")."""


class Simulator:
    """One sungrow-sim-k8s application in a model, and the actions that steer it.

    Example::

        sim = Simulator(juju)
        sim.deploy(config={"model": "SH10RT"})
        sim.wait_active()
        juju.integrate(sim.app, "my-charm")
        inverter = sim.inverter()          # host, ports, model, device code, serial
        sim.set_power(3000)
        fault = sim.inject_fault("no-reply", duration=60)
        sim.clear_faults()
    """

    def __init__(self, juju: jubilant.Juju, app: str = CHARM_NAME):
        self.juju = juju
        self.app = app

    def deploy(
        self,
        charm: str | Path = CHARM_NAME,
        *,
        channel: str | None = None,
        image: str | None = None,
        config: Mapping[str, ConfigValue] | None = None,
        num_units: int = 1,
    ) -> None:
        """Deploy the simulator (see `params.deploy_args` for the arguments)."""
        args = deploy_args(
            charm, self.app, channel=channel, image=image, config=config, num_units=num_units
        )
        self.juju.deploy(
            args.charm,
            args.app,
            channel=args.channel,
            config=args.config or None,
            num_units=args.num_units,
            resources=args.resources,
        )

    def wait_active(self, *, timeout: float = 600.0, delay: float = 1.0) -> jubilant.Status:
        """Wait until every unit is active and idle; raise on any error status."""
        return self.juju.wait(
            lambda status: (
                jubilant.all_active(status, self.app)
                and jubilant.all_agents_idle(status, self.app)
            ),
            error=lambda status: jubilant.any_error(status, self.app),
            timeout=timeout,
            delay=delay,
        )

    def units(self) -> list[str]:
        """The application's unit names, in unit-number order."""
        app = self.juju.status().apps.get(self.app)
        if app is None:
            raise LookupError(f"no application {self.app!r} in the model")
        return sorted(app.units, key=lambda name: int(name.rsplit("/", 1)[1]))

    def run(self, action: str, params: Mapping[str, Any] | None = None, unit: Unit = 0) -> Any:
        """Run an action on a unit and return its results (raises jubilant.TaskError)."""
        return self.juju.run(unit_name(self.app, unit), action, params).results

    def state(self, unit: Unit = 0) -> SimulatorState:
        """The get-readings results of a unit: ports, identity, readings, faults."""
        return SimulatorState.from_results(self.run("get-readings", unit=unit))

    def readings(self, unit: Unit = 0) -> InverterState:
        """The unit's inverter (each unit simulates one)."""
        return self.state(unit).inverter()

    def inverter(
        self,
        unit: Unit = 0,
        *,
        via: Literal["relation", "status"] = "relation",
        endpoint: str = DEFAULT_RELATION_NAME,
    ) -> Inverter:
        """Where to reach the unit's inverter, as the interface library describes it.

        via="relation" reads the databag the unit publishes (needs a relation);
        via="status" combines the unit's address in juju status with get-readings.
        """
        name = self._resolve(unit)
        if via == "relation":
            return inverter_from_unit_info(name, self.juju.show_unit(name), endpoint)
        status_app = self.juju.status().apps.get(self.app)
        found = status_app.units.get(name) if status_app else None
        if found is None:
            raise ConnectionInfoError(f"no unit {name} in juju status")
        return inverter_from_state(name, found.address, self.state(name))

    def _resolve(self, unit: Unit) -> str:
        """A concrete unit name; "leader" is looked up in juju status."""
        name = unit_name(self.app, unit)
        if not name.endswith("/leader"):
            return name
        status_app = self.juju.status().apps.get(name.split("/")[0])
        units = status_app.units if status_app else {}
        leader = next((n for n, u in units.items() if u.leader), None)
        if leader is None:
            raise LookupError(f"{name.split('/')[0]} has no leader in juju status")
        return leader

    def set_power(self, watts: float | Literal["auto"], unit: Unit = 0) -> InverterState:
        """Pin PV power to `watts`, or "auto" to follow the simulated sun again."""
        return InverterState.from_results(self.run("set-power", power_params(watts), unit))

    def set_state(self, state: Literal["run", "stop", "standby"], unit: Unit = 0) -> InverterState:
        """Switch the work state (set-state action)."""
        return InverterState.from_results(self.run("set-state", {"state": state}, unit))

    def set_battery(
        self,
        *,
        soc: float | None = None,
        power: float | None = None,
        auto: bool = False,
        unit: Unit = 0,
    ) -> InverterState:
        """Set a hybrid's battery: SOC and/or a fixed power, or auto (set-battery action)."""
        params = battery_params(soc, power, auto)
        return InverterState.from_results(self.run("set-battery", params, unit))

    def control(self, path: str, unit: Unit = 0, body: Mapping[str, Any] | None = None) -> Any:
        """Call the control API inside the unit's simulator container (juju ssh).

        The control API listens on the pod's loopback only; this runs the rock's own
        Python there. Used for what no action returns (requests, settings).
        """
        spec = json.dumps(
            {
                "url": f"http://127.0.0.1:{CONTROL_PORT}{path}",
                "method": "GET" if body is None else "POST",
                "data": None if body is None else json.dumps(body),
            }
        )
        code = (
            f"import json,urllib.request as u;s=json.loads({spec!r});"
            "d=s['data'];r=u.Request(s['url'],data=d.encode() if d else None,"
            "method=s['method'],headers={'Content-Type':'application/json'});"
            "print(u.urlopen(r,timeout=10).read().decode())"
        )
        out = self.juju.ssh(
            self._resolve(unit), f"python3 -c {shlex.quote(code)}", container="simulator"
        )
        return json.loads(out)

    def requests(self, unit: Unit = 0, *, unit_id: int | None = None) -> list[RequestRecord]:
        """What each client asked the unit's simulator for (GET /v1/requests)."""
        query = f"?unit_id={unit_id}" if unit_id is not None else ""
        return parse_requests(self.control(f"/v1/requests{query}", unit))

    def settings(self, unit: Unit = 0) -> list[Setting]:
        """The unit's device settings (GET /v1/settings)."""
        return parse_settings(self.control("/v1/settings", unit))

    def set_setting(self, name: str, value: float | str, unit: Unit = 0) -> Setting:
        """Set one device setting by name (POST /v1/settings)."""
        answer = self.control("/v1/settings", unit, {"name": name, "value": value})
        return Setting.from_json(answer["setting"])

    def inject_fault(self, kind: str, unit: Unit = 0, **options: Any) -> Fault:
        """Inject a fault and return it with its id.

        Options: duration, scope, probability, code, start, count, delay, max_sessions.
        """
        faults = parse_faults(self.run("inject-fault", fault_params(kind, **options), unit))
        matching = [f for f in faults if f.kind == kind]
        if not matching:
            raise LookupError(f"inject-fault returned no {kind!r} fault: {faults}")
        return matching[-1]

    def faults(self, unit: Unit = 0) -> list[Fault]:
        """The active faults."""
        return parse_faults(self.run("list-faults", unit=unit))

    def clear_faults(self, kind: str | None = None, unit: Unit = 0) -> None:
        """Clear every fault, or the faults of one kind."""
        self.run("clear-faults", clear_params(kind), unit)
