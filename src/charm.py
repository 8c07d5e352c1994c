#!/usr/bin/env python3

"""Charm the sungrow-sim simulated inverter."""

from __future__ import annotations

import logging

import ops
import pydantic
from charms.sungrow_sim_k8s.v0.inverter import InverterProvider, InverterUnitData

import actions
from config import Config, describe_error
from layer import SERVICE_NAME, make_layer
from simulator_ctl import CtlError, own_inverter, run_ctl, to_results

logger = logging.getLogger(__name__)

CONTAINER_NAME = "simulator"
STATUS_CTL_TIMEOUT = 5.0


class SungrowSimCharm(ops.CharmBase):
    """Runs the simulator under Pebble and offers it on the `inverter` relation."""

    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self.container = self.unit.get_container(CONTAINER_NAME)
        self.inverter = InverterProvider(self, relation_name="inverter")
        framework.observe(self.on.collect_unit_status, self._on_collect_status)
        for event in (
            self.on[CONTAINER_NAME].pebble_ready,
            self.on.config_changed,
            self.on.upgrade_charm,
            self.on.leader_elected,
            self.on["inverter"].relation_joined,
        ):
            framework.observe(event, self._reconcile)
        for name in actions.ACTIONS:
            framework.observe(
                getattr(self.on, f"{name.replace('-', '_')}_action"), self._on_action
            )

    def _config(self) -> Config | None:
        """The validated config, or None when an option is invalid (status says which)."""
        try:
            return self.load_config(Config)
        except pydantic.ValidationError:
            return None

    @property
    def _unit_number(self) -> int:
        return int(self.unit.name.rsplit("/", 1)[1])

    @property
    def _host(self) -> str:
        """The unit's stable DNS name inside the cluster (the app's headless service)."""
        pod = self.unit.name.replace("/", "-")
        return f"{pod}.{self.app.name}-endpoints.{self.model.name}.svc.cluster.local"

    def _reconcile(self, _: ops.EventBase) -> None:
        """Bring the relation data, open ports and the Pebble plan in line with the config."""
        config = self._config()
        if config is None:
            return
        serial = config.serial_for(self._unit_number)
        self.inverter.publish(
            InverterUnitData(
                host=self._host,
                modbus_port=config.ports.get("modbus-port"),
                ws_port=config.ports.get("ws-port"),
                http_port=config.ports.get("http-port"),
                protocols=config.protocols,
                model=config.model,
                device_code=config.info.device_code,
                serial=serial,
                unit_id=config.unit_id,
            )
        )
        self.unit.set_ports(*config.ports.values())
        if not self.container.can_connect():
            logger.info("Pebble in the %s container is not ready yet", CONTAINER_NAME)
            return
        self._apply_layer(make_layer(config, serial))
        self._set_version()

    def _apply_layer(self, layer: ops.pebble.Layer) -> None:
        """Add the layer and replan, only when the service or a check changed."""
        plan = self.container.get_plan()
        unchanged = plan.services.get(SERVICE_NAME) == layer.services[SERVICE_NAME] and all(
            plan.checks.get(name) == check for name, check in layer.checks.items()
        )
        if unchanged:
            logger.debug("Pebble layer unchanged, not replanning")
            return
        self.container.add_layer(SERVICE_NAME, layer, combine=True)
        self.container.replan()
        logger.info("Pebble layer updated and replanned")

    def _set_version(self) -> None:
        try:
            stdout, _ = self.container.exec(["sungrow-sim", "--version"], timeout=10).wait_output()
        except ops.pebble.Error as e:
            logger.warning("cannot read the simulator version: %s", e)
            return
        self.unit.set_workload_version(stdout.split()[-1] if stdout.split() else "")

    def _on_collect_status(self, event: ops.CollectStatusEvent) -> None:
        try:
            config = self.load_config(Config)
        except pydantic.ValidationError as e:
            event.add_status(ops.BlockedStatus(f"invalid config: {describe_error(e)}"))
            return
        if not self.container.can_connect():
            event.add_status(ops.WaitingStatus(f"waiting for the {CONTAINER_NAME} container"))
            return
        try:
            services = self.container.get_services(SERVICE_NAME)
            ready = self.container.get_checks("ready").get("ready")
        except (ops.pebble.ConnectionError, ops.pebble.APIError):
            event.add_status(ops.WaitingStatus(f"waiting for the {CONTAINER_NAME} container"))
            return
        if SERVICE_NAME not in services:
            event.add_status(ops.MaintenanceStatus("configuring the simulator service"))
            return
        if not services[SERVICE_NAME].is_running():
            event.add_status(ops.MaintenanceStatus("starting the simulator"))
            return
        if ready is None or ready.status != ops.pebble.CheckStatus.UP:
            event.add_status(ops.MaintenanceStatus("waiting for the simulator to be ready"))
            return
        event.add_status(ops.ActiveStatus(self._summary(config)))

    def _summary(self, config: Config) -> str:
        """E.g. "SH10RT 3.2 kW modbus+sungrow+http"; without the power if ctl fails."""
        protocols = "+".join(config.protocols)
        try:
            state = run_ctl(self.container, config.unit_id, ["state"], STATUS_CTL_TIMEOUT)
            watts = float(own_inverter(state, config.unit_id)["readings"]["active_power_w"])
        except (CtlError, KeyError, TypeError, ValueError) as e:
            logger.info("no live power for the status: %s", e)
            return f"{config.model} {protocols}"
        return f"{config.model} {watts / 1000:.1f} kW {protocols}"

    def _on_action(self, event: ops.ActionEvent) -> None:
        """Run the action's `sungrow-sim ctl` command and return its JSON as results."""
        params_class = actions.ACTIONS[event.handle.kind.removesuffix("_action").replace("_", "-")]
        try:
            params = event.load_params(params_class)
        except pydantic.ValidationError as e:
            event.fail(f"invalid parameters: {describe_error(e)}")
            return
        config = self._config()
        if config is None:
            event.fail("the charm's config is invalid; fix it first (see juju status)")
            return
        if not self.container.can_connect():
            event.fail(f"the {CONTAINER_NAME} container is not reachable yet; try again later")
            return
        # get-readings asks for the whole simulator state, to include version and ports.
        whole = isinstance(params, actions.GetReadingsParams)
        try:
            answer = run_ctl(self.container, None if whole else config.unit_id, params.ctl_args())
            if whole:
                inverter = own_inverter(answer, config.unit_id)
                answer = {
                    "version": answer["version"],
                    "protocols": answer["protocols"],
                    **inverter,
                }
        except CtlError as e:
            event.fail(str(e))
            return
        except (KeyError, IndexError, TypeError) as e:
            event.fail(f"unexpected answer from sungrow-sim ctl state: missing {e}")
            return
        event.set_results(to_results(answer, list_key="faults"))


if __name__ == "__main__":  # pragma: nocover
    ops.main(SungrowSimCharm)
