"""The Pebble layer that runs the simulator: a pure function of the config."""

from __future__ import annotations

import shlex

import ops

from config import CONTROL_PORT, METRICS_PORT, Config

SERVICE_NAME = "sungrow-sim"
STATE_DIR = "/var/lib/sungrow-sim"
CONTROL_URL = f"http://127.0.0.1:{CONTROL_PORT}"


def serve_command(config: Config, serial: str) -> str:
    """The `sungrow-sim serve` command line, every setting an explicit flag."""
    args = [
        "sungrow-sim",
        "serve",
        *("--model", config.model),
        *("--serial", serial),
        *("--unit-id", str(config.unit_id)),
        *("--bind", "0.0.0.0"),  # noqa: S104 (the pod's protocols serve the cluster)
        *("--protocols", ",".join(config.protocols)),
        *("--modbus-port", str(config.modbus_port)),
        *("--ws-port", str(config.ws_port)),
        *("--http-port", str(config.http_port)),
        *("--control-bind", "127.0.0.1"),
        *("--control-port", str(CONTROL_PORT)),
        *("--state-dir", STATE_DIR),
        *("--seed", str(config.seed)),
        *("--time-scale", str(config.time_scale)),
        *("--latitude", str(config.latitude)),
        *("--longitude", str(config.longitude)),
        *("--timezone", config.timezone),
        *("--battery-kwh", str(config.battery_kwh)),
        *("--log-level", config.log_level),
        *("--metrics-bind", "0.0.0.0"),  # noqa: S104 (Prometheus scrapes the pod)
        *("--metrics-port", str(METRICS_PORT)),
    ]
    if config.array_kwp > 0:
        args += ["--array-kwp", str(config.array_kwp)]
    return shlex.join(args)


READY_CHECK = "ready"


def make_layer(config: Config, serial: str) -> ops.pebble.Layer:
    """Return the layer: the service and one HTTP readiness check on its control API.

    There is deliberately no `level: alive` check: Juju points the kubelet's liveness
    probe at Pebble's `/v1/health?level=alive`, so an alive check that fails while the
    service is stopped (invalid config) or starting would get the container killed in a
    loop. The `ready` check restarts the service through `on-check-failure` (it catches a
    frozen process, which a TCP check does not) and, at level `ready`, only takes the
    pod out of Service endpoints while it fails. See docs/rock.md, "Health and probes".
    """
    layer: ops.pebble.LayerDict = {
        "summary": "sungrow-sim simulated inverter",
        "description": "Pebble layer written by the sungrow-sim-k8s charm",
        "services": {
            SERVICE_NAME: {
                "override": "replace",
                "summary": "simulated Sungrow inverter",
                "command": serve_command(config, serial),
                "startup": "enabled",
                "environment": {"PYTHONUNBUFFERED": "1"},
                "on-check-failure": {READY_CHECK: "restart"},
            },
        },
        "checks": {
            READY_CHECK: {
                "override": "replace",
                "level": "ready",
                "period": "10s",
                "timeout": "3s",
                "threshold": 3,
                "http": {"url": f"{CONTROL_URL}/v1/health"},
            },
        },
    }
    return ops.pebble.Layer(layer)
