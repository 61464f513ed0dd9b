"""Regression tests for the robustness holes of issue 13: each reproduces one hole's input.

Every bad input must give exit status 2 and one message naming the file (or option) and the
key, with no traceback and nothing written; the few that are valid must run. The commands run
in this process (``run_cli``) on the tiny scenario of conftest, except where the exit status of
a fresh interpreter is the point.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest
from conftest import BASELINE, listing, run_cli, write_tiny_scenario

from sim import limits
from sim.errors import UserError
from sim.market.financing import debt_service_schedule, grant_element, repayment_periods
from sim.scenario import show
from sim.strict_yaml import load_yaml

REPO = Path(__file__).resolve().parent.parent
BILLION_LAUGHS = "\n".join(
    ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)])
"""Nine levels of nine aliases each: 9^9 (387 million) strings from 700 bytes."""


def refused(result, *fragments: str) -> str:
    """Assert exit 2 with one message holding every fragment and no traceback; return it."""
    assert result.code == 2, (result.code, result.out, result.err)
    assert "Traceback" not in result.err
    assert result.err.startswith("cloudrace: error:") or "error: argument" in result.err, \
        result.err
    for fragment in fragments:
        assert fragment in result.err, (fragment, result.err)
    return result.err


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_tiny_scenario(tmp_path)


def run_args(tiny: Path, tmp_path: Path, *extra: str) -> list:
    return ["run", tiny, "-q", "--no-figures", "-n", "1", "--out", tmp_path / "out", *extra]


# --- hole 1: maturity and grace rounding to the same number of payments -----------------------


def test_hole1_grace_and_maturity_rounding_alike_is_refused_not_a_zero_division(
        tmp_path: Path, capsys):
    result = run_cli(["run", BASELINE, "-n", "1", "--out", tmp_path / "out",
                      "--set", "states.China.financing.maturity_years=5.4",
                      "--set", "states.China.financing.grace_years=4.6"], capsys)
    refused(result, "states.China.financing.grace_years", "both round to 5")
    assert listing(tmp_path) == []


def test_hole1_the_loan_arithmetic_itself_refuses_no_repayment_period():
    assert repayment_periods(5.4, 4.6) == 0
    with pytest.raises(ValueError, match="at least one payment period"):
        debt_service_schedule(1.0, 0.02, 5.4, 4.6)
    assert grant_element(0.02, 5.6, 4.4) == pytest.approx(grant_element(0.02, 6, 4))


# --- hole 2: alias bombs and huge values in messages -----------------------------------------


def bomb_command(where: str, folder: Path) -> list:
    """A command whose input holds the billion laughs where the schema expects a scalar."""
    path = folder / "bomb.yaml"
    if where == "description":
        path.write_text(f"{BILLION_LAUGHS}\ndescription: *a8\n")
        return ["run", path]
    if where == "run.seed":
        path.write_text(f"{BILLION_LAUGHS}\nrun: {{seed: *a8}}\n")
        return ["run", path]
    if where == "set":
        flow = "{" + BILLION_LAUGHS.replace("\n", ", ") + ", b: *a8}"
        return ["run", BASELINE, "--set", f"description={flow}"]
    write_tiny_scenario(folder)
    path.write_text(f"scenario: tiny.yaml\n{BILLION_LAUGHS}\nset: {{description: *a8}}\n"
                    "uncertainties: {choice.cost_weight: {range: [1, 2]}}\n"
                    "design: {method: latin_hypercube, samples: 2}\noutcomes: [x]\n")
    return ["sweep", path]


@pytest.mark.parametrize("where", ["run.seed", "set", "experiment"])
def test_hole2_billion_laughs_is_refused_at_once(where: str, tmp_path: Path, capsys):
    started = time.monotonic()
    result = run_cli([*bomb_command(where, tmp_path), "--out", tmp_path / "out"], capsys)
    message = refused(result, "expands to more than")
    assert len(message) < 1000
    assert time.monotonic() - started < 10
    assert not (tmp_path / "out").exists()


def test_hole2_billion_laughs_in_a_fresh_interpreter_with_memory_capped(tmp_path: Path):
    """Under a 1.5 GB address-space limit: before the fix it grew by about 50 MB/s."""
    import subprocess

    argv = [str(a) for a in bomb_command("description", tmp_path)] + ["--out", "out"]
    code = (f"import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({1500 << 20}, "
            f"{1500 << 20})); from sim.cli import main; sys.exit(main({argv!r}))")
    process = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                             text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert process.returncode == 2, process.stderr[-2000:]
    assert "Traceback" not in process.stderr and "expands to more than" in process.stderr
    assert not (tmp_path / "out").exists()


def test_hole2_messages_show_a_short_form_of_a_huge_value():
    huge = [[list(range(1000))] * 1000] * 1000
    text = show(huge)
    assert len(text) < 200 and "..." in text
    assert show("x" * 10_000).count("x") < 100


def test_hole2_a_long_flat_value_is_refused_with_a_short_message(tmp_path: Path, capsys):
    result = run_cli(["run", BASELINE, "--set", "description=[" + "1, " * 50_000 + "1]",
                      "--out", tmp_path / "out"], capsys)
    message = refused(result, "description (set with --set): expected text")
    assert len(message) < 500


# --- hole 3: invalid numbers and names accepted ------------------------------------------------


@pytest.mark.parametrize(("assignment", "key", "expected"), [
    ("demand.reference_gdp_usd_bn=.inf", "demand.reference_gdp_usd_bn", "finite number"),
    ("demand.reference_gdp_per_capita_usd=.inf", "demand.reference_gdp_per_capita_usd",
     "finite number"),
    ("tenders.min_value_usd_m=.inf", "tenders.min_value_usd_m", "finite number"),
    ("tenders.max_value_usd_m=.inf", "tenders.max_value_usd_m", "finite number"),
    ("states.US.ties.us_security_partner=.nan", "states.US.ties.us_security_partner",
     "finite number"),
    ("states.US.ties.us_security_partner=-.inf", "states.US.ties.us_security_partner",
     "finite number"),
    ("providers.AWS.cloud_regions={XXX: 2015}", "providers.AWS.cloud_regions",
     "unknown ISO3 codes XXX"),
    ("providers.AWS.cloud_regions={KEN: .nan}", "providers.AWS.cloud_regions.KEN",
     "finite number"),
    ("providers.AWS.cloud_regions={KEN: 3000}", "providers.AWS.cloud_regions",
     "between 1900 and 2200"),
    ("states.US.ties_from={us_security_partner: .nan}",
     "states.US.ties_from.us_security_partner", "finite number"),
    ("states.US.ties_from={no_such_tie: 2010}", "states.US.ties_from.no_such_tie",
     "one of the state's ties"),
    ("tenders.min_value_usd_m=700", "tenders", "at most max_value_usd_m"),
    ("population.exclude=[KEN, ZMB, GHA, NGA, BRA, MEX, IDN, SAU]", "population",
     "no country takes part"),
    ("providers.state_US={home_state: US}", "providers/states", "share_new_state_US"),
    ("providers={Huawei: {home_state: China}, Huawei_region_africa: {home_state: US}}",
     "providers/states", "share_new_Huawei_region_africa"),
    ("states.US.bloc=west", None, None),
    ("providers={'a.b': {home_state: US}}", "providers", "names of letters"),
    ("providers=!replace {}", "providers", "at least one"),  # {} alone merges: no change
])
def test_hole3_invalid_numbers_codes_and_names_are_refused(assignment, key, expected,
                                                           tiny: Path, tmp_path: Path, capsys):
    result = run_cli(run_args(tiny, tmp_path, "--set", assignment), capsys)
    if key is None:  # the control: a valid override runs
        assert result.code == 0, result.err
        return
    refused(result, str(tiny), key, expected)
    assert listing(tmp_path) == ["tiny.yaml"]


# --- hole 4: sizes checked against documented limits before allocating -------------------------


def test_hole4_a_billion_replications_is_refused_before_any_seed_is_made(tmp_path, capsys):
    started = time.monotonic()
    result = run_cli(["run", BASELINE, "-n", "1000000000", "--out", tmp_path / "o"], capsys)
    refused(result, "--replications", f"at most {limits.MAX_REPLICATIONS:,}")
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(("design", "replications", "expected"), [
    ("{method: full_factorial, resolution: 1000}", 1, "1,000,000,000,000 points"),
    ("{method: latin_hypercube, samples: 1000000}", 100000, "100,000,000,000 runs"),
    ("{method: sobol, samples: 524288}", 1, "3,145,728 points"),
    ("{method: morris, trajectories: 100000, levels: 4}", 100, "50,000,000 runs"),
])
def test_hole4_designs_and_sweeps_beyond_the_limits_are_refused_before_sampling(
        design, replications, expected, tmp_path: Path, capsys):
    write_tiny_scenario(tmp_path)
    path = tmp_path / "big.yaml"
    path.write_text("scenario: tiny.yaml\nuncertainties:\n"
                    + "".join(f"  choice.{w}_weight: {{range: [1.0, 2.0]}}\n"
                              for w in ("cost", "security", "quality", "trust"))
                    + f"design: {design}\nreplications: {replications}\n"
                    "outcomes: [share_new_china_2008_2012]\n")
    started = time.monotonic()
    result = run_cli(["sweep", path, "--executor", "serial", "--out", tmp_path / "s"], capsys)
    refused(result, str(path), expected, "at most")
    assert time.monotonic() - started < 10
    assert not (tmp_path / "s").exists()


def test_hole4_compare_refuses_more_runs_than_the_limit(tiny: Path, tmp_path: Path, capsys):
    result = run_cli(["compare", tiny, tiny.with_name("other.yaml"), "-n", "100000",
                      "--posterior", "100", "--out", tmp_path / "c"], capsys)
    # the second file does not exist: the file check comes first, then the size
    refused(result, "other.yaml")
    other = write_tiny_scenario(tmp_path, "other.yaml")
    result = run_cli(["compare", tiny, other, "-n", "100000", "--posterior", "100", "--out",
                      tmp_path / "c"], capsys)
    refused(result, "20,000,000 runs", f"at most {limits.MAX_COMMAND_RUNS:,}")


def test_hole4_the_limits_table_in_the_docs_matches_the_code():
    text = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    for name in ("MAX_INPUT_FILE_BYTES", "MAX_YAML_NODES", "MAX_YAML_DEPTH",
                 "MAX_EXTENDS_DEPTH", "MAX_REPLICATIONS", "MAX_WORKERS", "MAX_COMMAND_RUNS",
                 "MAX_DESIGN_POINTS", "MAX_SWEEP_RUNS"):
        row = re.search(rf"\| `{name}` \| ([\d,]+) \|", text)
        assert row, f"docs/reliability.md has no row for {name}"
        assert int(row[1].replace(",", "")) == getattr(limits, name), name


# --- hole 5: tracebacks on odd options and files -----------------------------------------------


@pytest.mark.parametrize("argv", [
    ["compare", "{tiny}", "{tiny}", "--seed", "-1"],
    ["validate", "{tiny}", "--seed", "-1"],
    ["compare", "{tiny}", "{tiny}", "--posterior", "-1"],
    ["validate", "{tiny}", "-n", "1"],
    ["calibrate", "--spread-replications", "-3"],
    ["run", "{tiny}", "--workers", "100000"],
    ["sweep", "{tiny}", "--workers", "100000"],
])
def test_hole5_bad_option_values_exit_2_with_usage_and_write_nothing(argv, tiny, tmp_path,
                                                                     capsys):
    result = run_cli([a.format(tiny=tiny) for a in argv] + ["--out", tmp_path / "o"], capsys)
    assert result.code == 2 and "Traceback" not in result.err
    assert "error: argument" in result.err
    assert not (tmp_path / "o").exists()


def test_hole5_an_integer_range_up_to_infinity_is_refused(tmp_path: Path, capsys):
    write_tiny_scenario(tmp_path)
    path = tmp_path / "inf.yaml"
    path.write_text("scenario: tiny.yaml\nuncertainties:\n"
                    "  demand.max_deferrals: {range: [0, .inf], integer: true}\n"
                    "design: {method: latin_hypercube, samples: 4}\n"
                    "outcomes: [share_new_china_2008_2012]\n")
    result = run_cli(["sweep", path, "--executor", "serial", "--out", tmp_path / "s"], capsys)
    refused(result, str(path), "uncertainties.demand.max_deferrals.range", "finite number")


@pytest.mark.parametrize("damage", ["empty", "foreign", "manifest only", "bad json",
                                    "corrupt part"])
@pytest.mark.parametrize("command", ["resume", "sensitivity"])
def test_hole5_a_foreign_or_damaged_folder_is_refused_and_left_as_it_was(
        damage: str, command: str, tmp_path: Path, capsys):
    from test_experiments_sweep import EXPERIMENT

    experiment = tmp_path / "exp.yaml"
    experiment.write_text(EXPERIMENT)
    folder = tmp_path / "sweep"
    if damage == "corrupt part":
        assert run_cli(["sweep", experiment, "--executor", "serial", "-q", "--out", folder],
                       capsys).code == 0
        next((folder / "runs").glob("part-*.parquet")).write_bytes(b"PAR1 not parquet")
    else:
        folder.mkdir()
        if damage == "foreign":
            (folder / "notes.txt").write_text("mine")
        if damage in ("manifest only", "bad json"):
            (folder / "manifest.json").write_text("{}" if damage == "manifest only" else "{x")
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    argv = ["sweep", experiment, "--executor", "serial", "--resume", "--out", folder] \
        if command == "resume" else ["sensitivity", folder, "--out", tmp_path / "sens"]
    result = run_cli(argv, capsys)
    refused(result, str(folder))
    after = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before
    assert not (folder / ".lock").exists() or damage == "corrupt part"
    assert not (tmp_path / "sens").exists()


def test_hole5_a_binary_posterior_file_is_refused(tiny: Path, tmp_path: Path, capsys):
    posterior = tmp_path / "posterior.csv"
    posterior.write_bytes(bytes(range(256)) * 8)
    other = write_tiny_scenario(tmp_path, "other.yaml")
    result = run_cli(["compare", tiny, other, "-n", "2", "--posterior", "2",
                      "--calibration", REPO / "calibration" / "abc.yaml",
                      "--posterior-file", posterior, "--out", tmp_path / "c"], capsys)
    refused(result, str(posterior), "not a posterior ensemble")
    assert not (tmp_path / "c").exists()


def test_hole5_a_symlink_loop_and_a_deep_extends_chain_are_refused(tmp_path: Path, capsys):
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(tmp_path / "loop.yaml")
    refused(run_cli(["run", loop, "--out", tmp_path / "o"], capsys), str(loop))
    write_tiny_scenario(tmp_path, "s0.yaml")
    for index in range(1, 1500):
        (tmp_path / f"s{index}.yaml").write_text(f"extends: s{index - 1}.yaml\n")
    result = run_cli(["run", tmp_path / "s1499.yaml", "--out", tmp_path / "o"], capsys)
    refused(result, "s1499.yaml", f"more than {limits.MAX_EXTENDS_DEPTH} files")


def test_hole5_scenarios_lists_a_folder_with_a_binary_and_a_bomb_file(tmp_path: Path, capsys):
    write_tiny_scenario(tmp_path)
    (tmp_path / "binary.yaml").write_bytes(bytes(range(256)))
    (tmp_path / "bomb.yaml").write_text(f"{BILLION_LAUGHS}\ndescription: *a8\n")
    result = run_cli(["scenarios", tmp_path], capsys)
    assert result.code == 0, result.err
    assert result.out.count("cannot be read") == 2
    assert "Tiny test scenario" in result.out


def test_hole5_a_file_larger_than_the_limit_is_not_read(tmp_path: Path, capsys):
    path = tmp_path / "huge.yaml"
    path.write_text("description: x\n" + "#" * limits.MAX_INPUT_FILE_BYTES)
    refused(run_cli(["run", path, "--out", tmp_path / "o"], capsys), str(path), "at most")


# --- hole 6: debris of killed runs -------------------------------------------------------------


def test_hole6_stale_claims_and_staging_folders_are_cleared_and_the_rerun_succeeds(
        tiny: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    dead = 2**22 + 12345  # above the default pid_max: no such process
    (tmp_path / ".out.claim").write_text("")
    (tmp_path / f".out.partial-{dead}").mkdir()
    (tmp_path / f".out.partial-{dead}" / "contracts.csv").write_text("half")
    (tmp_path / f".other.partial-{dead}").mkdir()  # an older version's leftover, no claim
    result = run_cli(run_args(tiny, tmp_path), capsys)
    assert result.code == 0, result.err
    assert listing(tmp_path) == ["out", "tiny.yaml"]
    assert (out / "contracts.csv").read_text() != "half"


def test_hole6_an_interrupted_run_leaves_nothing_and_can_be_rerun(tiny: Path, tmp_path: Path,
                                                                  capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("sim.runner.stream_scenario", interrupted)
    result = run_cli(run_args(tiny, tmp_path), capsys)
    assert result.code == 130 and "nothing was written" in result.err
    assert listing(tmp_path) == ["tiny.yaml"]
    monkeypatch.undo()
    assert run_cli(run_args(tiny, tmp_path), capsys).code == 0


def test_hole6_a_folder_claimed_by_a_live_process_is_refused(tiny, tmp_path, capsys):
    from sim.outputs import release_folder, reserve_folder

    out = tmp_path / "out"
    reserve_folder(out)  # held as another live run would hold it (flock: per open file)
    try:
        result = run_cli(run_args(tiny, tmp_path), capsys)
        refused(result, str(out), "another cloudrace process is writing this folder")
    finally:
        release_folder(out)
    assert listing(tmp_path) == ["tiny.yaml"]


# --- hole 8: default folder names --------------------------------------------------------------


def test_hole8_concurrent_runs_without_out_get_distinct_folders(tiny: Path, tmp_path: Path):
    """Two runs started together in the same second: two folders, none refused."""
    import subprocess

    environment = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    processes = [subprocess.Popen([sys.executable, "-m", "sim.cli", "run", str(tiny), "-q",
                                   "--no-figures", "-n", "1"], cwd=tmp_path, env=environment,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outcomes = [process.communicate(timeout=120) for process in processes]
    assert [p.returncode for p in processes] == [0] * 2, outcomes
    folders = listing(tmp_path / "results")
    assert len(folders) == 2 and all(not name.startswith(".") for name in folders)
    for name in folders:
        assert (tmp_path / "results" / name / "manifest.json").is_file()


def test_hole8_a_name_claimed_by_another_process_is_skipped(tmp_path: Path):
    from datetime import UTC, datetime

    from sim.outputs import release_folder, reserve_default_folder

    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    first = reserve_default_folder(tmp_path, "tiny", now)
    second = reserve_default_folder(tmp_path, "tiny", now)
    assert first != second and second.name == f"{first.name}-2"
    for folder in (first, second):
        release_folder(folder)
    assert listing(tmp_path) == []


# --- hole 9: duplicate keys --------------------------------------------------------------------


@pytest.mark.parametrize(("text", "key", "lines"), [
    ("description: a\nrun: {end_year: 2008}\nrun: {end_year: 2010}\n", "'run'", (2, 3)),
    ("description: a\nrun:\n  seed: 1\n  end_year: 2009\n  seed: 2\n", "'seed'", (3, 5)),
    ("description: a\nrun: {seed: 1, seed: 2}\n", "'seed'", (2, 2)),
])
def test_hole9_duplicate_keys_are_refused_naming_both_lines(text, key, lines, tmp_path: Path,
                                                             capsys):
    path = tmp_path / "dup.yaml"
    path.write_text(f"extends: {BASELINE}\n{text}")
    first, second = (line + 1 for line in lines)  # the extends line comes first
    refused(run_cli(["run", path, "--out", tmp_path / "o"], capsys), str(path),
            f"duplicate key {key} (first at line {first}, again at line {second})")


def test_hole9_a_merge_key_and_a_small_alias_still_load():
    data = load_yaml("base: &b {x: 1, y: 2}\nchild: {<<: *b, y: 3}\nagain: *b\n", "t")
    assert data == {"base": {"x": 1, "y": 2}, "child": {"x": 1, "y": 3},
                    "again": {"x": 1, "y": 2}}


@pytest.mark.parametrize(("text", "expected"), [
    ("a: &a [*a]\n", "recursive"),
    ("x: " + "[" * 200 + "]" * 200 + "\n", "nests deeper"),
    ("x: " + "{a: " * 200 + "1" + "}" * 200 + "\n", "nests deeper"),
])
def test_hole9_recursive_aliases_and_deep_nesting_are_refused(text: str, expected: str):
    with pytest.raises(UserError, match=expected):
        load_yaml(text, "t.yaml")


def test_hole9_a_duplicate_key_in_an_experiment_file_is_refused(tmp_path: Path, capsys):
    write_tiny_scenario(tmp_path)
    path = tmp_path / "exp.yaml"
    path.write_text("scenario: tiny.yaml\nscenario: other.yaml\n")
    refused(run_cli(["sweep", path, "--executor", "serial"], capsys), str(path),
            "duplicate key 'scenario' (first at line 1, again at line 2)")


def test_hole9_a_calibration_file_with_a_duplicate_key_is_refused(tmp_path: Path, capsys):
    spec = tmp_path / "abc.yaml"
    spec.write_text(f"base: {BASELINE}\nseed: 1\nseed: 2\n")
    result = run_cli(["calibrate", spec, "--out", tmp_path / "out"], capsys)
    refused(result, str(spec), "duplicate key 'seed' (first at line 2, again at line 3)")
    assert not (tmp_path / "out").exists()
