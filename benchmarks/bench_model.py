"""Benchmark: one replication of the baseline, 2006-2035, over the whole default population.

Prints the wall and CPU time of a replication after imports (median and range over repeated
runs, each with its own seed; CPU time is the steadier figure on a shared machine), the
tenders and contracts it handles, and the peak memory of a fresh process that imports the
model and runs one replication. Targets: at most 30 ms per replication (issue 11) and 300 MB
peak memory on a 2-core machine (issue 2).

    python benchmarks/bench_model.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

ONE_RUN = """
import resource, sys
from sim.model import BASELINE, CloudRaceModel, CloudRaceScenario
from sim.scenario import load_scenario
settings = load_scenario(BASELINE)
model = CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=1))
model.run_model()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def time_replications(repeats: int) -> tuple[list[float], list[float], int, int]:
    """Wall and CPU times of ``repeats`` replications (after imports and one warm-up run)."""
    from sim.model import BASELINE, CloudRaceModel, CloudRaceScenario
    from sim.scenario import load_scenario

    settings = load_scenario(BASELINE)
    CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=0)).run_model()
    times, cpu_times = [], []
    for seed in range(1, repeats + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        model = CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=seed))
        model.run_model()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    tenders = int(model.datacollector.get_model_vars_dataframe()["tenders"].sum())
    return times, cpu_times, tenders, len(model.contracts)


def python_allocation_peak() -> float:
    """Peak Python allocations (MB, tracemalloc) while building and running one replication."""
    from sim.model import BASELINE, CloudRaceModel, CloudRaceScenario
    from sim.scenario import load_scenario

    settings = load_scenario(BASELINE)
    tracemalloc.start()
    CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=1)).run_model()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def fresh_process_peak_rss() -> float:
    """Peak resident memory (MB) of a new process that imports the model and runs it once."""
    output = subprocess.run([sys.executable, "-c", ONE_RUN], capture_output=True, text=True,
                            check=True).stdout
    return int(output.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed replications")
    args = parser.parse_args()

    start = time.perf_counter()
    import sim.model  # noqa: F401

    import_seconds = time.perf_counter() - start
    times, cpu_times, tenders, contracts = time_replications(args.repeats)
    print(f"load average:            {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"imports:                 {import_seconds:.2f} s (once per process)")
    print(f"one replication:         median {statistics.median(times):.3f} s wall, "
          f"min {min(times):.3f} s, max {max(times):.3f} s over {args.repeats} runs "
          "(target <= 0.030 s)")
    print(f"                         median {statistics.median(cpu_times):.3f} s CPU, "
          f"min {min(cpu_times):.3f} s, max {max(cpu_times):.3f} s")
    print(f"work per replication:    {tenders} tenders, {contracts} contracts (last run)")
    print(f"python allocations peak: {python_allocation_peak():.1f} MB during one replication")
    print(f"process peak RSS:        {fresh_process_peak_rss():.0f} MB for imports plus one "
          "replication in a fresh process (target <= 300 MB)")
    print(f"this process peak RSS:   "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
