"""The charm publishes one inverter per unit on the `inverter` relation."""

from __future__ import annotations

import dataclasses

import pytest
from ops import testing
from support.charm import container

from charm import SungrowSimCharm

Ctx = testing.Context[SungrowSimCharm]

MODEL = testing.Model(name="lab")
POD_FQDN = "sungrow-sim-k8s-0.sungrow-sim-k8s-endpoints.lab.svc.cluster.local"


@pytest.fixture(autouse=True)
def pod_fqdn(monkeypatch: pytest.MonkeyPatch) -> None:
    """The charm container's FQDN, as the pod's resolver gives it in Kubernetes."""
    monkeypatch.setattr("charm.socket.getfqdn", lambda *_: POD_FQDN)


def test_relation_joined_publishes_the_unit_inverter(ctx: Ctx):
    relation = testing.Relation("inverter", remote_app_name="consumer")
    state = testing.State(containers={container()}, relations={relation}, model=MODEL)

    out = ctx.run(ctx.on.relation_joined(relation, remote_unit=0), state)

    data = out.get_relation(relation.id).local_unit_data
    assert {k: v for k, v in data.items() if "address" not in k and k != "egress-subnets"} == {
        "host": POD_FQDN,
        "modbus-port": "502",
        "ws-port": "8082",
        "http-port": "80",
        "protocols": "modbus,sungrow,http",
        "model": "SG10RT",
        "device-code": "9267",
        "serial": "SIM0000000",
        "unit-id": "1",
    }


def test_each_unit_publishes_its_own_fqdn_and_serial(monkeypatch: pytest.MonkeyPatch):
    # The host is what the unit's own pod resolves as its FQDN, not a name built from the
    # unit and model names (which breaks with a custom cluster domain).
    monkeypatch.setattr("charm.socket.getfqdn", lambda *_: "pod-3.sim-endpoints.lab.example")
    ctx = testing.Context(SungrowSimCharm, unit_id=3)
    relation = testing.Relation("inverter")
    state = testing.State(containers={container()}, relations={relation}, model=MODEL)

    out = ctx.run(ctx.on.relation_joined(relation, remote_unit=0), state)

    data = out.get_relation(relation.id).local_unit_data
    assert data["host"] == "pod-3.sim-endpoints.lab.example"
    assert data["serial"] == "SIM0000003"


def test_a_non_leader_unit_publishes_too(ctx: Ctx):
    relation = testing.Relation("inverter")
    state = testing.State(containers={container()}, relations={relation}, leader=False)

    out = ctx.run(ctx.on.relation_joined(relation, remote_unit=0), state)

    assert out.get_relation(relation.id).local_unit_data["model"] == "SG10RT"
    assert out.get_relation(relation.id).local_app_data == {}


def test_data_is_published_while_the_container_is_not_up(ctx: Ctx):
    relation = testing.Relation("inverter")
    state = testing.State(containers={container(can_connect=False)}, relations={relation})

    out = ctx.run(ctx.on.relation_joined(relation, remote_unit=0), state)

    assert out.get_relation(relation.id).local_unit_data["modbus-port"] == "502"


def test_config_changed_refreshes_the_published_data(ctx: Ctx):
    relation = testing.Relation("inverter")
    state = testing.State(containers={container()}, relations={relation})
    first = ctx.run(ctx.on.relation_joined(relation, remote_unit=0), state)

    changed = dataclasses.replace(
        first, config={"model": "SH10RT", "serial": "A1B2C3", "unit-id": 2, "modbus-port": 1502}
    )
    out = ctx.run(ctx.on.config_changed(), changed)

    data = out.get_relation(relation.id).local_unit_data
    assert (data["model"], data["device-code"], data["serial"]) == ("SH10RT", "3587", "A1B2C3")
    assert (data["unit-id"], data["modbus-port"]) == ("2", "1502")


def test_disabling_http_removes_its_ports_from_the_data(ctx: Ctx):
    relation = testing.Relation("inverter")
    state = testing.State(containers={container()}, relations={relation})
    first = ctx.run(ctx.on.relation_joined(relation, remote_unit=0), state)

    out = ctx.run(
        ctx.on.config_changed(), dataclasses.replace(first, config={"protocols": "modbus"})
    )

    data = out.get_relation(relation.id).local_unit_data
    assert data["protocols"] == "modbus"
    assert "ws-port" not in data
    assert "http-port" not in data
    assert data["ingress-address"]  # Juju's own keys are left alone


def test_every_relation_of_the_endpoint_gets_the_data(ctx: Ctx):
    one = testing.Relation("inverter", remote_app_name="grafana-agent")
    two = testing.Relation("inverter", remote_app_name="sungather")
    state = testing.State(containers={container()}, relations={one, two})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.get_relation(one.id).local_unit_data["serial"] == "SIM0000000"
    assert out.get_relation(two.id).local_unit_data["serial"] == "SIM0000000"
