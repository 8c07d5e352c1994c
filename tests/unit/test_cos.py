"""The COS relations: scrape jobs, the Grafana dashboard and Pebble log forwarding."""

from __future__ import annotations

import base64
import json
import lzma
import socket
from pathlib import Path
from typing import Any

from ops import pebble, testing
from support.charm import container

from charm import SungrowSimCharm

Ctx = testing.Context[SungrowSimCharm]
DASHBOARD = Path(__file__).parents[2] / "src" / "grafana_dashboards" / "sungrow-sim.json"
LOKI_URL = "http://loki-0.loki-endpoints.cos.svc.cluster.local:3100/loki/api/v1/push"


def metrics_relation() -> testing.Relation:
    return testing.Relation("metrics-endpoint", remote_app_name="prometheus")


def loki_relation(*urls: str | None, raw: dict[int, str] | None = None) -> testing.Relation:
    """A logging relation with one Loki unit per url (None: no endpoint yet)."""
    units: dict[int, dict[str, str]] = {}
    for index, url in enumerate(urls):
        units[index] = {} if url is None else {"endpoint": json.dumps({"url": url})}
    for index, text in (raw or {}).items():
        units[index] = {"endpoint": text}
    return testing.Relation("logging", remote_app_name="loki", remote_units_data=units)


def test_metrics_endpoint_leader_publishes_the_scrape_job_and_topology(ctx: Ctx):
    relation = metrics_relation()
    state = testing.State(leader=True, relations={relation}, containers={container()})

    out = ctx.run(ctx.on.relation_joined(relation, remote_unit=0), state)

    data = out.get_relation(relation.id)
    assert json.loads(data.local_app_data["scrape_jobs"]) == [
        {
            "job_name": "sungrow-sim",
            "metrics_path": "/metrics",
            "static_configs": [{"targets": ["*:8091"]}],
        }
    ]
    assert json.loads(data.local_app_data["scrape_metadata"]) == {
        "model": out.model.name,
        "model_uuid": out.model.uuid,
        "application": "sungrow-sim-k8s",
        "unit": "sungrow-sim-k8s/0",
        "charm_name": "sungrow-sim-k8s",
    }
    # The same address as on the inverter relation: the unit's FQDN, as its pod resolves it.
    assert data.local_unit_data["prometheus_scrape_unit_address"] == socket.getfqdn()
    assert data.local_unit_data["prometheus_scrape_unit_name"] == "sungrow-sim-k8s/0"


def test_metrics_endpoint_follower_publishes_only_its_own_address(ctx: Ctx):
    relation = metrics_relation()
    state = testing.State(leader=False, relations={relation}, containers={container()})

    out = ctx.run(ctx.on.relation_joined(relation, remote_unit=0), state)

    data = out.get_relation(relation.id)
    assert "scrape_jobs" not in data.local_app_data
    assert data.local_unit_data["prometheus_scrape_unit_name"] == "sungrow-sim-k8s/0"


def test_the_simulator_serves_metrics_on_the_port_of_the_scrape_job(ctx: Ctx):
    out = ctx.run(ctx.on.pebble_ready(container()), testing.State(containers={container()}))

    command = out.get_container("simulator").plan.services["sungrow-sim"].command
    assert "--metrics-bind 0.0.0.0 --metrics-port 8091" in command


def _dashboards(out: testing.State, relation: testing.Relation) -> dict[str, Any]:
    return json.loads(out.get_relation(relation.id).local_app_data["dashboards"])


def test_grafana_dashboard_leader_publishes_the_compressed_dashboard(ctx: Ctx):
    relation = testing.Relation("grafana-dashboard", remote_app_name="grafana")
    state = testing.State(leader=True, relations={relation}, containers={container()})

    out = ctx.run(ctx.on.relation_joined(relation, remote_unit=0), state)

    data = _dashboards(out, relation)
    template = data["templates"]["file:sungrow-sim"]
    assert template["charm"] == "sungrow-sim-k8s"
    assert template["juju_topology"] == {
        "model": out.model.name,
        "model_uuid": out.model.uuid,
        "application": "sungrow-sim-k8s",
        "unit": "sungrow-sim-k8s/0",
    }
    content = lzma.decompress(base64.b64decode(template["content"])).decode()
    assert json.loads(content) == json.loads(DASHBOARD.read_text())
    assert data["uuid"]


def test_grafana_dashboard_data_is_stable_so_relations_do_not_churn(ctx: Ctx):
    relation = testing.Relation("grafana-dashboard", remote_app_name="grafana")
    state = testing.State(leader=True, relations={relation}, containers={container()})

    first = ctx.run(ctx.on.relation_joined(relation, remote_unit=0), state)
    second = ctx.run(ctx.on.config_changed(), first)

    assert _dashboards(first, relation) == _dashboards(second, relation)


def test_grafana_dashboard_follower_publishes_nothing(ctx: Ctx):
    relation = testing.Relation("grafana-dashboard", remote_app_name="grafana")
    state = testing.State(leader=False, relations={relation}, containers={container()})

    out = ctx.run(ctx.on.relation_joined(relation, remote_unit=0), state)

    assert "dashboards" not in out.get_relation(relation.id).local_app_data


def test_logging_forwards_the_service_to_each_loki_unit_with_topology_labels(ctx: Ctx):
    other = "http://loki-1.loki-endpoints.cos.svc.cluster.local:3100/loki/api/v1/push"
    relation = loki_relation(LOKI_URL, other)
    state = testing.State(relations={relation}, containers={container()})

    out = ctx.run(ctx.on.relation_changed(relation, remote_unit=0), state)

    targets = out.get_container("simulator").plan.log_targets
    assert set(targets) == {"loki/0", "loki/1"}
    target = targets["loki/0"]
    assert target.type == "loki"
    assert target.location == LOKI_URL
    assert targets["loki/1"].location == other
    assert target.services == ["sungrow-sim"]
    assert target.labels == {
        "product": "Juju",
        "charm": "sungrow-sim-k8s",
        "juju_model": out.model.name,
        "juju_model_uuid": out.model.uuid,
        "juju_application": "sungrow-sim-k8s",
        "juju_unit": "sungrow-sim-k8s/0",
    }


def test_logging_waits_for_a_unit_without_an_endpoint_and_skips_malformed_ones(ctx: Ctx):
    relation = loki_relation(None, LOKI_URL, raw={2: "not json", 3: '{"url": "ftp://x"}'})
    state = testing.State(relations={relation}, containers={container()})

    out = ctx.run(ctx.on.relation_changed(relation, remote_unit=0), state)

    assert set(out.get_container("simulator").plan.log_targets) == {"loki/1"}


def test_logging_broken_switches_the_forwarding_off(ctx: Ctx):
    relation = loki_relation(LOKI_URL)
    state = testing.State(relations={relation}, containers={container()})
    forwarding = ctx.run(ctx.on.relation_changed(relation, remote_unit=0), state)

    out = ctx.run(ctx.on.relation_broken(relation), forwarding)

    target = out.get_container("simulator").plan.log_targets["loki/0"]
    assert target.services == ["-all"]


def test_logging_is_applied_once_pebble_is_ready(ctx: Ctx):
    relation = loki_relation(LOKI_URL)
    away = testing.State(relations={relation}, containers={container(can_connect=False)})
    before = ctx.run(ctx.on.relation_changed(relation, remote_unit=0), away)
    assert before.get_container("simulator").layers == {}

    ready = testing.State(relations={relation}, containers={container()})
    out = ctx.run(ctx.on.pebble_ready(container()), ready)

    assert out.get_container("simulator").plan.log_targets["loki/0"].location == LOKI_URL


def test_without_cos_relations_nothing_is_published_or_forwarded(ctx: Ctx):
    out = ctx.run(ctx.on.pebble_ready(container()), testing.State(containers={container()}))

    simulator = out.get_container("simulator")
    assert simulator.plan.log_targets == {}
    assert "sungrow-sim-log-forwarding" not in simulator.layers
    assert out.unit_status == testing.ActiveStatus("SG10RT modbus+sungrow+http")


def test_the_forwarding_layer_leaves_the_service_layer_alone(ctx: Ctx):
    relation = loki_relation(LOKI_URL)
    state = testing.State(relations={relation}, containers={container()})

    out = ctx.run(ctx.on.pebble_ready(container()), state)

    layers = out.get_container("simulator").layers
    assert layers["sungrow-sim-log-forwarding"].to_dict() == {
        "log-targets": {
            "loki/0": {
                "override": "replace",
                "type": "loki",
                "location": LOKI_URL,
                "services": ["sungrow-sim"],
                "labels": out.get_container("simulator").plan.log_targets["loki/0"].labels,
            }
        }
    }
    assert isinstance(layers["sungrow-sim"], pebble.Layer)
    assert "log-targets" not in layers["sungrow-sim"].to_dict()


def test_metrics_endpoint_leader_publishes_alert_rules_confined_to_the_application(ctx: Ctx):
    relation = metrics_relation()
    state = testing.State(leader=True, relations={relation}, containers={container()})

    out = ctx.run(ctx.on.relation_joined(relation, remote_unit=0), state)

    rules = json.loads(out.get_relation(relation.id).local_app_data["alert_rules"])
    (group,) = rules["groups"]
    assert (
        group["name"]
        == f"{out.model.name}_{out.model.uuid[:8]}_sungrow-sim-k8s_sungrow-sim_alerts"
    )
    names = [rule["alert"] for rule in group["rules"]]
    assert names == [
        "SungrowSimUnavailable",
        "SungrowSimInverterFault",
        "SungrowSimMostRequestsFail",
    ]
    topology = (
        f'juju_model="{out.model.name}",juju_model_uuid="{out.model.uuid}",'
        'juju_application="sungrow-sim-k8s",juju_charm="sungrow-sim-k8s"'
    )
    for rule in group["rules"]:
        assert "%%" not in rule["expr"]
        assert topology in rule["expr"]
        assert rule["labels"]["juju_application"] == "sungrow-sim-k8s"
        assert "juju_unit" not in rule["labels"]
    assert group["rules"][0]["expr"] == f"up{{{topology}}} < 1"
