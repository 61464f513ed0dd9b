"""The classroom server's ASGI app: Solara's Starlette app behind the join gate.

``cloudrace classroom`` (``sim.game.server``) starts uvicorn on ``sim.game.asgi:app`` with the
session folder and ``SOLARA_APP=sim.game.app`` in the environment; the gate reads the session's
join code and teacher key from the saved session.
"""

from __future__ import annotations

import os
from pathlib import Path

from solara.server.starlette import app as solara_app

from sim.game import store
from sim.game.gate import JoinGate, cookie_name
from sim.game.presence import PRESENCE
from sim.game.server import SESSION_ENV

_state = store.load_session(Path(os.environ[SESSION_ENV]))
app = JoinGate(
    solara_app, _state["join_code"], _state["teacher_key"], cookie_name(_state["name"]), PRESENCE
)
