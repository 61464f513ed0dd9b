"""Starting the classroom app: ``solara run`` on ``sim.app.app`` with the offline settings.

``serve`` checks the front-end cache (``sim.app.assets``) and the port, prints the address and
then becomes the Solara server (``exec``), so Ctrl+C or killing the process stops the server
itself and leaves nothing behind.
"""

from __future__ import annotations

import os
import socket
import sys

from sim.app.assets import cache_dir, check_cache, solara_environment
from sim.errors import UserError

APP_MODULE = "sim.app.app"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def solara_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line: production mode, no browser, no version check."""
    return [sys.executable, "-m", "solara", "run", APP_MODULE, "--host", host,
            "--port", str(port), "--production", "--no-open", "--no-check-version"]


def check_port(host: str, port: int) -> None:
    """Raise ``UserError`` if the address cannot be listened on (port taken, unknown host)."""
    if not 1 <= port <= 65535:
        raise UserError(f"--port {port}: expected a port number between 1 and 65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            reason = error.strerror or str(error)
            raise UserError(f"cannot listen on {host}:{port} ({reason}); choose another "
                            "--port or --host") from None


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Check the set-up, print the address, then replace this process by the Solara server."""
    cache = cache_dir()
    check_cache(cache)
    check_port(host, port)
    environment = {**os.environ, **solara_environment(cache, port, host)}
    print(f"Cloud Race classroom app: open http://{host}:{port}/ in a browser "
          "(Ctrl+C stops it)", flush=True)
    os.execve(sys.executable, solara_command(host, port), environment)
