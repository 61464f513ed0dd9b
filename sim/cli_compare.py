"""The ``compare`` subcommand: policy scenarios against a base, paired, with intervals."""

from __future__ import annotations

import argparse
import itertools
import shutil
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import UserError
from sim.limits import MAX_COMMAND_RUNS, MAX_REPLICATIONS

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_CALIBRATION = Path("calibration/abc.yaml")
DEFAULT_POSTERIOR = Path("calibration/posterior.csv")
DEFAULT_STRUCTURES = Path("calibration/structures.yaml")


def add_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``compare`` on the main parser."""
    compare = commands.add_parser(
        "compare", parents=[common], help="compare scenarios with a base, paired",
        description="Run every scenario on the same seeds as the base (common random numbers) "
                    "and report paired differences in the key outcomes (shares of new contracts "
                    "2022-2035, leverage, dependence, debt, public money per contract gained), "
                    "each with the 90 % confidence interval of its mean (chance only) and, "
                    "with --posterior and --structures, its predictive interval across "
                    "posterior members and structures and a decomposition of its variance into "
                    "chance, parameters and structure. Writes CSV tables, figures and a report.")
    compare.add_argument("base", type=Path, help="the base scenario, e.g. scenarios/baseline.yaml")
    compare.add_argument("others", type=Path, nargs="+", help="scenarios to compare with it")
    compare.add_argument("--replications", "-n", type=at_least_two_replications, default=10,
                         metavar="N", help="replications per scenario (and per posterior "
                         "member; default 10)")
    compare.add_argument("--seed", type=seed_value, metavar="S",
                         help="root seed (default: the base scenario's run.seed)")
    compare.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                         dest="overrides", help="override a parameter in every scenario")
    compare.add_argument("--posterior", type=non_negative, default=0, metavar="N",
                         help="run every scenario under N members drawn by weight (with "
                              "replacement, seeded by the root seed) from the posterior, so "
                              "the answer carries parameter uncertainty")
    compare.add_argument("--structures", type=Path, metavar="YAML",
                         help="structural ensemble: run every combination of the file's "
                              f"switches (e.g. {DEFAULT_STRUCTURES}), so the answer carries "
                              "structural uncertainty")
    compare.add_argument("--brief", action="store_true",
                         help="also write brief.html: the answer with its uncertainty, "
                              "trajectories and provenance in one self-contained page")
    compare.add_argument("--calibration", type=Path, default=DEFAULT_CALIBRATION,
                         help=f"calibration file naming the posterior's parameters "
                              f"(default {DEFAULT_CALIBRATION})")
    compare.add_argument("--posterior-file", type=Path, default=DEFAULT_POSTERIOR,
                         help=f"posterior ensemble (default {DEFAULT_POSTERIOR})")
    compare.add_argument("--fork", type=float, metavar="YEAR",
                         help="run the shared history once to this date (e.g. 2022) and "
                              "continue every scenario from that same state, so scenarios "
                              "differ only after it; dated events before it are history")
    compare.add_argument("--docs", type=Path, metavar="PATH",
                         help="also write the report as a documentation page (e.g. "
                              "docs/scenarios.md) with its figures in docs/images/")
    compare.set_defaults(handler=command_compare)


def at_least_two_replications(text: str) -> int:
    """A number of replications for paired intervals: 2 to ``MAX_REPLICATIONS``."""
    from sim.cli import whole_number

    return whole_number(text, 2, MAX_REPLICATIONS)


def non_negative(text: str) -> int:
    """A whole number of at least 0."""
    from sim.cli import whole_number

    return whole_number(text, 0)


def seed_value(text: str) -> int:
    """A root seed (``sim.cli.seed_value``)."""
    from sim.cli import seed_value as parse

    return parse(text)


def check_run_count(runs: int, what: str) -> None:
    """Refuse a command that would make more than ``MAX_COMMAND_RUNS`` model runs."""
    if runs > MAX_COMMAND_RUNS:
        raise UserError(f"{what} make {runs:,} runs; at most {MAX_COMMAND_RUNS:,} are allowed "
                        "in one command (use cloudrace sweep for more)")


def read_posterior(path: Path, members: int, parameters: list[str], seed: int) -> pd.DataFrame:
    """``members`` members of a posterior file drawn by weight, or ``UserError`` naming the file."""
    import pandas as pd

    from sim.comparison import load_posterior

    if not path.is_file():
        raise UserError(f"{path}: posterior ensemble not found (run "
                        "cloudrace calibrate --install)")
    try:
        chosen = load_posterior(path, members, seed)
        return chosen[parameters]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, pd.errors.ParserError) as error:
        message = str(error)[:200]
        raise UserError(f"{path}: not a posterior ensemble (a CSV with a weight column and "
                        f"the columns {', '.join(parameters)}): {message}") from None


def command_compare(args: argparse.Namespace) -> int:
    """Run the comparison and write its folder."""
    import pandas as pd

    from sim.brief import write_brief
    from sim.calibration import candidate_values, load_scenario_values, load_spec
    from sim.comparison import (
        AS_SPECIFIED,
        Draw,
        load_structures,
        paired_differences,
        run_forked_outcomes,
        run_outcomes,
    )
    from sim.comparison_plots import plot_differences, plot_trajectories
    from sim.outputs import (
        claim_results_folder,
        file_sha256,
        git_commit,
        release_folder,
        write_manifest,
        write_results,
    )
    from sim.runner import replication_seeds, run_tasks, shared_executor
    from sim.scenario import load_scenario, scenario_hash

    paths = [args.base, *args.others]
    names = [path.stem for path in paths]
    if len(set(names)) < len(names):
        raise UserError("compare: scenario file names must differ (they name the scenarios)")
    scenarios = {name: load_scenario(path, args.overrides)
                 for name, path in zip(names, paths, strict=True)}
    base_name = names[0]
    check_run_count(len(paths) * max(1, args.posterior) * args.replications,
                    f"{len(paths)} scenarios x {max(1, args.posterior):,} posterior members x "
                    f"{args.replications:,} replications")
    seed = scenarios[base_name].run.seed if args.seed is None else args.seed
    seeds = replication_seeds(seed, args.replications)
    members: dict[int, dict] = {-1: {}}
    particles: list[int] = []
    if args.posterior:
        spec, _ = load_spec(args.calibration)
        chosen = read_posterior(args.posterior_file, args.posterior, list(spec.parameters),
                                seed)
        particles = [int(index) for index in chosen.index]
        members = {draw: row.to_dict() for draw, (_, row) in enumerate(chosen.iterrows())}
    structures = load_structures(args.structures) if args.structures else {AS_SPECIFIED: {}}
    if args.fork is not None and not (scenarios[base_name].run.start_year < args.fork
                                      <= scenarios[base_name].run.end_year):
        raise UserError(f"--fork: expected a date within the run, got {args.fork:g}")
    tasks: list = []
    for (structure, switches), (member, row) in itertools.product(structures.items(),
                                                                 members.items()):
        fitted = {name: load_scenario_values(
            settings,
            {**(candidate_values(settings, spec, row, skip_missing=True) if row else {}),
             **switches},
            f"scenario {name} under posterior member {member} and structure {structure}")
            for name, settings in scenarios.items()}
        for replication, replication_seed in enumerate(seeds):
            draw = Draw(member, replication, replication_seed, structure)
            if args.fork is None:
                tasks += [(settings, name, draw) for name, settings in fitted.items()]
            else:
                tasks.append((fitted, args.fork, draw))
    folder = claim_results_folder(args.out, f"compare-{base_name}", datetime.now())
    try:
        workers = shared_executor(args.workers, args.scheduler)
        if args.fork is None:
            results = run_tasks(tasks, workers, not args.quiet, "runs",
                                function=run_outcomes)
        else:
            results = [run for branches in run_tasks(
                tasks, workers, not args.quiet, "forked runs",
                function=run_forked_outcomes) for run in branches]
    except (ValueError, UserError) as error:
        release_folder(folder)
        raise UserError(f"compare: {error}") from None
    except BaseException:
        release_folder(folder)
        raise
    outcomes = pd.DataFrame([outcome for outcome, _ in results])
    trajectories = pd.concat([trajectory for _, trajectory in results], ignore_index=True)
    differences = paired_differences(outcomes, base_name)
    states = list(scenarios[base_name].states)
    uncertainty = f"{args.replications} replications on common seeds (chance)"
    if args.posterior:
        uncertainty += (f" x {len(members)} posterior members drawn by weight (parameter "
                        "uncertainty)")
    if args.structures:
        uncertainty += f" x {len(structures)} structures of {args.structures} (structure)"
    if args.fork is not None:
        uncertainty += (f"; every scenario continues from the same history up to "
                        f"{args.fork:g}")
    report = comparison_report(scenarios, base_name, differences, uncertainty)
    provenance = {
        "command": args.command_line, "git commit": git_commit(), "root seed": seed,
        "replication seeds": seeds, "posterior file": args.posterior_file
        if args.posterior else "none", "posterior file SHA-256": file_sha256(
            args.posterior_file) if args.posterior else "none",
        "posterior particles drawn": particles, "structures": list(structures),
        "scenario files": [str(p) for p in paths]}
    extra = {"brief.html": lambda path: write_brief(
        path, scenarios, base_name, differences,
        {name: path.parent / f"{name}.png" for name in ("trajectories", "differences")},
        uncertainty, provenance)} if args.brief else {}
    write_results(folder, {
        "differences.csv": lambda path: differences.to_csv(path, index=False),
        "outcomes.csv": lambda path: outcomes.to_csv(path, index=False),
        "trajectories.csv": lambda path: trajectories.to_csv(path, index=False),
        "trajectories.png": partial(plot_trajectories, trajectories, states),
        "differences.png": partial(plot_differences, differences),
        "report.md": lambda path: path.write_text(report),
        "manifest.json": partial(
            write_manifest, command=args.command_line, root_seed=seed,
            replication_seeds=seeds, posterior_particles=particles,
            posterior_file=str(args.posterior_file) if args.posterior else None,
            posterior_sha256=file_sha256(args.posterior_file) if args.posterior else None,
            structures=structures, fork=args.fork,
            scenario_files=[str(p) for p in paths],
            scenario_hashes={n: scenario_hash(s) for n, s in scenarios.items()},
            finished=datetime.now(UTC).isoformat(timespec="seconds")),
        **extra,
    })
    print(report.split("\n## ")[0])
    print(f"Wrote {folder}/")
    if args.docs:
        images = args.docs.parent / "images"
        images.mkdir(parents=True, exist_ok=True)
        for figure in ("trajectories", "differences"):
            shutil.copyfile(folder / f"{figure}.png", images / f"scenarios_{figure}.png")
        args.docs.write_text(report.replace("(trajectories.png)",
                                            "(images/scenarios_trajectories.png)")
                             .replace("(differences.png)", "(images/scenarios_differences.png)"))
        print(f"Wrote {args.docs}")
    return 0


def comparison_report(scenarios: dict, base_name: str, differences: pd.DataFrame,
                      uncertainty: str) -> str:
    """The comparison as markdown: each scenario's question, changes and headline results."""
    import pandas as pd

    from sim.comparison import HEADLINES, format_interval, variance_shares, what_changes

    base = scenarios[base_name]
    lines = [f"# Policy scenarios against `{base_name}`", "",
             f"Each number is the mean paired difference from `{base_name}` over {uncertainty}. "
             "In square brackets: the 90 % confidence interval of that mean, **chance only** "
             "(how precisely these runs pin the mean down). In braces, where the run has "
             "several posterior members or structures: the 90 % **predictive interval across "
             "posterior members and structures** (where the effect could lie given what the "
             "record leaves open). The last column splits the variance of a single run's "
             "effect into chance, parameters and structure. The spread of single runs is in "
             "`differences.csv` (`single_run_p05`, `single_run_p95`). Generated by "
             "`cloudrace compare`; see the manifest of the run for the exact command.", "",
             "![Trajectories](trajectories.png)", "", "![Differences](differences.png)", ""]
    for name, settings in scenarios.items():
        if name == base_name:
            continue
        table = differences[differences["scenario"] == name].set_index("outcome")
        lines += [f"## {name}", "", " ".join(settings.description.split()), "",
                  "**What it changes:** " + ("; ".join(what_changes(base, settings)) or
                                             "nothing"), "",
                  "| outcome | base | difference [90 % CI of mean, chance] {90 % predictive, "
                  "parameters + structure} | variance: chance / parameters / structure |",
                  "|---|---|---|---|"]
        for outcome, label in HEADLINES.items():
            if outcome in table.index:
                row = table.loc[outcome]
                digits = 2 if outcome.startswith("leverage_") else 1
                lines.append(f"| {label} | {row['base_mean']:,.2f} | "
                             f"{format_interval(row, digits)} | {variance_shares(row)} |")
        for outcome in [o for o in table.index if o.startswith("money_per_contract_gained_")]:
            row = table.loc[outcome]
            bloc = outcome.removeprefix("money_per_contract_gained_")
            value = "n/a: " + row["note"] if pd.isna(row["difference"]) else \
                f"{row['difference']:+,.1f}"
            lines.append(f"| public money spent per contract gained, {bloc} bloc (US$ m) | | "
                         f"{value} | |")
        lines.append("")
    lines += ["Public money spent per contract gained: the bloc's mean extra public money "
              "(financing and subsidy, 2022-2035) over its providers' mean extra contracts won, "
              "signed (negative: contracts gained while spending less); undefined when the 90 % "
              "confidence interval of the contract change includes zero or lies below it.", ""]
    return "\n".join(lines) + "\n"
