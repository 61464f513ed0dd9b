"""Commands on a real Dask cluster: a ``dask scheduler`` and two ``dask worker`` processes.

The cluster is started here on 127.0.0.1 (as a user would on a cluster's nodes, not a
``LocalCluster``), a sweep, a run and a short calibration are sent to it with ``--scheduler``,
and each result must be the same as the serial one. The processes are stopped by their ids.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, run_cli, write_tiny_scenario
from test_experiments_sweep import EXPERIMENT, comparable, write_experiment

pytest.importorskip("distributed")

DASK = Path(sys.executable).with_name("dask")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory) -> Iterator[str]:
    """The address of a running scheduler with two single-threaded worker processes."""
    from distributed import Client

    if not DASK.is_file():
        pytest.skip(f"no dask command beside {sys.executable}")
    folder = tmp_path_factory.mktemp("dask-cluster")
    address = f"tcp://127.0.0.1:{_free_port()}"
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    log = (folder / "cluster.log").open("w")
    processes = [
        subprocess.Popen(
            [
                DASK,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                address.rsplit(":", 1)[1],
                "--no-dashboard",
                "--no-show",
            ],
            cwd=folder,
            env=environment,
            stdout=log,
            stderr=log,
        )
    ]
    try:
        for name in ("worker-1", "worker-2"):
            processes.append(
                subprocess.Popen(
                    [
                        DASK,
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--no-nanny",
                        "--no-dashboard",
                        "--name",
                        name,
                        "--local-directory",
                        folder / name,
                    ],
                    cwd=folder,
                    env=environment,
                    stdout=log,
                    stderr=log,
                )
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout="2s") as client:
                    client.wait_for_workers(2, timeout=60)
                break
            except OSError:
                assert time.monotonic() < deadline, (folder / "cluster.log").read_text()
                time.sleep(0.2)
        yield address
    finally:
        for process in reversed(processes):  # workers first, then the scheduler, by their ids
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def test_a_sweep_on_the_cluster_gives_the_serial_results(scheduler, tmp_path, capsys):
    experiment = write_experiment(tmp_path, EXPERIMENT.replace("samples: 4", "samples: 2"))
    folders = {}
    for name, options in (
        ("serial", ["--executor", "serial"]),
        ("dask", ["--executor", "dask", "--scheduler", scheduler]),
    ):
        folders[name] = tmp_path / name
        result = run_cli(["sweep", experiment, "--out", folders[name], "-q", *options], capsys)
        assert result.code == 0, result.err
    serial_runs, serial_yearly = comparable(folders["serial"])
    dask_runs, dask_yearly = comparable(folders["dask"])
    assert serial_runs.equals(dask_runs)
    assert serial_yearly.equals(dask_yearly)
    from sim.experiments.store import SweepStore

    workers = SweepStore.open(folders["dask"]).runs()["worker"]
    assert workers.nunique() == 2  # both cluster workers ran some


def test_a_run_on_the_cluster_writes_the_same_bytes(scheduler, tmp_path, capsys):
    scenario = write_tiny_scenario(tmp_path)
    for name, options in (("here", []), ("cluster", ["--scheduler", scheduler])):
        result = run_cli(
            ["run", scenario, "-n", "4", "--no-figures", "-q", "--out", tmp_path / name, *options],
            capsys,
        )
        assert result.code == 0, result.err
    for table in ("contracts.csv", "yearly.csv"):
        assert (tmp_path / "here" / table).read_bytes() == (
            tmp_path / "cluster" / table
        ).read_bytes(), table


CALIBRATION = """\
base: {base}
seed: 5
population_size: 6
batch_size: 3
max_generations: 2
min_acceptance_rate: 0.0
max_simulations: 200
representative_candidates: 2
representative_replications: 2
parameters:
  demand.tender_rate: {{low: 1.0, high: 3.0}}
  choice.security_weight: {{low: 0.5, high: 5.0}}
"""


def test_a_calibration_on_the_cluster_finds_the_serial_posterior(scheduler, tmp_path, capsys):
    scenario = write_tiny_scenario(tmp_path)
    spec = tmp_path / "abc.yaml"
    spec.write_text(CALIBRATION.format(base=scenario.name))
    posteriors = {}
    for name, options in (("here", []), ("cluster", ["--scheduler", scheduler])):
        result = run_cli(
            ["calibrate", spec, "--spread-members", "0", "-q", "--out", tmp_path / name, *options],
            capsys,
        )
        assert result.code == 0, result.err
        posteriors[name] = (tmp_path / name / "calibration" / "posterior.csv").read_bytes()
    assert posteriors["here"] == posteriors["cluster"]
    assert len(posteriors["here"].splitlines()) > 1
