"""A real Prometheus server (Debian's `prometheus` package) for the COS tests.

`scrape_config` turns what a charm publishes on prometheus_scrape (the `scrape_jobs` and
`scrape_metadata` of its application databag, and each unit's address) into a
prometheus.yml the way the interface's requirer does: `*` in a target becomes each unit's
address, and every unit's targets carry the Juju topology labels.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

START_TIMEOUT_S = 30.0
INSTALL_HINT = "install Debian's prometheus package (apt-get install -y prometheus; .ci/run does)"


def binary(name: str = "prometheus") -> str:
    """The path of `name` (prometheus, promtool), or fail saying how to get it."""
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} not found: {INSTALL_HINT}")
    return path


def scrape_config(
    app_data: dict[str, str],
    unit_addresses: dict[str, str],
    scrape_interval: str = "1s",
    rule_files: list[str] | None = None,
) -> dict[str, Any]:
    """prometheus.yml for the published jobs; unit_addresses maps unit name -> address."""
    jobs = json.loads(app_data["scrape_jobs"])
    meta = json.loads(app_data["scrape_metadata"])
    topology = {
        "juju_model": meta["model"],
        "juju_model_uuid": meta["model_uuid"],
        "juju_application": meta["application"],
        "juju_charm": meta.get("charm_name", ""),
    }
    prefix = f"juju_{meta['model']}_{meta['model_uuid'][:7]}_{meta['application']}"
    scrape_configs = []
    for index, job in enumerate(jobs):
        static_configs = []
        for static in job["static_configs"]:
            wildcard = [t for t in static["targets"] if t.startswith("*")]
            fixed = [t for t in static["targets"] if not t.startswith("*")]
            labels = {**static.get("labels", {}), **topology}
            if fixed:
                static_configs.append({"targets": fixed, "labels": labels})
            for unit, address in sorted(unit_addresses.items()):
                targets = [address + t.removeprefix("*") for t in wildcard]
                static_configs.append(
                    {"targets": targets, "labels": {**labels, "juju_unit": unit}}
                )
        rendered = {k: v for k, v in job.items() if k not in ("job_name", "static_configs")}
        rendered |= {
            "job_name": f"{prefix}_{job.get('job_name', index)}",
            "static_configs": static_configs,
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_interval,
        }
        scrape_configs.append(rendered)
    config: dict[str, Any] = {"global": {"scrape_interval": scrape_interval}}
    if rule_files:
        config["rule_files"] = rule_files
        config["global"]["evaluation_interval"] = scrape_interval
    return config | {"scrape_configs": scrape_configs}


def write_rules(app_data: dict[str, str], path: Path) -> Path:
    """The published `alert_rules` as a Prometheus rules file."""
    path.write_text(yaml.safe_dump(json.loads(app_data["alert_rules"]), sort_keys=False))
    return path


def free_port() -> int:
    """A port that was free a moment ago (Prometheus cannot report one it picked)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Prometheus:
    """A running Prometheus and its HTTP API."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector of a PromQL query (`data.result`)."""
        qs = urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{qs}", timeout=5) as response:
            answer = json.loads(response.read())
        assert answer["status"] == "success", answer
        return answer["data"]["result"]

    def value(self, expr: str) -> float | None:
        """The single value of a query, or None while it has no result."""
        result = self.query(expr)
        if not result:
            return None
        assert len(result) == 1, result
        return float(result[0]["value"][1])

    def wait_for(self, expr: str, predicate: Any, timeout: float = 20.0) -> float:
        """Poll until `predicate(value)` holds for the query's value; return the value."""
        deadline = time.monotonic() + timeout
        last: float | None = None
        while time.monotonic() < deadline:
            last = self.value(expr)
            if last is not None and predicate(last):
                return last
            time.sleep(0.2)
        raise AssertionError(f"{expr}: still {last} after {timeout}s\n{self.log()[-3000:]}")

    def api(self, path: str) -> Any:
        """The `data` of a GET on the HTTP API, e.g. `rules`."""
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}", timeout=5) as response:
            answer = json.loads(response.read())
        assert answer["status"] == "success", answer
        return answer["data"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(config: dict[str, Any], workdir: Path, attempts: int = 3) -> Prometheus:
    """Start Prometheus on loopback with `config`; wait until it is ready."""
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    for attempt in range(attempts):
        port = free_port()
        log_path = workdir / f"prometheus-{attempt}.log"
        argv = [
            binary(),
            f"--config.file={config_path}",
            f"--storage.tsdb.path={workdir / f'data-{attempt}'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        server = Prometheus(process, f"http://127.0.0.1:{port}", log_path)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"{server.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return server
            except OSError:
                pass
            time.sleep(0.2)
        server.stop()
        if "address already in use" not in server.log():
            raise AssertionError(f"prometheus did not start:\n{server.log()[-3000:]}")
    raise AssertionError(f"prometheus found no free port in {attempts} attempts")
