"""The classroom app in a real browser: `cloudrace app` serves it, headless Chromium uses it.

One server (on a free port, the front-end files from the local cache, nothing from the internet)
and one Chromium, driven by Playwright through its path, serve every test of this module; each
test opens its own tab at 1366 x 768, a classroom projector. The tests check projector mode (the
lesson card, the year, the map, the headline and the lesson's chart inside the screen, every
text node of the page drawn at 18 px or more, SVG text with its scale, no developer controls), a
lever change (the ghost run on the chart, the same random history up to the change, the headline
of the engine's forked run), the debrief's saved picture (taken by the browser: the window's
size, not blank, its map matching a Playwright screenshot of the same moment) and numbers, and
the milestones on the time axis. A front-end file the server cannot serve arrives as an HTTP
error, so any response >= 400 fails the test.

Screenshots go to the test's temporary folder, or to ``$CLOUDRACE_SCREENSHOT_DIR``
(``CLOUDRACE_SCREENSHOT_DIR=docs/images`` refreshes the documentation's ``app-*.png``).
Without chromium, Playwright or the front-end cache the tests skip with the reason; with
``CLOUDRACE_REQUIRE_BROWSER=1`` (set by ``.ci/run``) they fail instead.
"""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sim.app.app import SAVE_LABEL
from sim.app.assets import cache_dir, missing_packages
from sim.app.charts import milestone_markers
from sim.app.classroom import Levers
from sim.app.debrief import headline
from sim.app.runs import RunKey, get_run
from sim.app.story import run_events

CHROMIUM = Path(os.environ.get("CLOUDRACE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_SECONDS = 60
PROJECTOR = {"width": 1366, "height": 768}
DEVELOPER_CONTROLS = (
    "Play Interval",
    "Render Interval",
    "Use Threads",
    "Time:",
    "PAGE 0",
    "runs on Solara",
)
MIN_TEXT_PX = 18
PIXEL_TOLERANCE = 48
"""Largest channel difference (of 255) at which a saved pixel counts as the screen's."""
MAP_PIXELS_CLOSE = 0.97
"""Share of the map's pixels in the saved picture that must match the screenshot."""
MAP_MEAN_DIFFERENCE = 6.0
SCROLLED_PX = 120
"""Largest mean channel difference between the saved map and the screenshot's."""
LOAN_LESSON = "2. The loan that wins the tender"
FORK_STEP = 10


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
        return f"front-end files missing from {cache_dir()}: {', '.join(missing)} (make app-assets)"
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


@pytest.fixture(scope="module")
def save_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the server saves class runs (``$CLOUDRACE_CLASS_RUNS``)."""
    return tmp_path_factory.mktemp("class-runs")


@pytest.fixture(scope="module")
def server(browser_ready, save_root: Path, tmp_path_factory: pytest.TempPathFactory):
    """`cloudrace app` on a free port, started once for the module: its URL once it answers."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "app", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "CLOUDRACE_CLASS_RUNS": str(save_root)},
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"the app exited with {process.returncode}:\n" + log_path.read_text())
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the app did not answer within {SERVER_START_SECONDS} s:\n"
                    + log_path.read_text()
                )
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


@pytest.fixture(scope="module")
def browser(server):
    """One headless Chromium for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, server):
    """A new tab on the app at 1366 x 768; fails the test on any HTTP error or page error."""
    failures: list[str] = []
    tab = browser.new_page(viewport=PROJECTOR)
    tab.set_default_timeout(30_000)
    tab.on(
        "response",
        lambda response: (
            failures.append(f"HTTP {response.status} {response.url}")
            if response.status >= 400
            else None
        ),
    )
    tab.on("pageerror", lambda error: failures.append(f"page error: {error}"))
    tab.goto(server, wait_until="networkidle")
    tab.locator(".cloudrace-map svg").wait_for()
    yield tab
    tab.close()
    assert not failures, "\n".join(failures)


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CLOUDRACE_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def choose_lesson(page, title: str) -> None:
    page.locator(".cloudrace-lesson-select .v-select__slot").click()
    page.get_by_role("option", name=title).click()
    page.locator(".cloudrace-lesson h2", has_text=title).wait_for()


def year(page) -> str:
    return page.locator(".cloudrace-year").inner_text().strip()


def step(page, times: int) -> None:
    """Press Step ``times`` times, each time waiting for the year to move on."""
    for _ in range(times):
        before = year(page)
        page.get_by_role("button", name="Step").click()
        deadline = time.monotonic() + 20
        while year(page) == before:
            assert time.monotonic() < deadline, "Step did not advance the year"
            time.sleep(0.05)


def set_lever_to_minimum(page, label: str) -> None:
    """Click the left end of a lever's slider (sets it to its minimum)."""
    lever = page.locator(".cloudrace-lever", has_text=label)
    box = lever.locator(".v-slider").bounding_box()
    page.mouse.click(box["x"] + 1, box["y"] + box["height"] / 2)
    page.locator(".cloudrace-lever", has_text=f"{label}: 0").wait_for()


def inside_screen(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and box["width"] > 0
        and box["x"] + box["width"] <= PROJECTOR["width"] + 0.5
        and box["y"] + box["height"] <= PROJECTOR["height"] + 0.5
    )


SMALLEST_TEXT = """() => {
  // every text node the page shows (below the fold too), at the size it is drawn on screen:
  // SVG text scaled by the SVG's transform to the screen, HTML text by any CSS transform
  const sizes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest('style, script, title')) continue;
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
    if (!rects.length) continue;
    let size = parseFloat(getComputedStyle(el).fontSize);
    if (el instanceof SVGElement) {
      const m = el.getScreenCTM();
      size *= Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
    } else {
      for (let a = el; a; a = a.parentElement) {
        const t = getComputedStyle(a).transform;
        if (t && t !== 'none') {
          const m = new DOMMatrix(t);
          size *= Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
        }
      }
    }
    sizes.push([size, node.textContent.trim().slice(0, 40)]);
  }
  sizes.sort((a, b) => a[0] - b[0]);
  return sizes;
}"""


def test_projector_mode_holds_the_lesson_year_map_headline_and_chart_on_one_screen(
    page, tmp_path: Path
):
    choose_lesson(page, LOAN_LESSON)  # the longest lesson text with two levers
    for selector in (
        ".cloudrace-lesson h2",
        ".cloudrace-try",
        ".cloudrace-year",
        ".cloudrace-map svg",
        ".cloudrace-headline",
        ".cloudrace-focus svg",
        ".cloudrace-lever",
    ):
        assert inside_screen(page, selector), f"{selector} is not inside 1366 x 768"
    visible = [
        name
        for name in DEVELOPER_CONTROLS
        if page.get_by_text(name, exact=False).filter(visible=True).count()
    ]
    assert not visible, f"developer controls or badges on screen: {visible}"
    sizes = page.evaluate(SMALLEST_TEXT)
    assert len(sizes) > 100 and any(text == "2010" for _, text in sizes)  # tick labels measured
    too_small = [(round(size, 1), text) for size, text in sizes if size < MIN_TEXT_PX - 0.01]
    assert not too_small, f"text smaller than {MIN_TEXT_PX} px on screen: {too_small[:8]}"
    assert page.locator(".cloudrace-lever", has_text="China's loans (× lesson): 1").count()
    page.screenshot(path=screenshot_dir(tmp_path) / "app-start.png")


def _points(page, css: str, label: str) -> list[tuple[float, float]]:
    text = page.locator(
        f'.cloudrace-focus polyline.{css}[data-label="{label}"]'
    ).first.get_attribute("points")
    return [tuple(map(float, pair.split(","))) for pair in text.split()]


def test_a_lever_change_keeps_the_ghost_and_the_same_random_history(page, tmp_path: Path):
    choose_lesson(page, LOAN_LESSON)
    step(page, FORK_STEP)
    set_lever_to_minimum(page, "China's loans (× lesson)")
    page.locator(".cloudrace-notice", has_text="From 2016 on: China's loans × 0").wait_for()
    step(page, 6)
    assert page.locator(".cloudrace-focus polyline.ghost").count() == 4
    # the screen shows the engine's replay of the lesson forked at the change, same seed
    base = RunKey(LOAN_LESSON, 1, ((0, Levers()),))
    forked = base.changed_at(FORK_STEP, Levers(china_financing=0.0))
    strip = page.locator(".cloudrace-headline").inner_text()
    for _, items in headline(get_run(forked), FORK_STEP + 6, get_run(base)):
        for state, now, before in items:
            assert f"{state} {now} (before {before})" in strip, strip
    for label in ("Huawei", "Alibaba", "AWS + Microsoft", "put off"):
        current, ghost = _points(page, "current", label), _points(page, "ghost", label)
        assert current[:FORK_STEP] == ghost[:FORK_STEP], f"{label}: history differs"
    # and the lever did something after the fork, on the lesson's own chart
    assert any(
        _points(page, "current", label) != _points(page, "ghost", label)
        for label in ("Huawei", "Alibaba", "AWS + Microsoft", "put off")
    )
    page.get_by_role("button", name="▶ Play").click()
    page.locator(".cloudrace-year", has_text="2025 ✓").wait_for(timeout=60_000)
    page.screenshot(path=screenshot_dir(tmp_path) / "app-projector.png")


def saved_folders(root: Path) -> set[Path]:
    """The class runs saved in ``root`` (not the hidden folders a save is written in)."""
    return {path for path in root.iterdir() if not path.name.startswith(".")}


def region(picture, box):
    """The pixels (RGB, as integers) of ``picture`` inside a Playwright bounding ``box``."""
    import numpy as np

    left, top = round(box["x"]), round(box["y"])
    right, bottom = round(box["x"] + box["width"]), round(box["y"] + box["height"])
    return np.asarray(picture.convert("RGB").crop((left, top, right, bottom)), dtype=int)


def test_the_debrief_saves_the_screen_as_the_class_sees_it_and_the_numbers(
    page, save_root: Path, tmp_path: Path
):
    import io

    import numpy as np
    from PIL import Image

    choose_lesson(page, LOAN_LESSON)
    step(page, 6)
    set_lever_to_minimum(page, "China's loans (× lesson)")
    step(page, 8)
    page.get_by_role("button", name="Debrief").click()
    page.locator(".cloudrace-debrief", has_text="Governments dependent on China").wait_for()
    assert inside_screen(page, ".cloudrace-debrief table")
    assert inside_screen(page, ".cloudrace-map svg")
    initially = saved_folders(save_root)
    before = set(initially)
    for scroll in (0, SCROLLED_PX):  # as the page first shows, then scrolled down a little
        if scroll:
            page.mouse.move(900, 400)
            page.mouse.wheel(0, scroll)
            page.wait_for_timeout(500)
        map_box = page.locator(".cloudrace-map svg").bounding_box()
        with Image.open(io.BytesIO(page.screenshot())) as seen:  # this moment, by Playwright
            seen_map = region(seen, map_box)
        count = len(saved_folders(save_root))
        page.get_by_role("button", name=SAVE_LABEL).click()
        deadline = time.monotonic() + 60
        while len(saved_folders(save_root)) == count:
            assert time.monotonic() < deadline, "nothing saved"
            time.sleep(0.1)
        (folder,) = saved_folders(save_root) - before
        before.add(folder)
        with Image.open(folder / "class-run.png") as picture:
            assert picture.size == (PROJECTOR["width"], PROJECTOR["height"])
            pixels = np.asarray(picture.convert("RGB"), dtype=int)
            assert pixels.std() > 20 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
            saved_map = region(picture, map_box)
        difference = np.abs(saved_map - seen_map)
        assert difference.mean() < MAP_MEAN_DIFFERENCE, f"map differs: {difference.mean():.1f}"
        close = (difference.max(axis=2) <= PIXEL_TOLERANCE).mean()
        assert close > MAP_PIXELS_CLOSE, f"only {close:.1%} of the map's pixels match"
    page.mouse.wheel(0, -SCROLLED_PX)
    page.locator(".cloudrace-saved", has_text="Saved in").wait_for()
    page.wait_for_timeout(500)
    page.screenshot(path=screenshot_dir(tmp_path) / "app-debrief.png")
    saved = sorted(before - initially)
    assert len(saved) == 2, "the second save must not overwrite the first"
    for folder in saved:
        with (folder / "numbers.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        assert [row["year"] for row in rows if row["run"] == "this run"] == [
            str(year) for year in range(2006, 2020)
        ]
        assert len([row for row in rows if row["run"] == "previous run"]) == 14


def test_milestones_are_on_the_time_axis_and_in_the_ticker(page):
    title = "4. Export controls"
    choose_lesson(page, title)
    run = get_run(RunKey(title, 1, ((0, Levers()),)))
    expected = [round(marker.year, 2) for marker in milestone_markers(run_events(run))]
    markers = page.locator(".cloudrace-focus g.milestone")
    shown = [float(markers.nth(i).get_attribute("data-year")) for i in range(markers.count())]
    assert shown == expected and 2019.37 in shown and 2025.0 in shown
    xs = [markers.nth(i).locator("line").bounding_box()["x"] for i in range(markers.count())]
    assert xs == sorted(xs)
    axis = page.locator(".cloudrace-focus svg").bounding_box()
    assert all(axis["x"] < x < axis["x"] + axis["width"] for x in xs)
    step(page, 14)  # the year 2019 closes: its milestones lead the ticker
    page.locator(".cloudrace-ticker p.milestone", has_text="2019 ★ Entity List").wait_for()
    ticker = page.locator(".cloudrace-ticker p")
    assert ticker.count() == 20
    assert (
        page.locator(".cloudrace-ticker").evaluate("el => getComputedStyle(el).overflowY") == "auto"
    )
