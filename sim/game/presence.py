"""Who is connected now: open Solara connections (kernels) and the roles their screens show.

The join gate (``sim.game.gate``) reports each kernel's websocket opening and closing; a
player's screen attaches its kernel to its role when it is drawn. A role is connected while at
least one of its kernels has an open websocket. Presence is not saved with the session: after a
restart nobody is connected until their screen reconnects.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Presence:
    """Open websockets per kernel and the role each kernel shows; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sockets: dict[str, int] = {}
        self.roles: dict[str, str] = {}
        self.on_change: Callable[[], None] | None = None

    def opened(self, kernel: str) -> None:
        with self.lock:
            self.sockets[kernel] = self.sockets.get(kernel, 0) + 1
        self._notify(kernel)

    def closed(self, kernel: str) -> None:
        with self.lock:
            left = self.sockets.get(kernel, 0) - 1
            if left > 0:
                self.sockets[kernel] = left
            else:
                self.sockets.pop(kernel, None)
        self._notify(kernel)

    def attach(self, kernel: str, role: str) -> None:
        """The screen of ``kernel`` now shows ``role`` (a player's own screen)."""
        with self.lock:
            if self.roles.get(kernel) == role:
                return
            self.roles[kernel] = role
        self._notify(kernel)

    def detach(self, kernel: str) -> None:
        with self.lock:
            if self.roles.pop(kernel, None) is None:
                return
        if self.on_change is not None:
            self.on_change()

    def connected(self) -> set[str]:
        """The roles with at least one open connection."""
        with self.lock:
            return {role for kernel, role in self.roles.items() if kernel in self.sockets}

    def _notify(self, kernel: str) -> None:
        if self.on_change is not None and kernel in self.roles:
            self.on_change()


PRESENCE = Presence()
"""The server's one registry: the gate and the app's screens share it (one process)."""
