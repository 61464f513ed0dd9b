"""Benchmark: round latency of the classroom game with 30 connected screens.

A session of the baseline (all 165 governments) is opened with 29 roles claimed (China, the
US, Huawei, AWS, Microsoft and 24 governments), then ``cloudrace classroom`` serves it on
127.0.0.1. One Debian chromium opens 30 browser contexts: the teacher's screen and each
player's own link. Each round, 28 players submit, then the last one does; the round latency is
the time from that last click to the moment every one of the 30 screens shows the next round
(checked screen by screen, so it is an upper bound). The last round's figure is the time to the
debrief on every screen (it reruns the game once per player: slower by design). Target
(issue 15): at most 1 s.

    python benchmarks/bench_classroom.py [--rounds 4]
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sim.game.engine import Game  # noqa: E402
from sim.model import BASELINE  # noqa: E402

GOVERNMENTS = ("IND", "BRA", "MEX", "IDN", "SAU", "TUR", "NGA", "THA", "ARG", "ZAF", "PHL",
               "MYS", "BGD", "VNM", "COL", "PAK", "EGY", "CHL", "PER", "KAZ", "MAR", "KEN",
               "ETH", "ZMB")
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(sessions: Path, port: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "classroom", "bench", "--sessions", str(sessions),
         "--port", str(port)], cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return process
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start:\n" + log.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch:
        sessions = Path(scratch)
        game = Game.open(sessions, "bench", BASELINE, 2025, args.rounds, round_seconds=3600,
                         governments=GOVERNMENTS)
        code = game.join_code
        links = [f"/?{urlencode({'code': code, 'token': game.claim(role, role, code)})}"
                 for role in game.roles]
        teacher_link = f"/teacher?key={game.state['teacher_key']}"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(sessions, port, sessions / "server.log")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                     args=CHROMIUM_ARGS)
                started = time.monotonic()
                screens = []
                for link in [teacher_link, *links]:
                    page = browser.new_context(viewport={"width": 1366, "height": 768}
                                               ).new_page()
                    page.set_default_timeout(120_000)
                    page.goto(base + link, wait_until="networkidle")
                    page.locator(".game-round").first.wait_for()
                    screens.append(page)
                print(f"{len(screens)} screens connected ({len(links)} players and the "
                      f"teacher) in {time.monotonic() - started:.0f} s")
                latencies = []
                for number in range(1, args.rounds + 1):
                    players = screens[1:]
                    for page in players[:-1]:
                        page.get_by_role("button", name="Submit decision").click()
                        page.locator(".game-message").wait_for()
                    clicked = time.monotonic()
                    players[-1].get_by_role("button", name="Submit decision").click()
                    following = f"Round {number + 1} of {args.rounds}" \
                        if number < args.rounds else None
                    for index, page in enumerate(screens):
                        if following:
                            page.locator(".game-round").get_by_text(following).wait_for()
                        elif index == 0:
                            page.get_by_text("Which decisions moved the outcome most").wait_for()
                        else:
                            page.get_by_text("The game is over").wait_for()
                    latency = time.monotonic() - clicked
                    label = f"round {number} -> {number + 1}" if following else \
                        f"round {number} -> debrief"
                    print(f"{label}: {latency:.2f} s from the last submit to the new state on "
                          f"all {len(screens)} screens")
                    if following:
                        latencies.append(latency)
                browser.close()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
    print(f"round latency with {len(links) + 1} browser contexts: median "
          f"{statistics.median(latencies):.2f} s, max {max(latencies):.2f} s "
          f"(target <= 1 s; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
