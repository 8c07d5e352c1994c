"""Charms for the interface library's unit tests (imported as `support.requirer`)."""

from __future__ import annotations

import ops
from charms.sungrow_sim_k8s.v0.inverter import InverterRequirer


class EarlyObserver(ops.CharmBase):
    """Observes relation-departed before creating the requirer: its handler runs first.

    It reads the requirer in that handler, before the library's own handler has run.
    """

    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self.during_departed: list[str] = []
        framework.observe(self.on["inverter"].relation_departed, self._on_departed)
        self.requirer = InverterRequirer(self)

    def _on_departed(self, _: ops.RelationDepartedEvent) -> None:
        self.during_departed = [i.unit_name for i in self.requirer.inverters]
