"""Benchmark: a sweep on a Dask cluster against the same sweep serially (target 4).

The workload is bench_sweep's: the baseline (2006-2035, every country) on a 20-point full
factorial with 10 replications, 200 runs. The cluster is a ``dask scheduler`` and two
single-threaded ``dask worker`` processes on this machine, started (and their imports made)
before the clock; the sweep reaches it with ``DaskExecutor(address)``, exactly as
``cloudrace sweep --executor dask --scheduler ADDRESS`` does, sending a few large tasks per
worker (``batches_per_slot``). Target: at least 1.7 times faster than serial.

    python benchmarks/bench_dask.py [--replications 10] [--rounds 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench_sweep import workload_experiment
from measure import load_average, start_dask_cluster, stop_processes

from sim.experiments.executors import DaskExecutor, SerialExecutor
from sim.experiments.spec import load_experiment
from sim.experiments.sweep import create_sweep, run_sweep


def sweep_seconds(experiment_path: Path, folder: Path, executor) -> float:
    """Wall time of one sweep of the experiment on ``executor`` (all runs must succeed)."""
    experiment = load_experiment(experiment_path)
    with create_sweep(experiment, folder, "bench") as store:
        start = time.perf_counter()
        counts = run_sweep(experiment, store, executor, progress=False)
        seconds = time.perf_counter() - start
    assert counts.ok == counts.total, f"{counts.failed} runs failed"
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=10, help="per point (10: 200 runs)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds, best kept")
    args = parser.parse_args()
    print(f"bench_dask ({load_average()})")
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as scratch:
        folder = Path(scratch)
        experiment = workload_experiment(folder, args.replications)
        runs = 20 * args.replications
        address, processes = start_dask_cluster(folder)
        try:
            serial, dask = [], []
            for number in range(args.rounds):
                serial.append(
                    sweep_seconds(experiment, folder / f"serial-{number}", SerialExecutor())
                )
                dask.append(
                    sweep_seconds(experiment, folder / f"dask-{number}", DaskExecutor(address, 2))
                )
        finally:
            stop_processes(processes)
    print(f"serial:                {min(serial):6.1f} s for {runs} runs")
    print(
        f"Dask, 2 worker procs:  {min(dask):6.1f} s; speed-up {min(serial) / min(dask):.2f}x "
        "(target >= 1.7x)"
    )


if __name__ == "__main__":
    main()
