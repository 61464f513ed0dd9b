"""The classroom game's Solara app: one shared game, a teacher's screen and students' screens.

Started by ``cloudrace classroom`` (``sim.game.server``), which opens the session and passes its
folder in the environment. Every connection (browser tab) renders ``Page`` against the same
``Game`` object in this process, so all screens share one model; each connection watches the
game's ``version`` in a thread and re-renders when it changes.

Routes: ``/teacher?key=...`` is the teacher's screen (the key is printed when the server
starts); ``/?code=...`` is a student's (the class's join code is needed on every connection, and
a player's link adds the secret token that acts for their role).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import markdown
import solara

from sim.game.engine import Game
from sim.game.server import SESSION_ENV, URL_ENV


def load_game() -> Game:
    """The game of the session folder named in the environment (opened by the server)."""
    return Game.resume(Path(os.environ[SESSION_ENV]))


def run_clock(game: Game, interval: float = 0.2) -> None:
    """Close rounds whose countdown is over (a daemon thread for the server's lifetime)."""
    def loop() -> None:
        while True:
            game.tick()
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="game-clock", daemon=True)
    # Solara gives a new thread the browser connection (kernel) it was started from; the
    # clock belongs to no connection, so it must not hold the first one's.
    thread.current_context = None
    thread.start()


GAME = load_game() if SESSION_ENV in os.environ else None
if GAME is not None:
    run_clock(GAME)


def use_game_watch(game: Game | None, what: Callable[[], Any]) -> Any:
    """``what()`` now, re-rendering this connection whenever the game changes it.

    A student's screen watches the round (not every submission, which would redraw 30 screens
    29 times a round); the teacher's watches every change. Screens take the value as an
    argument: a component whose arguments are unchanged is not rendered again.
    """
    value, set_value = solara.use_state(what())

    def watch(cancel: threading.Event) -> None:
        if game is None:
            return
        version, seen = game.version, what()
        while not cancel.is_set():
            version = game.wait_for_change(version, timeout=1.0)
            now = what()
            if now != seen:
                seen = now
                set_value(now)

    solara.use_thread(watch, dependencies=[game], intrusive_cancel=False)
    return value


@solara.component
def Countdown(game: Game) -> None:
    """Time left in the round (updated every 5 s, every second in the last minute)."""
    _, set_tick = solara.use_state(0)

    def tick(cancel: threading.Event) -> None:
        # Every 5 s while more than a minute is left: 30 screens redrawn every second would
        # cost the server more than the rest of the round.
        while not cancel.wait(1.0 if game.seconds_left() <= 60 else 5.0):
            set_tick(lambda value: value + 1)

    solara.use_thread(tick, dependencies=[], intrusive_cancel=False)
    left = int(game.seconds_left() + 0.999)
    solara.Text(f"{left // 60}:{left % 60:02d} left", classes=["game-countdown"],
                style={"font-size": "1.3em", "font-weight": "bold"})


@solara.component
def Markdown(text: str, style: dict | None = None) -> None:
    """Markdown rendered here, as HTML: ``solara.Markdown`` would load mermaid from a CDN."""
    solara.HTML(tag="div", unsafe_innerHTML=markdown.markdown(text, extensions=["tables"]),
                style=style or {})


def query_value(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def student_link(code: str, token: str | None = None) -> str:
    """The path a student's screen lives at (the token makes it a player's own link)."""
    return "/?" + urlencode({"code": code, **({"token": token} if token else {})})


@solara.component
def Layout(children=()) -> None:
    """Every screen: the title and the page's content."""
    solara.Title("Cloud Race — the class plays")
    solara.Style("table {border-collapse: collapse; margin: 4px 0} td, th {border: 1px solid "
                 "#ccc; padding: 2px 8px; text-align: left}")
    with solara.Column(style={"padding": "12px", "max-width": "1340px"}):
        if GAME is None:
            solara.Error("No game session: start the server with `cloudrace classroom`.")
        else:
            solara.Column(children=list(children))


@solara.component
def StudentPage() -> None:
    """A student's screen: the join code first, then a role, then the role card."""
    from sim.game.student import ClaimScreen, CodeScreen, StudentScreen

    game = GAME
    router = solara.use_router()
    query = parse_qs(router.search or "")
    token = query_value(query, "token")
    version = use_game_watch(game, lambda: game and (
        game.round_index, game.role_of(token), len(game.state["claims"])
        if game.role_of(token) is None else 0))
    if game is None:
        return
    code = query_value(query, "code")
    if not game.check_code(code):
        CodeScreen(game, wrong=code is not None,
                   on_code=lambda typed: router.push(student_link(typed)))
        return
    role = game.role_of(token)
    if role is None:
        ClaimScreen(game, code, version,
                    on_token=lambda new: router.push(student_link(code, new)))
    else:
        StudentScreen(game, role, token, version)


@solara.component
def TeacherPage() -> None:
    """The teacher's screen, for the key printed when the server started."""
    from sim.game.teacher import TeacherScreen

    router = solara.use_router()
    version = use_game_watch(GAME, lambda: GAME and GAME.version)
    if GAME is None:
        return
    if GAME.is_teacher(query_value(parse_qs(router.search or ""), "key")):
        TeacherScreen(GAME, os.environ.get(URL_ENV, ""), version)
    else:
        solara.Error("This is the teacher's screen: open the address printed when the server "
                     "started.")


routes = [solara.Route(path="/", component=StudentPage, layout=Layout),
          solara.Route(path="teacher", component=TeacherPage)]
