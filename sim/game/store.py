"""The session folder: where a class's game is kept between lessons.

A session is one folder, ``<sessions>/<name>/``, holding ``session.json`` (roles, claims,
rounds, decisions, events) and ``scenario.yaml`` (the class's game as a scenario, replayable
with ``cloudrace run``), plus the debrief's ``debrief/`` scenarios once the game ends. Every file
is written atomically (a temporary file in the same folder, then renamed), so a crash never
leaves half a file. Session names are checked so that no name reaches outside the folder.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from sim.errors import UserError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
SESSION_FILE = "session.json"
SCENARIO_FILE = "scenario.yaml"


def session_folder(sessions: Path, name: str) -> Path:
    """The folder of session ``name`` under ``sessions``; refuses names that are not plain."""
    if not NAME.match(name):
        raise UserError(
            f"session name {name!r}: expected letters, digits, '-' or '_' "
            "(at most 64, no dots or slashes)"
        )
    return sessions / name


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_session(folder: Path, state: dict[str, Any]) -> None:
    """Write ``session.json``."""
    write_atomic(folder / SESSION_FILE, json.dumps(state, indent=1, sort_keys=True))


def load_session(folder: Path) -> dict[str, Any]:
    """Read ``session.json``; a missing or damaged file is one readable error."""
    path = folder / SESSION_FILE
    if not path.is_file():
        raise UserError(f"{path}: no saved session here")
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(f"{path}: cannot read the saved session ({error})") from None
    if not isinstance(state, dict) or state.get("format") != 1:
        raise UserError(f"{path}: not a Cloud Race session file (expected format 1)")
    return state


def save_scenario(path: Path, scenario: dict[str, Any], header: str) -> None:
    """Write a scenario mapping as YAML with a comment header."""
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    write_atomic(path, comments + yaml.safe_dump(scenario, sort_keys=False, width=100))
