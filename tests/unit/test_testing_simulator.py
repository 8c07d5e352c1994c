"""sungrow_sim_k8s_testing.Simulator against a stand-in `juju` CLI.

jubilant runs the stand-in exactly as it runs the real CLI; the stand-in records its
arguments (and the --params file jubilant writes) and prints recorded `juju` output of
the shape Juju 3.6 prints. So argument building, jubilant's parsing and the helper's
parsing all run for real; only the controller is absent.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import jubilant
import pytest
import yaml
from sungrow_sim_k8s_testing import ConnectionInfoError, Simulator

DATA = Path(__file__).parent / "data" / "juju"
APP = "sungrow-sim-k8s"

FAKE_JUJU = """\
#!{python}
import json, os, sys
state = os.environ["FAKE_JUJU_DIR"]
args = sys.argv[1:]
params = None
if "--params" in args:
    with open(args[args.index("--params") + 1]) as f:
        params = f.read()
with open(os.path.join(state, "calls.jsonl"), "a") as f:
    f.write(json.dumps({{"args": args, "params": params}}) + "\\n")
with open(os.path.join(state, "replies.json")) as f:
    replies = json.load(f)
for reply in replies:
    if all(token in args for token in reply["match"]):
        sys.stdout.write(reply["stdout"])
        sys.stderr.write(reply["stderr"])
        sys.exit(reply["returncode"])
sys.stderr.write("ERROR fake juju has no reply for " + " ".join(args) + "\\n")
sys.exit(2)
"""


class FakeJuju:
    """Replies for the stand-in CLI, and what it was called with."""

    def __init__(self, state: Path):
        self.state = state
        self.replies: list[dict[str, Any]] = []
        self._save()

    def reply(self, match: list[str], data_file: str = "", *, stderr: str = "", rc: int = 0):
        stdout = (DATA / data_file).read_text() if data_file else ""
        self.replies.append({"match": match, "stdout": stdout, "stderr": stderr, "returncode": rc})
        self._save()

    def _save(self):
        (self.state / "replies.json").write_text(json.dumps(self.replies))

    @property
    def calls(self) -> list[dict[str, Any]]:
        log = self.state / "calls.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def params(self, index: int = -1) -> Any:
        text = self.calls[index]["params"]
        return None if text is None else yaml.safe_load(text)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeJuju:
    script = tmp_path / "juju"
    script.write_text(textwrap.dedent(FAKE_JUJU.format(python=sys.executable)))
    script.chmod(0o755)
    monkeypatch.setenv("FAKE_JUJU_DIR", str(tmp_path))
    return FakeJuju(tmp_path)


@pytest.fixture
def sim(fake: FakeJuju) -> Simulator:
    return Simulator(jubilant.Juju(model="testing", cli_binary=fake.state / "juju"))


def test_deploy_local_charm_passes_image_config_and_units(
    sim: Simulator, fake: FakeJuju, tmp_path: Path
):
    charm = tmp_path / "sungrow-sim-k8s_amd64.charm"
    charm.write_bytes(b"PK")
    fake.reply(["deploy"])

    sim.deploy(charm, image="localhost:32000/sungrow-sim:0.1.0", config={"model": "SH10RT"},
               num_units=2)  # fmt: skip

    assert fake.calls[0]["args"] == [
        "deploy", "--model", "testing", str(charm), APP,
        "--config", "model=SH10RT",
        "--num-units", "2",
        "--resource", "simulator-image=localhost:32000/sungrow-sim:0.1.0",
    ]  # fmt: skip


def test_deploy_from_charmhub_passes_channel_and_no_resource(sim: Simulator, fake: FakeJuju):
    fake.reply(["deploy"])

    sim.deploy(channel="latest/edge")

    assert fake.calls[0]["args"] == [
        "deploy", "--model", "testing", APP, APP, "--channel", "latest/edge",
    ]  # fmt: skip


def test_deploy_local_charm_without_image_fails_before_calling_juju(
    sim: Simulator, fake: FakeJuju, tmp_path: Path
):
    charm = tmp_path / "sim.charm"
    charm.write_bytes(b"PK")

    with pytest.raises(ValueError, match="simulator-image"):
        sim.deploy(charm)
    assert fake.calls == []


def test_wait_active_returns_the_status_once_all_units_are_active_and_idle(
    sim: Simulator, fake: FakeJuju
):
    fake.reply(["status"], "status-active.json")

    status = sim.wait_active(timeout=10, delay=0.01)

    assert sorted(status.apps[APP].units) == [f"{APP}/0", f"{APP}/1"]
    assert len(fake.calls) == 3  # jubilant's default: three successes in a row


def test_wait_active_raises_on_an_error_status(sim: Simulator, fake: FakeJuju):
    fake.reply(["status"], "status-error.json")

    with pytest.raises(jubilant.WaitError):
        sim.wait_active(timeout=10, delay=0.01)


def test_units_are_listed_in_unit_number_order(sim: Simulator, fake: FakeJuju):
    fake.reply(["status"], "status-active.json")

    assert sim.units() == [f"{APP}/0", f"{APP}/1"]


def test_state_parses_get_readings_results(sim: Simulator, fake: FakeJuju):
    fake.reply(["run", "get-readings"], "run-get-readings-sh10rt.json")

    state = sim.state()

    assert fake.calls[0]["args"] == [
        "run", "--model", "testing", "--format", "json", f"{APP}/0", "get-readings",
    ]  # fmt: skip
    assert state.version == "0.1.0"
    assert state.ports == {"modbus": 502, "sungrow": 502, "http": 80, "ws": 8082}
    inverter = state.inverter()
    assert (inverter.model, inverter.device_code, inverter.serial) == (
        "SH10RT",
        3587,
        "SIM0000000",
    )
    assert inverter.reading("pv_power_w") == 3000
    assert inverter.reading("battery-soc-pct") == 50.0
    assert inverter.reading("work_state") == "run"
    assert inverter.overrides == {"power-w": 3000}
    assert [(f.id, f.kind, f.scope, f.options) for f in inverter.faults] == [
        ("f1", "inverter-fault", "all", {"code": 514})
    ]


def test_set_power_sends_watts_to_the_chosen_unit_and_returns_its_inverter(
    sim: Simulator, fake: FakeJuju
):
    fake.reply(["run", "set-power"], "run-set-power-sg10rt.json")

    inverter = sim.set_power(4000, unit=1)

    assert fake.calls[0]["args"][:7] == [
        "run", "--model", "testing", "--format", "json", f"{APP}/1", "set-power",
    ]  # fmt: skip
    assert fake.params() == {"watts": 4000}
    assert inverter.overrides == {"power-w": 4000}
    assert inverter.reading("pv-power-w") == 4000


def test_set_power_auto_sends_auto_true(sim: Simulator, fake: FakeJuju):
    fake.reply(["run", "set-power"], "run-set-power-sg10rt.json")

    sim.set_power("auto")

    assert fake.params() == {"auto": True}


def test_inject_fault_sends_kebab_case_options(sim: Simulator, fake: FakeJuju):
    fake.reply(["run", "inject-fault"], "run-list-faults.json")

    fault = sim.inject_fault("no-reply", scope="modbus", probability=0.5, start=4999, count=10)

    assert fake.params() == {
        "kind": "no-reply", "scope": "modbus", "probability": 0.5, "start": 4999, "count": 10,
    }  # fmt: skip
    assert (fault.id, fault.kind, fault.scope) == ("f2", "no-reply", "modbus")
    assert fault.options == {"count": 10, "probability": 0.5, "start": 4999}


def test_a_failed_action_raises_task_error_with_the_charm_message(sim: Simulator, fake: FakeJuju):
    fake.reply(["run", "inject-fault"], "run-inject-fault-failed.json",
               stderr="ERROR the following task failed:\n id 18 with return code 0\n", rc=1)  # fmt: skip

    with pytest.raises(jubilant.TaskError) as caught:
        sim.inject_fault("session-limit")

    assert "needs --max-sessions" in caught.value.task.message


def test_faults_lists_every_active_fault(sim: Simulator, fake: FakeJuju):
    fake.reply(["run", "list-faults"], "run-list-faults.json")

    faults = sim.faults()

    assert [(f.id, f.kind) for f in faults] == [("f2", "no-reply"), ("f3", "grid-loss")]
    assert faults[1].options == {"expires": "2026-11-21T12:01:00"}


def test_clear_faults_of_one_kind_sends_the_kind(sim: Simulator, fake: FakeJuju):
    fake.reply(["run", "clear-faults"], "run-list-faults.json")

    sim.clear_faults("grid-loss")

    assert fake.params() == {"kind": "grid-loss"}


def test_clear_all_faults_sends_no_params(sim: Simulator, fake: FakeJuju):
    fake.reply(["run", "clear-faults"], "run-list-faults.json")

    sim.clear_faults()

    assert "--params" not in fake.calls[0]["args"]


def test_inverter_via_relation_reads_the_units_own_databag(sim: Simulator, fake: FakeJuju):
    fake.reply(["show-unit"], "show-unit-related.json")

    inverter = sim.inverter()

    assert fake.calls[0]["args"] == [
        "show-unit", "--model", "testing", f"{APP}/0", "--format", "json",
    ]  # fmt: skip
    assert inverter.host == "sungrow-sim-k8s-0.sungrow-sim-k8s-endpoints.testing.svc.cluster.local"
    assert inverter.ports == {"modbus": 502, "sungrow": 502, "http": 80, "ws": 8082}
    assert inverter.protocols == ("modbus", "sungrow", "http")
    assert (inverter.model, inverter.device_code, inverter.serial, inverter.unit_id) == (
        "SG10RT", 9267, "SIM0000000", 1,
    )  # fmt: skip
    assert inverter.relation_id == 4


def test_inverter_via_relation_without_a_relation_says_what_to_do(sim: Simulator, fake: FakeJuju):
    fake.reply(["show-unit"], "show-unit-unrelated.json")

    with pytest.raises(ConnectionInfoError, match="no 'inverter' relation"):
        sim.inverter()


def test_inverter_via_status_combines_the_unit_address_with_get_readings(
    sim: Simulator, fake: FakeJuju
):
    fake.reply(["status"], "status-active.json")
    fake.reply(["run", "get-readings"], "run-get-readings-sh10rt.json")

    inverter = sim.inverter(1, via="status")

    assert inverter.host == "10.1.164.156"
    assert inverter.unit_name == f"{APP}/1"
    assert inverter.ports == {"modbus": 502, "sungrow": 502, "http": 80, "ws": 8082}
    assert (inverter.model, inverter.device_code) == ("SH10RT", 3587)


def test_inverter_of_the_leader_resolves_the_leader_unit_from_status(
    sim: Simulator, fake: FakeJuju
):
    fake.reply(["status"], "status-active.json")
    fake.reply(["run", "get-readings"], "run-get-readings-sh10rt.json")

    inverter = sim.inverter("leader", via="status")

    assert inverter.unit_name == f"{APP}/0"
    assert inverter.host == "10.1.164.155"
    assert fake.calls[-1]["args"][5] == f"{APP}/0"
