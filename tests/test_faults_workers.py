"""A killed command leaves no process behind: workers, fork server and resource tracker go too.

Every command that runs replications (run, compare, validate, attribute, calibrate, sweep) runs
them on ``sim.experiments.executors.ProcessPool``; its workers watch the process that made the
pool and exit when it is gone, even after a SIGKILL, which no handler can catch. Each test
starts the command in its own process group, kills only the command's process once its workers
are busy, and checks that no process it started is alive two seconds later (those left are
killed by their ids before the test fails).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import REPO, write_tiny_scenario

psutil = pytest.importorskip("psutil")

GRACE_SECONDS = 2.0


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }


def _kill_when_busy(argv: list[str], cwd: Path, workers: int = 2) -> list:
    """Start ``argv`` in its own process group, SIGKILL it once ``workers`` descendants use
    the CPU, and return the descendants that are still alive ``GRACE_SECONDS`` later."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    parent = psutil.Process(process.pid)
    descendants: list = []
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the command started no busy workers in time"
            descendants = parent.children(recursive=True)
            busy = [child for child in descendants if _cpu_seconds(child) > 0.05]
            if len(busy) >= workers:
                break
            time.sleep(0.05)
        descendants = parent.children(recursive=True)  # fork server, resource tracker too
        process.kill()  # SIGKILL, to the command's process only (not its group)
        process.wait()
        alive = _still_running(descendants)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
    for survivor in alive:  # stop them by their ids, then report them
        with contextlib.suppress(psutil.NoSuchProcess):
            survivor.kill()
    return alive


def _still_running(processes: list) -> list:
    """Those of ``processes`` still running ``GRACE_SECONDS`` from now. A process that has
    exited but whose new parent (an orphan's reaper: init, or a container's first process) has
    not yet collected its status is a zombie: it has ended, holds no memory, and does not count.
    """
    _, alive = psutil.wait_procs(processes, timeout=GRACE_SECONDS)
    running = []
    for process in alive:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
        except psutil.NoSuchProcess:
            pass
    return running


def _cpu_seconds(process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


def _describe(processes: list) -> list[str]:
    described = []
    for process in processes:
        try:
            described.append(" ".join(process.cmdline())[:120])
        except psutil.Error:
            described.append(str(process.pid))
    return described


@pytest.fixture
def long_scenario(tmp_path: Path) -> Path:
    """The tiny scenario, run long enough (2006-2035) that a kill lands mid-run."""
    path = write_tiny_scenario(tmp_path)
    path.write_text(path.read_text().replace("end_year: 2012", "end_year: 2035"))
    return path


@pytest.mark.parametrize("command", ["run", "compare", "validate"])
def test_sigkill_of_a_command_with_two_workers_leaves_no_process_alive(
    command, long_scenario, tmp_path
):
    out = tmp_path / "out"
    argv = {
        "run": ["run", long_scenario, "-n", "200"],
        "compare": ["compare", long_scenario, long_scenario.with_name("other.yaml"), "-n", "200"],
        "validate": ["validate", long_scenario, "-n", "200"],
    }[command]
    if command == "compare":
        long_scenario.with_name("other.yaml").write_text(long_scenario.read_text())
    alive = _kill_when_busy(
        [
            sys.executable,
            "-m",
            "sim.cli",
            *map(str, argv),
            "--workers",
            "2",
            "-q",
            "--out",
            str(out),
        ],
        tmp_path,
    )
    assert not alive, f"alive {GRACE_SECONDS} s after SIGKILL: {_describe(alive)}"


POOL_SCRIPT = textwrap.dedent("""
    import math, sys, time
    from sim.experiments.executors import ProcessPool

    def spin(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            math.sqrt(2.0)

    if __name__ == "__main__":
        pool = ProcessPool(2, start_method=sys.argv[1], preload=["math"])
        futures = [pool.submit(spin, 30.0) for _ in range(4)]
        futures[0].result()
""")


@pytest.mark.parametrize("start_method", ["fork", "forkserver"])
def test_sigkill_takes_the_fork_server_and_resource_tracker_with_the_workers(
    start_method, tmp_path
):
    script = tmp_path / "pool.py"
    script.write_text(POOL_SCRIPT)
    alive = _kill_when_busy([sys.executable, str(script), start_method], tmp_path)
    assert not alive, f"alive {GRACE_SECONDS} s after SIGKILL: {_describe(alive)}"


def test_ctrl_c_reaches_only_the_command_and_it_stops_its_workers(long_scenario, tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "run",
            str(long_scenario),
            "-n",
            "200",
            "--workers",
            "2",
            "-q",
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        env=_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    parent = psutil.Process(process.pid)
    deadline = time.monotonic() + 90
    while len([c for c in parent.children() if _cpu_seconds(c) > 0.05]) < 2:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    descendants = parent.children(recursive=True)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal does: the whole group
    try:
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    stderr = process.stderr.read().decode()
    process.stderr.close()
    alive = _still_running(descendants)
    for survivor in alive:
        survivor.kill()
    assert process.returncode == 130, stderr
    assert stderr.count("Traceback") == 0, stderr  # no worker prints one either
    assert not alive, _describe(alive)
    assert not out.exists()
