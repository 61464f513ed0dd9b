"""``cloudrace classroom``: open (or resume) a session and serve the game with Solara, offline.

The command opens the session in its folder (creating it with the options given, or resuming
it as saved: the options then do not change it), prints the teacher's address and the join
code, then becomes the Solara server (``exec``, as ``cloudrace app`` does) with the front-end
files from the local cache (``sim.app.assets``). It binds 127.0.0.1 unless ``--lan`` is given;
then it listens on every interface and students use the LAN address it prints. Either way the
server is uvicorn serving ``sim.game.asgi:create_app`` (a factory): Solara's app behind the
join gate (``sim.game.gate``), so every connection must present the join code.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from sim.app.assets import cache_dir, check_cache, solara_environment
from sim.errors import UserError
from sim.game.roles import DEFAULT_GOVERNMENTS
from sim.shipped import shipped_folder

APP_MODULE = "sim.game.app"
ASGI_APP = "sim.game.asgi:create_app"
SESSION_ENV = "CLOUDRACE_GAME_FOLDER"
URL_ENV = "CLOUDRACE_GAME_URL"
BASELINE = shipped_folder("scenarios") / "baseline.yaml"
DEFAULT_PORT = 8766
DEFAULT_SESSIONS = Path("sessions")


def lan_address() -> str:
    """This machine's address on the local network (a UDP socket's route; nothing is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.254.254.254", 9))
            return probe.getsockname()[0]
        except OSError:
            return socket.gethostbyname(socket.gethostname())


def check_port(host: str, port: int) -> None:
    """Raise ``UserError`` if the server could not listen there.

    The probe sets ``SO_REUSEADDR`` as the server (uvicorn) does, so a port the last lesson's
    server has just released (connections in TIME_WAIT) counts as free.
    """
    if not 1 <= port <= 65535:
        raise UserError(f"--port {port}: expected a port number between 1 and 65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UserError(
                f"cannot listen on {host}:{port} ({error.strerror or error}); choose another --port"
            ) from None


def add_command(commands) -> None:
    """Add ``classroom`` to the ``cloudrace`` subcommands."""
    classroom = commands.add_parser(
        "classroom",
        help="serve the participatory game: the class plays one shared model",
        description="Start (or resume) a classroom game: students join from their own "
        "browsers with a code and play states, providers and governments of one "
        "shared model, in rounds the teacher runs. Works offline.",
    )
    classroom.add_argument(
        "session",
        help="session name (letters, digits, - and _); an existing session is resumed as saved",
    )
    classroom.add_argument(
        "--sessions",
        type=Path,
        default=DEFAULT_SESSIONS,
        metavar="DIR",
        help="folder of sessions (default: ./sessions)",
    )
    classroom.add_argument(
        "--lesson",
        type=Path,
        default=BASELINE,
        metavar="FILE",
        help="scenario the game starts from (default: the baseline)",
    )
    classroom.add_argument(
        "--first-year",
        type=int,
        default=2025,
        metavar="YEAR",
        help="first round's year (default 2025)",
    )
    classroom.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    classroom.add_argument(
        "--period",
        type=float,
        default=1.0,
        metavar="YEARS",
        help="simulated years per round (default 1)",
    )
    classroom.add_argument(
        "--round-seconds",
        type=int,
        default=300,
        metavar="S",
        help="countdown per round, seconds (default 300)",
    )
    classroom.add_argument(
        "--seed", type=int, default=None, help="root seed (default: the lesson's run.seed)"
    )
    classroom.add_argument(
        "--governments",
        default=",".join(DEFAULT_GOVERNMENTS),
        metavar="ISO3,...",
        help=f"governments students may play (default {','.join(DEFAULT_GOVERNMENTS)})",
    )
    classroom.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    classroom.add_argument(
        "--lan",
        action="store_true",
        help="listen on the local network (default: this computer only)",
    )
    classroom.set_defaults(handler=command_classroom)


def command_classroom(args: argparse.Namespace) -> int:
    """Open the session, print how to join, then become the server (uvicorn, Solara's app)."""
    from sim.game.engine import Game

    cache = cache_dir()
    check_cache(cache)
    host = "0.0.0.0" if args.lan else "127.0.0.1"
    check_port(host, args.port)
    governments = tuple(
        code.strip().upper() for code in args.governments.split(",") if code.strip()
    )
    game = Game.open(
        args.sessions,
        args.session,
        args.lesson,
        args.first_year,
        args.rounds,
        args.period,
        args.round_seconds,
        args.seed,
        governments,
    )
    address = f"http://{lan_address() if args.lan else '127.0.0.1'}:{args.port}/"
    print(
        f"Cloud Race classroom game {args.session!r} (saved in {game.folder}/)\n"
        f"  teacher's screen: http://127.0.0.1:{args.port}/teacher?key="
        f"{game.state['teacher_key']}\n"
        f"  students open {address} and type the join code {game.join_code}\n"
        "Ctrl+C stops the server; the session continues with the same command.",
        flush=True,
    )
    environment = {
        **os.environ,
        **solara_environment(cache),
        SESSION_ENV: str(game.folder.resolve()),
        URL_ENV: address,
        "SOLARA_KERNEL_CULL_TIMEOUT": "120s",
        "SOLARA_APP": APP_MODULE,
        "SOLARA_MODE": "production",
        "SERVER_NAME": host,
        "SERVER_PORT": str(args.port),
    }
    # Per-message compression off: the screens' updates are small, and compressing 30 of them
    # each round costs the server and every browser more CPU than it saves on a classroom LAN.
    os.execve(
        sys.executable,
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            ASGI_APP,
            "--host",
            host,
            "--port",
            str(args.port),
            "--ws-per-message-deflate",
            "false",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        environment,
    )
    return 0
