"""`sungrow-sim ctl`: drive a running simulator over its control API (stdlib HTTP only)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sungrow_sim.faults import DESCRIPTIONS, FaultSpec
from sungrow_sim.protocols.transport import SLOW_REPLY_DEFAULT_S

DEFAULT_URL = "http://127.0.0.1:8090"
DEFAULT_TIMEOUT_S = 10.0
CTL_EPILOG = """\
examples:
  sungrow-sim ctl state
  sungrow-sim ctl set-power 3000          AC output 3000 W until `set-power auto`
  sungrow-sim ctl set-state standby
  sungrow-sim ctl inject-fault inverter-fault --code 38 --duration 60
  sungrow-sim ctl inject-fault no-reply --scope modbus --start 13000 --count 125
  sungrow-sim ctl clear-faults
  sungrow-sim ctl settings                every device setting (holding register)
  sungrow-sim ctl setting ems_mode forced set one by its documented name
  sungrow-sim ctl setting charge_discharge_power 3000

Output is JSON on stdout. Errors: one line on stderr, exit status 1 (2 for usage errors).
"""


class CtlError(RuntimeError):
    """A failed control call (message is shown to the user)."""


def _number_or_auto(text: str) -> float | None:
    if text == "auto":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected watts or 'auto', got {text!r}") from None


def add_ctl_parser(sub: argparse._SubParsersAction) -> None:
    """Register `ctl` and its commands."""
    ctl = sub.add_parser(
        "ctl",
        help="control a running simulator",
        description="Control a running simulator over its control API.",
        epilog=CTL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _connection_options(ctl)
    cmds = ctl.add_subparsers(dest="ctl_command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str, **kwargs: Any) -> argparse.ArgumentParser:
        parser = cmds.add_parser(name, help=help_text, description=help_text, **kwargs)
        parser.set_defaults(run=run_ctl)
        return parser

    _override_commands(command)
    _fault_commands(command)


def _connection_options(ctl: argparse.ArgumentParser) -> None:
    where = ctl.add_mutually_exclusive_group()
    where.add_argument(
        "--url",
        default=os.environ.get("SUNGROW_SIM_URL", DEFAULT_URL),
        help=f"control API (default $SUNGROW_SIM_URL or {DEFAULT_URL})",
    )
    where.add_argument(
        "--control-port",
        type=int,
        metavar="PORT",
        help="control API on 127.0.0.1:PORT, the twin of `serve --control-port`",
    )
    ctl.add_argument(
        "--token",
        default=os.environ.get("SUNGROW_SIM_TOKEN"),
        help="bearer token (default $SUNGROW_SIM_TOKEN)",
    )
    ctl.add_argument("--unit-id", type=int, help="which inverter (default: the first)")
    ctl.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds to wait for the API (default {DEFAULT_TIMEOUT_S:g})",
    )


Command = Callable[..., argparse.ArgumentParser]


def _override_commands(command: Command) -> None:
    """State, and the commands that override what the plant model would do."""
    command("state", "print model, serial, clock, readings, overrides and faults")
    p = command("set-power", "override AC output power")
    p.add_argument("watts", type=_number_or_auto, help="watts, or 'auto' for the plant model")
    p = command("set-state", "force run, stop or standby")
    p.add_argument("state", choices=["run", "stop", "standby"])
    p = command("set-battery", "hybrids: set state of charge and/or battery power")
    p.add_argument("--soc", type=float, help="state of charge, percent")
    p.add_argument(
        "--power",
        type=_number_or_auto,
        default=argparse.SUPPRESS,
        help="watts (> 0 charging, < 0 discharging) or 'auto'",
    )
    p = command("set-load", "override house load")
    p.add_argument("watts", type=_number_or_auto, help="watts, or 'auto' for the house profile")
    p = command("set-clock", "set the inverter clock")
    p.add_argument("time", help="ISO 8601 time (local to the inverter) or 'now'")


def _fault_option_defaults() -> dict[str, str]:
    fields = FaultSpec.model_fields
    return {
        "scope": str(fields["scope"].default),
        "probability": f"{fields['probability'].default:g}",
        "delay": f"{SLOW_REPLY_DEFAULT_S:g}",
    }


def _fault_commands(command: Command) -> None:
    kinds = "\n".join(f"  {kind:<20} {text}" for kind, text in DESCRIPTIONS.items())
    p = command(
        "inject-fault",
        "inject a fault",
        epilog=f"fault kinds:\n{kinds}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "kind", choices=list(DESCRIPTIONS), metavar="KIND", help="one of the kinds below"
    )
    default = _fault_option_defaults()
    p.add_argument(
        "--duration", type=float, help="seconds until it clears by itself (default: until cleared)"
    )
    p.add_argument(
        "--scope",
        choices=["modbus", "sungrow", "http", "all"],
        help=f"protocol it affects (default {default['scope']})",
    )
    p.add_argument(
        "--probability",
        type=float,
        help=f"chance per request, 0..1 (default {default['probability']})",
    )
    p.add_argument("--code", type=int, help="inverter fault code, or Modbus exception code")
    p.add_argument("--start", type=int, help="first documented register address it affects")
    p.add_argument("--count", type=int, help="number of registers from --start (default 1)")
    p.add_argument(
        "--delay", type=float, help=f"slow-reply: seconds of delay (default {default['delay']})"
    )
    p.add_argument("--max-sessions", type=int, help="session-limit: sessions allowed (default 1)")
    command("settings", "list the device settings (holding registers) and their values")
    p = command("setting", "show one device setting, or set it")
    p.add_argument("name", help="documented-style name, e.g. ems_mode (see `ctl settings`)")
    p.add_argument("value", nargs="?", help="a number, or a choice name like forced")
    command("faults", "list active faults")
    p = command("clear-faults", "clear all faults, or those of one kind")
    p.add_argument("kind", nargs="?", choices=list(DESCRIPTIONS), metavar="KIND")


def _battery_body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {"soc_pct": args.soc}
    if hasattr(args, "power"):
        body.update(power_w=args.power, auto=args.power is None)
    return body


def _clock_body(args: argparse.Namespace) -> dict[str, Any]:
    return {"time": datetime.now().isoformat() if args.time == "now" else args.time}


def _fault_body(args: argparse.Namespace) -> dict[str, Any]:
    renamed = {"duration": "duration_s", "delay": "delay_s"}
    body: dict[str, Any] = {"kind": args.kind}
    for opt in (
        "duration",
        "scope",
        "probability",
        "code",
        "start",
        "count",
        "delay",
        "max_sessions",
    ):
        if (value := getattr(args, opt)) is not None:
            body[renamed.get(opt, opt)] = value
    if args.unit_id is not None:
        body["unit_id"] = args.unit_id
    return body


def _setting_value(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _setting_body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {"name": args.name, "value": _setting_value(args.value)}
    if args.unit_id is not None:
        body["unit_id"] = args.unit_id
    return body


# command -> (method, path, body builder or None, whether ?unit_id= applies)
ROUTES: dict[str, tuple[str, str, Callable[[argparse.Namespace], Any] | None, bool]] = {
    "state": ("GET", "/v1/state", None, True),
    "set-power": ("POST", "/v1/power", lambda a: {"watts": a.watts}, True),
    "set-state": ("POST", "/v1/state", lambda a: {"state": a.state}, True),
    "set-load": ("POST", "/v1/load", lambda a: {"watts": a.watts}, True),
    "set-battery": ("POST", "/v1/battery", _battery_body, True),
    "set-clock": ("POST", "/v1/clock", _clock_body, True),
    "inject-fault": ("POST", "/v1/faults", _fault_body, False),
    "settings": ("GET", "/v1/settings", None, True),
    "setting": ("POST", "/v1/settings", _setting_body, False),
    "faults": ("GET", "/v1/faults", None, False),
    "clear-faults": ("DELETE", "/v1/faults", None, False),
}


def request(args: argparse.Namespace) -> tuple[str, str, dict[str, Any] | None, dict[str, str]]:
    """(method, path, body, query) for a parsed ctl command."""
    method, path, build_body, per_unit = ROUTES[args.ctl_command]
    if args.ctl_command == "setting" and args.value is None:
        method, path, build_body, per_unit = ROUTES["settings"]  # show one: read them all
    query: dict[str, str] = {}
    if per_unit and args.unit_id is not None:
        query["unit_id"] = str(args.unit_id)
    if args.ctl_command == "clear-faults" and args.kind:
        query["kind"] = args.kind
    return method, path, build_body(args) if build_body else None, query


def call(
    url: str,
    token: str | None,
    method: str,
    path: str,
    body: Any,
    query: dict[str, str],
    timeout: float,
) -> Any:
    """One HTTP call; returns parsed JSON or raises CtlError with the server's message."""
    # Here, not at the top: `serve` builds its parser from this module and never calls it.
    import urllib.error
    import urllib.parse
    import urllib.request

    full = url.rstrip("/") + path + ("?" + urllib.parse.urlencode(query) if query else "")
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(full, data=data, method=method, headers=headers)  # noqa: S310 - user-given URL
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        try:
            message = json.loads(err.read()).get("error", err.reason)
        except (json.JSONDecodeError, AttributeError):
            message = err.reason
        raise CtlError(f"{err.code}: {message}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise CtlError(
            f"cannot reach the simulator at {url}: {reason} (is `sungrow-sim serve` running? --url?)"
        ) from None


def run_ctl(args: argparse.Namespace) -> int:
    """Run a ctl command and print its JSON."""
    method, path, body, query = request(args)
    url = f"http://127.0.0.1:{args.control_port}" if args.control_port else args.url
    try:
        result = call(url, args.token, method, path, body, query, args.timeout)
    except CtlError as err:
        print(f"sungrow-sim ctl: {err}", file=sys.stderr)
        return 1
    if args.ctl_command == "setting" and args.value is None:
        found = [s for s in result.get("settings", []) if s.get("name") == args.name]
        if not found:
            names = ", ".join(s.get("name", "?") for s in result.get("settings", []))
            print(f"sungrow-sim ctl: {args.name}: no such setting (have {names})", file=sys.stderr)
            return 1
        result = {"setting": found[0]}
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0
