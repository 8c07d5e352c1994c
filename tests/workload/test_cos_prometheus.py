"""The charm's scrape job, rendered for a real Prometheus, scrapes a real simulator.

The simulator runs from the charm's own Pebble command (ports made OS-assigned, as in
test_charm_service.py); the charm runs in ops.testing and publishes its prometheus_scrape
databags; those become prometheus.yml as the interface's requirer builds it; Debian's
Prometheus scrapes every second. Its HTTP API must then see the request counters move by
exactly the reads a pymodbus client makes, carrying the Juju topology labels, and the
plant gauges follow a set-power made with the charm's own ctl command line.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from ops import testing
from prometheus_client.parser import text_string_to_metric_families
from pymodbus.client import ModbusTcpClient
from support import prometheus
from support.charm import container

import charm as charm_module
from actions import SetPowerParams
from charm import SungrowSimCharm
from config import Config
from layer import SERVICE_NAME, make_layer
from simulator_ctl import ctl_command

SUNGROW_SIM = Path(sys.executable).with_name("sungrow-sim")
PORT_FLAGS = ("--modbus-port", "--ws-port", "--http-port", "--control-port", "--metrics-port")
START_TIMEOUT_S = 30.0
ACTIVE_POWER_WIRE = 5030  # documented 5031: total active power (U32, W)


def charm_argv(tmp_path: Path, ready: Path) -> list[str]:
    """The charm's serve command with OS-assigned ports on loopback."""
    command = make_layer(Config(), "SIM0000000").services[SERVICE_NAME].command
    argv = shlex.split(command)
    argv[0] = str(SUNGROW_SIM)
    for flag in PORT_FLAGS:
        argv[argv.index(flag) + 1] = "0"
    for flag, value in (
        ("--bind", "127.0.0.1"),
        ("--metrics-bind", "127.0.0.1"),
        ("--state-dir", str(tmp_path / "state")),
    ):
        argv[argv.index(flag) + 1] = value
    return [*argv, "--ready-file", str(ready)]


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[dict[str, int]]:
    ready = tmp_path / "ready.json"
    (tmp_path / "state").mkdir()
    log = (tmp_path / "sim.log").open("wb")
    process = subprocess.Popen(
        charm_argv(tmp_path, ready), stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ)
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (ready.exists() and ready.read_text().strip()):
            assert process.poll() is None, (tmp_path / "sim.log").read_text()
            assert time.monotonic() < deadline, "the simulator did not become ready"
            time.sleep(0.05)
        yield json.loads(ready.read_text())
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def published_scrape(metrics_port: int) -> tuple[dict[str, str], dict[str, str]]:
    """The charm's prometheus_scrape app and unit databags (leader, one relation)."""
    relation = testing.Relation("metrics-endpoint", remote_app_name="prometheus")
    state = testing.State(leader=True, relations={relation}, containers={container()})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(charm_module, "METRICS_PORT", metrics_port)
        ctx = testing.Context(SungrowSimCharm)
        out = ctx.run(ctx.on.relation_joined(relation, remote_unit=0), state)
    data = out.get_relation(relation.id)
    return dict(data.local_app_data), dict(data.local_unit_data)


@pytest.fixture
def server(simulator: dict[str, int], tmp_path: Path) -> Iterator[prometheus.Prometheus]:
    app, unit = published_scrape(simulator["metrics_port"])
    name = unit["prometheus_scrape_unit_name"]
    assert unit["prometheus_scrape_unit_address"] == socket.getfqdn()  # the pod's FQDN
    rules = prometheus.write_rules(app, tmp_path / "rules.yml")
    # The unit's real address here is loopback, not its cluster DNS name.
    config = prometheus.scrape_config(app, {name: "127.0.0.1"}, rule_files=[str(rules)])
    running = prometheus.start(config, tmp_path)
    yield running
    running.stop()


def ctl(simulator: dict[str, int], args: list[str]) -> dict:
    """The charm's exact ctl command line, pointed at this simulator's control port."""
    argv = ctl_command(1, args)
    argv[0] = str(SUNGROW_SIM)
    url = argv.index("--url") + 1
    argv[url] = argv[url].replace(":8090", f":{simulator['control_port']}")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.timeout(120)
def test_prometheus_sees_the_reads_a_client_makes(simulator, server):
    selector = '{protocol="modbus",function="read",outcome="ok"}'
    series = f"sum(sungrow_sim_requests_total{selector}) or vector(0)"
    server.wait_for('up{juju_unit="sungrow-sim-k8s/0"}', lambda v: v == 1)
    before = server.wait_for(series, lambda v: v >= 0)
    reads = 7
    client = ModbusTcpClient("127.0.0.1", port=simulator["modbus_port"], timeout=5)
    assert client.connect()
    try:
        for _ in range(reads):
            assert not client.read_input_registers(5002, count=10, device_id=1).isError()
    finally:
        client.close()

    after = server.wait_for(series, lambda v: v >= before + reads)

    assert after == before + reads
    labels = server.query(f"sungrow_sim_requests_total{selector}")[0]["metric"]
    assert labels["juju_application"] == "sungrow-sim-k8s"
    assert labels["juju_unit"] == "sungrow-sim-k8s/0"
    assert labels["juju_charm"] == "sungrow-sim-k8s"
    assert labels["juju_model"] and labels["juju_model_uuid"]
    assert labels["job"].endswith("_sungrow-sim-k8s_sungrow-sim")
    assert labels["unit"] == "1" and labels["table"] == "input"


@pytest.mark.timeout(120)
def test_prometheus_sees_the_plant_follow_a_set_power(simulator, server):
    watts = 4321
    ctl(simulator, SetPowerParams(watts=watts).ctl_args())
    client = ModbusTcpClient("127.0.0.1", port=simulator["modbus_port"], timeout=5)
    assert client.connect()
    try:
        reply = client.read_input_registers(ACTIVE_POWER_WIRE, count=2, device_id=1)
    finally:
        client.close()
    assert not reply.isError(), reply
    served = reply.registers[1] << 16 | reply.registers[0]  # Sungrow U32: low word first
    assert served == watts

    seen = server.wait_for(
        'sungrow_sim_ac_power_watts{juju_unit="sungrow-sim-k8s/0",unit="1"}', lambda v: v == watts
    )

    assert seen == served
    ctl(simulator, SetPowerParams(auto=True).ctl_args())


@pytest.mark.timeout(120)
def test_prometheus_loads_the_published_alert_rules_and_evaluates_them(simulator, server):
    server.wait_for('up{juju_unit="sungrow-sim-k8s/0"}', lambda v: v == 1)
    deadline = time.monotonic() + 20
    while True:
        groups = server.api("rules")["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        if rules and all(r.get("lastEvaluation", "0001").startswith("20") for r in rules):
            break
        assert time.monotonic() < deadline, rules
        time.sleep(0.2)

    assert {rule["name"] for rule in rules} == {
        "SungrowSimUnavailable",
        "SungrowSimInverterFault",
        "SungrowSimMostRequestsFail",
    }
    assert all(rule["health"] == "ok" for rule in rules), rules
    assert all(rule["state"] == "inactive" for rule in rules)  # a healthy simulator


def test_promtool_accepts_the_rendered_scrape_config_and_rules(tmp_path: Path):
    app, unit = published_scrape(8091)
    rules = prometheus.write_rules(app, tmp_path / "rules.yml")
    config = prometheus.scrape_config(
        app, {unit["prometheus_scrape_unit_name"]: "10.1.2.3"}, rule_files=[str(rules)]
    )
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))

    for check in (["check", "config", str(path)], ["check", "rules", str(rules)]):
        done = subprocess.run(
            [prometheus.binary("promtool"), *check],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    targets = config["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == ["10.1.2.3:8091"]


# -- the Grafana dashboard ----------------------------------------------------------

DASHBOARD = Path(__file__).parents[2] / "src" / "grafana_dashboards" / "sungrow-sim.json"
TOPOLOGY = ("juju_model", "juju_model_uuid", "juju_application", "juju_unit")
METRIC = re.compile(r"\bsungrow_sim_[a-z0-9_]+")
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "1h"}


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, expr) of every query of every panel."""
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def exported_names(metrics_port: int) -> set[str]:
    """Every sample name the simulator's /metrics can carry, from a live scrape."""
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(family.name + s for s in suffixes.get(family.type, ()))
        names.update(sample.name for sample in family.samples)
    return names


def test_every_dashboard_query_names_metrics_the_simulator_exports(simulator):
    exported = exported_names(simulator["metrics_port"])
    queries = dashboard_queries()
    assert len(queries) >= 15

    for title, expr in queries:
        named = set(METRIC.findall(expr))
        assert named, f"{title}: {expr} names no sungrow_sim metric"
        assert named <= exported, f"{title}: {sorted(named - exported)} are not exported"


def test_the_dashboard_is_templated_on_the_juju_topology():
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}

    assert variables["prometheusds"]["type"] == "datasource"
    for name in TOPOLOGY:
        assert variables[name]["type"] == "query"
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${prometheusds}", panel["title"]
        for target in panel["targets"]:
            for name in TOPOLOGY:
                assert f'{name}=~"${name}"' in target["expr"], (panel["title"], name)


@pytest.mark.timeout(120)
def test_every_dashboard_query_runs_on_prometheus(simulator, server):
    server.wait_for("count(sungrow_sim_inverter_info)", lambda v: v == 1)

    answered = 0
    for title, expr in dashboard_queries():
        query = re.sub(r'=~"\$[a-z_]+"', '=~".*"', expr)
        for variable, value in GRAFANA_VARIABLES.items():
            query = query.replace(variable, value)
        result = server.query(query)  # fails on a PromQL error
        answered += bool(result)
        assert "$" not in query, title

    assert answered >= 10  # the plant and connection panels have data at once
