"""Fixtures: Debian's headless Chromium driven by Playwright, and simulator subprocesses.

No browser is downloaded: Playwright launches the `chromium` on PATH (or $CHROMIUM).
Screenshots go to $DASHBOARD_SHOTS (tox: .tox/dashboard-shots), else a temporary folder;
the path is printed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
from support.simproc import SimProcess, launch, serve_command

START_TIME = "2026-06-21T12:00:00"


def chromium_path() -> str:
    """The system Chromium (Debian's `chromium` package)."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("chromium is not installed: apt-get install -y chromium (.ci/run does this)")
    return found


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("DASHBOARD_SHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"dashboard screenshots: {folder}")
    return folder


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[Callable[..., SimProcess]]:
    """Start `sungrow-sim serve` subprocesses (Modbus only by default) on free ports."""
    started: list[SimProcess] = []

    def start(*args: str, model: str = "SG10RT") -> SimProcess:
        inverter = () if "--config" in args else ("--model", model)
        argv = serve_command(*inverter, "--protocols", "modbus", "--seed", "1", *args)
        if "--start-time" not in args:
            argv += ["--start-time", START_TIME]
        sim = launch(argv, tmp_path)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()
        print(f"--- simulator log\n{sim.log()[-4000:]}")


class Console:
    """Console errors and uncaught page errors of one page."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[str] = []

    def allow(self, text: str) -> None:
        """Expect console errors containing `text` (e.g. a 401 the page answers)."""
        self.allowed.append(text)

    def on_console(self, message: ConsoleMessage) -> None:
        if any(text in message.text for text in self.allowed):
            return
        if message.type in ("error", "warning"):
            self.errors.append(f"console {message.type}: {message.text} ({message.location})")

    def on_error(self, error: Exception) -> None:
        self.errors.append(f"page error: {error}")


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, console: Console, simulator) -> Iterator[Page]:
    """A fresh page; the test fails if the page logged an error or warning.

    It depends on `simulator`, so the page closes before the simulators stop (a page left
    open would log its reconnection attempts).
    """
    del simulator
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.on("console", console.on_console)
    opened.on("pageerror", console.on_error)
    opened.set_default_timeout(15_000)
    yield opened
    context.close()
    assert not console.errors, "\n".join(console.errors)
