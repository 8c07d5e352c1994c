"""A full disk: the flusher retries with backoff, reports it, and saves again once space returns.

The state directory is a 256 KiB tmpfs in a private mount namespace (`unshare -rm`,
nothing is mounted outside it); the test fills it through /proc/<pid>/root, so saves
fail with a real ENOSPC. While it is full, POST /v1/faults answers 503 and the fault
is not applied; /v1/health is degraded; the plant keeps ticking. Once the filler is
deleted the next save works, health is ok again, and a new fault is saved.
"""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from robustness.fieldkit import http, wait_until
from support.simproc import launch, serve_command


def mount_namespaces() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
        timeout=10,
    )
    return probe.returncode == 0


def fill(path: Path) -> None:
    with open(path, "wb", buffering=0) as handle:
        block = b"\0" * 4096
        try:
            while True:
                handle.write(block)
        except OSError as err:
            assert err.errno == errno.ENOSPC, err


def test_the_flusher_survives_enospc_and_control_changes_are_not_applied_unsaved(tmp_path):
    if not mount_namespaces():
        pytest.fail("mount namespaces (unshare -rm) are not available here")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    argv = serve_command(
        "--protocols", "modbus", "--state-dir", str(mnt / "state"), "--flush-interval-s", "0.3",
        "--time-scale", "60", "--start-time", "2026-06-21T12:00:00",
    )  # fmt: skip
    script = 'mount -t tmpfs -o size=256k tmpfs "$0" && exec "$@"'
    sim = launch(["unshare", "-rm", "sh", "-c", script, str(mnt), *argv], tmp_path)
    view = Path(f"/proc/{sim.proc.pid}/root") / mnt.relative_to("/")
    state_file = view / "state" / "state.json"
    try:
        wait_until(state_file.exists, 10, "the first save")
        fill(view / "filler")
        status, body = http(
            sim.control_url, "POST", "/v1/faults", {"kind": "no-reply", "scope": "http"}
        )
        assert status == 503 and "ENOSPC" in body["error"], (status, body)
        assert http(sim.control_url, "GET", "/v1/faults") == (200, {"faults": []})
        health = wait_until(
            lambda: (h := http(sim.control_url, "GET", "/v1/health")[1])["status"] == "degraded" and h,
            10, "health to degrade",
        )  # fmt: skip
        assert [p["component"] for p in health["problems"]] == ["state"]
        assert "ENOSPC" in health["problems"][0]["message"]
        clock = http(sim.control_url, "GET", "/v1/state")[1]["inverters"][0]["clock"]
        wait_until(
            lambda: http(sim.control_url, "GET", "/v1/state")[1]["inverters"][0]["clock"] != clock,
            10, "the plant to keep ticking",
        )  # fmt: skip
        (view / "filler").unlink()
        wait_until(
            lambda: http(sim.control_url, "GET", "/v1/health") == (200, {"status": "ok"}),
            30, "health to recover after space returns",
        )  # fmt: skip
        status, fault = http(
            sim.control_url, "POST", "/v1/faults", {"kind": "no-reply", "scope": "http"}
        )
        assert status == 201, fault
        saved = json.loads(state_file.read_text())
        assert [f["id"] for f in saved["faults"]] == [fault["id"]]
        log = sim.log()
        assert sum("cannot save state" in line for line in log.splitlines()) == 1, log[-2000:]
        assert "state saved again" in log and "Traceback" not in log
    finally:
        sim.stop()
    assert sim.proc.returncode == 0
