#!/usr/bin/env python3
"""A requirer of `inverter`, as any outside charm would write one, plus reading actions."""

from __future__ import annotations

import json
import logging
from typing import Literal

import ops
import protocols
import pydantic
from charms.sungrow_sim_k8s.v0.inverter import Inverter, InverterRequirer

logger = logging.getLogger(__name__)
TIMEOUT = 10.0


class ReadParams(pydantic.BaseModel):
    """read-registers parameters."""

    model_config = pydantic.ConfigDict(frozen=True)

    protocol: Literal["modbus", "sungrow", "http"]
    unit: str | None = None
    table: protocols.Table = "input"
    address: int = pydantic.Field(4999, ge=0, le=65535)
    count: int = pydantic.Field(1, ge=1, le=125)


class TesterCharm(ops.CharmBase):
    """Reads the related inverters on demand; status tells how many it sees."""

    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self.inverter = InverterRequirer(self, relation_name="inverter")
        framework.observe(self.on.collect_unit_status, self._on_collect_status)
        framework.observe(self.on.relation_data_action, self._on_relation_data)
        framework.observe(self.on.read_registers_action, self._on_read_registers)
        for event in (
            self.inverter.on.inverter_available,
            self.inverter.on.inverter_changed,
            self.inverter.on.inverter_gone,
        ):
            framework.observe(event, self._log_event)

    def _log_event(self, event: ops.EventBase) -> None:
        logger.info("%s: %s", type(event).__name__, getattr(event, "unit_name", ""))

    def _on_collect_status(self, event: ops.CollectStatusEvent) -> None:
        inverters = self.inverter.inverters
        models = ", ".join(sorted(f"{i.model} {i.serial}" for i in inverters))
        event.add_status(ops.ActiveStatus(f"{len(inverters)} inverter(s): {models}".rstrip(": ")))

    def _on_relation_data(self, event: ops.ActionEvent) -> None:
        inverters = [i.model_dump(mode="json") for i in self.inverter.inverters]
        event.set_results({"inverters": json.dumps(inverters), "count": len(inverters)})

    def _find(self, unit: str | None) -> Inverter | None:
        inverters = self.inverter.inverters
        if unit is None:
            return inverters[0] if inverters else None
        return next((i for i in inverters if i.unit_name == unit), None)

    def _on_read_registers(self, event: ops.ActionEvent) -> None:
        try:
            params = event.load_params(ReadParams)
        except pydantic.ValidationError as e:
            event.fail(f"invalid parameters: {e}")
            return
        inverter = self._find(params.unit)
        if inverter is None:
            seen = [i.unit_name for i in self.inverter.inverters]
            event.fail(f"no related inverter {params.unit or ''} (seen: {seen})")
            return
        protocol = params.protocol
        if protocol not in inverter.ports or (protocol == "http" and "ws" not in inverter.ports):
            event.fail(f"{inverter.unit_name} does not serve {protocol}: {inverter.ports}")
            return
        where = (params.table, params.address, params.count, TIMEOUT)
        host, unit_id = inverter.host, inverter.unit_id
        port = inverter.ports[protocol]
        try:
            if protocol == "modbus":
                values = protocols.read_modbus(host, port, unit_id, *where)
            elif protocol == "sungrow":
                values = protocols.read_sungrow(host, port, unit_id, *where)
            else:
                values = protocols.read_http(host, inverter.ports["ws"], port, unit_id, *where)
        except (protocols.ReadError, OSError) as e:
            event.fail(f"{protocol} read from {host}:{port} failed: {e}")
            return
        event.set_results(
            {
                "registers": json.dumps(values),
                "protocol": protocol,
                "host": inverter.host,
                "port": port,
                "unit": inverter.unit_name,
            }
        )


if __name__ == "__main__":  # pragma: nocover
    ops.main(TesterCharm)
