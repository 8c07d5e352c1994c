"""Command line: `sungrow-sim serve`, `sungrow-sim ctl`, `sungrow-sim models`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from sungrow_sim import __version__

SERVE_EPILOG = """\
examples:
  sungrow-sim serve                                 {model} on {bind}:{modbus_port} (Modbus)
  sungrow-sim serve --model SH10RT --serial SIMTEST0001 --modbus-port 15020
  sungrow-sim serve --bind 0.0.0.0 --protocols modbus,sungrow --time-scale 60
  sungrow-sim serve --config plant.yaml             several inverters, WiNet-S options

Modbus and encrypted "sungrow" Modbus share --modbus-port; the WiNet-S dongle protocol
("http") uses --ws-port and --http-port. Port 0 picks a free port; --ready-file then says
which. Control the running simulator with `sungrow-sim ctl` (see its --help).
"""

TOKEN_ENV = "SUNGROW_SIM_CONTROL_TOKEN"  # noqa: S105 (a variable name, not a secret)
# `serve` flags as data: (group, config key, argparse options, help). "{default}" in a
# help text is the config model's default for that key (config.InverterConfig for the
# inverter group, config.ServeConfig for the rest), so the help never repeats a number.
ServeFlag = tuple[str, str, dict[str, Any], str]
SERVE_FLAGS: tuple[ServeFlag, ...] = (
    ("inverter", "model", {}, "model name, e.g. SG10RT, SH10RT (default {default}; `sungrow-sim models` lists all)"),
    ("inverter", "serial", {}, "serial number, ASCII (default {default})"),
    ("inverter", "unit_id", {"type": int}, "Modbus unit id (default {default})"),
    ("inverter", "array_kwp", {"type": float}, "PV array size in kWp (default 1.2 x nominal power)"),
    ("inverter", "battery_kwh", {"type": float}, "battery capacity, hybrids only (default {default})"),
    ("inverter", "meter", {"action": argparse.BooleanOptionalAction}, "string models: a smart meter at the grid point (default {default})"),
    ("network", "bind", {}, "address for the protocol ports (default {default})"),
    ("network", "protocols", {}, "comma list of modbus,sungrow,http (default {default})"),
    ("network", "modbus_port", {"type": int}, "Modbus TCP port, plain and encrypted (default {default})"),
    ("network", "ws_port", {"type": int}, "WiNet-S WebSocket port (default {default})"),
    ("network", "http_port", {"type": int}, "WiNet-S HTTP port (default {default}; skipped with a warning if it needs privileges)"),
    ("network", "control_bind", {}, "address of the control API (default {default})"),
    ("network", "control_port", {"type": int}, "control API port (default {default})"),
    ("network", "control_token", {}, "require this bearer token on the control API (then non-loopback peers are allowed; default $" + TOKEN_ENV + ", which keeps it off the command line)"),
    ("plant and time", "seed", {"type": int}, "seed for clouds, load ripple and initial totals (default {default})"),
    ("plant and time", "time_scale", {"type": float}, "simulated seconds per real second (default {default})"),
    ("plant and time", "start_time", {}, "simulated start, ISO 8601 (default: now, or where saved state left off)"),
    ("plant and time", "commissioned", {}, "ISO 8601 date the plant went into service; a fresh start simulates its history from then (default: a year before the start)"),
    ("plant and time", "timezone", {}, "IANA time zone of the inverter clock (default {default})"),
    ("plant and time", "latitude", {"type": float}, "site latitude (default {default})"),
    ("plant and time", "longitude", {"type": float}, "site longitude (default {default})"),
    ("plant and time", "cloudiness", {"type": float}, "0 clear sky .. 1 heavy cloud (default {default})"),
    ("plant and time", "tick_s", {"type": float}, "real seconds between plant updates (default {default})"),
    ("operation", "state_dir", {"type": Path}, "save counters, settings, overrides and faults here and restore them at start"),
    ("operation", "flush_interval_s", {"type": float}, "seconds between state saves (default {default})"),
    ("operation", "ready_file", {"type": Path}, "write the bound ports as JSON here once every listener is up (Modbus answers before)"),
    ("operation", "log_level", {"choices": ["debug", "info", "warning", "error"]}, "default {default}"),
    ("operation", "log_format", {"choices": ["text", "json"]}, "text lines or one JSON object per line (default {default})"),
    ("operation", "metrics_port", {"type": int}, "also serve /metrics alone on this port (default: only on the control port)"),
    ("operation", "metrics_bind", {}, "address of the --metrics-port listener (default {default})"),
    ("limits (docs/robustness.md)", "max_connections", {"type": int}, "open connections per listener (default {default})"),
    ("limits (docs/robustness.md)", "max_connections_per_peer", {"type": int}, "open connections per listener from one peer address (default {default})"),
    ("limits (docs/robustness.md)", "idle_timeout_s", {"type": float}, "close a connection that sent nothing this long; 0 never (default {default})"),
    ("limits (docs/robustness.md)", "request_timeout_s", {"type": float}, "close a connection whose request head or frame takes longer (default {default})"),
    ("limits (docs/robustness.md)", "max_faults", {"type": int}, "active faults at most; 409 beyond (default {default})"),
)  # fmt: skip
# CLI flag -> config key, for the flags that set one inverter, and for the server.
INVERTER_FLAGS = tuple(key for group, key, _, _ in SERVE_FLAGS if group == "inverter")
SERVER_FLAGS = tuple(key for group, key, _, _ in SERVE_FLAGS if group != "inverter")


def flag_default(key: str, inverter: bool) -> str:
    """The config model's default for `key`, as the help shows it."""
    from sungrow_sim.config import InverterConfig, ServeConfig

    model = InverterConfig if inverter else ServeConfig
    value = model.model_fields[key].get_default(call_default_factory=True)
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _serve_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="run a simulated inverter",
        description="Run one or more simulated Sungrow inverters.",
        epilog=SERVE_EPILOG.format(
            model=flag_default("model", inverter=True),
            bind=flag_default("bind", inverter=False),
            modbus_port=flag_default("modbus_port", inverter=False),
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,
    )
    p.add_argument(
        "--config",
        type=Path,
        help="YAML file with any of the settings below, and more (inverters: [...], winet: {...})",
    )
    groups: dict[str, argparse._ArgumentGroup] = {}
    for group, key, options, help_text in SERVE_FLAGS:
        if group not in groups:
            groups[group] = p.add_argument_group(group)
        if "{default}" in help_text:
            help_text = help_text.format(default=flag_default(key, group == "inverter"))
        groups[group].add_argument("--" + key.replace("_", "-"), help=help_text, **options)


def run_serve(args: argparse.Namespace) -> int:
    """Validate the configuration and serve until interrupted."""
    from sungrow_sim import config as cfg
    from sungrow_sim.service import StartupError, serve

    given = vars(args)
    server = {k: given[k] for k in SERVER_FLAGS if k in given}
    inverter = {k: given[k] for k in INVERTER_FLAGS if k in given}
    if "control_token" not in server and os.environ.get(TOKEN_ENV):
        server["control_token"] = os.environ[TOKEN_ENV]
    try:
        config = cfg.load(given.get("config"), server, inverter)
    except cfg.ConfigError as err:
        print(f"sungrow-sim serve: invalid configuration\n{err}", file=sys.stderr)
        return 2
    from sungrow_sim.telemetry.logs import configure

    configure(config.log_level, config.log_format)
    try:
        asyncio.run(serve(config))
    except StartupError as err:
        print(f"sungrow-sim serve: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `sungrow-sim` command."""
    from sungrow_sim.control.ctl import add_ctl_parser

    parser = argparse.ArgumentParser(
        prog="sungrow-sim",
        description="A simulated Sungrow solar inverter for testing data loggers and charms.",
    )
    parser.add_argument("--version", action="version", version=f"sungrow-sim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _serve_parser(sub)
    add_ctl_parser(sub)
    models = sub.add_parser("models", help="list the models the simulator knows")
    models.add_argument("--family", choices=["string", "hybrid"], help="only this family")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return run_serve(args)
    if args.command == "models":
        return _list_models(args.family)
    return args.run(args)


def _list_models(family: str | None) -> int:
    from sungrow_sim.registers import catalogue

    for spec in catalogue().models.values():
        if family in (None, spec.family):
            print(
                f"{spec.name:<14} 0x{spec.device_code:04X} {spec.family:<6} "
                f"{spec.nominal_power_w / 1000:g} kW {spec.phases}-phase {spec.mppt_count} MPPT"
            )
    return 0
