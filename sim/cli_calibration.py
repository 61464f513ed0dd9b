"""Subcommands that hold the model against the public record: validate, calibrate, attribute."""

from __future__ import annotations

import argparse
import json
import shutil
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sim.cli_compare import at_least_two_replications, non_negative, seed_value
from sim.errors import UserError

DEFAULT_SCENARIO = Path("baseline")
"""The shipped baseline, by name (found in an installed wheel as in the checkout)."""
DEFAULT_SPEC = Path("calibration/abc.yaml")
CALIBRATION_DOC = Path("docs/calibration.md")


def add_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``validate``, ``calibrate`` and ``attribute`` on the main parser."""
    validate = commands.add_parser(
        "validate", parents=[common], help="compare the baseline with the public record",
        description="Run a scenario over 2006 to April 2021 and compare it with every pattern "
                    "of the public record (sim/data/targets.yaml), calibration targets and "
                    "hold-outs reported apart: mean with its 90 % confidence interval, the "
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
        "attribute", parents=[common], help="what each state lever and mechanism explains",
        description="Switch each state's levers (China's financing, the US's financing, each "
                    "state's strategic value, pressure, promotion, subsidies, export controls, "
                    "...) and each mechanism (bundling, lock-in, incidents) on and off, on the "
                    "same seeds in every combination, and report a Shapley decomposition of "
                    "each outcome (the validated ones to April 2021 and the shares of new "
                    "contracts 2022-2035) with bootstrap intervals, beside each switch's "
                    "leave-one-out contribution. Writes a table, a heat map and a report.")
    _scenario_arguments(attribute, default_replications=30)
    attribute.add_argument("--permutations", type=int, default=16, metavar="M",
                           help="sampled orders of the switches (in antithetic pairs) when "
                                "there are too many switches to run every coalition "
                                "(default 16)")
    attribute.add_argument("--docs", type=Path, metavar="PATH",
                           help="also write the report into the attribution section of a "
                                "documentation page (e.g. docs/calibration.md), with its table "
                                "and facts in docs/data/ and its figure in docs/images/")
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
    calibrate.add_argument("--resume", type=Path, metavar="FOLDER_OR_DB",
                           help="continue the pyabc run stored in a calibration results folder "
                                "(its abc.db) or database file; the new results go to a new "
                                "folder and the old one is left as it is")
    calibrate.add_argument("--spread-members", type=non_negative, default=12, metavar="N",
                           help="posterior members rerun to 2035 for the policy spread")
    calibrate.add_argument("--spread-replications", type=at_least_two_replications, default=4,
                           metavar="N",
                           help="replications per member and variant for the policy spread")
    calibrate.add_argument("--install", action="store_true",
                           help="ship the result: calibration/posterior.csv, "
                                "calibration/representative.yaml, the figures and the generated "
                                "section of docs/calibration.md")
    calibrate.set_defaults(handler=command_calibrate)


def _scenario_arguments(parser: argparse.ArgumentParser, default_replications: int) -> None:
    parser.add_argument("scenario", nargs="?", type=Path, default=DEFAULT_SCENARIO,
                        help=f"scenario file (default: {DEFAULT_SCENARIO})")
    parser.add_argument("--replications", "-n", type=at_least_two_replications,
                        default=default_replications, metavar="N",
                        help=f"replications (default {default_replications})")
    parser.add_argument("--seed", type=seed_value, metavar="S",
                        help="root seed (default: the scenario's run.seed)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                        dest="overrides", help="override a parameter (repeatable)")


def _output_folder(args: argparse.Namespace, name: str) -> Path:
    from sim.outputs import claim_results_folder

    return claim_results_folder(args.out, name, datetime.now())


def _manifest(args: argparse.Namespace, **fields) -> partial:
    from sim.outputs import write_manifest

    return partial(write_manifest, command=args.command_line,
                   finished=datetime.now(UTC).isoformat(timespec="seconds"), **fields)


def _validation_runs(args: argparse.Namespace):
    import pandas as pd

    from sim.runner import run_scenario, shared_executor
    from sim.scenario import load_scenario
    from sim.validation import load_targets, outcomes_by_replication

    targets = load_targets()
    horizon = f"run.end_year={int(targets.cutoff)}"
    settings = load_scenario(args.scenario, [*args.overrides, horizon])
    seed = settings.run.seed if args.seed is None else args.seed
    return settings, targets, seed, lambda scenario, root=seed: outcomes_by_replication(
        pd.concat([r.contracts for r in run_scenario(
            scenario, args.replications, root, progress=not args.quiet,
            workers=shared_executor(args.workers, args.scheduler))[1]]), targets)


def command_validate(args: argparse.Namespace) -> int:
    """Run the baseline to April 2021 and compare it with every pattern of the record."""
    from sim.outputs import release_folder, write_results
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
        release_folder(folder)
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
    """Decompose the scenario's outcomes over its switches and write the results folder."""
    from sim.attribution import attribute, coalition_outcomes, plot_attribution, uncertainty_label
    from sim.attribution_report import AttributionFacts, render_report, save_facts, write_docs
    from sim.outputs import release_folder, write_results
    from sim.runner import replication_seeds, run_tasks
    from sim.scenario import load_scenario, scenario_hash
    from sim.validation import load_targets

    if args.replications < 2:
        raise UserError(f"--replications: expected at least 2, got {args.replications}")
    if args.permutations < 2:
        raise UserError(f"--permutations: expected at least 2, got {args.permutations}")
    settings = load_scenario(args.scenario, args.overrides)
    seed = settings.run.seed if args.seed is None else args.seed
    seeds = replication_seeds(seed, args.replications)
    folder = _output_folder(args, f"attribute-{args.scenario.stem}")
    try:
        result = attribute(settings, seeds, load_targets(), args.permutations, partial(
            run_tasks, workers=args.workers, progress=not args.quiet, label="coalition runs",
            function=coalition_outcomes), order_seed=seed)
    except ValueError as error:
        release_folder(folder)
        raise UserError(f"attribute: {args.scenario}: {error}") from None
    except BaseException:
        release_folder(folder)
        raise
    facts = AttributionFacts(args.command_line, str(args.scenario), args.replications,
                             uncertainty_label(result))
    report = render_report(result.table, facts, "attribution.png")
    print(report)
    write_results(folder, {
        "attribution.csv": lambda path: result.table.to_csv(path, index=False),
        "coalitions.csv": lambda path: result.coalitions.to_csv(path),
        "attribution.png": partial(plot_attribution, result.table),
        "report.md": lambda path: path.write_text(f"# What each switch explains\n\n{report}"),
        "facts.json": partial(save_facts, facts),
        "manifest.json": _manifest(args, scenario_file=str(args.scenario),
                                   scenario_hash=scenario_hash(settings), root_seed=seed,
                                   replication_seeds=seeds, replications=args.replications,
                                   switches=[s.name for s in result.design.switches],
                                   method=result.design.method,
                                   coalitions=len(result.design.coalitions)),
    })
    print(f"Wrote {folder}/")
    if args.docs:
        write_docs(folder, args.docs)
        print(f"Wrote the attribution section of {args.docs}")
    return 0


def command_calibrate(args: argparse.Namespace) -> int:
    """Run the ABC-SMC calibration and write (and optionally ship) its posterior."""
    from sim.calibration import load_spec
    from sim.calibration_report import MIN_ESS, run_and_write
    from sim.outputs import release_folder
    from sim.validation import load_targets

    spec, base = load_spec(args.spec)
    folder = _output_folder(args, "calibrate")
    try:
        result, markdown = run_and_write(
            folder, spec, base, load_targets(), workers=args.workers, scheduler=args.scheduler,
            resume=args.resume, progress=not args.quiet, spread_members=args.spread_members,
            spread_replications=args.spread_replications,
            manifest=_manifest(args, calibration_file=str(args.spec),
                               calibration=spec.model_dump(mode="json")))
    except BaseException:
        release_folder(folder)
        raise
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
