"""Run inside `unshare -rn`: a simulator with a public control bind, probed from 10.99.0.1.

The new network namespace has only its own loopback device; 10.99.0.1/32 is added to it,
so a connection from 10.99.0.1 is a non-loopback peer, and nothing leaves the namespace.
Prints one JSON object with what each probe got.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]  # support.simproc, tools (as pytest's pythonpath)
from support.simproc import launch, serve_command  # noqa: E402

PEER = "10.99.0.1"


def call(port: int, method: str, path: str, headers: dict, source: str, body: bytes | None = None):
    conn = http.client.HTTPConnection(
        PEER if source == PEER else "127.0.0.1", port, timeout=10, source_address=(source, 0)
    )
    try:
        conn.putrequest(method, path)
        for key, value in headers.items():
            conn.putheader(key, value)
        if body is not None:
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        reply = conn.getresponse()
        return reply.status
    finally:
        conn.close()


def main() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", f"{PEER}/32", "dev", "lo"], check=True)
    tmp = Path(sys.argv[1])
    token = sys.argv[2] if len(sys.argv) > 2 else None
    extra = ["--control-token", token] if token is not None else []
    argv = serve_command("--protocols", "modbus", "--control-bind", "0.0.0.0", *extra)
    sim = launch(argv, tmp)
    port = sim.ports["control_port"]
    out: dict = {}
    try:
        out["no_auth_public"] = call(port, "GET", "/v1/state", {}, PEER)
        out["no_auth_loopback"] = call(port, "GET", "/v1/state", {}, "127.0.0.1")
        out["wrong_public"] = [
            call(port, "GET", "/v1/state", {"Authorization": f"Bearer wrong{i}"}, PEER)
            for i in range(20)
        ]
        out["non_utf8_public"] = call(
            port,
            "GET",
            "/v1/state",
            {"Authorization": b"Bearer \xff\xfe\x80".decode("latin-1")},
            PEER,
        )
        if token:
            good = {"Authorization": f"Bearer {token}"}
            out["good_public"] = call(port, "GET", "/v1/state", good, PEER)
            out["good_power"] = call(port, "POST", "/v1/power", good, PEER, b'{"watts": 1234}')
        out["health"] = call(port, "GET", "/v1/health", {"Authorization": f"Bearer {token}"}, PEER)
        out["alive"] = sim.proc.poll() is None
    finally:
        sim.stop()
    out["log"] = sim.log()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
