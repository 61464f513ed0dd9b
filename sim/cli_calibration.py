"""Subcommands that hold the model against the public record: validate, calibrate, attribute."""

from __future__ import annotations

import argparse
import json
import shutil
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pandas as pd

from sim.errors import UserError

DEFAULT_SCENARIO = Path("scenarios/baseline.yaml")
DEFAULT_SPEC = Path("calibration/abc.yaml")
CALIBRATION_DOC = Path("docs/calibration.md")


def add_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``validate``, ``calibrate`` and ``attribute`` on the main parser."""
    validate = commands.add_parser(
        "validate", parents=[common], help="compare the baseline with the public record",
        description="Run a scenario over 2006 to April 2021 and compare it with every pattern "
                    "of the public record (sim/data/targets.yaml), calibration targets and "
                    "hold-outs reported apart: mean with its 90 %% confidence interval, the "
                    "spread of single runs, the band check, a posterior-predictive p-value per "
                    "pattern and a joint Mahalanobis check; with --seeds K, whether the verdict "
                    "holds for K root seeds. Exit status 0 only when every pattern passes for "
                    "every root seed.")
    _scenario_arguments(validate, default_replications=30)
    validate.add_argument("--seeds", type=int, default=1, metavar="K",
                          help="repeat with K root seeds (the root seed, then the next K-1 "
                               "integers) and report whether each verdict holds (default 1)")
    validate.set_defaults(handler=command_validate)

    attribute = commands.add_parser(
        "attribute", parents=[common], help="what each mechanism explains",
        description="Switch each mechanism off in turn (same seeds) and report how far each "
                    "moves the validated outcomes, as a table and a figure.")
    _scenario_arguments(attribute, default_replications=30)
    attribute.set_defaults(handler=command_attribute)

    calibrate = commands.add_parser(
        "calibrate", parents=[common], help="calibrate by approximate Bayesian computation",
        description="ABC-SMC (pyabc) over the free parameters of a calibration file, on the "
                    "calibration targets of sim/data/targets.yaml, one run per particle; "
                    "writes the weighted posterior, the generations (tolerance, acceptance "
                    "rate, effective sample size), the marginals against the priors, the fit, "
                    "pyabc's database (abc.db, resumable) and the policy answers across the "
                    "posterior.")
    calibrate.add_argument("spec", nargs="?", type=Path, default=DEFAULT_SPEC,
                           help=f"calibration file (default: {DEFAULT_SPEC})")
    calibrate.add_argument("--scheduler", metavar="ADDRESS",
                           help="run the simulations on the Dask cluster whose scheduler is at "
                                "ADDRESS (e.g. tcp://127.0.0.1:8786) instead of local processes")
    calibrate.add_argument("--resume", type=Path, metavar="FOLDER_OR_DB",
                           help="continue the pyabc run stored in a calibration results folder "
                                "(its abc.db) or database file; the new results go to a new "
                                "folder and the old one is left as it is")
    calibrate.add_argument("--spread-members", type=int, default=12, metavar="N",
                           help="posterior members (drawn by weight) rerun to 2035 for the "
                                "policy spread")
    calibrate.add_argument("--spread-replications", type=int, default=4, metavar="N",
                           help="replications per member and variant for the policy spread")
    calibrate.add_argument("--install", action="store_true",
                           help="ship the result: calibration/posterior.csv, "
                                "calibration/representative.yaml, the figures and the generated "
                                "section of docs/calibration.md")
    calibrate.set_defaults(handler=command_calibrate)


def _scenario_arguments(parser: argparse.ArgumentParser, default_replications: int) -> None:
    parser.add_argument("scenario", nargs="?", type=Path, default=DEFAULT_SCENARIO,
                        help=f"scenario file (default: {DEFAULT_SCENARIO})")
    parser.add_argument("--replications", "-n", type=int, default=default_replications,
                        metavar="N", help=f"replications (default {default_replications})")
    parser.add_argument("--seed", type=int, metavar="S",
                        help="root seed (default: the scenario's run.seed)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                        dest="overrides", help="override a parameter (repeatable)")


def _output_folder(args: argparse.Namespace, name: str) -> Path:
    from sim.outputs import default_folder, reserve_folder

    folder = args.out or default_folder(Path("results"), name, datetime.now().astimezone())
    reserve_folder(folder)
    return folder


def _manifest(args: argparse.Namespace, **fields) -> partial:
    from sim.outputs import write_manifest

    return partial(write_manifest, command=args.command_line,
                   finished=datetime.now(UTC).isoformat(timespec="seconds"), **fields)


def _validation_runs(args: argparse.Namespace):
    from sim.runner import run_scenario
    from sim.scenario import load_scenario
    from sim.validation import load_targets, outcomes_by_replication

    if args.replications < 2:
        raise UserError(f"--replications: expected at least 2, got {args.replications}")
    targets = load_targets()
    horizon = f"run.end_year={int(targets.cutoff)}"
    settings = load_scenario(args.scenario, [*args.overrides, horizon])
    seed = settings.run.seed if args.seed is None else args.seed
    return settings, targets, seed, lambda scenario, root=seed: outcomes_by_replication(
        pd.concat([r.contracts for r in run_scenario(scenario, args.replications, root,
                                                     progress=not args.quiet,
                                                     workers=args.workers)[1]]), targets)


def command_validate(args: argparse.Namespace) -> int:
    """Run the baseline to April 2021 and compare it with every pattern of the record."""
    from sim.outputs import write_results
    from sim.scenario import scenario_hash
    from sim.validation import (
        ROLES,
        compare_with_targets,
        format_table,
        joint_check,
        plot_validation,
        seed_stability,
    )

    if args.seeds < 1:
        raise UserError(f"--seeds: expected at least 1, got {args.seeds}")
    settings, targets, seed, run = _validation_runs(args)
    roots = [seed + index for index in range(args.seeds)]
    folder = _output_folder(args, f"validate-{args.scenario.stem}")
    try:
        runs = {root: run(settings, root) for root in roots}
    except BaseException:
        folder.rmdir()
        raise
    tables = {root: compare_with_targets(per_replication, targets)
              for root, per_replication in runs.items()}
    per_replication, table = runs[seed], tables[seed]
    joint = {role: joint_check(per_replication, targets.role(role)) for role in ROLES}
    stability = seed_stability(tables)
    print(format_table(table, joint))
    if args.seeds > 1:
        unstable = stability[~stability["stable"]]["outcome"].tolist()
        print(f"Verdicts over {args.seeds} root seeds ({roots[0]}-{roots[-1]}): "
              + ("the same for every pattern." if not unstable else
                 f"they change for {', '.join(unstable)}."))
    write_results(folder, {
        "validation.csv": lambda path: table.to_csv(path, index=False),
        "per_replication.csv": lambda path: per_replication.to_csv(path),
        "joint.json": lambda path: path.write_text(json.dumps(joint, indent=2) + "\n"),
        "seed_stability.csv": lambda path: stability.to_csv(path, index=False),
        "validation.png": partial(plot_validation, per_replication, table),
        "manifest.json": _manifest(args, scenario_file=str(args.scenario),
                                   scenario_hash=scenario_hash(settings), root_seed=seed,
                                   root_seeds=roots, replications=args.replications,
                                   scenario=settings.model_dump(mode="json")),
    })
    print(f"Wrote {folder}/")
    everything = all(t["passed"].all() for t in tables.values())
    return 0 if everything else 1


def command_attribute(args: argparse.Namespace) -> int:
    """Switch each mechanism off in turn and report the change in the validated outcomes."""
    from sim.attribution import paired_differences, plot_attribution, variants
    from sim.outputs import write_results
    from sim.scenario import scenario_hash

    settings, targets, seed, run = _validation_runs(args)
    folder = _output_folder(args, f"attribute-{args.scenario.stem}")
    try:
        outcomes = {name: run(scenario) for name, scenario in variants(settings).items()}
    except BaseException:
        folder.rmdir()
        raise
    table = paired_differences(outcomes, targets)
    wide = table.pivot(index="variant", columns="outcome", values="difference")
    print("Mean paired change in each validated outcome when a mechanism is switched off "
          f"({args.replications} replications, same seeds):")
    print(wide[[t.outcome for t in targets.targets]].round(1).to_string())
    write_results(folder, {
        "attribution.csv": lambda path: table.to_csv(path, index=False),
        "attribution.png": partial(plot_attribution, table),
        "manifest.json": _manifest(args, scenario_file=str(args.scenario),
                                   scenario_hash=scenario_hash(settings), root_seed=seed,
                                   replications=args.replications),
    })
    print(f"Wrote {folder}/")
    return 0


def command_calibrate(args: argparse.Namespace) -> int:
    """Run the ABC-SMC calibration and write (and optionally ship) its posterior."""
    from sim.calibration import load_spec
    from sim.calibration_report import MIN_ESS, run_and_write
    from sim.validation import load_targets

    spec, base = load_spec(args.spec)
    folder = _output_folder(args, "calibrate")
    result, markdown = run_and_write(
        folder, spec, base, load_targets(), workers=args.workers, scheduler=args.scheduler,
        resume=args.resume, progress=not args.quiet, spread_members=args.spread_members,
        spread_replications=args.spread_replications,
        manifest=_manifest(args, calibration_file=str(args.spec),
                           calibration=spec.model_dump(mode="json")))
    last = result.generations.iloc[-1]
    print(f"{len(result.generations)} generations, {result.simulations} simulations, "
          f"{result.wall_seconds:.0f} s; stopped: {result.stop_reason}. Last generation: "
          f"tolerance {last['epsilon']:.3g}, acceptance rate {last['acceptance_rate']:.3f}, "
          f"effective sample size {last['ess']:.0f} of {int(last['particles'])}.")
    if last["ess"] < MIN_ESS:
        print(f"Warning: effective sample size {last['ess']:.0f}: the posterior's weights are "
              "degenerate; see report.md.")
    print(f"Wrote {folder}/")
    if args.install:
        install(folder / "calibration", markdown)
    return 0


def install(source: Path, markdown: str) -> None:
    """Ship a calibration: posterior, representative member, figures, generated doc section."""
    from sim.calibration_report import GENERATED_END, GENERATED_START

    shutil.copyfile(source / "posterior.csv", "calibration/posterior.csv")
    shutil.copyfile(source / "representative.yaml", "calibration/representative.yaml")
    Path("docs/images").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "marginals.png", "docs/images/calibration_marginals.png")
    shutil.copyfile(source / "correlations.png", "docs/images/calibration_correlations.png")
    text = CALIBRATION_DOC.read_text(encoding="utf-8") if CALIBRATION_DOC.is_file() else ""
    if GENERATED_START not in text:
        text = text.rstrip() + f"\n\n{GENERATED_START}\n{GENERATED_END}\n"
    head, rest = text.split(GENERATED_START, 1)
    tail = rest.split(GENERATED_END, 1)[1]
    CALIBRATION_DOC.write_text(f"{head}{GENERATED_START}\n\n{markdown}\n{GENERATED_END}{tail}")
    print("Installed the posterior into calibration/ and docs/calibration.md; copy "
          "calibration/representative.yaml's values into scenarios/baseline.yaml.")
