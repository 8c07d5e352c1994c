#!/usr/bin/env python3
"""Check rock/rockcraft.yaml without rockcraft.

1. Validate it against rockcraft's JSON schema, ../shared/reference/rockcraft.schema.json
   (relative to the repository root). When that file is absent, say so and skip this step.
2. Check that rock/requirements.txt, which the rock installs, pins every dependency of
   rock/pyproject.toml at the same version, so the rock cannot drift from the package.
3. Check the Pebble wiring the charm and the docs rely on: a `sungrow-sim` service,
   every check named in `on-check-failure` defined under `checks`, and no check with a
   `level` (Juju points the kubelet's probes at Pebble's /v1/health?level=alive and
   level=ready, and the rock's checks fail while Juju holds the service).

Exit 0 when everything checked passes, 1 with one line per problem otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMA = ROOT.parent / "shared" / "reference" / "rockcraft.schema.json"
SERVICE = "sungrow-sim"
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def normalize(name: str) -> str:
    """Return the PEP 503 normalized form of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(lines: list[str]) -> dict[str, str]:
    """Map normalized name to version for every `name==version` line."""
    pins: dict[str, str] = {}
    for line in lines:
        match = _PIN.match(line)
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    return pins


def schema_errors(project: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Return one message per schema violation, with its location in the file."""
    validator = jsonschema.Draft202012Validator(schema)
    problems: list[str] = []
    for error in sorted(validator.iter_errors(project), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in error.path) or "(top level)"
        problems.append(f"schema: {where}: {error.message}")
    return problems


def pin_errors(pyproject: dict[str, Any], requirements: list[str]) -> list[str]:
    """Return a message for each package dependency the requirements file does not match."""
    pinned = read_pins(requirements)
    problems: list[str] = []
    for dependency in pyproject.get("project", {}).get("dependencies", []):
        wanted = read_pins([dependency])
        if not wanted:
            problems.append(f"pins: {dependency!r} in rock/pyproject.toml is not an exact pin")
            continue
        ((name, version),) = wanted.items()
        if pinned.get(name) != version:
            found = pinned.get(name, "missing")
            problems.append(
                f"pins: {name}=={version} wanted by rock/pyproject.toml, rock/requirements.txt "
                f"has {found}; regenerate it with the command at its top"
            )
    return problems


def pebble_errors(project: dict[str, Any]) -> list[str]:
    """Return a message for each broken reference between services and checks."""
    services = project.get("services") or {}
    checks = project.get("checks") or {}
    problems: list[str] = []
    if SERVICE not in services:
        problems.append(f"pebble: no service named {SERVICE!r}")
    for name, service in services.items():
        for check in service.get("on-check-failure") or {}:
            if check not in checks:
                problems.append(f"pebble: service {name!r} refers to undefined check {check!r}")
    for name, check in checks.items():
        if (check or {}).get("level"):
            problems.append(
                f"pebble: check {name!r} has level {check['level']!r}; the kubelet's probes "
                "would act on it while Juju holds the service (docs/rock.md)"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check rock/rockcraft.yaml without rockcraft.")
    parser.add_argument("--rock-dir", type=Path, default=ROOT / "rock")
    parser.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    args = parser.parse_args(argv)

    rockcraft_yaml = args.rock_dir / "rockcraft.yaml"
    project = yaml.safe_load(rockcraft_yaml.read_text())
    problems: list[str] = []
    if args.schema.is_file():
        problems += schema_errors(project, json.loads(args.schema.read_text()))
        print(f"{rockcraft_yaml}: validated against {args.schema}")
    else:
        print(f"NOTE: {args.schema} not found; skipping the rockcraft schema validation")
    pyproject = tomllib.loads((args.rock_dir / "pyproject.toml").read_text())
    requirements = (args.rock_dir / "requirements.txt").read_text().splitlines()
    problems += pin_errors(pyproject, requirements)
    problems += pebble_errors(project)

    for problem in problems:
        print(f"{rockcraft_yaml}: {problem}", file=sys.stderr)
    if not problems:
        print(f"{rockcraft_yaml}: OK")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
