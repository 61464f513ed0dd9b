"""The classroom game in a real browser: a teacher and six students play three rounds.

``cloudrace classroom`` serves a session on a free port (front-end files from the local cache);
one Debian chromium, driven by Playwright through its path, opens a context for the teacher and
one per student. China, AWS, Huawei, Kenya and Indonesia play; the United States joins and never
submits (the model keeps its defaults); the AWS player drops out in round 2 and rejoins from
their link; the teacher injects an export control and closes each round; the game ends in the
debrief. Along the way: no request leaves the machine (every other address is refused and
recorded), the join code is needed, and a player cannot take or act for another role.

Screenshots at 1366x768 go to the test's temporary folder, or to ``$CLOUDRACE_SCREENSHOT_DIR``
(``CLOUDRACE_SCREENSHOT_DIR=docs/images`` refreshes the documentation's ``game-*.png``).
Without chromium, Playwright or the front-end cache the test skips with the reason; with
``CLOUDRACE_REQUIRE_BROWSER=1`` it fails instead.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from test_app_browser import CHROMIUM, CHROMIUM_ARGS, unavailable

from sim.model import BASELINE

VIEWPORT = {"width": 1366, "height": 768}
COUNTRIES = ["KEN", "IDN", "BRA", "SAU", "ZMB", "NGA", "GHA", "EGY", "VNM", "MEX", "PAK", "ETH"]
PLAYERS = {
    "China": "Ana",
    "US": "Ben",
    "AWS": "Chloe",
    "Huawei": "Dev",
    "KEN": "Esi",
    "IDN": "Farid",
}
TITLES = {
    "China": "China",
    "US": "the United States",
    "AWS": "AWS",
    "Huawei": "Huawei",
    "KEN": "the government of Kenya",
    "IDN": "the government of Indonesia",
}
START_SECONDS = 90


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """`cloudrace classroom` on a free port: (base URL, teacher key, join code, folder)."""
    reason = unavailable()
    if reason and os.environ.get("CLOUDRACE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser test required but cannot run: {reason}")
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("classroom")
    lesson = folder / "small.yaml"
    lesson.write_text(
        yaml.safe_dump(
            {
                "extends": str(BASELINE),
                "description": "A small world for the browser test.",
                "population": {"only": COUNTRIES},
                "demand": {"tender_rate": 1.5},
            }
        )
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log_path = folder / "server.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "classroom",
            "lesson1",
            "--sessions",
            str(folder / "sessions"),
            "--lesson",
            str(lesson),
            "--rounds",
            "3",
            "--port",
            str(port),
            "--round-seconds",
            "900",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert process.poll() is None, "the server exited:\n" + log_path.read_text()
            try:
                with urllib.request.urlopen(base + "/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "no answer:\n" + log_path.read_text()
            time.sleep(0.3)
        text = log_path.read_text()
        key = re.search(r"teacher\?key=(\S+)", text)[1]
        code = re.search(r"join code (\w+)", text)[1]
        yield base, key, code, folder / "sessions" / "lesson1", log_path
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


class Browser:
    """One chromium with a context per screen; records failures and off-machine requests."""

    def __init__(self, browser, base: str) -> None:
        self.browser = browser
        self.base = base
        self.failures: list[str] = []
        self.outside: list[str] = []

    def open(self, path: str):
        context = self.browser.new_context(viewport=VIEWPORT)
        context.route("**/*", self._route)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda error: self.failures.append(f"page error: {error}"))
        page.on(
            "response",
            lambda response: (
                self.failures.append(f"HTTP {response.status} {response.url}")
                if response.status >= 400 and not response.url.endswith("favicon.ico")
                else None
            ),
        )
        page.goto(self.base + path, wait_until="networkidle")
        return page

    def _route(self, route) -> None:
        if route.request.url.startswith(self.base) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()


def join(browser: Browser, code: str, role: str):
    """A student types the code, their name, and takes a role; returns their page."""
    page = browser.open("/")
    page.get_by_label("Join code").fill(code.lower())
    page.get_by_role("button", name="Join").click()
    page.get_by_label("Your name").fill(PLAYERS[role])
    page.get_by_role("button", name=TITLES[role], exact=True).click()
    page.get_by_text(f"{PLAYERS[role]}: you are {TITLES[role]}").wait_for()
    return page


def submit(page, round_number: int) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Submit decision").click()
    expect(page.locator(".game-message")).to_contain_text(f"round {round_number}:")


def decide(pages: dict, role: str, round_number: int) -> None:
    """Each role's decision for the round, through its form."""
    page = pages[role]
    page.get_by_text(f"Round {round_number} of 3").wait_for()
    if role == "China":
        page.get_by_label("Loan budget", exact=False).fill("900")
        page.get_by_label("Promotion of your own", exact=False).fill("0.9")
    elif role == "AWS":
        page.get_by_role("button", name="-10 %").click()
        page.get_by_role("button", name="Africa").click()
    elif role in ("KEN", "IDN"):
        choices = page.locator(".v-select")
        if choices.count():  # the first bid on the first tender
            choices.first.click()
            page.locator(".menuable__content__active [role=option]").nth(1).click()
            page.locator(".menuable__content__active").wait_for(state="hidden")
    submit(page, round_number)


def wait_round(page, round_number: int) -> None:
    page.locator(".game-round").get_by_text(f"Round {round_number} of 3").wait_for()


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CLOUDRACE_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_class_plays_three_rounds_to_the_debrief(classroom, tmp_path):
    from playwright.sync_api import sync_playwright

    base, key, code, session, log_path = classroom
    folder = shots(tmp_path)
    with sync_playwright() as playwright:
        browser = Browser(
            playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS), base
        )
        try:
            # A wrong teacher's key gets the gate's join form, not the teacher's screen.
            intruder = browser.open("/teacher?key=wrong")
            intruder.get_by_text("Type the join code").wait_for()
            assert intruder.get_by_text("Join code:").count() == 0
            intruder.context.close()
            teacher = browser.open(f"/teacher?key={key}")
            teacher.get_by_text(f"Join code: {code}").wait_for()
            pages = {role: join(browser, code, role) for role in PLAYERS}
            aws_link = pages["AWS"].url
            assert "token=" in aws_link

            # Nobody can take or act for another's role: the code is needed, a taken role
            # cannot be claimed, a made-up token holds no role.
            stranger = browser.open("/")
            stranger.get_by_text("Type the join code").wait_for()
            stranger.goto(f"{base}/?code={code}&token=made-up", wait_until="networkidle")
            stranger.get_by_text("Choose your role").wait_for()
            assert stranger.get_by_role("button", name="China (taken)").is_disabled()
            assert stranger.get_by_text("you are").count() == 0
            stranger.context.close()

            # Round 1: everyone but the United States decides; the teacher adds an event.
            teacher.get_by_role("button", name="Export control").click()
            teacher.get_by_role("button", name="Inject").click()
            teacher.get_by_text("This round: US imposes an export control on Huawei").wait_for()
            for role in ("China", "AWS", "Huawei", "KEN", "IDN"):
                decide(pages, role, 1)
            teacher.locator("table").first.get_by_text("yes").nth(4).wait_for()
            pages["KEN"].screenshot(path=folder / "game-student.png")
            teacher.evaluate("window.scrollTo(0, 0)")  # the join code and the players
            teacher.screenshot(path=folder / "game-teacher.png")
            teacher.get_by_role("button", name="Close the round now").click()
            for page in (teacher, *pages.values()):
                wait_round(page, 2)

            # Round 2: the AWS player drops out before deciding and comes back from their link;
            # the teacher sees them disconnected, then connected again.
            aws_row = teacher.locator("tr", has_text=PLAYERS["AWS"])
            aws_row.get_by_text("connected", exact=True).wait_for()
            pages["AWS"].context.close()
            aws_row.get_by_text("disconnected", exact=True).wait_for()
            for role in ("China", "Huawei", "KEN", "IDN"):
                decide(pages, role, 2)
            pages["AWS"] = browser.open(aws_link.removeprefix(base))
            pages["AWS"].get_by_text(f"{PLAYERS['AWS']}: you are AWS").wait_for()
            aws_row.get_by_text("connected", exact=True).wait_for()
            decide(pages, "AWS", 2)
            teacher.get_by_role("button", name="Close the round now").click()
            for page in (teacher, *pages.values()):
                wait_round(page, 3)

            # Round 3, then the debrief.
            for role in ("China", "AWS", "Huawei", "KEN", "IDN"):
                decide(pages, role, 3)
            teacher.get_by_role("button", name="Close the round now").click()
            teacher.get_by_text("Which decisions moved the outcome most").wait_for(timeout=60_000)
            for page in pages.values():
                page.get_by_text("The game is over").wait_for()
            debrief = teacher.inner_text("body")
            for title in (
                "China",
                "AWS",
                "Huawei",
                "the government of Kenya",
                "the teacher's events",
            ):
                assert f"\n{title}\t" in debrief, title
            assert "the United States\t" not in debrief.split("moved the outcome most")[1]
            teacher.screenshot(path=folder / "game-debrief.png", full_page=True)
        finally:
            browser.browser.close()
    assert not browser.failures, "\n".join(browser.failures)
    assert not browser.outside, f"requests off the machine: {browser.outside}"
    assert "Could not load URL" not in log_path.read_text(), "the server fetched from outside"

    played = yaml.safe_load((session / "scenario.yaml").read_text())
    china = played["states"]["China"]["financing_budget_usd_m"]
    assert china[2025] == china[2026] == china[2027] == 900
    assert "US" not in played["states"] or "financing_budget_usd_m" not in played["states"]["US"]
    assert [
        entry["start"] for entry in played["hand"]["bidding"] if entry["provider"] == "AWS"
    ] == [2025, 2026, 2027]
    assert {"target": "Huawei", "start": 2025} in played["states"]["US"]["export_controls"]


def test_the_server_refuses_every_request_without_the_join_code(classroom):
    """Solara's page, static files, CDN files and websocket: refused without the code, served
    with it (the cookie the gate sets on the first request with the code)."""
    import urllib.error

    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    base, key, code, session, log_path = classroom

    def get(path: str, cookie: str | None = None):
        request = urllib.request.Request(base + path, headers={"Cookie": cookie} if cookie else {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers

    status, text, _ = get("/")
    assert status == 200 and "Type the join code" in text and "solara" not in text.lower()
    status, text, headers = get(f"/?code={code}")
    assert status == 200 and "solara" in text.lower()
    cookie = next(
        value.split(";")[0]
        for value in headers.get_all("Set-Cookie")
        if value.startswith("cloudrace-join-")
    )
    assets = sorted(set(re.findall(r'(?:src|href)="(/(?:static|_solara)/[^"?]+)', text)))
    assert assets, "no static or CDN file on Solara's page"
    for asset in assets[:4]:
        assert get(asset)[0] == 403, asset
        assert get(asset, cookie)[0] == 200, asset
    socket_url = base.replace("http", "ws") + "/jupyter/api/kernels/gate-test/channels"
    with pytest.raises(InvalidStatus) as refused:
        connect(socket_url + "?session_id=gate-test", open_timeout=30).close()
    assert refused.value.response.status_code == 403
    with connect(
        socket_url + "?session_id=gate-test", additional_headers={"Cookie": cookie}, open_timeout=30
    ) as opened:
        assert opened.protocol.state.name == "OPEN"
