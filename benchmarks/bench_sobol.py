"""Benchmark: Sobol' throughput of the baseline, extrapolated to 10,000 runs (target 5).

Runs the shipped experiment ``experiments/sobol_financing.yaml`` (the baseline 2006-2035, four
parameters, Sobol' design) end to end as a user would, ``cloudrace sweep --workers 2`` in a
fresh process (start-up, sampling, runs and Parquet writes included), with ``--samples`` base
samples and ``--replications`` per point: ``samples x 6 x replications`` runs. Prints the time,
the runs per second and the time 10,000 runs would take at that rate. Target: 10,000 runs in
at most 15 minutes on 2 cores, that is 90 ms of wall time a run on 2 workers (180 ms of CPU
time a run, start-up and storage included).

    python benchmarks/bench_sobol.py                    # 384 runs (make bench)
    python benchmarks/bench_sobol.py --replications 3   # 1,152 runs
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from measure import CLOUDRACE, PROJECT_ROOT, load_average, measure

EXPERIMENT = PROJECT_ROOT / "experiments" / "sobol_financing.yaml"
TARGET_RUNS, TARGET_SECONDS = 10_000, 15 * 60


def experiment_with(folder: Path, samples: int, replications: int) -> Path:
    """The shipped Sobol' experiment with other sample and replication counts."""
    text = EXPERIMENT.read_text(encoding="utf-8")
    text = text.replace("scenario: ../scenarios/", f"scenario: {PROJECT_ROOT}/scenarios/")
    text = re.sub(r"samples: \d+", f"samples: {samples}", text)
    text = re.sub(r"(?m)^replications: \d+", f"replications: {replications}", text)
    path = folder / "sobol.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=64, help="Sobol' base samples (2^k)")
    parser.add_argument("--replications", type=int, default=1, help="per design point")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    runs = args.samples * 6 * args.replications
    print(f"bench_sobol ({load_average()})")
    with tempfile.TemporaryDirectory(prefix="bench-sobol-") as scratch:
        folder = Path(scratch)
        experiment = experiment_with(folder, args.samples, args.replications)
        result = measure(
            [
                *CLOUDRACE,
                "sweep",
                experiment,
                "--workers",
                str(args.workers),
                "--out",
                folder / "sweep",
                "-q",
            ],
            cwd=folder,
        )
    rate = runs / result.wall
    projected = TARGET_RUNS / rate
    print(
        f"{runs} Sobol' runs on {args.workers} workers: {result.wall:.1f} s wall, "
        f"{result.cpu:.1f} s CPU ({1000 * result.cpu / runs:.0f} ms CPU per run), "
        f"{rate:.2f} runs/s"
    )
    print(
        f"10,000 runs at that rate: {projected / 60:.1f} min (target <= 15 min: "
        f"{'met' if projected <= TARGET_SECONDS else 'not met'}); needs at most "
        f"{1000 * TARGET_SECONDS * args.workers / TARGET_RUNS:.0f} ms of CPU per run"
    )


if __name__ == "__main__":
    main()
