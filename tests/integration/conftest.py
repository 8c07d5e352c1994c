"""Integration suite: a live Juju controller on Kubernetes, the packed charm and the rock.

Skipped as a whole, with the reason, when `juju` is not on PATH or CHARM_PATH /
ROCK_IMAGE are not given. The tests still collect (and type-check) everywhere.

Environment:
    CHARM_PATH: the packed sungrow-sim-k8s .charm.
    ROCK_IMAGE: the simulator image in a registry the cluster pulls from, e.g.
        localhost:32000/sungrow-sim:0.1.0.
    TESTER_CHARM_PATH: the packed tester charm (optional: packed with
        tests/integration/tester/pack.sh when charmcraft is on PATH).
    SUNGATHER_CHARM, SUNGATHER_CHANNEL: where test_sungather deploys SunGather from
        (default: "sungather-k8s" from Charmhub, latest/edge); SUNGATHER_IMAGE: the
        `sungather-image` resource when SUNGATHER_CHARM is a local .charm.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import jubilant
import pytest
from sungrow_sim_k8s_testing import Simulator

HERE = Path(__file__).parent
TESTER_DIR = HERE / "tester"


def skip_reason() -> str | None:
    """Why the integration suite cannot run here, or None when it can."""
    if shutil.which("juju") is None:
        return (
            "juju is not on PATH: the integration suite needs a Juju controller on a "
            "Kubernetes cloud (CI sets one up with concierge; see docs/consumer-testing.md)"
        )
    missing = [name for name in ("CHARM_PATH", "ROCK_IMAGE") if not os.environ.get(name)]
    if missing:
        return (
            f"{' and '.join(missing)} not set: pack the charm (charmcraft pack) and give its "
            "path in CHARM_PATH; pack the rock, push it to a registry the cluster pulls "
            "from and give its reference in ROCK_IMAGE"
        )
    if not Path(os.environ["CHARM_PATH"]).is_file():
        return f"CHARM_PATH={os.environ['CHARM_PATH']} is not a file"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip this directory's tests, with the reason, when they cannot run."""
    reason = skip_reason()
    if reason is None:
        return
    marker = pytest.mark.skip(reason=reason)
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(marker)


@pytest.fixture(scope="session")
def charm_path() -> Path:
    """The packed sungrow-sim-k8s charm."""
    return Path(os.environ["CHARM_PATH"]).resolve()


@pytest.fixture(scope="session")
def rock_image() -> str:
    """The simulator rock's image reference, for the `simulator-image` resource."""
    return os.environ["ROCK_IMAGE"]


@pytest.fixture(scope="session")
def tester_charm_path() -> Path:
    """The packed tester charm: TESTER_CHARM_PATH, or packed here with pack.sh."""
    given = os.environ.get("TESTER_CHARM_PATH")
    if given:
        return Path(given).resolve()
    if shutil.which("charmcraft") is None:
        pytest.skip("TESTER_CHARM_PATH not set and no charmcraft to pack tests/integration/tester")
    subprocess.run([str(TESTER_DIR / "pack.sh")], check=True)
    charms = sorted(TESTER_DIR.glob("*.charm"), key=lambda p: p.stat().st_mtime)
    assert charms, "pack.sh produced no .charm"
    return charms[-1].resolve()


@pytest.fixture(scope="module")
def sim(juju: jubilant.Juju) -> Simulator:
    """The simulator application in this module's model."""
    return Simulator(juju)
