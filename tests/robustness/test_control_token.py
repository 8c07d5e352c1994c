"""Token rules of the control API, with a real non-loopback peer.

The non-loopback peer is 10.99.0.1 inside a private network namespace (`unshare -rn`,
as root; nothing leaves it): see netns_probe.py. Where namespaces are not available
those tests fail, they are not skipped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from robustness.fieldkit import http
from support.simproc import launch, serve_command

PROBE = Path(__file__).with_name("netns_probe.py")


def netns_available() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rn", "ip", "addr", "add", "10.99.0.1/32", "dev", "lo"],
        capture_output=True,
        timeout=10,
    )
    return probe.returncode == 0


def in_namespace(tmp_path: Path, *token: str) -> dict:
    proc = subprocess.run(
        ["unshare", "-rn", sys.executable, str(PROBE), str(tmp_path), *token],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("bind", "token"), [("0.0.0.0", ""), ("10.1.2.3", "  ")])
def test_an_empty_token_on_a_public_bind_refuses_to_start(bind, token):
    proc = subprocess.run(
        serve_command("--control-bind", bind, "--control-token", token),
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "--control-token" in proc.stderr and "--control-bind" in proc.stderr


def test_an_empty_token_on_loopback_means_loopback_only(tmp_path):
    sim = launch(serve_command("--protocols", "modbus", "--control-token", ""), tmp_path)
    try:
        status, state = http(sim.control_url, "GET", "/v1/state")  # no Authorization
        assert status == 200 and state["inverters"]
        assert "no token, loopback peers only" in sim.log()
    finally:
        sim.stop()


def test_a_set_token_admits_a_public_peer_only_with_it_and_logs_failures_rate_limited(tmp_path):
    if not netns_available():
        pytest.fail(
            "network namespaces (unshare -rn) are not available: cannot test a public peer"
        )
    secret = "s3cret-value-never-logged"  # noqa: S105 - a test token
    got = in_namespace(tmp_path, secret)
    assert got["alive"]
    assert got["no_auth_public"] == 401 and got["no_auth_loopback"] == 401
    assert got["wrong_public"] == [401] * 20
    assert got["non_utf8_public"] == 401  # not 500
    assert got["good_public"] == 200 and got["good_power"] == 200
    log = got["log"]
    assert secret not in log
    assert "bearer token required (set, 25 characters)" in log
    failures = [line for line in log.splitlines() if "token from 10.99.0.1" in line]
    assert len(failures) == 1, failures  # 22 failures, one line a minute
    assert "more like it" not in failures[0]  # (the count comes with the next report)


def test_without_a_token_a_public_peer_is_refused_and_loopback_is_served(tmp_path):
    if not netns_available():
        pytest.fail(
            "network namespaces (unshare -rn) are not available: cannot test a public peer"
        )
    got = in_namespace(tmp_path)
    assert got["no_auth_public"] == 403 and got["no_auth_loopback"] == 200
    assert got["wrong_public"] == [403] * 20
    refused = [line for line in got["log"].splitlines() if "refused non-loopback peer" in line]
    assert len(refused) == 1, refused
