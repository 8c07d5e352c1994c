"""Argument checks of sungrow_sim_k8s_testing, and its agreement with the charm's files."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import yaml
from sungrow_sim_k8s_testing import (
    CHARM_NAME,
    FAULT_KINDS,
    FAULT_SCOPES,
    IMAGE_RESOURCE,
    InverterState,
    RequestRecord,
    Simulator,
    bundle_path,
    deploy_args,
    fault_params,
    power_params,
)
from sungrow_sim_k8s_testing.params import clear_params, unit_name

ROOT = Path(__file__).resolve().parents[2]


def charmcraft() -> dict[str, object]:
    return yaml.safe_load((ROOT / "charmcraft.yaml").read_text())


def test_local_charm_path_must_exist(tmp_path: Path):
    with pytest.raises(ValueError, match="does not exist"):
        deploy_args(tmp_path / "missing.charm", image="img")


def test_local_charm_takes_no_channel(tmp_path: Path):
    charm = tmp_path / "sim.charm"
    charm.write_bytes(b"PK")

    with pytest.raises(ValueError, match="Charmhub charms only"):
        deploy_args(charm, image="img", channel="latest/edge")


def test_local_charm_given_as_string_becomes_a_path_with_the_image_resource(tmp_path: Path):
    charm = tmp_path / "sim.charm"
    charm.write_bytes(b"PK")

    args = deploy_args(str(charm), image="localhost:32000/sungrow-sim:0.1.0")

    assert args.charm == charm
    assert args.resources == {IMAGE_RESOURCE: "localhost:32000/sungrow-sim:0.1.0"}


@pytest.mark.parametrize("key", ["modbus_port", "Model", ""])
def test_config_keys_must_be_kebab_case(key: str):
    with pytest.raises(ValueError, match="kebab-case"):
        deploy_args(config={key: 1})


def test_config_values_must_be_scalars():
    with pytest.raises(ValueError, match="not a string or number"):
        deploy_args(config={"protocols": ["modbus"]})  # pyright: ignore[reportArgumentType]


def test_at_least_one_unit():
    with pytest.raises(ValueError, match="at least 1"):
        deploy_args(num_units=0)


def test_charmhub_deploy_needs_no_image():
    args = deploy_args(channel="latest/edge", config={"modbus-port": 5020})

    assert (args.charm, args.app, args.resources) == (CHARM_NAME, CHARM_NAME, None)
    assert args.config == {"modbus-port": 5020}


@pytest.mark.parametrize(
    ("unit", "expected"),
    [(0, "sim/0"), ("2", "sim/2"), ("leader", "sim/leader"), ("other/3", "other/3")],
)
def test_unit_names(unit: int | str, expected: str):
    assert unit_name("sim", unit) == expected


@pytest.mark.parametrize("unit", [-1, "first", ""])
def test_bad_unit_names_are_rejected(unit: int | str):
    with pytest.raises(ValueError, match="unit"):
        unit_name("sim", unit)


@pytest.mark.parametrize("watts", [-1, math.nan, math.inf, True])
def test_power_must_be_a_finite_non_negative_number(watts: float):
    with pytest.raises(ValueError, match="watts"):
        power_params(watts)


def test_power_zero_is_a_fixed_power_not_auto():
    assert power_params(0) == {"watts": 0}


def test_fault_options_left_out_are_not_sent():
    assert fault_params("grid-loss", duration=60) == {"kind": "grid-loss", "duration": 60}


def test_max_sessions_is_sent_in_kebab_case():
    assert fault_params("session-limit", max_sessions=1) == {
        "kind": "session-limit",
        "max-sessions": 1,
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kind": "meltdown"}, "unknown fault kind"),
        ({"kind": "no-reply", "scope": "modbus-tcp"}, "unknown scope"),
        ({"kind": "no-reply", "probability": 1.5}, "between 0 and 1"),
        ({"kind": "slow-reply", "delay": -2}, "delay must not be negative"),
        ({"kind": "grid-loss", "duration": math.nan}, "finite"),
    ],
)
def test_bad_fault_options_are_rejected(options: dict[str, object], message: str):
    with pytest.raises(ValueError, match=message):
        fault_params(**options)  # pyright: ignore[reportArgumentType]


def test_clear_params_checks_the_kind():
    assert clear_params() is None
    assert clear_params("no-reply") == {"kind": "no-reply"}
    with pytest.raises(ValueError, match="unknown fault kind"):
        clear_params("everything")


def test_fault_kinds_and_scopes_match_the_charm_actions():
    actions = charmcraft()["actions"]
    assert isinstance(actions, dict)
    inject = actions["inject-fault"]["params"]

    assert tuple(inject["kind"]["enum"]) == FAULT_KINDS
    assert tuple(inject["scope"]["enum"]) == FAULT_SCOPES
    assert tuple(actions["clear-faults"]["params"]["kind"]["enum"]) == FAULT_KINDS
    assert set(actions["inject-fault"]["params"]) >= {
        "duration", "scope", "probability", "code", "start", "count", "delay", "max-sessions",
    }  # fmt: skip


def test_image_resource_is_the_charms_oci_image():
    project = charmcraft()
    resources = project["resources"]
    assert isinstance(resources, dict)

    assert resources[IMAGE_RESOURCE]["type"] == "oci-image"
    assert project["name"] == CHARM_NAME


# Options of the sungather-k8s charm (its charmcraft.yaml) that the bundle may set.
SUNGATHER_K8S_OPTIONS = {
    "inverter-host",
    "inverter-port",
    "connection-type",
    "inverter-model",
    "scan-interval",
    "smart-meter",
    "level",
    "enable-webserver",
    "webserver-port",
    "log-level",
}


def test_sungather_bundle_configures_existing_simulator_options_and_points_at_unit_0():
    bundle = yaml.safe_load(bundle_path("sungather-sim").read_text())
    options = charmcraft()["config"]
    assert isinstance(options, dict)
    sim = bundle["applications"][CHARM_NAME]
    sungather = bundle["applications"]["sungather-k8s"]

    assert bundle["bundle"] == "kubernetes"
    assert sungather["charm"] == "sungather-k8s"
    assert set(sim["options"]) <= set(options["options"])
    assert set(sungather["options"]) <= SUNGATHER_K8S_OPTIONS
    assert sungather["options"]["inverter-host"] == f"{CHARM_NAME}-0.{CHARM_NAME}-endpoints"
    assert sungather["options"]["inverter-port"] == sim["options"]["modbus-port"]
    assert sungather["options"]["connection-type"] in sim["options"]["protocols"].split(",")


def test_unknown_bundle_names_list_the_known_ones():
    with pytest.raises(FileNotFoundError, match="sungather-sim"):
        bundle_path("nope")


def test_the_consumer_docs_use_the_helpers_real_api():
    text = (ROOT / "docs" / "consumer-testing.md").read_text()
    (example,) = re.findall(r"```python\n(.*?)```", text, re.S)[:1]
    compile(example, "consumer-testing.md", "exec")
    called = set(re.findall(r"\bsim\.(\w+)\(", text))
    table = "\n".join(line for line in text.splitlines() if line.startswith("| `"))
    documented = set(re.findall(r"`(\w+)\(", table))

    assert {"deploy", "wait_active", "inverter", "set_power", "inject_fault"} <= called
    assert {"deploy", "inverter", "clear_faults", "run"} <= documented
    known = [Simulator, InverterState, RequestRecord]
    missing = [n for n in called | documented if not any(hasattr(k, n) for k in known)]
    assert missing == []


def test_the_readme_carries_the_same_complete_consumer_test():
    docs = (ROOT / "docs" / "consumer-testing.md").read_text()
    readme = (ROOT / "README.md").read_text()
    (example,) = re.findall(r"```python\n(.*?)```", docs, re.S)[:1]
    assert f"```python\n{example}```" in readme
