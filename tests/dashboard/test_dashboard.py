"""The dashboard in a real browser, judged by a real Modbus client (pymodbus 3).

Each test starts `sungrow-sim serve` as a subprocess, opens http://127.0.0.1:PORT/ in
Debian's headless Chromium and checks what the page shows or does against what a
pymodbus client reads from the same simulator, never against the page's own data.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from playwright.sync_api import Page, expect
from pymodbus.client import ModbusTcpClient
from sungrow_sim.dashboard import STATIC_FILES
from support.simproc import SimProcess

expect.set_options(timeout=15_000)
NO_VALUE = "\u2013"  # what the page shows before the first event
PAGE_BUDGET_BYTES = 64 * 1024  # docs/dashboard.md gives the actual size


@contextmanager
def modbus(sim: SimProcess) -> Iterator[ModbusTcpClient]:
    client = ModbusTcpClient("127.0.0.1", port=sim.ports["modbus_port"], timeout=3, retries=0)
    assert client.connect()
    try:
        yield client
    finally:
        client.close()


def u32(words: list[int]) -> int:
    """Sungrow's 32-bit registers: low word first."""
    return words[0] | words[1] << 16


def read_input(client: ModbusTcpClient, documented: int, count: int) -> list[int]:
    response = client.read_input_registers(documented - 1, count=count, device_id=1)
    assert not response.isError(), response
    return list(response.registers)


def modbus_clock(client: ModbusTcpClient) -> datetime:
    """The inverter's clock registers (holding 5000-5005: year .. second) at its last tick."""
    response = client.read_holding_registers(4999, count=6, device_id=1)
    assert not response.isError(), response
    return datetime(*response.registers)  # pyright: ignore[reportArgumentType]


def open_dashboard(page: Page, sim: SimProcess) -> None:
    page.goto(sim.control_url + "/")
    expect(page.locator("#conn")).to_have_text("live")


def features(page: Page) -> dict:
    return page.evaluate("() => fetch('/v1/features').then((r) => r.json())")


def test_page_loads_within_a_second_and_stays_small(page: Page, simulator, shots: Path):
    sim = simulator()
    open_dashboard(page, sim)
    load_ms = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
    assert 0 < load_ms < 1000, f"page load took {load_ms:.0f} ms"
    expect(page.locator("#flow-pv")).not_to_have_text(NO_VALUE)
    sizes = {}
    for path in STATIC_FILES:
        with urllib.request.urlopen(sim.control_url + path, timeout=5) as response:
            sizes[path] = len(response.read())
    total = sum(sizes.values())
    print(f"page load {load_ms:.0f} ms; static files {sizes}, total {total} bytes")
    assert total < PAGE_BUDGET_BYTES
    page.screenshot(path=shots / "dashboard.png", full_page=True)


def test_every_control_is_labelled_and_reachable_by_keyboard(page: Page, simulator):
    open_dashboard(page, simulator())
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select')]
            .filter((el) => !el.closest('dialog') && el.labels.length === 0)
            .map((el) => el.id || el.name)"""
    )
    assert unlabelled == []
    nameless = page.evaluate(
        "() => [...document.querySelectorAll('button')].filter((b) => !b.textContent.trim()).length"
    )
    assert nameless == 0
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "unit"


def test_dark_mode_and_a_narrow_screen(page: Page, simulator, shots: Path):
    sim = simulator("--model", "SH10RT")
    open_dashboard(page, sim)
    background = "() => getComputedStyle(document.body).backgroundColor"
    light = page.evaluate(background)
    page.emulate_media(color_scheme="dark")
    dark = page.evaluate(background)
    assert light != dark
    page.set_viewport_size({"width": 380, "height": 800})
    expect(page.locator("#flow-pv")).not_to_have_text(NO_VALUE)
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 380, f"the page scrolls sideways on a narrow screen ({overflow} px)"
    page.screenshot(path=shots / "dashboard-narrow-dark.png", full_page=True)


def test_the_selector_switches_between_inverters(page: Page, simulator, tmp_path: Path):
    config = tmp_path / "plant.yaml"
    config.write_text(
        "inverters:\n"
        "  - {model: SG10RT, serial: SIMA000001, unit_id: 1}\n"
        "  - {model: SH10RT, serial: SIMB000002, unit_id: 2}\n"
    )
    sim = simulator("--config", str(config))
    open_dashboard(page, sim)
    expect(page.locator("#unit option")).to_have_count(2)
    expect(page.locator("#model")).to_contain_text("SIMA000001")
    expect(page.locator("#flow-soc")).to_have_text("")  # a string model: no battery
    expect(page.locator("#battery-form")).to_be_hidden()
    page.select_option("#unit", "2")
    expect(page.locator("#model")).to_contain_text("SH10RT SIMB000002 (unit 2)")
    expect(page.locator("#flow-soc")).to_contain_text("SOC")
    expect(page.locator("#battery-form")).to_be_visible()
    with modbus(sim) as client:
        got = client.read_input_registers(4999, count=1, device_id=2)
    assert got.registers == [0x0E03]  # SH10RT's device code at unit 2
    expect(
        page.locator("#registers tr[data-table=input][data-address='5000'] td").nth(3)
    ).to_contain_text("SH10RT")


def test_token_is_asked_once_and_sent_as_bearer(page: Page, simulator, console):
    sim = simulator("--control-token", "s3cret-token")
    console.allow("status of 401")  # the page's first calls, before it has the token
    page.goto(sim.control_url + "/")
    dialog = page.locator("#token-dialog")
    expect(dialog).to_be_visible()
    page.fill("#token", "s3cret-token")
    page.click("#token-form button")
    expect(page.locator("#conn")).to_have_text("live")
    page.reload()
    expect(page.locator("#conn")).to_have_text("live")
    expect(dialog).to_be_hidden()


def test_flow_and_chart_follow_the_plant(page: Page, simulator, shots: Path):
    # 30 simulated minutes a tick, one tick a second: the morning sun rises visibly.
    sim = simulator("--time-scale", "1800", "--tick-s", "1", "--start-time", "2026-06-21T06:00:00")
    open_dashboard(page, sim)
    shown: list[tuple[str, int, int]] = []
    with modbus(sim) as client:
        while len(shown) < 3:
            before = page.text_content("#clock")
            page.wait_for_function(
                "(prev) => document.querySelector('#clock').textContent !== prev", arg=before
            )
            clock = page.text_content("#clock") or ""
            pv_page = int(page.get_attribute("#flow", "data-pv") or -1)
            tick_before = modbus_clock(client)
            pv_modbus = u32(read_input(client, 5017, 2))  # total DC power, W
            tick_after = modbus_clock(client)
            shown_at = datetime.fromisoformat(clock)
            if (
                page.text_content("#clock") != clock
                or tick_before != tick_after
                or abs((tick_before - shown_at).total_seconds()) > 900
            ):
                continue  # a tick came between the looks (half a tick apart): try the next
            assert pv_page == pv_modbus, f"at {clock} the page shows {pv_page} W"
            shown.append((clock, pv_page, int(page.get_attribute("#chart", "data-points") or 0)))
    print(shown)
    clocks, pvs, points = zip(*shown, strict=True)
    assert len(set(clocks)) == 3
    assert len(set(pvs)) > 1, f"PV stayed at {pvs[0]} W through the morning"
    assert points[0] < points[1] < points[2], points
    expect(page.locator("#chart polyline.pv")).to_have_count(1)
    page.locator("#flow-panel").screenshot(path=shots / "flow.png")
    page.locator("#chart-panel").screenshot(path=shots / "chart.png")


def test_fault_injected_on_the_page_fails_a_modbus_read_until_cleared(
    page: Page, simulator, shots: Path
):
    sim = simulator()
    open_dashboard(page, sim)
    page.select_option("#fault-kind", "exception")
    page.fill("#fault-opt-start", "5017")
    page.fill("#fault-opt-count", "2")
    page.fill("#fault-opt-duration_s", "600")
    page.click("#fault-form button[type=submit]")
    active = page.locator("#fault-list li[data-kind=exception]")
    expect(active).to_contain_text("s left")
    with modbus(sim) as client:
        failing = client.read_input_registers(5016, count=2, device_id=1)
        assert failing.isError() and failing.exception_code == 4, failing
        assert read_input(client, 5000, 1) == [0x2433]  # outside the range: SG10RT's code
        page.locator("#faults-panel").screenshot(path=shots / "faults.png")
        active.get_by_role("button").click()
        expect(active).to_have_count(0)
        assert len(read_input(client, 5017, 2)) == 2


def test_a_fault_is_cleared_by_keyboard_while_its_time_counts_down(page: Page, simulator):
    sim = simulator("--tick-s", "0.2")
    sim.ctl("inject-fault", "no-reply", "--duration", "600")
    open_dashboard(page, sim)
    button = page.locator("#fault-list li[data-kind=no-reply] button")
    button.focus()
    left = page.text_content("#fault-list li[data-kind=no-reply] span")
    page.wait_for_function(
        "(prev) => document.querySelector('#fault-list span').textContent !== prev", arg=left
    )
    assert page.evaluate("() => document.activeElement.textContent") == "Clear no-reply"
    page.keyboard.press("Enter")
    expect(button).to_have_count(0)
    with modbus(sim) as client:  # no-reply would time this read out
        assert read_input(client, 5000, 1) == [0x2433]


def test_override_set_on_the_page_is_read_back_over_modbus(page: Page, simulator, shots: Path):
    sim = simulator()
    open_dashboard(page, sim)
    form = page.locator("form[data-endpoint='/v1/power']")
    page.fill("#ov-power", "2500")
    form.get_by_role("button", name="Set").click()
    expect(page.locator("#ov-power-now")).to_have_text("now 2500 W")
    with modbus(sim) as client:
        assert u32(read_input(client, 5031, 2)) == 2500  # total active power, W
        page.locator("#controls-panel").screenshot(path=shots / "overrides.png")
        form.get_by_role("button", name="Auto").click()
        expect(page.locator("#ov-power-now")).to_have_text("now auto")


def test_device_setting_changed_on_the_page_is_read_back_over_modbus(page: Page, simulator):
    sim = simulator("--model", "SH10RT")
    open_dashboard(page, sim)
    assert features(page)["settings"], "the simulator serves GET /v1/settings"
    settings = page.evaluate("() => fetch('/v1/settings').then((r) => r.json())")["settings"]
    setting = next(s for s in settings if s["choices"] and len(s["choices"]) > 1)
    target = next(name for name in setting["choices"] if name != setting["value"])
    page.select_option(f"#setting-{setting['name']}", target)
    page.locator(f"#setting-{setting['name']} + button").click()
    with modbus(sim) as client:
        deadline = time.monotonic() + 10
        while True:
            got = client.read_holding_registers(setting["address"] - 1, count=1, device_id=1)
            if not got.isError() and got.registers[0] == setting["choices"][target]:
                break
            assert time.monotonic() < deadline, f"{setting['name']} reads {got}"
            page.wait_for_timeout(100)


def test_registers_panel_shows_what_modbus_reads(page: Page, simulator, shots: Path):
    sim = simulator()
    sim.ctl("set-power", "3000")  # a still plant: the value cannot move between the looks
    open_dashboard(page, sim)
    page.fill("#reg-filter", "total_dc")
    row = page.locator("#registers tr[data-table=input][data-address='5017']")
    expect(row).to_be_visible()
    expect(page.locator("#registers tr[data-address='5031']")).to_be_hidden()
    with modbus(sim) as client:
        words = read_input(client, 5017, 2)
    expect(row.locator("td").nth(3)).to_have_text(str(u32(words)))
    expect(row.locator("td.words")).to_have_text(" ".join(f"{w:04x}" for w in words))
    page.fill("#reg-filter", "")
    page.locator("#registers-panel").screenshot(path=shots / "registers.png")


def test_a_clients_reads_appear_in_the_clients_panel(page: Page, simulator, shots: Path):
    sim = simulator()
    open_dashboard(page, sim)
    with modbus(sim) as client:
        read_input(client, 5001, 10)
    assert features(page)["requests"], "the simulator serves GET /v1/requests"
    row = page.locator("#clients tbody tr", has_text="5001+10")
    expect(row).to_contain_text("127.0.0.1")
    expect(row).to_contain_text("modbus")
    recent = page.locator("#registers tr.recent")
    expect(recent.first).to_be_visible()
    addresses = [
        int(a or 0) for a in recent.evaluate_all("(rows) => rows.map((r) => r.dataset.address)")
    ]
    assert all(5001 <= a <= 5010 for a in addresses), addresses
    page.locator("#clients-panel").screenshot(path=shots / "clients.png")
