"""The ``cloudrace sweep`` and ``cloudrace sensitivity`` subcommands.

``add_commands(subparsers)`` registers both on the main parser (``sim.cli.build_parser``). The
heavy imports (pandas, pyarrow, SALib, Dask) happen inside the handlers, so ``cloudrace --help``
stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.experiments.executors import EXECUTORS
from sim.limits import MAX_WORKERS

RESULTS_DIR = Path("results")
EXIT_INTERRUPTED = 130


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``sweep`` and ``sensitivity`` on the ``cloudrace`` parser's subcommands."""
    sweep = commands.add_parser(
        "sweep", help="run an experiment: a design of runs, in parallel, stored as Parquet",
        description="Run every design point and replication of an experiment file and append "
                    "the results to a sweep folder as they finish (runs/ and yearly/ Parquet "
                    "tables, manifest.json). A run that fails is recorded with its error; an "
                    "interrupted sweep continues where it stopped with --resume.")
    sweep.add_argument("experiment", type=Path,
                       help="experiment file, e.g. experiments/sobol_financing.yaml")
    sweep.add_argument("--executor", choices=EXECUTORS, default="processes",
                       help="where runs execute: this process, worker processes on this machine "
                            "(default), or Dask distributed")
    sweep.add_argument("--workers", "-w", type=_workers, metavar="N",
                       help="worker processes (default: the available cores; with --scheduler "
                            "the cluster's own workers are used)")
    sweep.add_argument("--scheduler", metavar="ADDRESS",
                       help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                            "(with --executor dask; default: start a local cluster)")
    sweep.add_argument("--out", "-o", type=Path, metavar="DIR",
                       help="sweep folder (default: results/sweep-<experiment>)")
    sweep.add_argument("--resume", action="store_true",
                       help="continue the sweep in the folder: run only what is missing")
    sweep.add_argument("--batch", type=_positive_int, default=50, metavar="N",
                       help="write results every N finished runs (and at least every 10 s; "
                            "default 50)")
    sweep.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    sweep.set_defaults(handler=command_sweep)

    sensitivity = commands.add_parser(
        "sensitivity", help="Sobol' or Morris sensitivity indices of a finished sweep",
        description="Compute Sobol' first- and total-order indices (sobol designs) or Morris "
                    "elementary effects (morris designs) for each outcome of a sweep, with 95 "
                    "% intervals; print them and write indices.csv and indices.png.")
    sensitivity.add_argument("results", type=Path, help="sweep folder, e.g. "
                             "results/sweep-sobol_financing")
    sensitivity.add_argument("--outcome", action="append", dest="outcomes", metavar="NAME",
                             help="only this outcome (repeatable; default: all)")
    sensitivity.add_argument("--out", "-o", type=Path, metavar="DIR",
                             help="folder to create for indices.csv and indices.png (default: "
                                  "RESULTS/sensitivity)")
    sensitivity.add_argument("--no-figure", action="store_true", help="skip indices.png")
    sensitivity.set_defaults(handler=command_sensitivity)


def command_sweep(args: argparse.Namespace) -> int:
    """Run (or resume) a sweep and report how it went."""
    from sim.experiments.executors import make_executor
    from sim.experiments.spec import load_experiment
    from sim.experiments.sweep import create_sweep, open_sweep, run_sweep

    # The executor first: a process pool's workers start while the experiment is checked.
    executor = make_executor(args.executor, args.workers, args.scheduler,
                             preload=["sim.experiments.sweep"])
    try:
        experiment = load_experiment(args.experiment)
        folder = args.out or RESULTS_DIR / f"sweep-{experiment.name}"
        store = open_sweep(experiment, folder) if args.resume else \
            create_sweep(experiment, folder, args.command_line)
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    with store:
        total = store.manifest()["runs"]
        try:
            where = f"{args.executor} {args.scheduler}" if args.scheduler else args.executor
            counts = run_sweep(experiment, store, executor, executor_name=where,
                               progress=not args.quiet, batch_size=args.batch)
        except KeyboardInterrupt:
            saved = len(store.finished_run_ids())
            print(f"cloudrace: interrupted; {saved} of {total} runs are saved in {folder}/; "
                  f"continue with: cloudrace sweep {args.experiment} --out {folder} --resume",
                  file=sys.stderr)
            return EXIT_INTERRUPTED
    failed = f", {counts.failed} failed (see the error column of runs/)" if counts.failed else ""
    print(f"Sweep {experiment.name}: {counts.done} of {total} runs in {folder}/ "
          f"({counts.ok + counts.failed} run now{failed}).")
    method = experiment.file.design.method
    if method in ("sobol", "morris"):
        print(f"Sensitivity indices: cloudrace sensitivity {folder}")
    return 0


def command_sensitivity(args: argparse.Namespace) -> int:
    """Print a sweep's sensitivity indices and write them to a folder."""
    from sim.experiments.sensitivity import analyse, format_table, write_sensitivity
    from sim.experiments.store import SweepStore

    store = SweepStore.open(args.results)  # a folder that is not a sweep: one message
    method, table = analyse(store, args.outcomes)
    out = args.out or args.results / "sensitivity"
    write_sensitivity(out, method, table, figure=not args.no_figure)
    print(format_table(method, table))
    print(f"Wrote {out}/indices.csv" + ("" if args.no_figure else " and indices.png"))
    return 0


def _workers(text: str) -> int:
    """A number of worker processes: 1 to ``MAX_WORKERS``."""
    value = _positive_int(text)
    if value > MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_WORKERS}, got {value:,}")
    return value


def _positive_int(text: str) -> int:
    """A whole number of at least 1, for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value
