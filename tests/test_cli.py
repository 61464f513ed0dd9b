"""``cloudrace run`` end to end on the tiny scenario, ``cloudrace scenarios`` and ``--help``.

One run in a fresh interpreter (with figures and tenders.csv) is shared by the tests of the
results folder; the others call ``sim.cli.main`` in this process without figures.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import (
    BASELINE,
    TINY_COUNTRIES,
    TINY_END_YEAR,
    TINY_REPLICATIONS,
    listing,
    run_cli,
    run_cli_subprocess,
    snapshot,
    write_scenario,
)

from sim.market.financing import grant_element
from sim.runner import replication_seeds
from sim.scenario import SCENARIO_DIR, load_scenario, scenario_hash
from sim.schema import FH_STATUSES, INCOME_GROUPS, REGIONS

REQUIRED_CONTRACT_COLUMNS = [
    "replication", "seed", "time", "year", "country", "region", "wb_region", "income_group",
    "fh_status", "us_security_partner", "tender_kind", "provider", "provider_state",
    "value_usd_m", "price_usd_m", "financing_state", "loan_usd_m", "grant_element",
    "bundled_hardware", "renewal", "incumbent_provider", "n_bids", "troubled",
]
BOOLEAN_CONTRACT_COLUMNS = ["us_security_partner", "bundled_hardware", "renewal", "troubled"]
MANIFEST_KEYS = ["scenario", "scenario_hash", "root_seed", "replication_seeds", "versions",
                 "git_commit", "started", "finished", "command"]
FIGURES = ["market_share.png", "deals_by_region.png", "deals_by_freedom_status.png",
           "leverage.png"]
YEARS = list(range(2006, TINY_END_YEAR + 1))


def read_text_table(path: Path) -> pd.DataFrame:
    """A CSV exactly as written: every cell a string, empty cells as ''."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def run_folder(shared_tiny_scenario: Path, tmp_path_factory) -> Path:
    """The tiny scenario run once by ``python -m sim.cli run ... --tenders``."""
    out = tmp_path_factory.mktemp("cli") / "tiny-run"
    process = run_cli_subprocess(["run", shared_tiny_scenario, "--out", out, "--tenders", "-q"],
                                 cwd=shared_tiny_scenario.parent)
    assert process.returncode == 0, process.stderr
    assert "Traceback" not in process.stderr
    assert str(out) in process.stdout
    return out


@pytest.fixture(scope="module")
def contracts(run_folder: Path) -> pd.DataFrame:
    return read_text_table(run_folder / "contracts.csv")


@pytest.fixture(scope="module")
def manifest(run_folder: Path) -> dict:
    return json.loads((run_folder / "manifest.json").read_text())


# --- the results folder ------------------------------------------------------------------------


def test_run_writes_every_file_of_the_results_folder(run_folder: Path):
    names = set(listing(run_folder))
    assert {"contracts.csv", "yearly.csv", "countries.csv", "manifest.json", "summary.md",
            "figures", "tenders.csv"} <= names
    for name in FIGURES:
        figure = run_folder / "figures" / name
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert figure.stat().st_size > 5_000
    assert not [p for p in run_folder.parent.iterdir() if "partial" in p.name]


def test_contracts_csv_has_the_required_columns(run_folder: Path):
    header = (run_folder / "contracts.csv").read_text().splitlines()[0].split(",")
    missing = [column for column in REQUIRED_CONTRACT_COLUMNS if column not in header]
    assert missing == []


def test_tiny_run_awards_contracts_in_every_replication(contracts: pd.DataFrame):
    per_replication = contracts.groupby("replication").size()
    assert sorted(per_replication.index) == [str(r) for r in range(TINY_REPLICATIONS)]
    assert (per_replication > 20).all()


def test_contracts_csv_group_columns_take_only_the_allowed_labels(contracts: pd.DataFrame):
    assert set(contracts["region"]) <= set(REGIONS)
    assert set(contracts["fh_status"]) <= set(FH_STATUSES)
    assert set(contracts["income_group"]) <= set(INCOME_GROUPS)
    assert set(contracts["country"]) <= set(TINY_COUNTRIES)
    assert contracts["wb_region"].str.len().min() > 0


def test_contracts_csv_booleans_are_literally_true_or_false(contracts: pd.DataFrame):
    for column in BOOLEAN_CONTRACT_COLUMNS:
        assert set(contracts[column]) <= {"true", "false"}, column
    assert set(contracts["renewal"]) == {"true", "false"}
    assert set(contracts["bundled_hardware"]) == {"true", "false"}


def test_contracts_csv_providers_and_states_are_named_as_in_the_scenario(
        contracts: pd.DataFrame, shared_tiny_scenario: Path):
    scenario = load_scenario(shared_tiny_scenario)
    assert set(contracts["provider"]) <= set(scenario.providers)
    home = {name: provider.home_state for name, provider in scenario.providers.items()}
    assert (contracts["provider_state"] == contracts["provider"].map(home)).all()
    assert set(contracts["financing_state"]) <= {"", *scenario.states}
    assert set(contracts["incumbent_provider"]) <= {"", *scenario.providers}


def test_contracts_csv_time_year_and_numbers_are_consistent(contracts: pd.DataFrame):
    time = contracts["time"].astype(float)
    year = contracts["year"].astype(int)
    assert (year == time.map(math.floor)).all()
    assert year.min() >= 2006 and year.max() <= TINY_END_YEAR
    assert (contracts["value_usd_m"].astype(float) > 0).all()
    assert (contracts["price_usd_m"].astype(float) >= 0).all()
    assert (contracts["n_bids"].astype(int) >= 1).all()
    loan = contracts["loan_usd_m"].astype(float)
    financed = contracts["financing_state"] != ""
    assert (loan[financed] > 0).all() and (loan[~financed] == 0).all()


def test_contracts_csv_grant_element_of_chinese_loans_is_that_of_their_terms(
        contracts: pd.DataFrame):
    chinese = contracts[contracts["financing_state"] == "China"]
    assert len(chinese) > 0
    # The baseline's China Exim terms at the IMF's unified 5 % (choice.grant_discount: imf).
    expected = grant_element(0.02, 20, 5, discount_rate=0.05)
    assert chinese["grant_element"].astype(float).to_numpy() == pytest.approx(expected, abs=1e-6)
    unfinanced = contracts[contracts["financing_state"] == ""]
    assert (unfinanced["grant_element"].astype(float) == 0).all()


def test_renewals_and_only_renewals_name_an_incumbent(contracts: pd.DataFrame):
    renewal = contracts["renewal"] == "true"
    assert (contracts.loc[renewal, "incumbent_provider"] != "").all()
    assert (contracts.loc[~renewal, "incumbent_provider"] == "").all()


def test_seed_column_holds_each_replications_integer_seed(contracts: pd.DataFrame,
                                                          manifest: dict):
    seeds = manifest["replication_seeds"]
    for replication, group in contracts.groupby("replication"):
        assert set(group["seed"]) == {str(seeds[int(replication)])}


def test_yearly_csv_has_one_row_per_replication_and_year(run_folder: Path):
    yearly = pd.read_csv(run_folder / "yearly.csv")
    assert len(yearly) == TINY_REPLICATIONS * len(YEARS)
    assert not yearly.duplicated(["replication", "year"]).any()
    for _, group in yearly.groupby("replication"):
        assert list(group["year"]) == YEARS


def test_yearly_awarded_counts_match_contracts_csv(run_folder: Path, contracts: pd.DataFrame):
    yearly = pd.read_csv(run_folder / "yearly.csv")
    counted = contracts.groupby(["replication", "year"]).size()
    for row in yearly.itertuples():
        assert row.awarded == counted.get((str(row.replication), str(row.year)), 0)


def test_manifest_records_scenario_seeds_versions_commit_times_and_command(
        manifest: dict, shared_tiny_scenario: Path):
    assert [key for key in MANIFEST_KEYS if key not in manifest] == []
    scenario = load_scenario(shared_tiny_scenario)
    assert manifest["scenario"] == scenario.model_dump(mode="json")
    assert manifest["scenario_hash"] == scenario_hash(scenario)
    assert manifest["root_seed"] == scenario.run.seed
    assert manifest["replication_seeds"] == replication_seeds(scenario.run.seed,
                                                              TINY_REPLICATIONS)
    for package in ("python", "mesa", "numpy", "pandas", "pydantic"):
        assert manifest["versions"][package]
    assert manifest["git_commit"]
    started = datetime.fromisoformat(manifest["started"])
    finished = datetime.fromisoformat(manifest["finished"])
    assert started.tzinfo is not None and started <= finished
    assert "run" in manifest["command"] and str(shared_tiny_scenario) in manifest["command"]


def test_summary_md_states_the_scenario_and_its_headline_numbers(run_folder: Path):
    summary = (run_folder / "summary.md").read_text()
    assert summary.startswith("# tiny: summary")
    assert "Tiny test scenario" in summary
    assert "Huawei won" in summary
    assert f"Leverage and debt in {TINY_END_YEAR}" in summary


def test_tenders_csv_has_one_winning_bid_per_contract(run_folder: Path,
                                                      contracts: pd.DataFrame):
    tenders = read_text_table(run_folder / "tenders.csv")
    assert {"replication", "seed", "time", "country", "provider", "price_usd_m", "won",
            "outcome"} <= set(tenders.columns)
    assert set(tenders["won"]) <= {"true", "false"}
    winners = tenders[tenders["won"] == "true"].groupby("replication").size()
    assert winners.to_dict() == contracts.groupby("replication").size().to_dict()


def test_tenders_csv_booleans_are_true_or_false_even_when_a_tender_gets_no_bid(
        tiny_scenario: Path, tmp_path: Path, capsys):
    # Kenya bars every provider, so its tenders get no bids and have no bid columns.
    bars = [f"providers.{name}.barred_in=[KEN]"
            for name in ("Huawei", "Alibaba", "AWS", "Microsoft", "Other")]
    out = tmp_path / "out"
    sets = [arg for assignment in bars for arg in ("--set", assignment)]
    result = run_cli(["run", tiny_scenario, "--out", out, "--tenders", "--no-figures", "-q",
                      "-n", "1", *sets], capsys)
    assert result.code == 0, result.err
    tenders = read_text_table(out / "tenders.csv")
    assert (tenders["n_bids"] == "0").any()
    for column in ("renewal", "needs_hardware", "bundled_hardware", "won"):
        assert set(tenders[column]) <= {"true", "false", ""}, column


def test_without_tenders_flag_no_tenders_csv_and_without_figures_no_figures(
        tiny_scenario: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    result = run_cli(["run", tiny_scenario, "--out", out, "--no-figures", "-q"], capsys)
    assert result.code == 0, result.err
    assert listing(out) == ["contracts.csv", "countries.csv", "manifest.json", "summary.md",
                           "yearly.csv"]


def test_seed_replications_and_set_options_reach_the_outputs(tiny_scenario: Path,
                                                           tmp_path: Path, capsys):
    out = tmp_path / "out"
    result = run_cli(["run", tiny_scenario, "--out", out, "--no-figures", "-q", "--seed", "7",
                      "--replications", "3", "--set", "choice.cost_weight=2.5"], capsys)
    assert result.code == 0, result.err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["root_seed"] == 7
    assert manifest["replication_seeds"] == replication_seeds(7, 3)
    assert manifest["scenario"]["choice"]["cost_weight"] == 2.5
    assert manifest["scenario_hash"] == scenario_hash(
        load_scenario(tiny_scenario, ["choice.cost_weight=2.5"]))
    yearly = pd.read_csv(out / "yearly.csv")
    assert sorted(yearly["replication"].unique()) == [0, 1, 2]
    assert len(yearly) == 3 * len(YEARS)


# --- never overwrite ---------------------------------------------------------------------------


def test_run_into_an_existing_folder_exits_2_and_leaves_it_untouched(tiny_scenario: Path,
                                                                     tmp_path: Path, capsys):
    out = tmp_path / "out"
    first = run_cli(["run", tiny_scenario, "--out", out, "--no-figures", "-q"], capsys)
    assert first.code == 0, first.err
    before = snapshot(out)
    again = run_cli(["run", tiny_scenario, "--out", out, "--no-figures", "-q", "--seed", "1"],
                    capsys)
    assert again.code == 2
    assert str(out) in again.err and "already exists" in again.err
    assert "Traceback" not in again.err
    assert snapshot(out) == before
    assert listing(tmp_path) == ["out", "tiny.yaml"]


def test_run_into_an_existing_empty_folder_is_refused_too(tiny_scenario: Path, tmp_path: Path,
                                                         capsys):
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli(["run", tiny_scenario, "--out", out, "--no-figures", "-q"], capsys)
    assert result.code == 2
    assert listing(out) == []


class FrozenClock(datetime):
    """``datetime`` whose ``now`` is always the same instant: both runs start "at once"."""

    @classmethod
    def now(cls, tz=None):
        return datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC).astimezone(tz)


def test_default_folder_is_new_for_every_run_even_within_the_same_second(
        tiny_scenario: Path, tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sim.cli.datetime", FrozenClock)
    for _ in range(2):
        result = run_cli(["run", tiny_scenario, "--no-figures", "-q", "-n", "1"], capsys)
        assert result.code == 0, result.err
    folders = listing(tmp_path / "results")
    assert len(folders) == 2
    first, second = folders
    assert first.startswith("tiny-2030010")
    assert second == f"{first}-2"
    for name in folders:
        assert (tmp_path / "results" / name / "contracts.csv").is_file()
    assert snapshot(tmp_path / "results" / first)["contracts.csv"][0] == \
        snapshot(tmp_path / "results" / second)["contracts.csv"][0]


def test_default_folder_is_under_results_and_named_after_the_scenario(tiny_scenario: Path,
                                                                      tmp_path: Path, capsys,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli(["run", tiny_scenario, "--no-figures", "-q", "-n", "1"], capsys)
    assert result.code == 0, result.err
    (folder,) = listing(tmp_path / "results")
    assert re.fullmatch(r"tiny-\d{8}-\d{6}", folder)
    assert f"results/{folder}" in result.out


# --- the scenarios command ---------------------------------------------------------------------


def test_scenarios_lists_the_shipped_baseline_with_its_description(tmp_path: Path, capsys,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./scenarios here: the shipped folder is listed
    result = run_cli(["scenarios"], capsys)
    assert result.code == 0
    assert "baseline.yaml" in result.out
    first_words = " ".join(load_scenario(BASELINE).description.split()[:6])
    assert first_words in result.out


def test_scenarios_lists_every_file_of_a_given_folder(tmp_path: Path, capsys):
    shutil.copy(SCENARIO_DIR / "baseline.yaml", tmp_path / "baseline.yaml")
    write_scenario(tmp_path, "more_dfc.yaml",
                   "extends: baseline.yaml\ndescription: What if the DFC lent ten times more?\n")
    result = run_cli(["scenarios", tmp_path], capsys)
    assert result.code == 0
    assert "baseline.yaml" in result.out
    assert "more_dfc.yaml\n    What if the DFC lent ten times more?" in result.out


def test_scenarios_with_a_missing_folder_exits_2(tmp_path: Path, capsys):
    result = run_cli(["scenarios", tmp_path / "nowhere"], capsys)
    assert result.code == 2
    assert "nowhere" in result.err


# --- help and argument errors ------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["scenarios", "--help"]])
def test_help_exits_0_and_shows_usage(argv: list[str], capsys):
    result = run_cli(argv, capsys)
    assert result.code == 0
    assert result.out.startswith("usage: cloudrace")


def test_version_prints_the_package_version(capsys):
    import sim

    result = run_cli(["--version"], capsys)
    assert result.code == 0
    assert result.out.strip() == f"cloudrace {sim.__version__}"


SHORT_OPTIONS = {"--replications": "-n", "--workers": "-w", "--out": "-o", "--quiet": "-q"}


def _subcommands():
    import argparse

    from sim.cli import build_parser

    (commands,) = [action for action in build_parser()._actions
                   if isinstance(action, argparse._SubParsersAction)]
    return commands.choices


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_command_has_the_same_short_options_and_shows_a_percent_sign_once(name, capsys):
    parser = _subcommands()[name]
    for action in parser._actions:
        for long, short in SHORT_OPTIONS.items():
            if long in action.option_strings:
                assert short in action.option_strings, f"{name} {long} lacks {short}"
    text = parser.format_help()
    assert "%%" not in text
    assert "%(" not in text


@pytest.mark.parametrize("name", ["baseline", "baseline.yaml", "policy/us_dfc_push.yaml"])
def test_run_accepts_a_scenario_name_as_cloudrace_scenarios_prints_it(name, tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.chdir(tmp_path)
    printed = run_cli(["scenarios"], capsys).out
    if name.endswith(".yaml"):
        assert f"{name}\n" in printed
    result = run_cli(["run", name, "-n", "1", "-q", "--no-figures", "-o", "out",
                      "--set", "run.end_year=2007"], capsys)
    assert result.code == 0, result.err
    assert (tmp_path / "out" / "contracts.csv").is_file()


def test_an_unknown_scenario_name_exits_2_naming_the_nearest(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli(["run", "policy/us_dfc_psh", "-n", "1"], capsys)
    assert result.code == 2
    assert "did you mean policy/us_dfc_push" in result.err
    assert listing(tmp_path) == []


def test_run_help_documents_every_option(capsys):
    result = run_cli(["run", "--help"], capsys)
    for option in ("--replications", "--seed", "--out", "--set", "--tenders"):
        assert option in result.out


@pytest.mark.parametrize(("argv", "expected"), [
    (["run", "scenarios/baseline.yaml", "--replications", "0"], "--replications"),
    (["run", "scenarios/baseline.yaml", "--replications", "two"], "--replications"),
    (["run", "scenarios/baseline.yaml", "--seed", "abc"], "--seed"),
    (["run", "scenarios/baseline.yaml", "--seed", "-1"], "--seed"),
    (["run"], "scenario"),
    ([], "COMMAND"),
    (["fly"], "invalid choice"),
])
def test_bad_arguments_exit_2_with_a_usage_message(argv: list[str], expected: str, tmp_path,
                                                    capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli(argv, capsys)
    assert result.code == 2
    assert "usage: cloudrace" in result.err
    assert expected in result.err
    assert listing(tmp_path) == []


def test_bad_seed_in_a_fresh_interpreter_exits_2_without_traceback(tmp_path: Path):
    process = run_cli_subprocess(["run", BASELINE, "--seed", "abc"], cwd=tmp_path)
    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    assert "expected a whole number, got 'abc'" in process.stderr
    assert listing(tmp_path) == []


def test_installed_console_script_answers_help(tmp_path: Path):
    import subprocess

    script = Path(sys.executable).parent / "cloudrace"
    if not script.exists():
        pytest.skip("the cloudrace script is not installed beside this interpreter")
    process = subprocess.run([str(script), "--help"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=60, check=False)
    assert process.returncode == 0
    assert process.stdout.startswith("usage: cloudrace")


def test_an_interrupt_while_a_c_extension_initialises_is_an_interruption(monkeypatch, capsys):
    """SIGTERM during a command's lazy import of a C extension surfaces as "ImportError:
    initialization failed" caused by the KeyboardInterrupt (the fault suite found it): it
    ends as an interruption with one message, not a traceback; other import errors propagate."""
    import sim.cli as cli

    def interrupted_import(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise ImportError("initialization failed") from interrupt

    monkeypatch.setattr(cli, "command_scenarios", interrupted_import)
    assert cli.main(["scenarios"]) == cli.EXIT_INTERRUPTED
    assert capsys.readouterr().err == "cloudrace: interrupted; nothing was written\n"

    def broken_import(args):
        raise ImportError("no module named nowhere")

    monkeypatch.setattr(cli, "command_scenarios", broken_import)
    with pytest.raises(ImportError):
        cli.main(["scenarios"])
