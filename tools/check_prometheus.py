#!/usr/bin/env python3
"""Check what the charm sends Prometheus with Prometheus's own promtool.

Renders the charm's published scrape job (src/cos.py) as a prometheus.yml the way the
prometheus_scrape requirer does (tests/support/prometheus.py), writes its alert rules as
a rules file, and runs `promtool check config` and `promtool check rules` on them. Fails
when promtool is missing (Debian's prometheus package; .ci/run installs it).

Exit 0 when both checks pass, 1 otherwise.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from support.prometheus import scrape_config, write_rules  # noqa: E402

import cos  # noqa: E402
from config import METRICS_PORT  # noqa: E402

EXAMPLE = cos.Topology(
    model="cos-check",
    model_uuid="00000000-0000-4000-8000-000000000000",
    application="sungrow-sim-k8s",
    unit="sungrow-sim-k8s/0",
    charm_name="sungrow-sim-k8s",
)


def main() -> int:
    promtool = shutil.which("promtool")
    if promtool is None:
        print("promtool not found: apt-get install -y prometheus (.ci/run does)")
        return 1
    app = {
        "scrape_jobs": json.dumps(cos.scrape_jobs(METRICS_PORT)),
        "scrape_metadata": json.dumps(cos.scrape_metadata(EXAMPLE)),
        "alert_rules": json.dumps(cos.alert_rules(EXAMPLE)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        rules = write_rules(app, Path(tmp) / "rules.yml")
        config = scrape_config(app, {EXAMPLE.unit: "10.1.2.3"}, "30s", [str(rules)])
        config_path = Path(tmp) / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        failed = 0
        for check in (["check", "config", str(config_path)], ["check", "rules", str(rules)]):
            done = subprocess.run([promtool, *check], capture_output=True, text=True, check=False)
            print(f"promtool {check[0]} {check[1]}: {'ok' if done.returncode == 0 else 'FAILED'}")
            if done.returncode != 0:
                print(done.stdout + done.stderr)
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
