"""The classroom app in a real browser: `cloudrace app` serves it, headless Chromium plays it.

The test starts the server on a free port (the front-end files from the local cache, nothing
from the internet), opens the page in Debian's chromium driven by Playwright through its path,
presses play, checks that the map and the charts change and that the ticker fills, switches the
lesson, and saves screenshots in the test's temporary folder, or in ``$CLOUDRACE_SCREENSHOT_DIR``
(``CLOUDRACE_SCREENSHOT_DIR=docs/images CLOUDRACE_PLAY_YEARS=20`` refreshes the documentation's
``app-*.png`` after 20 years of play). A front-end file the server cannot serve arrives as an
HTTP error, so any response >= 400 fails the test.

Without chromium, Playwright or the front-end cache the test skips with the reason; with
``CLOUDRACE_REQUIRE_BROWSER=1`` (set by ``.ci/run``) it fails instead.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sim.app.assets import cache_dir, missing_packages

CHROMIUM = Path(os.environ.get("CLOUDRACE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SERVER_START_SECONDS = 60
PLAY_YEARS = int(os.environ.get("CLOUDRACE_PLAY_YEARS", "8"))
COMPONENTS = ("cloudrace-map", "cloudrace-new-contracts", "cloudrace-installed-base",
              "cloudrace-leverage")


def unavailable() -> str | None:
    """Why the browser test cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python Playwright is not installed (pip install playwright)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no chromium at {CHROMIUM} (scripts/install-browser installs it)"
    missing = missing_packages(cache_dir())
    if missing:
        return f"front-end files missing from {cache_dir()}: {', '.join(missing)} " \
               "(make app-assets)"
    return None


@pytest.fixture(scope="module")
def browser_ready() -> None:
    """Skip (locally) or fail (with CLOUDRACE_REQUIRE_BROWSER=1) when something is missing."""
    reason = unavailable()
    if reason and os.environ.get("CLOUDRACE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser test required but cannot run: {reason}")
    if reason:
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(browser_ready, tmp_path: Path):
    """`cloudrace app` on a free port: its URL once it answers HTTP 200; killed afterwards."""
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "sim.cli", "app", "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"the app exited with {process.returncode}:\n"
                            + (tmp_path / "server.log").read_text())
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not answer within {SERVER_START_SECONDS} s:\n"
                            + (tmp_path / "server.log").read_text())
            time.sleep(0.3)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()


@pytest.fixture
def page(server):
    """A Chromium page on the app; fails the test on any HTTP error or page error."""
    from playwright.sync_api import sync_playwright

    failures: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1400})
            tab.set_default_timeout(30_000)
            tab.on("response", lambda response: failures.append(
                f"HTTP {response.status} {response.url}") if response.status >= 400 else None)
            tab.on("pageerror", lambda error: failures.append(f"page error: {error}"))
            tab.goto(server, wait_until="networkidle")
            yield tab
        finally:
            browser.close()
    assert not failures, "\n".join(failures)


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CLOUDRACE_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pictures(page) -> dict[str, bytes]:
    """What the map and each chart look like now (their rendered pixels)."""
    return {name: page.locator(f".{name} img").screenshot() for name in COMPONENTS}


def years_run(page) -> float:
    return float(page.get_by_text("Time:").first.inner_text().split(":")[1])


def test_play_changes_the_map_and_charts_and_fills_the_ticker(page, tmp_path: Path):
    folder = screenshot_dir(tmp_path)
    page.get_by_role("button", name="Step").wait_for()
    for name in COMPONENTS:
        page.locator(f".{name} img").wait_for()
    page.get_by_text("No contracts yet").wait_for()
    page.screenshot(path=folder / "app-start.png")
    before = pictures(page)

    page.get_by_role("button", name="▶").click()
    deadline = time.monotonic() + 60
    while years_run(page) < PLAY_YEARS:
        assert time.monotonic() < deadline, "the model did not advance while playing"
        time.sleep(0.25)
    page.get_by_role("button", name="❚❚").click()
    page.get_by_role("button", name="Step").wait_for()
    page.wait_for_load_state("networkidle")
    time.sleep(1.0)  # let the last step's images arrive

    after = pictures(page)
    unchanged = [name for name in COMPONENTS if after[name] == before[name]]
    assert not unchanged, f"did not change while playing: {unchanged}"
    assert page.get_by_text(" awards ").count() + page.get_by_text(" renews ").count() > 0
    page.screenshot(path=folder / "app-playing.png")

    page.locator(".v-select", has_text="Lesson").locator(".v-select__slot").click()
    page.get_by_role("option", name="5. The coercion dilemma").click()
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("The coercion dilemma. By the 2020s").wait_for()
    assert years_run(page) == 0.0
    page.screenshot(path=folder / "app-lesson.png")
    assert (folder / "app-playing.png").stat().st_size > 10_000
