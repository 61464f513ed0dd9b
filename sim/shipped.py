"""Where the shipped scenarios and calibration files are, in a checkout and in an installed wheel.

In the checkout they stay in the top-level ``scenarios/`` and ``calibration/`` folders; the wheel
installs the same folders as package data, ``sim/scenarios/`` and ``sim/calibration_files/``
(``pyproject.toml`` maps them with ``package-dir``; ``sim/calibration.py`` has the shorter
name), so relative references between them (``calibration/abc.yaml``'s
``base: ../scenarios/baseline.yaml``) hold in both. ``scenario_path`` turns a name as
``cloudrace scenarios`` prints it (``baseline``, ``policy/us_dfc_push``) into the file.
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path

from sim.errors import UserError

INSTALLED = {"scenarios": "scenarios", "calibration": "calibration_files"}
"""Each kind's folder inside the installed package."""


def shipped_folder(kind: str) -> Path:
    """The folder of shipped ``scenarios`` or ``calibration`` files.

    The installed package data if there is any, else the checkout's top-level folder (which
    ``pyproject.toml`` packs into the wheel).
    """
    if kind not in INSTALLED:
        raise ValueError(f"expected one of {tuple(INSTALLED)}, got {kind!r}")
    package = Path(str(resources.files("sim")))
    installed = package / INSTALLED[kind]
    return installed if installed.is_dir() else package.parent / kind


def scenario_path(path_or_name: str | Path) -> Path:
    """The scenario file a user named: a path to a file as given, else a shipped scenario's name
    (``baseline``, ``policy/us_dfc_push``, with or without ``.yaml``).

    A name that is neither raises ``UserError`` listing the nearest shipped names.
    """
    path = Path(path_or_name)
    if path.is_file() or path.suffix not in ("", ".yaml") or path.is_absolute():
        return path
    folder = shipped_folder("scenarios")
    candidate = folder / path.with_suffix(".yaml")
    if candidate.is_file():
        return candidate
    if path.suffix == ".yaml":
        return path  # a file that does not exist: load_scenario says so
    names = scenario_names()
    near = difflib.get_close_matches(str(path), names, n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(near)}?" if near else "; `cloudrace scenarios` lists them"
    raise UserError(f"{path}: no such scenario file or shipped scenario{hint}")


def scenario_names() -> list[str]:
    """The shipped scenarios' names, as ``cloudrace scenarios`` prints them (no ``.yaml``)."""
    folder = shipped_folder("scenarios")
    return sorted(str(p.relative_to(folder).with_suffix("")) for p in folder.rglob("*.yaml"))
