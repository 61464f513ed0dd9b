"""Benchmark: round latency of the classroom game with 30 connected screens.

A session of the baseline (all 165 governments) is opened with 29 roles claimed (China, the
US, Huawei, AWS, Microsoft and 24 governments), then ``cloudrace classroom`` serves it on
127.0.0.1. One Debian chromium opens 30 browser contexts: the teacher's screen and each
player's own link. Each round, 28 players submit, then the last one does. The round latency
is the time from that last click to the moment the last of the 30 screens shows the next
round: each page watches its own document (a ``MutationObserver``) and notes the wall-clock
time at which its round heading shows the next round and, on a player's screen, the new
round's status line under the form (so the card and the form are there too). The click's time
is taken in the clicking page; all pages share the machine's clock. Target (issue 15): at most
1 s.

Where the time goes is printed beside it: CPU seconds of the server process, of Chromium's
processes and of Playwright's driver from the click until every screen was checked, the pages'
own script, layout and style time (Chromium's counters), the load average and, with
``--traffic``, the websocket messages sent to the pages. The game has one round more than the
changes measured, so it never reaches its debrief (which reruns the game once per player:
slower by design, and not a round change).

    python benchmarks/bench_classroom.py [--rounds 4] [--traffic]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_app import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (benchmarks/ is on the path)

from sim.game.engine import Game  # noqa: E402
from sim.model import BASELINE  # noqa: E402

GOVERNMENTS = (
    "IND",
    "BRA",
    "MEX",
    "IDN",
    "SAU",
    "TUR",
    "NGA",
    "THA",
    "ARG",
    "ZAF",
    "PHL",
    "MYS",
    "BGD",
    "VNM",
    "COL",
    "PAK",
    "EGY",
    "CHL",
    "PER",
    "KAZ",
    "MAR",
    "KEN",
    "ETH",
    "ZMB",
)
WATCH = """([heading, status]) => {
  window.__shown = null;
  const done = () => {
    const round = document.querySelector('.game-round');
    const line = status ? document.querySelector('.game-status') : null;
    return round && round.textContent.includes(heading)
      && (!status || (line && line.textContent.includes(status)));
  };
  const observer = new MutationObserver(() => {
    if (window.__shown === null && done()) { window.__shown = Date.now(); observer.disconnect(); }
  });
  observer.observe(document.body, {childList: true, subtree: true, characterData: true});
}"""
CLICK = """(button) => new Promise((resolve) => {
  button.addEventListener('click', () => resolve(Date.now()), {capture: true, once: true});
  button.click();
})"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(sessions: Path, port: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "classroom",
            "bench",
            "--sessions",
            str(sessions),
            "--port",
            str(port),
        ],
        cwd=REPO,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return process
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start:\n" + log.read_text())


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU seconds of these processes (those gone since count as 0)."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def browsers(server: psutil.Process) -> tuple[list[psutil.Process], list[psutil.Process]]:
    """This process's descendants but the server: (Chromium's processes, Playwright's driver)."""
    children = [
        child for child in psutil.Process().children(recursive=True) if child.pid != server.pid
    ]
    chromium = [child for child in children if "chromium" in child.name()]
    return chromium, [child for child in children if child not in chromium]


METRICS = {"ScriptDuration": "script", "LayoutDuration": "layout", "RecalcStyleDuration": "style"}


def page_metrics(sessions) -> dict[str, float]:
    """Seconds the pages' main threads have spent on script, layout and style, summed over the
    pages (Chromium's own counters, through the DevTools protocol)."""
    total = dict.fromkeys(METRICS.values(), 0.0)
    for session in sessions:
        for metric in session.send("Performance.getMetrics")["metrics"]:
            if metric["name"] in METRICS:
                total[METRICS[metric["name"]]] += metric["value"]
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="round changes to measure")
    parser.add_argument(
        "--traffic",
        action="store_true",
        help="also count the websocket messages to the pages (costs CPU)",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rounds = args.rounds + 1  # the game never reaches its debrief
    with tempfile.TemporaryDirectory() as scratch:
        sessions = Path(scratch)
        game = Game.open(
            sessions, "bench", BASELINE, 2025, rounds, round_seconds=3600, governments=GOVERNMENTS
        )
        code = game.join_code
        links = [
            f"/?{urlencode({'code': code, 'token': game.claim(role, role, code)})}"
            for role in game.roles
        ]
        teacher_link = f"/teacher?key={game.state['teacher_key']}"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(sessions, port, sessions / "server.log")
        server_process = psutil.Process(server.pid)
        latencies, rows, frames = [], [], []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                started = time.monotonic()
                screens = []
                for link in [teacher_link, *links]:  # all load at once
                    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
                    page.set_default_timeout(120_000)
                    if args.traffic:  # every frame goes through Playwright's driver: not free
                        page.on(
                            "websocket",
                            lambda ws: ws.on(
                                "framereceived", lambda payload: frames.append(len(payload))
                            ),
                        )
                    page.goto(base + link, wait_until="commit")
                    screens.append(page)
                for page in screens:
                    page.locator(".game-round").first.wait_for()
                devtools = [page.context.new_cdp_session(page) for page in screens]
                for session in devtools:
                    session.send("Performance.enable")
                print(
                    f"{len(screens)} screens connected ({len(links)} players and the "
                    f"teacher) in {time.monotonic() - started:.0f} s",
                    flush=True,
                )
                players = screens[1:]
                for number in range(1, args.rounds + 1):
                    for page in players[:-1]:
                        page.get_by_role("button", name="Submit decision").click()
                        page.locator(".game-message").wait_for()
                    heading = f"Round {number + 1} of {rounds}"
                    for index, page in enumerate(screens):
                        page.evaluate(WATCH, [heading, f"Round {number + 1}:" if index else ""])
                    time.sleep(1.0)  # let the submissions' redraws settle
                    chromium, driver = browsers(server_process)
                    quiet = [cpu_seconds(group) for group in ([server_process], chromium)]
                    time.sleep(1.0)  # the cost of 30 screens doing nothing
                    idle = [
                        cpu_seconds(group) - start
                        for group, start in zip(([server_process], chromium), quiet, strict=True)
                    ]
                    before = [cpu_seconds(group) for group in ([server_process], chromium, driver)]
                    metrics_before = page_metrics(devtools)
                    frames.clear()
                    button = players[-1].get_by_role("button", name="Submit decision")
                    clicked = button.evaluate(CLICK) / 1000
                    for page in screens:
                        page.wait_for_function("window.__shown !== null", polling=100)
                    latency = (
                        max(page.evaluate("window.__shown") for page in screens) / 1000 - clicked
                    )
                    server_cpu, browser_cpu, driver_cpu = (
                        cpu_seconds(group) - start
                        for group, start in zip(
                            ([server_process], chromium, driver), before, strict=True
                        )
                    )
                    spent = {
                        name: value - metrics_before[name]
                        for name, value in page_metrics(devtools).items()
                    }
                    latencies.append(latency)
                    rows.append((server_cpu, browser_cpu))
                    print(
                        f"round {number} -> {number + 1}: {latency:.2f} s from the last submit "
                        f"to the new state on all {len(screens)} screens (CPU until all "
                        f"checked: server {server_cpu:.2f} s, Chromium {browser_cpu:.2f} s, "
                        f"Playwright's driver {driver_cpu:.2f} s; "
                        f"load average {os.getloadavg()[0]:.1f})\n    pages' main threads: "
                        + ", ".join(f"{name} {value:.2f} s" for name, value in spent.items())
                        + f"; idle before the click: server {idle[0]:.2f} s, Chromium "
                        f"{idle[1]:.2f} s of CPU a second"
                        + (
                            f"; websocket to the pages: {len(frames)} messages, "
                            f"{sum(frames) / 1000:.0f} kB"
                            if args.traffic
                            else ""
                        ),
                        flush=True,
                    )
                browser.close()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
    print(
        f"round latency with {len(screens)} browser contexts: median "
        f"{statistics.median(latencies):.2f} s, max {max(latencies):.2f} s over "
        f"{len(latencies)} round changes (target <= 1 s; {os.cpu_count()} cores, load "
        f"average {os.getloadavg()[0]:.1f}); CPU per round change, median: server "
        f"{statistics.median(r[0] for r in rows):.2f} s, Chromium "
        f"{statistics.median(r[1] for r in rows):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
