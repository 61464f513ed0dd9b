"""Benchmark: how the time of a replication scales (issue "Speed for honest inference", 3, 7).

Prints four tables of the baseline's time per replication, each after imports and in this
process unless said otherwise:

- against the number of countries: the population restricted to the first k countries of the
  shipped table, and duplicated (every country twice, under new codes, from a copied table);
- against the years simulated (2006 to the end year);
- against replications and workers: ``run_scenario`` with ``-n`` replications on 1 and 2
  worker processes (the pool started inside the timing), with the parallel efficiency
  time(1) / (2 x time(2)); target at 2 workers on 200 replications: at least 90 %.

Wall time per replication is the median over ``--repeats`` seeds; CPU time (this process) is
printed beside it for the serial tables, as the steadier figure on a shared machine.

    python benchmarks/bench_scaling.py [--repeats 5] [--replications 200]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from pathlib import Path

from measure import BASELINE, load_average

from sim.countries import DEFAULT_COUNTRIES_PATH
from sim.runner import close_shared_executors, run_replication, run_scenario
from sim.scenario import load_scenario


def per_replication(settings, repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of one replication of ``settings`` (after a warm-up)."""
    run_replication(settings, 0, 0)
    walls, cpus = [], []
    for seed in range(1, repeats + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        run_replication(settings, 0, seed)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def duplicated_countries(folder: Path) -> Path:
    """The shipped country table with every country twice (the copy under a new code)."""
    with DEFAULT_COUNTRIES_PATH.open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    copies = [
        {**row, "iso3": f"{'XYZ'[number // 100]}{number % 100:02d}"}
        for number, row in enumerate(rows)
    ]
    path = folder / "countries_twice.csv"
    with path.open("w", encoding="utf-8", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows + copies)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="seeds per serial figure")
    parser.add_argument(
        "--replications",
        type=int,
        nargs="+",
        default=[10, 50, 200],
        help="replication counts for the workers table",
    )
    args = parser.parse_args()
    print(f"bench_scaling ({load_average()})")
    base = load_scenario(BASELINE)
    every = [
        line.split(",")[0]
        for line in DEFAULT_COUNTRIES_PATH.read_text(encoding="utf-8").splitlines()[1:]
    ]
    print("\ncountries   wall ms/replication   CPU ms/replication")
    for count in (20, 40, 80, len(every)):
        values = {} if count == len(every) else {"population.only": every[:count]}
        wall, cpu = per_replication(load_scenario(BASELINE, values=values), args.repeats)
        print(f"{count:9d}   {1000 * wall:19.0f}   {1000 * cpu:18.0f}")
    with tempfile.TemporaryDirectory() as scratch:
        try:
            twice = load_scenario(
                BASELINE, values={"population.data_file": str(duplicated_countries(Path(scratch)))}
            )
        except Exception as error:  # the copy may break a rule of the data checks
            print(f"{2 * len(every):9d}   (duplicated table refused: {error})")
        else:
            wall, cpu = per_replication(twice, args.repeats)
            print(
                f"{2 * len(every):9d}   {1000 * wall:19.0f}   {1000 * cpu:18.0f}   "
                "(every country twice)"
            )

    print("\nend year    wall ms/replication   CPU ms/replication")
    for end in (2010, 2015, 2020, 2025, base.run.end_year):
        wall, cpu = per_replication(
            load_scenario(BASELINE, values={"run.end_year": end}), args.repeats
        )
        print(f"{end:8d}   {1000 * wall:19.0f}   {1000 * cpu:18.0f}")

    print("\nreplications  workers  wall s  ms/replication  efficiency")
    for replications in args.replications:
        timings = {}
        for workers in (1, 2):
            start = time.perf_counter()
            run_scenario(base, replications, 1, progress=False, workers=workers)
            timings[workers] = time.perf_counter() - start
            close_shared_executors()  # the next timing starts its own pool
            share = "" if workers == 1 else f"{timings[1] / (2 * timings[2]):10.0%}"
            print(
                f"{replications:12d}  {workers:7d}  {timings[workers]:6.1f}  "
                f"{1000 * timings[workers] / replications:14.0f}  {share}"
            )
    print("target: efficiency >= 90 % at 2 workers on 200 replications")


if __name__ == "__main__":
    main()
