"""A consumer's test written with the helpers' LocalSimulator drives a real SunGather run.

This is the test a consumer charm's author writes without Juju: start the simulator with
`LocalSimulator`, point their workload at `inverter()`, steer it with `set_power` and
`inject_fault`, and prove with `requests()` that the workload really read the device.
The workload here is SunGather's own client (SungrowClient 0.1.0 on pymodbus 2.5.3, its
own venv): what it decodes over Modbus is the independent oracle.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from clients import run_driver
from sungrow_sim_k8s_testing import LocalSimulator, wait_until

MODEL = "SG10RT"
SERIAL = "SC00100002"  # 10 characters: what SunGather decodes (SPEC: 4990-4999)


@pytest.fixture
def sim() -> Iterator[LocalSimulator]:
    local = LocalSimulator(
        MODEL,
        serial=SERIAL,
        protocols=("modbus", "sungrow"),
        command=[sys.executable, "-m", "sungrow_sim"],
        extra_args=("--start-time", "2026-06-21T12:00:00", "--seed", "1"),
    )
    with local:
        yield local
    print(f"--- simulator log\n{local.log()[-4000:]}")


def sungather(sim: LocalSimulator, register_file, level: int = 1) -> dict:
    inverter = sim.inverter()
    args = {
        "host": inverter.host,
        "port": inverter.port_for("modbus"),
        "connection": "modbus",
        "level": level,
        "registers": str(register_file),
        "scrapes": 1,
    }
    result = run_driver("sungather", "sungather_scrape.py", args)
    assert result["connected"], result["_log"][-3000:]
    return result


def test_sungather_sees_set_power_and_an_injected_fault(sim: LocalSimulator, register_file):
    sim.set_power(3000)
    first = sungather(sim, register_file)
    (run,) = first["scrapes"]
    assert first["model"] == MODEL
    assert first["serial"] == SERIAL
    assert run["success"] and run["failed"] == [], run
    high = run["values"]["total_active_power"]

    sim.set_power(1000)
    (low_run,) = sungather(sim, register_file)["scrapes"]
    low = low_run["values"]["total_active_power"]
    # The simulator's own view, as a second, separate reading of the same quantity.
    assert 2500 < high <= 3000, high
    assert 800 < low <= 1000, low
    assert low == pytest.approx(sim.readings().reading("active_power_w"), abs=25)

    # A Modbus exception on the first register range SunGather polls after connecting.
    target = next(r for r in first["ranges"] if r["type"] == "read" and r["start"] > 5000)
    fault = sim.inject_fault("exception", code=2, start=target["start"], count=2)
    assert fault.kind == "exception"
    (faulted,) = sungather(sim, register_file)["scrapes"]
    failed = [(f["type"], f["start"], f["count"]) for f in faulted["failed"]]
    assert failed == [("read", target["start"], target["count"])], faulted

    sim.clear_faults()
    assert sim.faults() == []
    (cleared,) = sungather(sim, register_file)["scrapes"]
    assert cleared["failed"] == [], cleared


def test_requests_show_what_sungather_read(sim: LocalSimulator, register_file):
    result = sungather(sim, register_file)
    polled = [r for r in result["ranges"] if r["type"] == "read"]

    records = wait_until(
        lambda: [r for r in sim.requests() if r.protocol == "modbus" and r.function == "read"],
        timeout=10,
        what="SunGather's reads in /v1/requests",
    )

    inverter = sim.inverter()
    assert {r.peer for r in records} == {inverter.host}
    assert {r.unit_id for r in records} == {inverter.unit_id}
    # SunGather reads its register ranges from the input table; each one is recorded
    # with its documented start (wire + 1) and its count.
    recorded = {(r.address, r.count) for r in records if r.table == "input"}
    for wanted in polled:
        assert (wanted["start"], wanted["count"]) in recorded or (
            wanted["start"] + 1,
            wanted["count"],
        ) in recorded, (wanted, sorted(recorded))
    assert all(r.requests >= 1 and r.last_outcome == "ok" for r in records), records
    assert any(r.covers(5031) for r in records)  # total active power


def test_sungather_sees_set_battery_and_set_state(register_file):
    hybrid = LocalSimulator(
        "SH10RT",
        serial="SC00100104",
        protocols=("modbus",),
        command=[sys.executable, "-m", "sungrow_sim"],
        extra_args=("--start-time", "2026-06-21T12:00:00", "--seed", "1"),
    )
    with hybrid:
        state = hybrid.set_battery(soc=80, power=0)
        assert state.reading("battery_soc_pct") == 80
        hybrid.set_power(4000)
        (running,) = sungather(hybrid, register_file)["scrapes"]
        hybrid.set_state("stop")
        (stopped,) = sungather(hybrid, register_file)["scrapes"]

    assert running["values"]["battery_level"] == pytest.approx(80, abs=0.1)
    assert running["values"]["total_active_power"] > 1000
    assert stopped["values"]["total_active_power"] == 0, stopped["values"]
