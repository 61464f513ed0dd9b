"""The classroom server's ASGI app: Solara's Starlette app behind the join gate.

``cloudrace classroom`` (``sim.game.server``) starts uvicorn with ``--factory`` on
``sim.game.asgi:create_app``, with the session folder and ``SOLARA_APP=sim.game.app`` in the
environment; the gate reads the session's join code and teacher key from the saved session.
A factory, so that importing this module does nothing (no Solara server, no environment read).
"""

from __future__ import annotations

import os
from pathlib import Path

from sim.game import store
from sim.game.gate import JoinGate, cookie_name
from sim.game.presence import PRESENCE
from sim.game.server import SESSION_ENV


def create_app() -> JoinGate:
    """Solara's Starlette app behind the join gate of the session named in the environment."""
    from solara.server.starlette import app as solara_app

    state = store.load_session(Path(os.environ[SESSION_ENV]))
    return JoinGate(
        solara_app, state["join_code"], state["teacher_key"], cookie_name(state["name"]), PRESENCE
    )
