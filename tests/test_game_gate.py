"""The join gate in front of the classroom server, without a browser or a server.

The gate (``sim.game.gate``) is driven as an ASGI app around a stand-in app that answers 200
and records what reached it: a request without the join code never reaches the app (a page gets
the join form, anything else 403, a websocket is closed before it opens); with the code, the
teacher's key or the gate's cookie it does. The real server's endpoints are checked over HTTP in
``tests/test_game_browser.py``.
"""

from __future__ import annotations

import asyncio

import pytest

from sim.game.gate import JoinGate
from sim.game.presence import Presence

CODE, KEY, COOKIE = "ABC234", "teacher-secret", "cloudrace-join-lesson1"


class Inner:
    """A stand-in for Solara's app: answers 200 (accepts websockets), records the paths."""

    def __init__(self) -> None:
        self.reached: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        self.reached.append(scope["path"])
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept"})
            await receive()  # until the client leaves
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"solara"})


def call(
    gate: JoinGate, path: str, query: str = "", cookie: str | None = None, kind: str = "http"
) -> list[dict]:
    """One request through the gate; the messages it sent back."""
    headers = [(b"cookie", f"{COOKIE}={cookie}".encode())] if cookie else []
    scope = {
        "type": kind,
        "path": path,
        "query_string": query.encode(),
        "headers": headers,
        "method": "GET",
    }
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(gate(scope, receive, send))
    return sent


@pytest.fixture
def gate() -> JoinGate:
    return JoinGate(Inner(), CODE, KEY, COOKIE, Presence())


def status(sent: list[dict]) -> int:
    return sent[0]["status"]


def body(sent: list[dict]) -> str:
    return b"".join(message.get("body", b"") for message in sent).decode()


def set_cookie(sent: list[dict]) -> str | None:
    return dict(sent[0]["headers"]).get(b"set-cookie", b"").decode() or None


def test_without_the_code_a_page_gets_the_form_and_nothing_reaches_the_app(gate):
    page = call(gate, "/")
    assert status(page) == 200 and "Type the join code" in body(page)
    assert "not this class" not in body(page)
    wrong = call(gate, "/", "code=ZZZ999")
    assert status(wrong) == 403 and "not this class's join code" in body(wrong)
    for path in (
        "/static/assets/app.js",
        "/_solara/cdn/requirejs@2.3.6/require.js",
        "/jupyter/api/kernels/1234",
    ):
        refused = call(gate, path)
        assert status(refused) == 403 and "join code" in body(refused), path
    assert call(gate, "/teacher", "key=wrong")[0]["status"] == 200  # the form, not the app
    assert gate.app.reached == []


def test_a_websocket_without_the_code_is_closed_before_it_opens(gate):
    sent = call(gate, "/jupyter/api/kernels/k1/channels", kind="websocket")
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert gate.app.reached == []


def test_the_code_the_key_or_the_cookie_admits(gate):
    typed = call(gate, "/", "code=abc 234")  # as a student types it
    assert status(typed) == 200 and body(typed) == "solara"
    assert set_cookie(typed) == f"{COOKIE}={CODE}; Path=/; HttpOnly; SameSite=Strict"
    teacher = call(gate, "/teacher", "key=" + KEY)
    assert status(teacher) == 200 and set_cookie(teacher)
    assets = call(gate, "/static/assets/app.js", cookie=CODE)
    assert status(assets) == 200 and set_cookie(assets) is None
    assert call(gate, "/", "code=ZZZ999", cookie=CODE)[0]["status"] == 403  # a wrong code given
    assert call(gate, "/static/x.js", cookie="ZZZ999")[0]["status"] == 403
    assert gate.app.reached == ["/", "/teacher", "/static/assets/app.js"]


def test_presence_follows_the_open_websockets_of_an_attached_kernel(gate):
    changes: list[int] = []
    gate.presence.on_change = lambda: changes.append(1)
    gate.presence.attach("k1", "AWS")
    assert gate.presence.connected() == set()
    seen: list[set[str]] = []

    async def receive() -> dict:
        seen.append(gate.presence.connected())
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict) -> None:
        pass

    scope = {
        "type": "websocket",
        "path": "/jupyter/api/kernels/k1/channels",
        "query_string": b"",
        "headers": [(b"cookie", f"{COOKIE}={CODE}".encode())],
    }
    asyncio.run(gate(scope, receive, send))
    assert seen == [{"AWS"}]
    assert gate.presence.connected() == set()
    assert len(changes) == 3  # attached, opened, closed
    gate.presence.detach("k1")
    assert len(changes) == 4
