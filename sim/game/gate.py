"""The join gate: an ASGI middleware in front of the Solara app that wants the join code.

Every request (pages, Solara's websocket, its static and CDN files) must carry the class's join
code: as the ``code`` query parameter (a student's own link has it; the gate's form sends it),
as the teacher's ``key``, or as the cookie the gate sets when either is right. Without it a
page request gets the join form (a plain HTML page, no Solara), any other request HTTP 403 and a
websocket is refused before it opens. The gate is the same on 127.0.0.1 and with ``--lan``.

The gate also counts the open websockets of each Solara connection (its kernel id is in the
websocket's path): that is how the teacher's screen knows who is connected now
(``sim.game.presence``).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from sim.game.presence import Presence

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

KERNEL_SOCKET = "/jupyter/api/kernels/"
"""Prefix of Solara's websocket path: ``/jupyter/api/kernels/<kernel id>/channels``."""
ASSET_PREFIXES = ("/static/", "/_solara/", "/jupyter/", "/resourcefiles/")
"""Paths that are never pages: refused with 403 (not the form) without the code."""

FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cloud Race: the class plays</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body {{font-family: sans-serif; margin: 48px auto; max-width: 420px}}
input, button {{font-size: 1.3em; padding: 6px}} .wrong {{color: #b00020}}</style></head>
<body><h2>Cloud Race: the class plays</h2><p>Type the join code on the board.</p>{message}
<form method="get" action="/"><label for="code">Join code</label><br>
<input id="code" name="code" autocomplete="off" autofocus>
<button type="submit">Join</button></form></body></html>
"""
WRONG = '<p class="wrong">That is not this class\'s join code.</p>'


def cookie_name(session: str) -> str:
    """The gate's cookie for a session (one per session: two games on one host do not mix)."""
    return f"cloudrace-join-{session}"


def normalise(code: str) -> str:
    """A typed code as the game writes it: no spaces, upper case."""
    return "".join(code.split()).upper()


class JoinGate:
    """Admit a request only with the join code (or the teacher's key); see the module's doc."""

    def __init__(
        self, app: App, join_code: str, teacher_key: str, cookie: str, presence: Presence
    ) -> None:
        self.app = app
        self.join_code = join_code
        self.teacher_key = teacher_key
        self.cookie = cookie
        self.presence = presence

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = query.get("code", [None])[0]
        admitted, remember = self.admit(
            given, query.get("key", [None])[0], self.cookie_value(scope)
        )
        if not admitted:
            await self.refuse(scope, send, wrong=given is not None)
        elif scope["type"] == "websocket":
            await self.watch_socket(scope, receive, send)
        elif remember:
            await self.app(scope, receive, self.setting_cookie(send))
        else:
            await self.app(scope, receive, send)

    def admit(self, code: str | None, key: str | None, cookie: str | None) -> tuple[bool, bool]:
        """(admitted, whether to set the cookie). A ``code`` given must be right."""
        if code is not None:
            right = self.right(normalise(code), self.join_code)
            return right, right and cookie != self.join_code
        if key is not None and self.right(key, self.teacher_key):
            return True, cookie != self.join_code
        return cookie is not None and self.right(cookie, self.join_code), False

    @staticmethod
    def right(given: str, expected: str) -> bool:
        return secrets.compare_digest(given.encode(), expected.encode())

    def cookie_value(self, scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                try:
                    morsel = SimpleCookie(value.decode("latin-1")).get(self.cookie)
                except CookieError:
                    return None
                if morsel is not None:
                    return morsel.value
        return None

    def setting_cookie(self, send: Send) -> Send:
        """``send`` with the gate's cookie added to the response's headers."""
        header = f"{self.cookie}={self.join_code}; Path=/; HttpOnly; SameSite=Strict"

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"set-cookie", header.encode())],
                }
            await send(message)

        return sending

    async def refuse(self, scope: Scope, send: Send, wrong: bool) -> None:
        """The join form for a page, 403 for anything else; a websocket is closed unopened."""
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        path = scope["path"]
        page = (
            scope["method"] in ("GET", "HEAD")
            and not path.startswith(ASSET_PREFIXES)
            and "." not in path.rsplit("/", 1)[-1]
        )
        if page:
            status = 403 if wrong else 200
            body = FORM.format(message=WRONG if wrong else "").encode()
            kind = b"text/html; charset=utf-8"
        else:
            status, kind = 403, b"text/plain; charset=utf-8"
            body = b"Forbidden: this game needs the join code."
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", kind),
                    (b"cache-control", b"no-store"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def watch_socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass a websocket through, telling ``presence`` when a kernel's socket opens and
        closes."""
        path = scope["path"]
        kernel = (
            path[len(KERNEL_SOCKET) :].split("/", 1)[0] if path.startswith(KERNEL_SOCKET) else None
        )
        if kernel is None:
            await self.app(scope, receive, send)
            return
        self.presence.opened(kernel)
        try:
            await self.app(scope, receive, send)
        finally:
            self.presence.closed(kernel)
