"""Shared fixtures: a tiny scenario that runs in a fraction of a second, and ways to run the CLI.

The tiny scenario extends the shipped baseline (by absolute path) with a 2006-2012 horizon, eight
countries and a raised tender rate, so a run awards a few hundred contracts in well under a
second. ``run_cli`` calls ``sim.cli.main`` in this process (fast); ``run_cli_subprocess`` runs
``python -m sim.cli`` in a fresh interpreter, to check exit codes and that no traceback escapes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BASELINE = REPO / "scenarios" / "baseline.yaml"
RESULTS = REPO / "results"
TINY_COUNTRIES = ("KEN", "ZMB", "GHA", "NGA", "BRA", "MEX", "IDN", "SAU")
TINY_END_YEAR = 2012
TINY_REPLICATIONS = 2


def tiny_scenario_text(extends: Path | str = BASELINE) -> str:
    """YAML of the tiny scenario: eight countries, 2006-2012, enough tenders to award contracts."""
    return (
        f"extends: {extends}\n"
        "description: Tiny test scenario, eight countries 2006-2012.\n"
        f"run: {{end_year: {TINY_END_YEAR}, replications: {TINY_REPLICATIONS}, seed: 12345}}\n"
        f"population: {{only: [{', '.join(TINY_COUNTRIES)}]}}\n"
        "demand: {tender_rate: 3.0, adoption_midpoint_year: 2008}\n"
    )


def write_tiny_scenario(folder: Path, name: str = "tiny.yaml") -> Path:
    """Write the tiny scenario into ``folder`` and return its path."""
    path = folder / name
    path.write_text(tiny_scenario_text(), encoding="utf-8")
    return path


def write_scenario(folder: Path, name: str, text: str) -> Path:
    """Write a scenario file with the given text and return its path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tiny_scenario(tmp_path: Path) -> Path:
    """A tiny scenario file in this test's temporary folder."""
    return write_tiny_scenario(tmp_path)


@pytest.fixture(scope="session")
def shared_tiny_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny scenario, written once for the session (for module-scoped runs)."""
    return write_tiny_scenario(tmp_path_factory.mktemp("tiny"))


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> CliResult:
    """Run ``cloudrace ARGV`` in this process; argparse's ``SystemExit`` becomes the code."""
    from sim.cli import main

    capsys.readouterr()
    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def run_cli_subprocess(argv: list[str], cwd: Path, env: dict[str, str] | None = None,
                       timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sim.cli ARGV`` in a fresh interpreter, in ``cwd``."""
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [environment.get("PYTHONPATH")])])
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, argv)], cwd=cwd,
                          env=environment, capture_output=True, text=True, timeout=timeout,
                          check=False)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` with its bytes and modification time (ns)."""
    if not folder.exists():
        return {}
    return {str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def listing(folder: Path) -> list[str]:
    """Names of everything directly in ``folder`` (empty if it does not exist)."""
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []
