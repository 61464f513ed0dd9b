"""The ``cloudrace`` command line.

``cloudrace run SCENARIO`` runs a scenario and writes a results folder; ``cloudrace scenarios``
lists the scenarios with the question each answers. A user mistake prints one message and exits
with status 2; nothing is written.
"""

from __future__ import annotations

import _thread
import argparse
import errno
import shlex
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sim import __version__
from sim.cli_calibration import add_commands as add_calibration_commands
from sim.cli_compare import add_commands as add_compare_commands
from sim.errors import UserError
from sim.experiments.cli import add_commands as add_experiment_commands
from sim.game.server import add_command as add_classroom_command
from sim.limits import MAX_REPLICATIONS, MAX_WORKERS

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
FILE_SYSTEM_REFUSALS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT,
                        errno.EFBIG}
"""Errors of a write the file system refuses: the user's to fix, reported without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="cloudrace",
        description="Cloud Race: an agent-based model of the US-China contest for government "
                    "cloud contracts in developing countries.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = common_options()

    run = commands.add_parser(
        "run", parents=[common], help="run a scenario and write a results folder",
        description="Run a scenario's replications and write contracts.csv, yearly.csv, "
                    "manifest.json, figures/ and summary.md to a new results folder.")
    run.add_argument("scenario", type=Path,
                     help="scenario file, or a shipped scenario's name as `cloudrace scenarios` "
                          "prints it (e.g. baseline, policy/us_dfc_push.yaml)")
    run.add_argument("--replications", "-n", type=replications_count, metavar="N",
                     help="number of replications (default: the scenario's run.replications; "
                          f"at most {MAX_REPLICATIONS:,})")
    run.add_argument("--seed", type=seed_value, metavar="S",
                     help="root seed (default: the scenario's run.seed)")
    run.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                     dest="overrides",
                     help="override a parameter, e.g. --set choice.cost_weight=2.5 "
                          "(repeatable; the value is read as YAML)")
    run.add_argument("--tenders", action="store_true",
                     help="also write tenders.csv: every tender with every bid")
    run.add_argument("--no-figures", action="store_true", help="skip the figures")
    run.set_defaults(handler=command_run)
    add_calibration_commands(commands, common)
    add_compare_commands(commands, common)

    scenarios = commands.add_parser(
        "scenarios", help="list the scenarios and the question each answers",
        description="List the scenario files in a folder with their descriptions.")
    scenarios.add_argument("folder", nargs="?", type=Path, default=None,
                           help="folder of scenario files (default: ./scenarios)")
    scenarios.set_defaults(handler=command_scenarios)

    app = commands.add_parser(
        "app", help="start the classroom app in the browser (works offline)",
        description="Start the classroom app (Solara, for a projector): lessons, levers, live "
                    "charts, a world map and a contract ticker. It needs no internet; its "
                    "browser files are fetched once by `make app-assets`.")
    app.add_argument("--port", type=int, default=8765, help="port to listen on (default: 8765)")
    app.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default: 127.0.0.1, this computer only; "
                          "0.0.0.0 lets other computers on the network connect)")
    app.set_defaults(handler=command_app)
    add_classroom_command(commands)
    add_experiment_commands(commands)
    return parser


def common_options() -> argparse.ArgumentParser:
    """Options shared by the commands that run the model: output folder, workers, quiet."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", "-o", type=Path, metavar="DIR",
                        help="results folder to create (must not exist; default: "
                             "results/<name>-<date-time>)")
    common.add_argument("--workers", "-w", type=workers_count, default=1, metavar="N",
                        help="worker processes for the replications (default 1; results do "
                             "not depend on it)")
    common.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the replications on the Dask cluster of this scheduler, e.g. "
                             "tcp://10.0.0.5:8786, instead of --workers processes here")
    common.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    return common


def whole_number(text: str, low: int = 0, high: int | None = None) -> int:
    """A whole number in ``[low, high]``, for argparse (its message names the option)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:40]!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected at least {low}, got {value}")
    if high is not None and value > high:
        raise argparse.ArgumentTypeError(f"expected at most {high:,}, got {value:,}")
    return value


def workers_count(text: str) -> int:
    """A number of worker processes: 1 to ``MAX_WORKERS``."""
    return whole_number(text, 1, MAX_WORKERS)


def replications_count(text: str) -> int:
    """A number of replications: 1 to ``MAX_REPLICATIONS`` (checked before any seed is made)."""
    return whole_number(text, 1, MAX_REPLICATIONS)


def seed_value(text: str) -> int:
    """A root seed: 0 to 2^63-1."""
    value = whole_number(text, -(2**70))
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected a seed between 0 and 2^63-1, got {value}")
    return value


def command_run(args: argparse.Namespace) -> int:
    """Run a scenario and write its results folder (``sim.results.write_run_folder``, the path
    ``sim.run(...).save`` takes too), streaming the replications so memory does not grow."""
    from sim.results import RunRecord, write_run_folder
    from sim.runner import shared_executor, stream_scenario
    from sim.scenario import load_scenario
    from sim.shipped import scenario_path

    path = scenario_path(args.scenario)
    settings = load_scenario(path, args.overrides)
    replications = args.replications or settings.run.replications
    root_seed = settings.run.seed if args.seed is None else args.seed
    seeds, results = stream_scenario(settings, replications, root_seed, args.tenders,
                                     progress=not args.quiet,
                                     workers=shared_executor(args.workers, args.scheduler))
    record = RunRecord(settings, Path(args.scenario).stem, str(args.scenario), args.overrides,
                       replications, root_seed, seeds, datetime.now(UTC), args.command_line)
    folder, contracts = write_run_folder(args.out, record, results, tenders=args.tenders,
                                         figures=not args.no_figures)
    print(f"Wrote {folder}/ ({contracts} contracts over {replications} replication(s)); "
          f"headline numbers in {folder / 'summary.md'}")
    return 0


def command_scenarios(args: argparse.Namespace) -> int:
    """List scenario files with their descriptions."""
    from sim.scenario import SCENARIO_DIR, clip, read_text
    from sim.strict_yaml import load_yaml

    folder = args.folder or (Path("scenarios") if Path("scenarios").is_dir() else SCENARIO_DIR)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder of scenarios")
    files = sorted(folder.rglob("*.yaml"))
    if not files:
        raise UserError(f"{folder}: no scenario files (*.yaml) in it")
    for path in files:
        try:
            data = load_yaml(read_text(path, "scenario"), str(path))
            description = data.get("description", "") if isinstance(data, dict) else ""
            if not isinstance(description, str):
                raise UserError("the description is not text")
        except UserError:
            description = "(cannot be read: run it to see the error)"
        print(f"{path.relative_to(folder)}\n    {clip(' '.join(description.split()), 400)}\n")
    return 0


def command_app(args: argparse.Namespace) -> int:
    """Start the classroom app: this process becomes the Solara server (``sim.app.server``)."""
    from sim.app.server import serve

    serve(args.host, args.port)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, dispatch, turn user mistakes into one message and exit status 2."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    args.command_line = shlex.join(["cloudrace", *argv])
    try:
        with terminate_as_interrupt():
            return args.handler(args)
    except UserError as error:
        print(f"cloudrace: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("cloudrace: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ImportError as error:
        # Ctrl-C or SIGTERM while a C extension initialises (the lazy imports of a command)
        # surfaces as "ImportError: initialization failed" caused by the KeyboardInterrupt.
        if not isinstance(error.__cause__, KeyboardInterrupt):
            raise
        print("cloudrace: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as error:
        if error.errno not in FILE_SYSTEM_REFUSALS:
            raise
        where = f" {error.filename}" if error.filename else ""
        print(f"cloudrace: error: cannot write{where}: {error.strerror}", file=sys.stderr)
        return EXIT_USER_ERROR


SWALLOWING_FRAMES = frozenset({"_remove", "__del__", "_remove_dead_weakref"})
"""Frames in which Python ignores an exception (weak-reference callbacks, finalisers)."""


def _inside_swallowing_frame(frame) -> bool:
    """Whether ``frame`` runs inside a weak-reference callback or a finaliser."""
    while frame is not None:
        if frame.f_code.co_name in SWALLOWING_FRAMES:
            return True
        frame = frame.f_back
    return False


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (``kill``, a job limit) like Ctrl-C: clean up, write nothing, exit 130.

    Only in the main thread (where Python delivers signals); the previous handler comes back.
    """
    def interrupt(signum, frame):
        if _inside_swallowing_frame(frame):
            # An exception raised inside a weak-reference callback or a finaliser is printed
            # and ignored; deliver the signal again once that frame is left.
            _thread.interrupt_main(signum)
            return
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def console_main() -> None:
    """The installed ``cloudrace`` script."""
    sys.exit(main())


if __name__ == "__main__":
    console_main()
