"""The sweep store (incremental Parquet that survives kills) and the executors."""

from __future__ import annotations

import math
import os
from concurrent.futures import Executor
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from sim.errors import UserError
from sim.experiments.executors import (
    ProcessPool,
    SerialExecutor,
    WorkerDied,
    make_executor,
)
from sim.experiments.store import SweepStore

RUNS = pa.schema([("run_id", pa.int64()), ("x", pa.float64()), ("status", pa.string()),
                  ("error", pa.string()), ("outcome", pa.float64())])
YEARLY = pa.schema([("run_id", pa.int64()), ("year", pa.int64()), ("value", pa.float64())])


def make_store(folder: Path) -> SweepStore:
    return SweepStore.create(folder, manifest={"runs": 6}, scenario_text="description: x\n",
                             design=pd.DataFrame({"point": [0, 1], "x": [0.1, 0.2]}),
                             runs_schema=RUNS, yearly_schema=YEARLY)


def run_row(run_id: int, outcome, error=None) -> dict:
    return {"run_id": run_id, "x": run_id, "status": "failed" if error else "ok",
            "error": error, "outcome": outcome}


def yearly_of(run_id: int) -> pd.DataFrame:
    return pd.DataFrame({"run_id": run_id, "year": [2006, 2007], "value": [1, 2]})


# --- the store -------------------------------------------------------------------------------


def test_batches_of_ints_floats_and_missing_values_read_back_with_the_declared_types(tmp_path):
    with make_store(tmp_path / "sweep") as store:
        store.append([run_row(0, 1), run_row(1, 2)], [yearly_of(0), yearly_of(1)])
        store.append([run_row(2, 0.5)], [yearly_of(2)])
        store.append([run_row(3, None, error="ValueError: boom")], [])
        runs = store.runs()
    assert runs["run_id"].tolist() == [0, 1, 2, 3]
    assert runs["outcome"].dtype == "float64" and runs["x"].dtype == "float64"
    assert runs["outcome"].isna().tolist() == [False, False, False, True]
    assert runs.loc[3, "error"] == "ValueError: boom"
    assert store.yearly()["value"].dtype == "float64"
    assert sorted(p.name for p in (tmp_path / "sweep" / "runs").glob("part-*")) == [
        "part-000001.parquet", "part-000002.parquet", "part-000003.parquet"]


def test_finished_runs_are_those_with_a_row_in_the_runs_table(tmp_path):
    with make_store(tmp_path / "sweep") as store:
        store.append([run_row(4, 1), run_row(5, None, error="E: x")], [yearly_of(4)])
        assert store.finished_run_ids() == {4, 5}


def test_readers_ignore_hidden_temporary_files(tmp_path):
    with make_store(tmp_path / "sweep") as store:
        store.append([run_row(0, 1)], [yearly_of(0)])
        (store.folder / "runs" / ".part-000002.parquet.tmp").write_bytes(b"half a file")
        assert store.finished_run_ids() == {0}
        assert len(store.runs()) == 1


def test_reopening_for_writing_clears_what_a_kill_left_behind(tmp_path):
    with make_store(tmp_path / "sweep") as store:
        store.append([run_row(0, 1)], [yearly_of(0)])
        folder = store.folder
    # A kill between the two renames of batch 2: its yearly part exists, its runs part does not.
    orphan = (folder / "yearly" / "part-000001.parquet").read_bytes()
    (folder / "yearly" / "part-000002.parquet").write_bytes(orphan)
    (folder / "runs" / ".part-000003.parquet.tmp").write_bytes(b"half a file")
    (folder / ".manifest.json.tmp").write_text("{")
    with SweepStore.open(folder, for_writing=True) as store:
        assert not (folder / "yearly" / "part-000002.parquet").exists()
        assert not (folder / "runs" / ".part-000003.parquet.tmp").exists()
        assert not (folder / ".manifest.json.tmp").exists()
        store.append([run_row(1, 2)], [yearly_of(1)])
        assert store.yearly()["run_id"].tolist() == [0, 0, 1, 1]
    assert (folder / "runs" / "part-000002.parquet").exists()


def test_a_folder_being_written_cannot_be_opened_for_writing_again(tmp_path):
    with make_store(tmp_path / "sweep") as store, \
            pytest.raises(UserError, match="another sweep is writing this folder"):
        SweepStore.open(store.folder, for_writing=True)
    SweepStore.open(tmp_path / "sweep", for_writing=True).close()


def test_an_existing_folder_is_never_overwritten(tmp_path):
    make_store(tmp_path / "sweep").close()
    with pytest.raises(UserError, match="already exists"):
        make_store(tmp_path / "sweep")


def test_opening_a_folder_that_is_not_a_sweep_says_so(tmp_path):
    with pytest.raises(UserError, match="not a sweep folder"):
        SweepStore.open(tmp_path)


# --- executors -------------------------------------------------------------------------------


def test_every_executor_is_a_concurrent_futures_executor():
    for name in ("serial", "processes"):
        executor = make_executor(name, workers=1)
        assert isinstance(executor, Executor)
        assert executor.submit(math.sqrt, 9.0).result(timeout=60) == 3.0
        executor.shutdown()


def test_serial_executor_keeps_a_run_error_in_its_future():
    future = SerialExecutor().submit(math.sqrt, -1.0)
    assert isinstance(future.exception(), ValueError)


def test_scheduler_address_needs_the_dask_executor():
    with pytest.raises(UserError, match="--scheduler needs --executor dask"):
        make_executor("processes", scheduler="tcp://127.0.0.1:8786")


def test_process_pool_survives_a_run_that_kills_its_worker():
    pool = ProcessPool(2)
    try:
        before = [pool.submit(math.sqrt, float(i)) for i in range(4)]
        killer = pool.submit(os._exit, 3)
        after = [pool.submit(math.sqrt, float(i)) for i in range(4, 8)]
        assert [f.result(timeout=60) for f in before + after] == [math.sqrt(i) for i in range(8)]
        with pytest.raises(WorkerDied, match="killed its worker process"):
            killer.result(timeout=60)
        assert pool.submit(math.sqrt, 16.0).result(timeout=60) == 4.0
    finally:
        pool.shutdown()


def test_process_pool_shutdown_can_cancel_what_has_not_started():
    pool = ProcessPool(1)
    futures = [pool.submit(math.factorial, 20_000) for _ in range(30)]
    pool.shutdown(cancel_futures=True)
    assert any(f.cancelled() for f in futures)
    assert all(f.done() for f in futures)
