"""The classroom game's Solara app: one shared game, a teacher's screen and students' screens.

Started by ``cloudrace classroom`` (``sim.game.server``), which opens the session and passes its
folder in the environment. Every connection (browser tab) renders ``Page`` against the same
``Game`` object in this process, so all screens share one model and one set of role cards,
computed once per round; each connection watches the game's ``version`` in a thread and
re-renders when what it shows changes. Countdowns tick in the browser (no server traffic).

Routes: ``/teacher?key=...`` is the teacher's screen (the key is printed when the server
starts); ``/`` is a student's. Every request has passed the join gate (``sim.game.gate``), so
a connection here holds the join code (in the address or the gate's cookie); a player's link
adds the secret token that acts for their role.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import ipyvuetify
import markdown
import solara
import solara.lab
import traitlets
from solara.server import kernel_context

from sim.game.engine import Game
from sim.game.gate import cookie_name
from sim.game.presence import PRESENCE
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
    PRESENCE.on_change = GAME.touch


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


class CountdownWidget(ipyvuetify.VuetifyTemplate):
    """Time left in the round, counted down in the browser from ``seconds`` at ``stamp``.

    The server sends the seconds left when the round opens or is extended (a new ``stamp``);
    the browser ticks on its own clock, so thirty countdowns cost the server nothing.
    """

    seconds = traitlets.Float(0.0).tag(sync=True)
    stamp = traitlets.Unicode("").tag(sync=True)
    template = traitlets.Unicode("""
<template><span class="game-countdown" style="font-size: 1.3em; font-weight: bold"
  >{{ text }}</span></template>
<script>
module.exports = {
  data() { return {text: "", end: 0, timer: null}; },
  mounted() { this.restart(); this.timer = setInterval(this.show, 1000); },
  destroyed() { clearInterval(this.timer); },
  watch: { stamp() { this.restart(); } },
  methods: {
    restart() { this.end = Date.now() + 1000 * this.seconds; this.show(); },
    show() {
      // To the second in the last minute, to 5 s before: an unchanged text redraws nothing.
      const exact = Math.max(0, Math.ceil((this.end - Date.now()) / 1000));
      const left = exact > 60 ? 5 * Math.ceil(exact / 5) : exact;
      this.text = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") + " left";
    },
  },
};
</script>""").tag(sync=True)


def Countdown(game: Game):
    """The round's countdown (restarted when the round opens or the teacher extends it)."""
    return CountdownWidget.element(
        seconds=round(game.seconds_left(), 1), stamp=f"{game.round_index}:{game.deadline:.3f}"
    )


@solara.component
def Markdown(text: str, style: dict | None = None) -> None:
    """Markdown rendered here, as HTML: ``solara.Markdown`` would load mermaid from a CDN."""
    solara.HTML(
        tag="div",
        unsafe_innerHTML=markdown.markdown(text, extensions=["tables"]),
        style=style or {},
    )


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
    # No transitions or animations: thirty screens repainting each frame of a fade cost more
    # than the round's change itself.
    solara.Style(
        "table {border-collapse: collapse; margin: 4px 0} td, th {border: 1px solid "
        "#ccc; padding: 2px 8px; text-align: left} *, *::before, *::after "
        "{transition: none !important; animation: none !important}"
    )
    with solara.Column(style={"padding": "12px", "max-width": "1340px"}):
        if GAME is None:
            solara.Error("No game session: start the server with `cloudrace classroom`.")
        else:
            solara.Column(children=list(children))


def use_presence(role: str | None) -> None:
    """Tell the teacher's screen that this connection shows ``role`` (until it closes)."""
    kernel = kernel_context.get_current_context().id

    def attach():
        if role is None:
            return None
        PRESENCE.attach(kernel, role)
        return lambda: PRESENCE.detach(kernel)

    solara.use_effect(attach, [role])


@solara.component
def StudentPage() -> None:
    """A student's screen: a role to choose, then the role card."""
    from sim.game.student import ClaimScreen, StudentScreen

    game = GAME
    router = solara.use_router()
    query = parse_qs(router.search or "")
    token = query_value(query, "token")
    version = use_game_watch(
        game,
        lambda: (
            game
            and (
                game.round_index,
                game.role_of(token),
                len(game.state["claims"]) if game.role_of(token) is None else 0,
            )
        ),
    )
    role = game.role_of(token) if game else None
    use_presence(role)
    if game is None:
        return
    # The gate let this connection in with the code in the address or in its cookie.
    cookies = solara.lab.cookies.value or {}
    code = query_value(query, "code") or cookies.get(cookie_name(game.state["name"]))
    if role is None:
        ClaimScreen(game, code, version, on_token=lambda new: router.push(student_link(code, new)))
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
        solara.Error(
            "This is the teacher's screen: open the address printed when the server started."
        )


routes = [
    solara.Route(path="/", component=StudentPage, layout=Layout),
    solara.Route(path="teacher", component=TeacherPage),
]
