"""Play speed of the classroom app: simulated years per second with one and with six viewers.

Starts ``cloudrace app`` on a free port, opens headless Chromium (Debian's, through
Playwright's ``executable_path``) with 1, then 6 tabs at 1366 x 768 on the same lesson, presses
▶ in every tab and counts the years each tab shows over the time it plays (until the first tab
reaches the lesson's end or ``--seconds`` pass). Prints, for each number of viewers, the slowest
tab's and the mean years per second, the CPU seconds the server used per second of play (its
processes' user + system time, from ``/proc``) and the load average. The app's own pace while
playing is one year per ``PLAY_INTERVAL_S`` seconds, so that is the ceiling.

    .venv/bin/python benchmarks/bench_app.py [--viewers 1 6] [--seconds 8] [--lesson TITLE]

Needs the front-end cache (``make app-assets``) and chromium at ``/usr/bin/chromium`` (or
``$CLOUDRACE_CHROMIUM``). Figures depend on the machine and its load: quote them with both.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sim.app.app import PLAY_INTERVAL_S
from sim.app.classroom import BASELINE_TITLE

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, log: Path) -> subprocess.Popen:
    """``cloudrace app`` on ``port``, once it answers HTTP."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "app", "--port", str(port)],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "CLOUDRACE_CLASS_RUNS": str(log.parent / "class-runs")},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the app exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return process
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the app did not start within 120 s")


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and every process below it (Linux /proc)."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        stats[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tree = {pid}
    for _ in range(5):  # a few generations: cloudrace app -> solara -> its workers
        tree |= {child for child, (parent, _) in stats.items() if parent in tree}
    total = sum(ticks for child, (_, ticks) in stats.items() if child in tree)
    return total / os.sysconf("SC_CLK_TCK")


def year_shown(page) -> int:
    return int(page.locator(".cloudrace-year").inner_text().split()[0])


def open_viewer(browser, url: str, lesson: str):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.set_default_timeout(60_000)
    page.goto(url, wait_until="networkidle")
    page.locator(".cloudrace-map svg").wait_for()
    if lesson != BASELINE_TITLE:
        page.locator(".cloudrace-lesson-select .v-select__slot").click()
        page.get_by_role("option", name=lesson).click()
        page.locator(".cloudrace-lesson h2", has_text=lesson).wait_for()
    return page


def measure(
    browser, url: str, viewers: int, seconds: float, lesson: str, server: int
) -> tuple[list[float], float]:
    """Years per second of each of ``viewers`` tabs playing at the same time, and the CPU
    seconds the ``server`` process tree used per second of play."""
    pages = [open_viewer(browser, url, lesson) for _ in range(viewers)]
    try:
        starts = [year_shown(page) for page in pages]
        for page in pages:
            page.get_by_role("button", name="▶ Play").click()
        cpu = server_cpu_seconds(server)
        began = time.monotonic()
        while time.monotonic() - began < seconds:
            time.sleep(0.5)
            if any(page.locator(".cloudrace-year", has_text="✓").count() for page in pages):
                break
        elapsed = time.monotonic() - began
        cpu = (server_cpu_seconds(server) - cpu) / elapsed
        years = [year_shown(page) - start for page, start in zip(pages, starts, strict=True)]
        return [played / elapsed for played in years], cpu
    finally:
        for page in pages:
            page.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, nargs="+", default=[1, 6])
    parser.add_argument(
        "--seconds",
        type=float,
        default=8.0,
        help="how long each measurement plays at most (default 8)",
    )
    parser.add_argument("--lesson", default=BASELINE_TITLE)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-app-") as scratch:
        port = free_port()
        server = start_server(port, Path(scratch) / "server.log")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                url = f"http://127.0.0.1:{port}/"
                measure(browser, url, 1, 2.0, args.lesson, server.pid)  # warm up: first run
                print(
                    f"lesson: {args.lesson}; the app plays one year every "
                    f"{PLAY_INTERVAL_S} s at most ({1 / PLAY_INTERVAL_S:.2f} years/s)"
                )
                for viewers in args.viewers:
                    speeds, cpu = measure(
                        browser, url, viewers, args.seconds, args.lesson, server.pid
                    )
                    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
                    print(
                        f"{viewers} viewer(s): slowest {min(speeds):.2f} simulated years/s, "
                        f"mean {sum(speeds) / len(speeds):.2f} "
                        f"(each: {', '.join(f'{s:.2f}' for s in speeds)}); server CPU "
                        f"{cpu:.2f} s per s of play; load average {load} (1, 5, 15 min)",
                        flush=True,
                    )
                browser.close()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
