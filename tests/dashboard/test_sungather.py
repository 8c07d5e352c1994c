"""SunGather sees a fault that the dashboard injects as a failed range.

Its real SungrowClient runs in the compat suite's environment; once the page clears the
fault, SunGather reads every range again.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from compat.clients import run_driver
from playwright.sync_api import Page, expect
from support.simproc import SimProcess

REPO = Path(__file__).resolve().parent.parent.parent
REGISTER_FILE = Path(
    os.environ.get(
        "SUNGATHER_REGISTERS",
        REPO.parent / "shared" / "reference" / "sungather-registers-sungrow.yaml",
    )
)
FAULT_START = 5017  # documented: total DC power, in SunGather's level-1 input ranges


def scrape(sim: SimProcess) -> dict:
    args = {
        "host": "127.0.0.1",
        "port": sim.ports["modbus_port"],
        "connection": "modbus",
        "level": 2,
        "registers": str(REGISTER_FILE),
        "scrapes": 1,
    }
    result = run_driver("sungather", "sungather_scrape.py", args)
    assert result["connected"], result["_log"][-3000:]
    return result["scrapes"][0]


def covers(failed: dict, documented: int) -> bool:
    """Whether a failed range holds the register (SunGather's start is the wire address)."""
    return failed["start"] <= documented - 1 < failed["start"] + failed["count"]


def test_sungather_reports_a_failed_range_for_a_fault_injected_on_the_page(page: Page, simulator):
    if not REGISTER_FILE.exists():
        pytest.fail(
            f"SunGather register file not found at {REGISTER_FILE} (put shared/ beside the checkout)"
        )
    sim = simulator()
    page.goto(sim.control_url + "/")
    expect(page.locator("#conn")).to_have_text("live")
    page.select_option("#fault-kind", "exception")
    page.fill("#fault-opt-start", str(FAULT_START))
    page.click("#fault-form button[type=submit]")
    expect(page.locator("#fault-list li[data-kind=exception]")).to_be_visible()

    faulty = scrape(sim)
    failed = [f"{f['type']} {f['start']}/{f['count']}" for f in faulty["failed"]]
    print(f"with the fault: {len(failed)}/{faulty['ranges']} ranges failed: {failed}")
    # Faults match an address in either table: SunGather's input range over 5017 fails,
    # and so does its holding range over the same address; nothing else does.
    assert any(f["type"] == "read" for f in faulty["failed"]), failed
    assert all(covers(f, FAULT_START) for f in faulty["failed"]), failed
    assert len(failed) < faulty["ranges"]

    page.locator("#fault-list li[data-kind=exception]").get_by_role("button").click()
    expect(page.locator("#fault-list li[data-kind=exception]")).to_have_count(0)
    clean = scrape(sim)
    assert clean["success"] and clean["failed"] == [], clean["failed"]
    assert clean["values"]["device_type_code"] == "SG10RT"
