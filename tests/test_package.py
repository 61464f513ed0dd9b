"""The wheel: built offline from the checkout, installed in a fresh virtual environment outside it,
it runs the shipped baseline and the validation (scenarios, calibration files and data are
package data, found through ``importlib.resources``)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from conftest import REPO

SKIPPED_IN_COPY = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".cache",
    "results",
    "build",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "notebooks",
    "docs",
    "benchmarks",
)


def test_every_sub_package_of_sim_is_listed_in_pyproject():
    settings = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(settings["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "sim").rglob("__init__.py")
    }
    assert found <= listed, f"add to pyproject.toml's packages: {sorted(found - listed)}"
    for package, folder in settings["package-dir"].items():
        assert package in listed and (REPO / folder).is_dir(), package


def _clean_environment() -> dict[str, str]:
    """This environment without the checkout on the path (the wheel must stand alone)."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }


@pytest.mark.skipif(
    importlib.util.find_spec("setuptools") is None,
    reason="building the wheel offline needs setuptools>=69 in this environment "
    "(the dev extra); install it to run this test",
)
def test_the_wheel_runs_the_shipped_baseline_and_validation_outside_the_checkout(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=SKIPPED_IN_COPY)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(wheels),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("cloudrace-*.whl")

    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
        env=_clean_environment(),
    )
    # The dependencies come from this environment's packages, after the venv's own (so the
    # installed sim, not the checkout, is imported); added after the install, so that pip does
    # not take this environment's editable cloudrace for the wheel.
    Path(purelib, "shared-environment.pth").write_text(sysconfig.get_path("purelib") + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cloudrace = venv / "bin" / "cloudrace"

    def command(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(cloudrace), *argv],
            cwd=elsewhere,
            env=_clean_environment(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    where = subprocess.run(
        [python, "-c", "import sim; print(sim.__file__)"],
        cwd=elsewhere,
        env=_clean_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(venv)), where.stdout
    assert command("--version").stdout.strip() == "cloudrace 0.1.0"

    run = command("run", "baseline", "-n", "1", "-q", "--no-figures", "-o", "run")
    assert run.returncode == 0, run.stderr
    assert {"contracts.csv", "yearly.csv", "countries.csv", "summary.md", "manifest.json"} <= {
        path.name for path in (elsewhere / "run").iterdir()
    }

    # validate needs two replications for its intervals; exit 1 means a pattern missed.
    validate = command("validate", "-n", "2", "-q", "-o", "validation")
    assert validate.returncode in (0, 1), validate.stderr
    assert (elsewhere / "validation" / "validation.csv").is_file()

    listed = command("scenarios")
    assert listed.returncode == 0 and "policy/us_dfc_push.yaml" in listed.stdout
