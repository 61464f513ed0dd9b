"""Start-up cost: ``cloudrace --help`` imports none of the heavy libraries (issue 11, target 2)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO

HEAVY = ("numpy", "pandas", "pydantic", "yaml", "multiprocessing", "matplotlib", "mesa")

PROBE = """
import contextlib, io, json, sys
from sim.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(["--help"])
    except SystemExit:
        pass
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {heavy})))
"""


def test_help_imports_no_heavy_library():
    probe = PROBE.format(heavy=set(HEAVY))
    process = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"PYTHONPATH": str(REPO)},
    )
    assert json.loads(process.stdout.splitlines()[-1]) == []
