#!/usr/bin/env python3

"""Charm the sungrow-sim simulated inverter."""

from __future__ import annotations

import logging
import socket
from typing import Any

import ops
import pydantic
from charms.sungrow_sim_k8s.v0.inverter import (
    InverterProvider,
    InverterUnitData,
    describe_validation_error,
)

import actions
import dashboard
from config import CONTROL_PORT, METRICS_PORT, Config
from cos import CosRelations
from layer import READY_CHECK, SERVICE_NAME, make_layer
from simulator_ctl import CtlError, own_inverter, run_ctl, to_results

logger = logging.getLogger(__name__)

CONTAINER_NAME = "simulator"


class SungrowSimCharm(ops.CharmBase):
    """Runs the simulator under Pebble and offers it on the `inverter` relation."""

    _stored = ops.StoredState()

    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        # The ready check's change id and success count at the last replan: Active needs
        # a success after it (see _ready_since_replan).
        self._stored.set_default(ready_change=None, ready_successes=0)
        self.container = self.unit.get_container(CONTAINER_NAME)
        self.inverter = InverterProvider(self, relation_name="inverter")
        self.cos = CosRelations(
            self, self.container, SERVICE_NAME, METRICS_PORT, lambda: self._host
        )
        framework.observe(self.on.collect_unit_status, self._on_collect_status)
        for event in (
            self.on[CONTAINER_NAME].pebble_ready,
            self.on.config_changed,
            self.on.upgrade_charm,
            self.on.leader_elected,
            self.on["inverter"].relation_joined,
        ):
            framework.observe(event, self._reconcile)
        # Status follows the ready check: collect-status reads it from Pebble after these.
        framework.observe(self.on[CONTAINER_NAME].pebble_check_failed, self._on_check_event)
        framework.observe(self.on[CONTAINER_NAME].pebble_check_recovered, self._on_check_event)
        framework.observe(self.on.get_readings_action, self._on_get_readings_action)
        framework.observe(self.on.get_dashboard_action, self._on_get_dashboard_action)
        framework.observe(self.on.list_faults_action, self._on_list_faults_action)
        framework.observe(self.on.set_power_action, self._on_set_power_action)
        framework.observe(self.on.set_load_action, self._on_set_load_action)
        framework.observe(self.on.set_state_action, self._on_set_state_action)
        framework.observe(self.on.set_battery_action, self._on_set_battery_action)
        framework.observe(self.on.set_clock_action, self._on_set_clock_action)
        framework.observe(self.on.inject_fault_action, self._on_inject_fault_action)
        framework.observe(self.on.clear_faults_action, self._on_clear_faults_action)

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
        """The unit's own DNS name, as the pod resolves it (the app's headless service).

        The charm container shares the pod's hostname and resolver, so its FQDN is the
        name that reaches this unit (not the application's ClusterIP, which picks any).
        """
        return socket.getfqdn()

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
        self.unit.set_ports(*config.ports.values(), *([CONTROL_PORT] if config.dashboard else []))
        if not self.container.can_connect():
            logger.info("Pebble in the %s container is not ready yet", CONTAINER_NAME)
            return
        layer = make_layer(config, serial)
        if config.dashboard:
            layer = dashboard.expose(layer, dashboard.token(self.unit, self.model) or "")
        self._apply_layer(layer)
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
        ready = self.container.get_checks(READY_CHECK).get(READY_CHECK)
        self._stored.ready_change = str(ready.change_id) if ready and ready.change_id else None
        self._stored.ready_successes = (ready.successes or 0) if ready else 0
        logger.info("Pebble layer updated and replanned")

    def _on_check_event(self, event: ops.PebbleCheckEvent) -> None:
        """Log a check's failure or recovery; collect-status then reports it."""
        logger.info("Pebble check %s: %s", event.info.name, type(event).__name__)

    def _ready_since_replan(self, info: ops.pebble.CheckInfo) -> bool:
        """Whether the ready check is up and has succeeded since the last replan.

        A new check starts "up" before it ever ran, so "up" alone is not enough: it must
        have more successes than at the replan (any, if Pebble restarted it since). A
        Pebble without the `successes` count (before 1.23) is trusted on "up" alone.
        """
        if info.status != ops.pebble.CheckStatus.UP:
            return False
        if info.successes is None:
            return True
        same_run = info.change_id is not None and str(info.change_id) == self._stored.ready_change
        return info.successes > (self._stored.ready_successes if same_run else 0)

    def _set_version(self) -> None:
        try:
            stdout, _ = self.container.exec(["sungrow-sim", "--version"], timeout=10).wait_output()
        except ops.pebble.Error as e:
            logger.warning("cannot read the simulator version: %s", e)
            return
        self.unit.set_workload_version(stdout.split()[-1] if stdout.split() else "")

    def _on_collect_status(self, event: ops.CollectStatusEvent) -> None:
        """Status from the config and Pebble only: cheap, and run after every event."""
        try:
            config = self.load_config(Config)
        except pydantic.ValidationError as e:
            event.add_status(ops.BlockedStatus(f"invalid config: {describe_validation_error(e)}"))
            return
        if not self.container.can_connect():
            event.add_status(ops.WaitingStatus(f"waiting for the {CONTAINER_NAME} container"))
            return
        try:
            services = self.container.get_services(SERVICE_NAME)
            ready = self.container.get_checks(READY_CHECK).get(READY_CHECK)
        except (ops.pebble.ConnectionError, ops.pebble.APIError):
            event.add_status(ops.WaitingStatus(f"waiting for the {CONTAINER_NAME} container"))
            return
        if SERVICE_NAME not in services:
            event.add_status(ops.MaintenanceStatus("configuring the simulator service"))
            return
        if not services[SERVICE_NAME].is_running():
            event.add_status(ops.MaintenanceStatus("starting the simulator"))
            return
        if ready is None:
            event.add_status(ops.MaintenanceStatus("configuring the simulator's ready check"))
            return
        if ready.status == ops.pebble.CheckStatus.DOWN:
            event.add_status(
                ops.MaintenanceStatus(
                    f"simulator not ready: check {READY_CHECK!r} failing, Pebble restarts it"
                )
            )
            return
        if not self._ready_since_replan(ready):
            event.add_status(ops.MaintenanceStatus("waiting for the simulator to be ready"))
            return
        # E.g. "SH10RT modbus+sungrow+http"; live power is in the get-readings action.
        event.add_status(ops.ActiveStatus(f"{config.model} {'+'.join(config.protocols)}"))

    def _on_get_readings_action(self, event: ops.ActionEvent) -> None:
        """Version and ports of the simulator; identity, live readings and faults of the unit."""
        params = event.load_params(actions.GetReadingsParams, errors="fail")
        config = self._config_for_action(event)
        if config is None:
            return
        # The whole simulator's state (no --unit-id) has the version and the ports too.
        answer = self._ctl(event, None, params)
        if answer is None:
            return
        try:
            inverter = own_inverter(answer, config.unit_id)
            answer = {"version": answer["version"], "protocols": answer["protocols"], **inverter}
        except (KeyError, IndexError, TypeError) as e:
            event.fail(f"unexpected answer from sungrow-sim ctl state: missing {e}")
            return
        event.set_results(to_results(answer))

    def _on_get_dashboard_action(self, event: ops.ActionEvent) -> None:
        event.load_params(actions.GetDashboardParams, errors="fail")
        config = self._config_for_action(event)
        if config is None:
            return
        value = dashboard.token(self.unit, self.model, create=False)
        try:
            event.set_results(dashboard.results(self._host, config.dashboard, value))
        except dashboard.DashboardError as e:
            event.fail(str(e))

    def _on_list_faults_action(self, event: ops.ActionEvent) -> None:
        self._run(event, event.load_params(actions.ListFaultsParams, errors="fail"))

    def _on_set_power_action(self, event: ops.ActionEvent) -> None:
        self._run(event, event.load_params(actions.SetPowerParams, errors="fail"))

    def _on_set_load_action(self, event: ops.ActionEvent) -> None:
        self._run(event, event.load_params(actions.SetLoadParams, errors="fail"))

    def _on_set_state_action(self, event: ops.ActionEvent) -> None:
        self._run(event, event.load_params(actions.SetStateParams, errors="fail"))

    def _on_set_battery_action(self, event: ops.ActionEvent) -> None:
        self._run(event, event.load_params(actions.SetBatteryParams, errors="fail"))

    def _on_set_clock_action(self, event: ops.ActionEvent) -> None:
        self._run(event, event.load_params(actions.SetClockParams, errors="fail"))

    def _on_inject_fault_action(self, event: ops.ActionEvent) -> None:
        self._run(event, event.load_params(actions.InjectFaultParams, errors="fail"))

    def _on_clear_faults_action(self, event: ops.ActionEvent) -> None:
        self._run(event, event.load_params(actions.ClearFaultsParams, errors="fail"))

    def _run(self, event: ops.ActionEvent, params: actions.ActionParams) -> None:
        """Run the action's ctl command on this unit's inverter; its JSON as the results."""
        config = self._config_for_action(event)
        if config is None:
            return
        answer = self._ctl(event, config.unit_id, params)
        if answer is not None:
            event.set_results(to_results(answer, list_key="faults"))

    def _config_for_action(self, event: ops.ActionEvent) -> Config | None:
        """The config, or None after failing the action when it or Pebble is not usable."""
        config = self._config()
        if config is None:
            event.fail("the charm's config is invalid; fix it first (see juju status)")
            return None
        if not self.container.can_connect():
            event.fail(f"the {CONTAINER_NAME} container is not reachable yet; try again later")
            return None
        return config

    def _ctl(
        self, event: ops.ActionEvent, unit_id: int | None, params: actions.ActionParams
    ) -> Any:
        """The JSON answer of `sungrow-sim ctl`, or None after failing the action."""
        config = self._config()
        env = dashboard.ctl_environment(self.unit, self.model, bool(config and config.dashboard))
        try:
            return run_ctl(self.container, unit_id, params.ctl_args(), environment=env)
        except CtlError as e:
            event.fail(str(e))
            return None


if __name__ == "__main__":  # pragma: nocover
    ops.main(SungrowSimCharm)
