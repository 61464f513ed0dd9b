"""Benchmark: the command line, end to end (issue "Speed for honest inference", targets 2, 3, 6).

- ``cloudrace --help``: target at most 0.2 s.
- ``cloudrace run baseline -n 10`` (figures included): target at most 1.5 s wall on an idle
  machine; with ``--workers 2`` at least 1.6 times faster than with ``--workers 1``.
- Peak memory of ``run -n 10 --tenders`` (target at most 250 MB) and, with ``--long``, of
  ``run -n 1000 --workers 2`` (at most 350 MB: the tables stream to disk).

Each figure is the median of ``--rounds`` fresh processes, the variants alternating round by
round so a change in the machine's load hits them alike. Wall and CPU time (the command and its
workers) are both printed: on a shared machine CPU time is the steadier one.

    python benchmarks/bench_cli.py [--rounds 3] [--long]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from measure import BASELINE, CLOUDRACE, load_average, measure, median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per variant")
    parser.add_argument("--long", action="store_true", help="also run -n 1000 (minutes)")
    args = parser.parse_args()
    print(f"bench_cli ({load_average()})")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        variants = {
            "--help": lambda r: [*CLOUDRACE, "--help"],
            "run -n 10 --workers 1": lambda r: [
                *CLOUDRACE,
                "run",
                BASELINE,
                "-n",
                "10",
                "-q",
                "--out",
                out / f"w1-{r}",
            ],
            "run -n 10 --workers 2": lambda r: [
                *CLOUDRACE,
                "run",
                BASELINE,
                "-n",
                "10",
                "-q",
                "--workers",
                "2",
                "--out",
                out / f"w2-{r}",
            ],
            "run -n 10 --tenders": lambda r: [
                *CLOUDRACE,
                "run",
                BASELINE,
                "-n",
                "10",
                "-q",
                "--tenders",
                "--out",
                out / f"t-{r}",
            ],
        }
        results: dict[str, list] = {name: [] for name in variants}
        for round_ in range(args.rounds):
            for name, argv in variants.items():
                results[name].append(measure(argv(round_), cwd=out))
        if args.long:
            results["run -n 1000 --workers 2"] = [
                measure(
                    [
                        *CLOUDRACE,
                        "run",
                        BASELINE,
                        "-n",
                        "1000",
                        "-q",
                        "--workers",
                        "2",
                        "--out",
                        out / "long",
                    ],
                    cwd=out,
                )
            ]
    print(f"{'command':28s} {'wall s':>8s} {'CPU s':>8s} {'peak RSS MB':>12s}")
    for name, runs in results.items():
        print(
            f"{name:28s} {median([r.wall for r in runs]):8.2f} "
            f"{median([r.cpu for r in runs]):8.2f} {max(r.rss_mb for r in runs):12.0f}"
        )
    one = median([r.wall for r in results["run -n 10 --workers 1"]])
    two = median([r.wall for r in results["run -n 10 --workers 2"]])
    print(f"--workers 2 speed-up on run -n 10: {one / two:.2f}x (target >= 1.6x)")
    print(
        "targets: --help <= 0.2 s; run -n 10 <= 1.5 s wall on an idle machine; "
        "--tenders <= 250 MB; -n 1000 <= 350 MB"
    )


if __name__ == "__main__":
    main()
