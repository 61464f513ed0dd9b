"""Benchmark: experiments at scale. Single-run time, sweep throughput with 1 and 2 worker
processes (parallel efficiency), and one 200-run workload through Mesa's ``batch_run`` and
through ``cloudrace sweep``, side by side.

The workload is the baseline scenario (2006-2035, every country) on a full factorial of two
parameters (security weight 1-4, US security pressure 0-0.8: 20 points) with 10 replications:
200 runs. Targets (issue "Experiments at scale"): parallel efficiency of at least 90 % at 2
workers, and ``cloudrace sweep`` faster than ``batch_run`` on the same workload.

- Single run: what a worker does for one run (``execute``: load the scenario with the point's
  values, run the model, compute the outcomes).
- Throughput: the workload through ``run_sweep`` on a process pool of 1, then 2 workers, each
  from a warm fork server (the one-off start-up, importing the model, is timed separately);
  efficiency = time(1 worker) / (2 x time(2 workers)). For reference, the same ratio for two
  independent processes making 20 runs each, without any sweep machinery: the most a 2-worker
  sweep can reach on the machine as loaded at that moment.
- batch_run against sweep: each side in a fresh Python process, timed from after the imports
  to the last result, so each pays for starting its own workers: ``batch_run`` with
  ``number_processes=2``, ``rng`` = 10 seeds (so 10 replications of each of the 20 points), and
  ``cloudrace sweep --workers 2`` writing Parquet.

The machine's load average is printed first: on a shared machine, other processes slow the
2-worker measurements most. ``--rounds N`` repeats each measurement and keeps the fastest.

    python benchmarks/bench_sweep.py [--replications 10] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BASELINE = PROJECT_ROOT / "scenarios" / "baseline.yaml"
SECURITY_WEIGHTS = [1.0, 2.0, 3.0, 4.0]
US_PRESSURES = [0.0, 0.2, 0.4, 0.6, 0.8]
OUTCOMES = ["huawei_deals_to_2021_04", "share_new_china_2022_2035", "leverage_china_2035"]
PRELOAD = ["sim.experiments.sweep"]


def workload_experiment(folder: Path, replications: int) -> Path:
    """The benchmark's experiment file: the full factorial with ``replications`` runs a point."""
    path = folder / "bench.yaml"
    path.write_text(
        "description: Benchmark workload, full factorial of two levers.\n"
        f"scenario: {BASELINE}\n"
        "uncertainties:\n"
        f"  choice.security_weight: {{levels: {SECURITY_WEIGHTS}}}\n"
        "levers:\n"
        f"  states.US.security_pressure: {{levels: {US_PRESSURES}}}\n"
        "design: {method: full_factorial}\n"
        f"replications: {replications}\n"
        "seed: 1\n"
        f"outcomes: [{', '.join(OUTCOMES)}]\n", encoding="utf-8")
    return path


def single_run_seconds(repeats: int) -> list[float]:
    """Wall times of one sweep run of the baseline (``execute``, as a worker calls it), after
    one warm-up run."""
    from sim.experiments.outcomes import resolve_outcome
    from sim.experiments.sweep import RunTask, ScenarioText, execute
    from sim.scenario import load_scenario

    settings = load_scenario(BASELINE)
    outcomes = tuple(resolve_outcome(name, settings.providers, settings.states,
                                     ["year", "leverage_China"]) for name in OUTCOMES)
    scenario = ScenarioText.of(BASELINE.read_text(encoding="utf-8"))
    values = {"choice.security_weight": 2.0}
    times = []
    for seed in range(repeats + 1):
        start = time.perf_counter()
        record = execute(RunTask(seed, seed, values, scenario, outcomes, keep_yearly=True))
        times.append(time.perf_counter() - start)
        assert record.status == "ok", record.error
    return times[1:]


def sweep_seconds(experiment_path: Path, folder: Path, workers: int) -> tuple[float, float]:
    """Wall time of one sweep of the experiment on a fresh pool of ``workers`` processes, and
    the share of that time the workers spent inside runs (the rest is orchestration)."""
    from sim.experiments.executors import ProcessPool
    from sim.experiments.spec import load_experiment
    from sim.experiments.sweep import create_sweep, run_sweep

    experiment = load_experiment(experiment_path)
    with create_sweep(experiment, folder, "bench") as store:
        start = time.perf_counter()
        counts = run_sweep(experiment, store, ProcessPool(workers, preload=PRELOAD),
                           progress=False)
        seconds = time.perf_counter() - start
        busy = store.runs()["seconds"].sum() / (workers * seconds)
    assert counts.ok == counts.total, f"{counts.failed} runs failed"
    return seconds, busy


def warm_start_seconds() -> float:
    """Start the fork server (it imports the model once) and one worker: the one-off cost."""
    import math

    from sim.experiments.executors import ProcessPool

    start = time.perf_counter()
    pool = ProcessPool(1, preload=PRELOAD)
    pool.submit(math.sqrt, 1.0).result()
    pool.shutdown()
    return time.perf_counter() - start


def fresh_process_seconds(side: str, experiment_path: Path, folder: Path,
                          replications: int) -> float:
    """Run one side of the comparison in a new interpreter; its own timing, in seconds."""
    output = subprocess.run(
        [sys.executable, __file__, "--side", side, "--experiment", str(experiment_path),
         "--folder", str(folder), "--replications", str(replications)],
        capture_output=True, text=True, check=True, cwd=PROJECT_ROOT).stdout
    return json.loads(output.strip().splitlines()[-1])["seconds"]


def machine_scaling(runs: int) -> float:
    """How close two independent processes, each making ``runs`` runs, come to twice the speed
    of one: the ceiling any 2-worker sweep can reach on this machine right now."""
    command = [sys.executable, __file__, "--side", "reference", "--replications", str(runs)]

    def timings(copies: int) -> list[float]:
        processes = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                                      cwd=PROJECT_ROOT) for _ in range(copies)]
        outputs = [process.communicate()[0] for process in processes]
        return [json.loads(out.strip().splitlines()[-1])["seconds"] for out in outputs]

    alone, = timings(1)
    return alone / max(timings(2))


def time_batch_run(replications: int) -> float:
    """``batch_run`` over the workload with 2 processes (called in a fresh interpreter)."""
    from mesa.batchrunner import batch_run

    from sim.model import CloudRaceModel

    parameters = {"choice__security_weight": SECURITY_WEIGHTS,
                  "states__US__security_pressure": US_PRESSURES}
    start = time.perf_counter()
    results = batch_run(CloudRaceModel, parameters, number_processes=2,
                        rng=list(range(1, replications + 1)), max_steps=100,
                        data_collection_period=-1, display_progress=False)
    seconds = time.perf_counter() - start
    expected = len(SECURITY_WEIGHTS) * len(US_PRESSURES) * replications
    assert len(results) == expected, (len(results), expected)
    return seconds


def time_cloudrace_sweep(experiment_path: Path, folder: Path) -> float:
    """``cloudrace sweep --workers 2`` over the workload (called in a fresh interpreter)."""
    import sim.experiments.sweep  # noqa: F401  (imports before the clock, as for batch_run)
    from sim.cli import main

    start = time.perf_counter()
    code = main(["sweep", str(experiment_path), "--out", str(folder), "--workers", "2", "-q"])
    seconds = time.perf_counter() - start
    assert code == 0, f"cloudrace sweep exited with {code}"
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=10,
                        help="replications per point (default 10: 200 runs)")
    parser.add_argument("--repeats", type=int, default=5, help="timed single runs")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat each throughput sweep, keep the fastest (default 1)")
    parser.add_argument("--side", choices=["batch_run", "sweep", "reference"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--experiment", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.side == "batch_run":
        print(json.dumps({"seconds": time_batch_run(args.replications)}))
        return
    if args.side == "sweep":
        print(json.dumps({"seconds": time_cloudrace_sweep(args.experiment, args.folder)}))
        return
    if args.side == "reference":
        print(json.dumps({"seconds": sum(single_run_seconds(args.replications))}))
        return

    runs = len(SECURITY_WEIGHTS) * len(US_PRESSURES) * args.replications
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, load average {load:.2f} at the start")
    times = single_run_seconds(args.repeats)
    print(f"single run:      median {statistics.median(times):.3f} s (min {min(times):.3f}, max "
          f"{max(times):.3f}) over {args.repeats} runs: baseline 2006-2035, load + run + "
          "outcomes")
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as scratch:
        folder = Path(scratch)
        experiment = workload_experiment(folder, args.replications)
        print(f"start-up:        {warm_start_seconds():.2f} s once per sweep (fork server "
              "imports the model)")
        # Other processes on the machine only ever slow a round down: the rounds alternate the
        # two sides, and each side keeps its best.
        ones, twos = [], []
        for r in range(args.rounds):
            ones.append(sweep_seconds(experiment, folder / f"one-{r}", 1))
            twos.append(sweep_seconds(experiment, folder / f"two-{r}", 2))
        (one, one_busy), (two, two_busy) = min(ones), min(twos)
        print(f"throughput:      1 worker  {one:6.1f} s  {runs / one:5.2f} runs/s  ({runs} runs; "
              f"workers busy {one_busy:.0%} of the time)")
        print(f"                 2 workers {two:6.1f} s  {runs / two:5.2f} runs/s  (workers busy "
              f"{two_busy:.0%}); parallel efficiency {one / (2 * two):.0%} (target >= 90 %)")
        print(f"                 for reference, two independent processes reach "
              f"{machine_scaling(20):.0%} of twice one's speed on this machine now")
        batches, sweeps = [], []
        for r in range(args.rounds):
            batches.append(fresh_process_seconds("batch_run", experiment, folder / f"batch-{r}",
                                                 args.replications))
            sweeps.append(fresh_process_seconds("sweep", experiment, folder / f"sweep-{r}",
                                                args.replications))
        batch, sweep = min(batches), min(sweeps)
        print(f"same {runs} runs, 2 processes, each side in a fresh process (worker start-up "
              "included):")
        print(f"                 mesa batch_run   {batch:6.1f} s")
        print(f"                 cloudrace sweep  {sweep:6.1f} s  batch_run / sweep = "
              f"{batch / sweep:.2f}x (target > 1)")


if __name__ == "__main__":
    main()
