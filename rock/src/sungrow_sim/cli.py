"""Command line: `sungrow-sim serve`, `sungrow-sim ctl`, `sungrow-sim models`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from sungrow_sim import __version__

SERVE_EPILOG = """\
examples:
  sungrow-sim serve                                 SG10RT on 127.0.0.1:5020 (Modbus)
  sungrow-sim serve --model SH10RT --serial SIMTEST0001 --modbus-port 15020
  sungrow-sim serve --bind 0.0.0.0 --protocols modbus,sungrow --time-scale 60
  sungrow-sim serve --config plant.yaml             several inverters, WiNet-S options

Modbus and encrypted "sungrow" Modbus share --modbus-port; the WiNet-S dongle protocol
("http") uses --ws-port and --http-port. Port 0 picks a free port; --ready-file then says
which. Control the running simulator with `sungrow-sim ctl` (see its --help).
"""

TOKEN_ENV = "SUNGROW_SIM_CONTROL_TOKEN"  # noqa: S105 (a variable name, not a secret)
# CLI flag -> config key, for the flags that set one inverter.
INVERTER_FLAGS = ("model", "serial", "unit_id", "array_kwp", "battery_kwh")
SERVER_FLAGS = (
    "bind",
    "protocols",
    "modbus_port",
    "ws_port",
    "http_port",
    "control_bind",
    "control_port",
    "control_token",
    "state_dir",
    "flush_interval_s",
    "seed",
    "time_scale",
    "start_time",
    "timezone",
    "latitude",
    "longitude",
    "cloudiness",
    "tick_s",
    "log_level",
    "ready_file",
)


def _serve_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="run a simulated inverter",
        description="Run one or more simulated Sungrow inverters.",
        epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,
    )
    p.add_argument(
        "--config",
        type=Path,
        help="YAML file with any of the settings below, and more (inverters: [...], winet: {...})",
    )
    g = p.add_argument_group("inverter")
    g.add_argument(
        "--model",
        help="model name, e.g. SG10RT, SH10RT (default SG10RT; `sungrow-sim models` lists all)",
    )
    g.add_argument("--serial", help="serial number, ASCII (default SIM0000001)")
    g.add_argument("--unit-id", type=int, help="Modbus unit id (default 1)")
    g.add_argument(
        "--array-kwp", type=float, help="PV array size in kWp (default 1.2 x nominal power)"
    )
    g.add_argument("--battery-kwh", type=float, help="battery capacity, hybrids only (default 10)")
    g = p.add_argument_group("network")
    g.add_argument("--bind", help="address for the protocol ports (default 127.0.0.1)")
    g.add_argument("--protocols", help="comma list of modbus,sungrow,http (default: all three)")
    g.add_argument(
        "--modbus-port", type=int, help="Modbus TCP port, plain and encrypted (default 5020)"
    )
    g.add_argument("--ws-port", type=int, help="WiNet-S WebSocket port (default 8082)")
    g.add_argument(
        "--http-port",
        type=int,
        help="WiNet-S HTTP port (default 80; skipped with a warning if it needs privileges)",
    )
    g.add_argument("--control-bind", help="address of the control API (default 127.0.0.1)")
    g.add_argument("--control-port", type=int, help="control API port (default 8090)")
    g.add_argument(
        "--control-token",
        help="require this bearer token on the control API (then non-loopback peers are "
        f"allowed; default ${TOKEN_ENV}, which keeps it off the command line)",
    )
    g = p.add_argument_group("plant and time")
    g.add_argument(
        "--seed", type=int, help="seed for clouds, load ripple and initial totals (default 0)"
    )
    g.add_argument(
        "--time-scale", type=float, help="simulated seconds per real second (default 1)"
    )
    g.add_argument(
        "--start-time",
        help="simulated start, ISO 8601 (default: now, or where saved state left off)",
    )
    g.add_argument("--timezone", help="IANA time zone of the inverter clock (default UTC)")
    g.add_argument("--latitude", type=float, help="site latitude (default 48.14)")
    g.add_argument("--longitude", type=float, help="site longitude (default 11.58)")
    g.add_argument("--cloudiness", type=float, help="0 clear sky .. 1 heavy cloud (default 0.2)")
    g.add_argument("--tick-s", type=float, help="real seconds between plant updates (default 1)")
    g = p.add_argument_group("operation")
    g.add_argument(
        "--state-dir",
        type=Path,
        help="save counters, overrides and faults here and restore them at start",
    )
    g.add_argument(
        "--flush-interval-s", type=float, help="seconds between state saves (default 5)"
    )
    g.add_argument(
        "--ready-file", type=Path, help="write the bound ports as JSON here once listening"
    )
    g.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], help="default info"
    )


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
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
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
