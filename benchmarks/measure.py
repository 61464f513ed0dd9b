"""Shared by the benchmarks: run a command in a fresh process and measure it.

``measure(argv)`` runs ``argv`` under a small wrapper process, so the figures cover that command
and every process it starts (workers included) and nothing else: wall time, CPU time (user +
system, of the command and its descendants) and the peak resident memory of the largest of them.
On a shared machine wall time depends on the other processes; CPU time much less so.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BASELINE = PROJECT_ROOT / "scenarios" / "baseline.yaml"
CLOUDRACE = [sys.executable, "-m", "sim.cli"]

WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss_mb": usage.ru_maxrss / 1024}))
"""


@dataclass
class Measurement:
    """One run of a command."""

    wall: float
    cpu: float
    rss_mb: float


def measure(argv: list[str], cwd: Path | None = None) -> Measurement:
    """Run ``argv`` once (it must succeed) and return its wall time, CPU time and peak RSS."""
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    output = subprocess.run(
        [sys.executable, "-c", WRAPPER, *map(str, argv)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = json.loads(output.splitlines()[-1])
    if figures["code"] != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited with status {figures['code']}")
    return Measurement(figures["wall"], figures["cpu"], figures["rss_mb"])


def median(values: list[float]) -> float:
    """The median (a shared machine's outliers are slow ones)."""
    return statistics.median(values)


def load_average() -> str:
    """The 1-minute load average and the cores, to print beside the figures."""
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def start_dask_cluster(folder: Path, workers: int = 2) -> tuple[str, list[subprocess.Popen]]:
    """A ``dask scheduler`` and ``workers`` single-threaded ``dask worker`` processes on
    127.0.0.1, each of which has imported the sweep's modules; returns the scheduler's address
    and the processes (stop them with ``stop_processes``)."""
    import socket

    from distributed import Client

    dask = Path(sys.executable).with_name("dask")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    log = (folder / "dask.log").open("w")
    processes = [
        subprocess.Popen(
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
                "--no-show",
            ],
            cwd=folder,
            env=environment,
            stdout=log,
            stderr=log,
        )
    ]
    for number in range(workers):
        processes.append(
            subprocess.Popen(
                [
                    dask,
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--name",
                    f"worker-{number}",
                    "--local-directory",
                    folder / f"worker-{number}",
                ],
                cwd=folder,
                env=environment,
                stdout=log,
                stderr=log,
            )
        )
    for _ in range(100):
        try:
            with Client(address, timeout="2s") as client:
                client.wait_for_workers(workers, timeout=60)
                client.run(__import__, "sim.experiments.sweep")  # the imports, before timing
            return address, processes
        except OSError:
            continue
    stop_processes(processes)
    raise RuntimeError(f"the Dask cluster did not start; see {folder / 'dask.log'}")


def stop_processes(processes: list[subprocess.Popen]) -> None:
    """Stop processes by their ids: SIGTERM, then SIGKILL after 5 s."""
    for process in reversed(processes):
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
