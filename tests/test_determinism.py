"""Same scenario and seed, same bytes; replications are independent streams from one root seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli, run_cli_subprocess

from sim.model import CloudRaceModel, CloudRaceScenario
from sim.outputs import write_csv
from sim.runner import contracts_table, replication_seeds, run_scenario, run_tasks
from sim.scenario import load_scenario


def run_tiny(scenario: Path, out: Path, capsys, *extra: str) -> Path:
    """Run the tiny scenario in this process (no figures) and return its folder."""
    result = run_cli(["run", scenario, "--out", out, "--no-figures", "-q", *extra], capsys)
    assert result.code == 0, result.err
    return out


def rows_of(path: Path, replication: int) -> list[str]:
    """The CSV's data lines for one replication (the first column is the replication)."""
    lines = path.read_text().splitlines()[1:]
    return [line for line in lines if line.split(",", 1)[0] == str(replication)]


# --- byte-identical runs -----------------------------------------------------------------------


def test_same_scenario_and_seed_give_byte_identical_tables_across_processes(tiny_scenario: Path,
                                                                            tmp_path: Path):
    # Different hash seeds: no result may depend on the iteration order of a set or dict of str.
    folders = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"run-{hash_seed}"
        process = run_cli_subprocess(["run", tiny_scenario, "--out", out, "--no-figures", "-q",
                                      "--seed", "99"], cwd=tmp_path,
                                     env={"PYTHONHASHSEED": hash_seed})
        assert process.returncode == 0, process.stderr
        folders.append(out)
    first, second = folders
    for name in ("contracts.csv", "yearly.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert len((first / "contracts.csv").read_text().splitlines()) > 40


def test_same_seed_in_one_process_gives_byte_identical_tables(tiny_scenario: Path,
                                                              tmp_path: Path, capsys):
    first = run_tiny(tiny_scenario, tmp_path / "a", capsys, "--seed", "5")
    second = run_tiny(tiny_scenario, tmp_path / "b", capsys, "--seed", "5")
    for name in ("contracts.csv", "yearly.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_different_seed_gives_different_tables(tiny_scenario: Path, tmp_path: Path, capsys):
    first = run_tiny(tiny_scenario, tmp_path / "a", capsys, "--seed", "5")
    second = run_tiny(tiny_scenario, tmp_path / "b", capsys, "--seed", "6")
    for name in ("contracts.csv", "yearly.csv"):
        assert (first / name).read_bytes() != (second / name).read_bytes(), name


def test_recording_tenders_does_not_change_the_contracts(tiny_scenario: Path, tmp_path: Path,
                                                         capsys):
    plain = run_tiny(tiny_scenario, tmp_path / "plain", capsys)
    recorded = run_tiny(tiny_scenario, tmp_path / "recorded", capsys, "--tenders")
    for name in ("contracts.csv", "yearly.csv"):
        assert (plain / name).read_bytes() == (recorded / name).read_bytes(), name


# --- seeds spawned from the root ---------------------------------------------------------------


@pytest.mark.parametrize("root", [0, 12345, 20210401, 2**63 - 1])
def test_replication_seeds_are_spawned_from_the_root_with_numpy_seedsequence(root: int):
    seeds = replication_seeds(root, 4)
    children = np.random.SeedSequence(root).spawn(4)
    expected = [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
                for child in children]
    assert seeds == expected
    # the k-th child is SeedSequence(root, spawn_key=(k,)), whatever the number spawned
    for k, seed in enumerate(seeds):
        alone = np.random.SeedSequence(root, spawn_key=(k,))
        assert seed == int(alone.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    assert all(isinstance(seed, int) and 0 <= seed < 2**63 for seed in seeds)
    assert len(set(seeds)) == 4


def test_replication_seeds_of_a_shorter_run_are_a_prefix_of_a_longer_one():
    assert replication_seeds(777, 3) == replication_seeds(777, 10)[:3]


def test_different_roots_give_different_replication_seeds():
    assert not set(replication_seeds(1, 5)) & set(replication_seeds(2, 5))


def test_replication_k_is_the_same_in_a_larger_run(tiny_scenario: Path, tmp_path: Path, capsys):
    small = run_tiny(tiny_scenario, tmp_path / "small", capsys, "-n", "2")
    large = run_tiny(tiny_scenario, tmp_path / "large", capsys, "-n", "3")
    for name in ("contracts.csv", "yearly.csv"):
        for replication in (0, 1):
            rows = rows_of(small / name, replication)
            assert rows, (name, replication)
            assert rows == rows_of(large / name, replication), (name, replication)
        assert rows_of(large / name, 2)


def test_replications_are_different_streams(tiny_scenario: Path, tmp_path: Path, capsys):
    folder = run_tiny(tiny_scenario, tmp_path / "out", capsys)

    def without_ids(rows: list[str]) -> list[str]:
        return [row.split(",", 2)[2] for row in rows]

    contracts = folder / "contracts.csv"
    assert without_ids(rows_of(contracts, 0)) != without_ids(rows_of(contracts, 1))


def test_one_replication_run_directly_from_its_seed_reproduces_its_contracts(
        tiny_scenario: Path, tmp_path: Path, capsys):
    folder = run_tiny(tiny_scenario, tmp_path / "out", capsys, "-n", "2", "--seed", "31")
    seed = replication_seeds(31, 2)[1]
    settings = load_scenario(tiny_scenario)
    model = CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=seed))
    model.run_model()
    direct = tmp_path / "direct.csv"
    write_csv(contracts_table(model), direct)
    expected = [row.split(",", 2)[2] for row in rows_of(folder / "contracts.csv", 1)]
    assert expected
    assert direct.read_text().splitlines()[1:] == expected
    assert {row.split(",", 2)[1] for row in rows_of(folder / "contracts.csv", 1)} == {str(seed)}


# --- whatever runs the replications ------------------------------------------------------------


def test_worker_processes_write_the_same_bytes_as_one_process(tiny_scenario: Path,
                                                              tmp_path: Path, capsys):
    serial = run_tiny(tiny_scenario, tmp_path / "serial", capsys, "-n", "3", "--tenders")
    pooled = run_tiny(tiny_scenario, tmp_path / "pooled", capsys, "-n", "3", "--tenders",
                      "--workers", "2")
    for name in ("contracts.csv", "yearly.csv", "tenders.csv"):
        assert (serial / name).read_bytes() == (pooled / name).read_bytes(), name


def test_streamed_tables_are_the_bytes_of_the_whole_tables_written_at_once(tiny_scenario: Path,
                                                                           tmp_path: Path,
                                                                           capsys):
    import pandas as pd

    from sim.summary import write_summary

    folder = tmp_path / "streamed"
    result = run_cli(["run", tiny_scenario, "--out", folder, "-q", "-n", "3", "--tenders"],
                     capsys)
    assert result.code == 0, result.err
    settings = load_scenario(tiny_scenario)
    _, results = run_scenario(settings, 3, settings.run.seed, record_tenders=True,
                              progress=False)
    whole = {name: pd.concat([getattr(r, name) for r in results], ignore_index=True)
             for name in ("contracts", "yearly", "tenders", "countries")}
    for name, table in whole.items():
        write_csv(table, tmp_path / f"{name}.csv")
        assert (folder / f"{name}.csv").read_bytes() == \
            (tmp_path / f"{name}.csv").read_bytes(), name
    write_summary(tmp_path / "summary.md", scenario_name="tiny",
                  description=settings.description, contracts=whole["contracts"],
                  yearly=whole["yearly"], providers=list(settings.providers),
                  states=list(settings.states), replications=3,
                  end_year=settings.run.end_year, countries=whole["countries"])
    assert (folder / "summary.md").read_text() == (tmp_path / "summary.md").read_text()
    assert not [path for path in tmp_path.iterdir() if ".tables-" in path.name]


def test_results_come_back_in_task_order_on_every_executor(tiny_scenario: Path):
    from sim.experiments.executors import ProcessPool, SerialExecutor
    from sim.runner import shared_executor

    settings = load_scenario(tiny_scenario)
    seeds = replication_seeds(3, 4)
    tasks = [(settings, index, seed, False) for index, seed in enumerate(seeds)]
    expected = [r.contracts for r in run_tasks(tasks, SerialExecutor(), progress=False)]
    pool = shared_executor(2)  # the warm pool the commands use
    assert isinstance(pool, ProcessPool)
    pooled = [r.contracts for r in run_tasks(tasks, pool, progress=False)]
    for mine, theirs in zip(expected, pooled, strict=True):
        assert mine.equals(theirs)
    assert [int(table["replication"].iloc[0]) for table in pooled] == [0, 1, 2, 3]


# --- common random numbers (sim.random_streams) ------------------------------------------------


TENDER_FROM = CloudRaceModel.tender_from


def new_tenders_and_draws(monkeypatch, *overrides: str) -> tuple[list[tuple], CloudRaceModel]:
    """Every new tender of a baseline run to 2020 (seed 8) with its whole block of draws."""
    created = []

    def recording(model, government, arrival):
        tender = TENDER_FROM(model, government, arrival)
        created.append((round(model.year, 9), government.iso3, tender.kind, tender.value,
                        tender.needs_hardware, tender.draws.values.tolist()))
        return tender

    monkeypatch.setattr(CloudRaceModel, "tender_from", recording)
    from sim.model import BASELINE

    settings = load_scenario(BASELINE, ["run.end_year=2020", *overrides])
    model = CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=8))
    model.run_model()
    return created, model


def test_a_us_lever_change_leaves_every_new_tender_and_its_draws_identical(monkeypatch):
    base, base_model = new_tenders_and_draws(monkeypatch)
    changed, changed_model = new_tenders_and_draws(
        monkeypatch, "states.US.financing_budget_usd_m={2006: 4000}",
        "states.US.security_pressure=0.8")
    assert len(base) > 60
    assert changed == base
    # the lever did change the outcome: the same tenders, other winners
    winners = [[(c.start, c.provider.name) for c in model.contracts]
               for model in (base_model, changed_model)]
    assert winners[0] != winners[1]


def test_coercion_draws_are_one_per_government_whoever_is_threatened():
    from sim.model import BASELINE

    settings = load_scenario(BASELINE, ["run.end_year=2006"])
    model = CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=8))
    china = model.states["China"]
    from sim.schema import CoercionEvent

    event = CoercionEvent(year=2030.5)
    draws = china.coercion_draws(event)
    assert len(draws) == len(model.governments)
    assert draws == china.coercion_draws(CoercionEvent(year=2030.5, alignment_shift=0.9))
    assert draws != model.states["US"].coercion_draws(event)
