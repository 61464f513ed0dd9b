"""Sweeps end to end: same results on every executor, failures recorded, interruptions and
SIGKILL survived by resuming, sensitivity indices and the EMA Workbench export.

The test experiment is small (five countries, 2006-2010, a Sobol' design of 20 points with two
replications each) so a serial sweep takes a couple of seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, REPO, run_cli

from sim.errors import UserError
from sim.experiments.ema_export import to_ema
from sim.experiments.executors import DaskExecutor, ProcessPool, SerialExecutor
from sim.experiments.sensitivity import (
    analyse,
    format_table,
    morris_indices,
    sobol_indices,
)
from sim.experiments.spec import load_experiment
from sim.experiments.store import SweepStore
from sim.experiments.sweep import RunTask, create_sweep, open_sweep, run_seed, run_sweep

EXPERIMENT = f"""\
description: Test sweep, five countries 2006-2010.
scenario: {BASELINE}
set:
  run.end_year: 2010
  population.only: [KEN, GHA, NGA, BRA, IDN]
  demand.tender_rate: 3.0
  demand.adoption_midpoint_year: 2008
uncertainties:
  choice.security_weight: {{range: [1.0, 3.0]}}
  states.China.financing_budget_usd_m: {{range: [0.5, 1.5], scale: true}}
levers:
  states.US.security_pressure: {{levels: [0.0, 0.8]}}
design: {{method: sobol, samples: 4}}
replications: 2
seed: 7
outcomes: [huawei_deals_to_2009_12, huawei_countries_to_2009_12, share_new_china_2008_2010,
           leverage_china_2010, debt_china_2010]
"""
RUNS = 4 * (3 + 2) * 2
OUTCOMES = ["huawei_deals_to_2009_12", "huawei_countries_to_2009_12", "share_new_china_2008_2010",
            "leverage_china_2010", "debt_china_2010"]
PARAMETERS = ["choice.security_weight", "states.China.financing_budget_usd_m",
              "states.US.security_pressure"]
MACHINE_COLUMNS = ["seconds", "worker", "traceback"]


def write_experiment(folder: Path, text: str = EXPERIMENT, name: str = "test.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def sweep_with(executor, experiment_path: Path, folder: Path, **options) -> Path:
    """Create and run a sweep in ``folder`` on ``executor``; returns the folder."""
    experiment = load_experiment(experiment_path)
    with create_sweep(experiment, folder, "test") as store:
        run_sweep(experiment, store, executor, progress=False, **options)
    return folder


def comparable(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs table without what depends on the machine, and the yearly table."""
    store = SweepStore.open(folder)
    return store.runs().drop(columns=MACHINE_COLUMNS), store.yearly()


@pytest.fixture(scope="module")
def experiment_path(tmp_path_factory) -> Path:
    return write_experiment(tmp_path_factory.mktemp("experiment"))


@pytest.fixture(scope="module")
def serial_sweep(experiment_path, tmp_path_factory) -> Path:
    """The test experiment swept once in this process."""
    return sweep_with(SerialExecutor(), experiment_path,
                      tmp_path_factory.mktemp("serial") / "sweep")


# --- what a sweep stores ---------------------------------------------------------------------


def test_sweep_stores_one_row_per_run_with_parameters_seed_status_and_outcomes(serial_sweep):
    store = SweepStore.open(serial_sweep)
    runs = store.runs()
    assert runs["run_id"].tolist() == list(range(RUNS))
    assert list(runs.columns) == ["run_id", "point", "replication", "seed", *PARAMETERS,
                                  "status", "error", "traceback", "seconds", "worker", *OUTCOMES]
    assert (runs["status"] == "ok").all()
    assert runs[OUTCOMES].notna().all().all()
    assert set(runs["states.US.security_pressure"]) == {0.0, 0.8}
    assert runs["huawei_deals_to_2009_12"].sum() > 0


def test_each_run_is_seeded_from_its_design_point_and_replication(serial_sweep):
    runs = SweepStore.open(serial_sweep).runs()
    expected = [run_seed(7, point, rep) for point, rep in zip(runs["point"], runs["replication"],
                                                              strict=True)]
    assert runs["seed"].tolist() == expected


def test_replications_of_a_point_share_parameters_but_not_seeds(serial_sweep):
    runs = SweepStore.open(serial_sweep).runs()
    for _, point in runs.groupby("point"):
        assert point[PARAMETERS].nunique().max() == 1
        assert point["seed"].nunique() == 2


def test_yearly_table_holds_every_year_of_every_run(serial_sweep):
    yearly = SweepStore.open(serial_sweep).yearly()
    assert yearly.groupby("run_id")["year"].apply(list).tolist() == [list(range(2006, 2011))] * RUNS
    assert {"leverage_China", "debt_usd_m_China", "share_new_Huawei"} <= set(yearly.columns)


def test_manifest_records_the_design_seeds_outcomes_and_session(serial_sweep):
    manifest = SweepStore.open(serial_sweep).manifest()
    assert manifest["root_seed"] == 7 and manifest["root_seed_source"] == "experiment file"
    assert manifest["points"] == 20 and manifest["replications"] == 2 and manifest["runs"] == RUNS
    assert manifest["problem"]["names"] == PARAMETERS
    assert [p["kind"] for p in manifest["parameters"]] == ["uncertainty", "uncertainty", "lever"]
    assert [o["name"] for o in manifest["outcomes"]] == OUTCOMES
    assert manifest["versions"]["SALib"] != "not installed"
    session, = manifest["sessions"]
    assert session["status"] == "complete" and session["ok"] == RUNS and session["failed"] == 0


def test_the_stored_scenario_is_the_resolved_base_scenario(serial_sweep, experiment_path):
    from sim.scenario import load_scenario, scenario_hash

    stored = load_scenario(serial_sweep / "scenario.yaml")
    assert scenario_hash(stored) == scenario_hash(load_experiment(experiment_path).base)


# --- same results whatever the executor ------------------------------------------------------


def test_serial_processes_and_dask_give_identical_results(serial_sweep, experiment_path,
                                                          tmp_path):
    pytest.importorskip("distributed")
    expected_runs, expected_yearly = comparable(serial_sweep)
    processes = sweep_with(ProcessPool(2, preload=["sim.experiments.sweep"]), experiment_path,
                           tmp_path / "processes")
    dask = sweep_with(DaskExecutor(None, 2, local_directory=tmp_path / "dask-scratch"),
                      experiment_path, tmp_path / "dask")
    for folder in (processes, dask):
        runs, yearly = comparable(folder)
        pd.testing.assert_frame_equal(runs, expected_runs)
        pd.testing.assert_frame_equal(yearly, expected_yearly)
    workers = SweepStore.open(processes).runs()["worker"]
    assert workers.nunique() == 2  # both workers ran, finishing in their own order


# --- failures and interruptions --------------------------------------------------------------


def test_a_run_that_raises_is_recorded_with_its_error_and_the_sweep_goes_on(tmp_path):
    # Each range is valid on its own; grace 15 with maturity 10 is not.
    text = EXPERIMENT.replace(
        "uncertainties:\n  choice.security_weight: {range: [1.0, 3.0]}\n"
        "  states.China.financing_budget_usd_m: {range: [0.5, 1.5], scale: true}\n",
        "uncertainties:\n  states.China.financing.grace_years: {range: [0, 15]}\n"
        "  states.China.financing.maturity_years: {range: [10, 30]}\n"
    ).replace("{method: sobol, samples: 4}", "{method: full_factorial, resolution: 2}")
    folder = sweep_with(SerialExecutor(), write_experiment(tmp_path, text), tmp_path / "sweep")
    store = SweepStore.open(folder)
    runs = store.runs()
    failed = runs[runs["status"] == "failed"]
    assert len(runs) == 16 and len(failed) == 4
    assert set(failed["states.China.financing.grace_years"]) == {15.0}
    assert set(failed["states.China.financing.maturity_years"]) == {10.0}
    assert failed["error"].str.contains("grace_years: expected fewer years than maturity").all()
    assert failed["error"].str.startswith("UserError: scenario.yaml: invalid scenario").all()
    assert failed["traceback"].str.contains("Traceback").all()
    assert failed[OUTCOMES].isna().all().all()
    assert not set(failed["run_id"]) & set(store.yearly()["run_id"])
    assert store.manifest()["sessions"][0]["failed"] == 4


class InterruptAfter(SerialExecutor):
    """Runs ``limit`` runs, then behaves like Ctrl-C."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def submit(self, fn, /, *args, **kwargs):
        if self.limit == 0:
            raise KeyboardInterrupt
        self.limit -= 1
        return super().submit(fn, *args, **kwargs)


def test_an_interrupted_sweep_keeps_its_finished_runs_and_resumes_to_the_same_results(
        serial_sweep, experiment_path, tmp_path):
    experiment = load_experiment(experiment_path)
    folder = tmp_path / "sweep"
    with create_sweep(experiment, folder, "test") as store, pytest.raises(KeyboardInterrupt):
        run_sweep(experiment, store, InterruptAfter(13), progress=False, batch_size=5)
    assert SweepStore.open(folder).finished_run_ids() == set(range(13))
    with open_sweep(experiment, folder) as store:
        counts = run_sweep(experiment, store, SerialExecutor(), progress=False)
    assert (counts.done_before, counts.ok, counts.done) == (13, RUNS - 13, RUNS)
    runs, yearly = comparable(folder)
    expected_runs, expected_yearly = comparable(serial_sweep)
    pd.testing.assert_frame_equal(runs, expected_runs)
    pd.testing.assert_frame_equal(yearly, expected_yearly)
    assert [s["status"] for s in SweepStore.open(folder).manifest()["sessions"]] == [
        "interrupted", "complete"]


def test_a_sweep_killed_with_sigkill_and_resumed_has_every_run_exactly_once(tmp_path, capsys):
    psutil = pytest.importorskip("psutil")
    experiment = write_experiment(tmp_path, EXPERIMENT.replace("samples: 4", "samples: 8"))
    total = 8 * 5 * 2
    folder = tmp_path / "sweep"
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "sweep", experiment, "--out", folder,
         "--executor", "processes", "--workers", "2", "--batch", "2", "-q"],
        cwd=tmp_path, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(list((folder / "runs").glob("part-*.parquet"))) < 3:
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "the sweep wrote no results in time"
        time.sleep(0.02)
    workers = psutil.Process(process.pid).children(recursive=True)
    process.kill()
    process.wait()
    process.stderr.close()

    finished = SweepStore.open(folder).finished_run_ids()
    assert 0 < len(finished) < total, "the kill should land mid-way"
    _, alive = psutil.wait_procs(workers, timeout=15)
    assert not alive, "worker processes outlived the killed sweep"

    result = run_cli(["sweep", experiment, "--out", folder, "--resume", "--executor", "serial",
                      "-q"], capsys)
    assert result.code == 0, result.err
    assert f"{total} of {total} runs" in result.out
    store = SweepStore.open(folder)
    run_ids = store.runs()["run_id"].tolist()
    assert run_ids == list(range(total))
    yearly = store.yearly()
    assert (yearly.groupby("run_id").size() == 5).all()
    assert sorted(yearly["run_id"].unique()) == run_ids
    assert not list(folder.rglob(".*.tmp"))


# --- the command line ------------------------------------------------------------------------


def test_sweep_refuses_an_existing_folder_without_resume(serial_sweep, experiment_path, capsys):
    result = run_cli(["sweep", experiment_path, "--out", serial_sweep, "--executor", "serial"],
                     capsys)
    assert result.code == 2
    assert "already exists; continue it with --resume" in result.err


def test_resume_refuses_a_changed_experiment(serial_sweep, tmp_path, capsys):
    changed = write_experiment(tmp_path, EXPERIMENT.replace("seed: 7", "seed: 8"))
    result = run_cli(["sweep", changed, "--out", serial_sweep, "--resume", "-q"], capsys)
    assert result.code == 2
    assert "has changed since this sweep started" in result.err


def test_resuming_a_finished_sweep_runs_nothing(serial_sweep, experiment_path, tmp_path,
                                                capsys):
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", serial_sweep, copy], check=True)
    result = run_cli(["sweep", experiment_path, "--out", copy, "--resume", "--executor",
                      "serial", "-q"], capsys)
    assert result.code == 0, result.err
    assert f"{RUNS} of {RUNS} runs" in result.out and "(0 run now)" in result.out
    assert len(SweepStore.open(copy).runs()) == RUNS


def test_invalid_experiment_exits_2_with_one_message_and_writes_nothing(tmp_path):
    bad = write_experiment(tmp_path, EXPERIMENT.replace("samples: 4", "samples: 5"))
    process = subprocess.run([sys.executable, "-m", "sim.cli", "sweep", bad, "--out",
                              tmp_path / "sweep"], cwd=tmp_path, capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)
    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    assert "power of 2 with method sobol (e.g. 4 or 8), got 5" in process.stderr
    assert not (tmp_path / "sweep").exists()


# --- sensitivity -----------------------------------------------------------------------------


def test_sensitivity_command_prints_and_writes_sobol_indices_per_outcome(serial_sweep, tmp_path,
                                                                         capsys):
    out = tmp_path / "indices"
    result = run_cli(["sensitivity", serial_sweep, "--out", out], capsys)
    assert result.code == 0, result.err
    assert "S1" in result.out and "ST_conf" in result.out
    table = pd.read_csv(out / "indices.csv")
    assert list(table.columns) == ["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf",
                                   "note"]
    assert len(table) == len(OUTCOMES) * len(PARAMETERS)
    assert (table.dropna()["ST_conf"] >= 0).all()
    assert (out / "indices.png").stat().st_size > 10_000


def test_an_outcome_the_same_at_every_point_gets_no_indices_and_a_note(tmp_path):
    points = np.random.default_rng(1).random((10, 2))
    with synthetic_sweep(tmp_path / "sweep", "sobol", points, np.ones(10),
                         second_order=False) as store:
        method, table = analyse(store)
    assert table[["S1", "ST"]].isna().all().all()
    assert "y\n  the same at every design point" in format_table(method, table)


def synthetic_sweep(folder: Path, method: str, points: np.ndarray, outputs: np.ndarray,
                    **design) -> SweepStore:
    """A sweep folder holding given design points and outcome values (no model runs)."""
    import pyarrow as pa

    names = [f"x{i}" for i in range(points.shape[1])]
    frame = pd.DataFrame(points, columns=names)
    frame.insert(0, "point", np.arange(len(points)))
    manifest = {"design": {"method": method, **design}, "points": len(points),
                "runs": len(points), "root_seed": 5, "outcomes": [{"name": "y"}],
                "problem": {"num_vars": len(names), "names": names,
                            "bounds": [[0.0, 1.0]] * len(names)},
                "parameters": [{"name": n, "kind": "uncertainty", "type": "real"} for n in names]}
    schema = pa.schema([("run_id", pa.int64()), ("point", pa.int64()), ("status", pa.string()),
                        ("y", pa.float64())])
    store = SweepStore.create(folder, manifest=manifest, scenario_text="", design=frame,
                              runs_schema=schema, yearly_schema=pa.schema([("run_id", pa.int64()),
                                                                           ("year", pa.int64())]))
    store.append([{"run_id": i, "point": i, "status": "ok", "y": float(y)}
                  for i, y in enumerate(outputs)], [])
    return store


def test_sobol_indices_recover_an_additive_function(tmp_path):
    from SALib.sample import sobol as sampler

    problem = {"num_vars": 3, "names": ["x0", "x1", "x2"], "bounds": [[0.0, 1.0]] * 3}
    points = sampler.sample(problem, 256, calc_second_order=False, seed=1)
    outputs = 4 * points[:, 0] + points[:, 1]  # variances 16/12 and 1/12: S1 = 16/17 and 1/17
    with synthetic_sweep(tmp_path / "sweep", "sobol", points, outputs,
                         second_order=False) as store:
        method, table = analyse(store)
    indices = table.set_index("parameter")
    assert method == "sobol"
    assert indices.loc["x0", "S1"] == pytest.approx(16 / 17, abs=0.05)
    assert indices.loc["x1", "ST"] == pytest.approx(1 / 17, abs=0.03)
    assert abs(indices.loc["x2", "ST"]) < 0.01
    direct = sobol_indices(problem, outputs, second_order=False, seed=5)
    assert direct["S1"].tolist() == table["S1"].tolist()


def test_morris_ranks_the_influential_parameter_first():
    from SALib.sample import morris as sampler

    problem = {"num_vars": 2, "names": ["big", "small"], "bounds": [[0.0, 1.0]] * 2}
    points = sampler.sample(problem, 20, num_levels=4, seed=1)
    table = morris_indices(problem, points, 10 * points[:, 0] + points[:, 1], levels=4, seed=1)
    mu_star = table.set_index("parameter")["mu_star"]
    assert mu_star["big"] == pytest.approx(10) and mu_star["small"] == pytest.approx(1)


def test_sensitivity_refuses_a_sweep_with_missing_runs(experiment_path, tmp_path):
    experiment = load_experiment(experiment_path)
    with create_sweep(experiment, tmp_path / "sweep", "test") as store, \
            pytest.raises(UserError, match=f"{RUNS} of {RUNS} runs have not run yet"):
        analyse(store)


def test_sensitivity_refuses_outcomes_missing_at_some_points(tmp_path):
    points = np.random.default_rng(1).random((10, 2))
    outputs = np.where(np.arange(10) == 3, np.nan, 1.0)
    with synthetic_sweep(tmp_path / "sweep", "sobol", points, outputs) as store, \
            pytest.raises(UserError, match="outcome y has no value at 1 design point"):
        analyse(store)


def test_sensitivity_refuses_a_design_without_indices(tmp_path):
    points = np.random.default_rng(1).random((10, 2))
    with synthetic_sweep(tmp_path / "sweep", "latin_hypercube", points, points[:, 0]) as store, \
            pytest.raises(UserError, match="need a sobol or morris design"):
        analyse(store)


# --- EMA Workbench export --------------------------------------------------------------------


def test_ema_export_has_experiments_and_an_outcomes_dictionary(serial_sweep):
    experiments, outcomes = to_ema(serial_sweep)
    assert list(experiments.columns) == [*PARAMETERS, "scenario", "policy", "model"]
    assert len(experiments) == 20
    assert experiments["states.US.security_pressure"].dtype == "float64"  # numeric levels
    assert experiments["choice.security_weight"].dtype == "float64"
    assert experiments["scenario"].dtype == "category"
    assert set(experiments["model"]) == {"cloudrace"}
    assert sorted(outcomes) == sorted(OUTCOMES)
    runs = SweepStore.open(serial_sweep).runs()
    means = runs.groupby("point")["debt_china_2010"].mean().to_numpy()
    np.testing.assert_allclose(outcomes["debt_china_2010"], means)


def test_ema_export_per_run_and_with_time_series(serial_sweep):
    experiments, outcomes = to_ema(serial_sweep, per_run=True, series=["leverage_China"])
    assert len(experiments) == RUNS
    assert outcomes["huawei_deals_to_2009_12"].shape == (RUNS,)
    assert outcomes["leverage_China"].shape == (RUNS, 5)
    assert outcomes["TIME"][0].tolist() == [2006.0, 2007.0, 2008.0, 2009.0, 2010.0]
    yearly = SweepStore.open(serial_sweep).yearly()
    first = yearly[yearly["run_id"] == 0]["leverage_China"].to_numpy()
    np.testing.assert_allclose(outcomes["leverage_China"][0], first)


def test_each_run_gets_its_own_copy_of_a_scenario_loaded_once_per_point():
    from sim.experiments.sweep import _scenario_with

    first = _scenario_with(BASELINE, {"choice.security_weight": 2.5})
    again = _scenario_with(BASELINE, {"choice.security_weight": 2.5})
    other = _scenario_with(BASELINE, {"choice.security_weight": 1.5})
    assert first == again and first is not again
    assert first.choice.security_weight == 2.5 and other.choice.security_weight == 1.5


def test_a_run_leaves_the_garbage_collector_as_it_found_it(experiment_path):
    import gc

    from sim.experiments.sweep import ScenarioText, execute, scenario_yaml

    experiment = load_experiment(experiment_path)
    before = gc.get_threshold()
    record = execute(RunTask(0, 1, experiment.scenario_values([2.0, 1.0, 0.0]),
                             ScenarioText.of(scenario_yaml(experiment)),
                             tuple(experiment.outcomes), True))
    assert record.status == "ok", record.error
    assert gc.get_threshold() == before


def test_a_stored_run_is_reproduced_on_its_own_from_its_seed_and_values(serial_sweep,
                                                                        experiment_path):
    from sim.runner import run_replication
    from sim.scenario import load_scenario

    store = SweepStore.open(serial_sweep)
    run = store.runs().iloc[7]
    coordinates = store.design().set_index("point").loc[run["point"], PARAMETERS].tolist()
    values = load_experiment(experiment_path).scenario_values(coordinates)
    settings = load_scenario(serial_sweep / "scenario.yaml", values=values)
    yearly = run_replication(settings, 0, int(run["seed"])).yearly
    stored = store.yearly().query(f"run_id == {run['run_id']}")
    np.testing.assert_allclose(stored["leverage_China"], yearly["leverage_China"])
    np.testing.assert_allclose(stored["debt_usd_m_China"], yearly["debt_usd_m_China"])
