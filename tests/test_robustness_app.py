"""Issue 13, hole 10: the classroom app never contacts a host off this machine.

Solara's server fetches a front-end file missing from its cache from its CDN setting (jsdelivr
by default, with retries: about 7 s per miss). ``cloudrace app`` points that setting at the
server itself, where the path answers 404 at once. The test runs the server and a client in a
new network namespace with only the loopback interface, so any attempt to reach another host
fails (a name lookup or a connection); it asks for a file that is not in the cache and checks
that the 404 comes at once and that every fetch the proxy logged went to 127.0.0.1.

Needs root (``unshare -n``) and the front-end cache; skips with the reason otherwise, or fails
with ``CLOUDRACE_REQUIRE_BROWSER=1`` as the browser test does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.app.assets import LOCAL_MISS_PATH, cache_dir, missing_packages, solara_environment

REPO = Path(__file__).resolve().parent.parent
PROBE = r"""
import json, os, re, subprocess, sys, time, urllib.error, urllib.request
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
port = 8765
log = open(sys.argv[1], "w")
server = subprocess.Popen([sys.executable, "-m", "sim.cli", "app", "--port", str(port)],
                          stdout=log, stderr=subprocess.STDOUT)
result = {}
try:
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                result["error"] = "the server did not start"
                break
            time.sleep(0.3)
    if "error" not in result:
        for name, path in [("miss", "requirejs@2.3.6/not-in-the-cache.js"),
                           ("hit", "requirejs@2.3.6/package.json")]:
            started = time.monotonic()
            try:
                status = urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_solara/cdn/{path}", timeout=30).status
            except urllib.error.HTTPError as error:
                status = error.code
            result[name] = {"status": status, "seconds": time.monotonic() - started}
finally:
    server.terminate()
    server.wait(timeout=20)
    log.close()
print(json.dumps(result))
"""


def unavailable() -> str | None:
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return "needs root with unshare and ip (a network namespace with loopback only)"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        return f"cannot make a network namespace: {probe.stderr.decode().strip()}"
    missing = missing_packages(cache_dir())
    if missing:
        return f"front-end files missing from {cache_dir()} (make app-assets)"
    return None


def test_the_server_environment_names_only_this_machine_as_its_cdn(tmp_path: Path):
    environment = solara_environment(tmp_path, 8123)
    assert environment["SOLARA_ASSETS_CDN"] == f"http://127.0.0.1:8123{LOCAL_MISS_PATH}"
    assert solara_environment(tmp_path, 8123, "0.0.0.0")["SOLARA_ASSETS_CDN"].startswith(
        "http://127.0.0.1:8123/")
    assert solara_environment(tmp_path, 8123, "::1")["SOLARA_ASSETS_CDN"].startswith(
        "http://[::1]:8123/")


def test_hole10_a_cache_miss_is_answered_at_once_without_leaving_the_machine(tmp_path: Path):
    reason = unavailable()
    if reason and os.environ.get("CLOUDRACE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"offline app test required but cannot run: {reason}")
    if reason:
        pytest.skip(reason)
    log = tmp_path / "server.log"
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.run(["unshare", "-n", sys.executable, "-c", PROBE, str(log)],
                             cwd=REPO, env=environment, capture_output=True, text=True,
                             timeout=180, check=False)
    assert process.returncode == 0, process.stderr[-3000:]
    result = json.loads(process.stdout.strip().splitlines()[-1])
    assert "error" not in result, log.read_text()[-3000:]
    assert result["hit"]["status"] == 200
    assert result["miss"]["status"] == 404
    # Before the fix the proxy tried jsdelivr four times with 1 + 2 + 4 s of back-off.
    assert result["miss"]["seconds"] < 3, result
    fetched = [line for line in log.read_text().splitlines() if "Could not load URL" in line]
    assert fetched, "the proxy logged no fetch: did the request reach it?"
    assert all("'http://127.0.0.1:" in line for line in fetched), fetched
