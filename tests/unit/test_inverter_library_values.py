"""Values cross the `inverter` interface unchanged: unit id 0 stays 0, absent means 1."""

from __future__ import annotations

import ops
import pytest
from charms.sungrow_sim_k8s.v0.inverter import Inverter, InverterRequirer, relation_for_testing
from ops import testing

META = {"name": "consumer", "requires": {"inverter": {"interface": "inverter"}}}


class Consumer(ops.CharmBase):
    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self.requirer = InverterRequirer(self)
        self.seen: list[Inverter] = []
        framework.observe(self.on.update_status, self._seen)

    def _seen(self, _: ops.EventBase) -> None:
        self.seen = self.requirer.inverters


def read(databag: dict[str, str]) -> Inverter:
    ctx = testing.Context(Consumer, meta=META)
    state = testing.State(relations={relation_for_testing({0: databag})})
    with ctx(ctx.on.update_status(), state) as manager:
        manager.run()
        (found,) = manager.charm.seen
        return found


@pytest.mark.parametrize(("published", "read_back"), [("0", 0), ("1", 1), ("247", 247), ("255", 255)])
def test_the_published_unit_id_is_the_one_read(published, read_back):
    assert read({"host": "sim", "modbus-port": "502", "unit-id": published}).unit_id == read_back


def test_no_unit_id_means_unit_1():
    assert read({"host": "sim", "modbus-port": "502"}).unit_id == 1


def test_device_code_zero_and_serial_are_kept():
    found = read({"host": "sim", "modbus-port": "502", "device-code": "0", "serial": "S0"})
    assert found.device_code == 0
    assert found.serial == "S0"
