"""The charm in COS: our side of prometheus_scrape, grafana_dashboard and loki_push_api.

Written against the interfaces' published data formats (the relation databags), not
against the charm libraries, so the charm carries no vendored library code:

- `metrics-endpoint` (prometheus_scrape, we provide): the leader puts `scrape_jobs` (a
  JSON list of jobs whose targets are `*:PORT`, the requirer fills in each unit),
  `scrape_metadata` (the Juju topology) and `alert_rules` (our rule groups, labelled
  with the topology and with its label matchers in every expression) in the application
  databag; every unit puts `prometheus_scrape_unit_address` and
  `prometheus_scrape_unit_name` in its own.
- `grafana-dashboard` (grafana_dashboard, we provide): the leader puts `dashboards`, a
  JSON object whose `templates` hold each dashboard file LZMA-compressed and base64
  encoded, with the charm name and the Juju topology.
- `logging` (loki_push_api, we require): each Loki unit publishes `endpoint`, a JSON
  object with the push `url`, in its unit databag; we turn them into Pebble
  `log-targets` (type loki, labelled with the topology) for the simulator's service.

Every relation is optional: without one, nothing is published and nothing forwarded.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import lzma
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ops
import yaml

logger = logging.getLogger(__name__)

METRICS_RELATION = "metrics-endpoint"
DASHBOARD_RELATION = "grafana-dashboard"
LOGGING_RELATION = "logging"
METRICS_PATH = "/metrics"
JOB_NAME = "sungrow-sim"
DASHBOARDS_DIR = Path(__file__).parent / "grafana_dashboards"
ALERT_RULES_DIR = Path(__file__).parent / "prometheus_alert_rules"
TOPOLOGY_PLACEHOLDER = "%%juju_topology%%"
LOG_LAYER = "sungrow-sim-log-forwarding"


@dataclass(frozen=True)
class Topology:
    """Where a unit lives in Juju, as COS labels its metrics and logs."""

    model: str
    model_uuid: str
    application: str
    unit: str
    charm_name: str

    @classmethod
    def of(cls, charm: ops.CharmBase) -> Topology:  # noqa: D102
        return cls(
            model=charm.model.name,
            model_uuid=charm.model.uuid,
            application=charm.app.name,
            unit=charm.unit.name,
            charm_name=charm.meta.name,
        )

    def labels(self) -> dict[str, str]:
        """The juju_* labels (and charm), as Prometheus and Loki index them."""
        return {
            "juju_model": self.model,
            "juju_model_uuid": self.model_uuid,
            "juju_application": self.application,
            "juju_unit": self.unit,
            "juju_charm": self.charm_name,
        }


def scrape_jobs(port: int) -> list[dict[str, Any]]:
    """The scrape job every unit is scraped by: `*` stands for each unit's address."""
    return [
        {
            "job_name": JOB_NAME,
            "metrics_path": METRICS_PATH,
            "static_configs": [{"targets": [f"*:{port}"]}],
        }
    ]


def scrape_metadata(topology: Topology) -> dict[str, str]:
    """The application databag's `scrape_metadata`."""
    return {
        "model": topology.model,
        "model_uuid": topology.model_uuid,
        "application": topology.application,
        "unit": topology.unit,
        "charm_name": topology.charm_name,
    }


def alert_rules(topology: Topology, directory: Path = ALERT_RULES_DIR) -> dict[str, Any]:
    """The application databag's `alert_rules`: every group of every rules file.

    Group names get the topology as a prefix (unique in Prometheus), every rule the
    topology labels, and `%%juju_topology%%` in an expression the label matchers that
    confine it to this application.
    """
    labels = topology.labels()
    del labels["juju_unit"]  # rules cover the application; the requirer adds no unit
    matchers = ",".join(f'{name}="{value}"' for name, value in labels.items())
    prefix = f"{topology.model}_{topology.model_uuid[:8]}_{topology.application}"
    groups = []
    for path in sorted(directory.glob("*.rules")):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            rules = []
            for rule in group["rules"]:
                rules.append(
                    {
                        **rule,
                        "expr": str(rule["expr"]).replace(TOPOLOGY_PLACEHOLDER, matchers),
                        "labels": {**rule.get("labels", {}), **labels},
                    }
                )
            groups.append({"name": f"{prefix}_{group['name']}_alerts", "rules": rules})
    return {"groups": groups}


def compress(text: str) -> str:
    """A dashboard as the interface carries it: LZMA (xz) compressed, then base64."""
    return base64.b64encode(lzma.compress(text.encode("utf-8"))).decode("ascii")


def dashboard_templates(
    topology: Topology, directory: Path = DASHBOARDS_DIR
) -> dict[str, dict[str, Any]]:
    """Every dashboard file of `directory`, keyed `file:<stem>`, ready for the databag."""
    templates = {}
    for path in sorted(directory.glob("*.json")):
        content = json.dumps(json.loads(path.read_text()), sort_keys=True)
        templates[f"file:{path.stem}"] = {
            "charm": topology.charm_name,
            "content": compress(content),
            "juju_topology": {
                "model": topology.model,
                "model_uuid": topology.model_uuid,
                "application": topology.application,
                "unit": topology.unit,
            },
            "inject_dropdowns": True,
        }
    return templates


def dashboards_data(topology: Topology, directory: Path = DASHBOARDS_DIR) -> str:
    """The application databag's `dashboards`; `uuid` changes only with the content."""
    templates = dashboard_templates(topology, directory)
    digest = hashlib.sha256(json.dumps(templates, sort_keys=True).encode()).hexdigest()
    return json.dumps({"templates": templates, "uuid": digest[:32]}, sort_keys=True)


def loki_endpoints(relations: list[ops.Relation]) -> dict[str, str]:
    """Push URL per Loki unit, from the `endpoint` of each unit databag (bad ones skipped)."""
    endpoints: dict[str, str] = {}
    for relation in relations:
        for unit in sorted(relation.units, key=lambda u: u.name):
            raw = relation.data[unit].get("endpoint")
            if not raw:
                continue
            try:
                url = json.loads(raw)["url"]
            except (json.JSONDecodeError, KeyError, TypeError):
                logger.warning("ignoring %s's malformed Loki endpoint %r", unit.name, raw)
                continue
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                endpoints[unit.name] = url
            else:
                logger.warning("ignoring %s's Loki endpoint without an http(s) URL", unit.name)
    return endpoints


def log_targets(
    endpoints: dict[str, str],
    topology: Topology,
    service: str,
    existing: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Pebble log targets: forward `service` to each endpoint; stop the ones gone.

    `existing` maps the loki targets already in the plan to their location; those no
    longer related are switched off (services `-all`), since a layer cannot delete them.
    """
    labels = {"product": "Juju", "charm": topology.charm_name, **topology.labels()}
    del labels["juju_charm"]
    targets: dict[str, dict[str, Any]] = {}
    for name, url in endpoints.items():
        targets[name] = {
            "override": "replace",
            "type": "loki",
            "location": url,
            "services": [service],
            "labels": labels,
        }
    for name, location in (existing or {}).items():
        if name not in targets:
            targets[name] = {
                "override": "replace",
                "type": "loki",
                "location": location,
                "services": ["-all"],
            }
    return targets


class CosRelations(ops.Object):
    """Keeps the three COS relations' data and the log forwarding up to date."""

    def __init__(
        self,
        charm: ops.CharmBase,
        container: ops.Container,
        service: str,
        metrics_port: int,
        address: Callable[[], str],
    ) -> None:
        super().__init__(charm, "cos")
        self.charm = charm
        self.container = container
        self.service = service
        self.metrics_port = metrics_port
        self.address = address
        on = charm.on
        for event in (on.leader_elected, on.upgrade_charm, on.config_changed):
            self.framework.observe(event, self._publish)
        for event in (
            on[METRICS_RELATION].relation_joined,
            on[METRICS_RELATION].relation_changed,
            on[DASHBOARD_RELATION].relation_joined,
        ):
            self.framework.observe(event, self._publish)
        for event in (
            on[LOGGING_RELATION].relation_joined,
            on[LOGGING_RELATION].relation_changed,
            on[LOGGING_RELATION].relation_departed,
            on[LOGGING_RELATION].relation_broken,
            on[container.name].pebble_ready,
        ):
            self.framework.observe(event, self._forward_logs)

    @property
    def topology(self) -> Topology:  # noqa: D102
        return Topology.of(self.charm)

    def _publish(self, _: ops.EventBase) -> None:
        topology = self.topology
        for relation in self.model.relations[METRICS_RELATION]:
            relation.data[self.charm.unit].update(
                {
                    "prometheus_scrape_unit_address": self.address(),
                    "prometheus_scrape_unit_name": topology.unit,
                }
            )
            if self.charm.unit.is_leader():
                relation.data[self.charm.app].update(
                    {
                        "scrape_jobs": json.dumps(scrape_jobs(self.metrics_port)),
                        "scrape_metadata": json.dumps(scrape_metadata(topology)),
                        "alert_rules": json.dumps(alert_rules(topology)),
                    }
                )
        if self.charm.unit.is_leader():
            for relation in self.model.relations[DASHBOARD_RELATION]:
                relation.data[self.charm.app]["dashboards"] = dashboards_data(topology)

    def _forward_logs(self, event: ops.EventBase) -> None:
        if not self.container.can_connect():
            return  # pebble-ready comes later and does it
        relations = list(self.model.relations[LOGGING_RELATION])
        if isinstance(event, ops.RelationBrokenEvent):
            relations = [r for r in relations if r.id != event.relation.id]
        endpoints = loki_endpoints(relations)
        try:
            plan = self.container.get_plan()
        except ops.pebble.ConnectionError:
            return
        existing = {
            name: target.location or ""
            for name, target in plan.log_targets.items()
            if target.type == "loki" and target.services != ["-all"]
        }
        targets = log_targets(endpoints, self.topology, self.service, existing)
        if not targets:
            return
        layer = ops.pebble.Layer({"log-targets": targets})  # type: ignore[typeddict-item]
        self.container.add_layer(LOG_LAYER, layer, combine=True)
        logger.info("Pebble log forwarding: %s", ", ".join(sorted(endpoints)) or "off")
