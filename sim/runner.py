"""Running replications: seeds spawned from one root, one model per replication, tidy tables.

A replication is a plain function of (scenario, seed) -> tables, so any executor can call it.
Each replication's seed is drawn from ``SeedSequence(root).spawn(n)[i]``: independent streams,
and the integer written to the outputs reproduces that replication on its own
(``CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=seed))``).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim.experiments.executors import (
    DaskExecutor,
    ProcessPool,
    SerialExecutor,
    map_in_batches,
)
from sim.model import CloudRaceModel, CloudRaceScenario
from sim.schema import ScenarioFile

CONTRACT_COLUMNS = [
    "replication", "seed", "time", "year", "country", "country_name", "region", "wb_region",
    "income_group", "fh_status", "us_security_partner", "tender_kind", "provider",
    "provider_state", "value_usd_m", "price_usd_m", "subsidy_usd_m", "financing_state",
    "loan_usd_m", "grant_element", "bundled_hardware", "renewal", "incumbent_provider", "n_bids",
    "troubled", "trouble_kind", "cancelled",
]
RUN_GC_THRESHOLD = 50_000
"""Allocations between two young-generation collections during a run (Python's default: 700).

A run makes hundreds of thousands of short-lived objects; at the default the cycle collector
runs hundreds of times a run for about a tenth of its time. It changes no result."""


@dataclass
class ReplicationResult:
    """The tables one replication produces."""

    contracts: pd.DataFrame
    yearly: pd.DataFrame
    tenders: pd.DataFrame | None
    countries: pd.DataFrame
    """One row per year and country (``sim.country_outputs``)."""


def replication_seeds(root_seed: int, replications: int) -> list[int]:
    """One 63-bit seed per replication, spawned from the root seed (numpy SeedSequence).

    63 bits keep the seed a signed 64-bit integer in every table format.
    """
    children = np.random.SeedSequence(root_seed).spawn(replications)
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
            for child in children]


def run_replication(settings: ScenarioFile, replication: int, seed: int,
                    record_tenders: bool = False) -> ReplicationResult:
    """Run one replication of a scenario from start to end and return its tables."""
    thresholds = gc.get_threshold()
    gc.set_threshold(RUN_GC_THRESHOLD, *thresholds[1:])
    try:
        model = CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=seed),
                               record_tenders=record_tenders)
        model.run_model()
    finally:
        gc.set_threshold(*thresholds)
    tables = model_tables(model, replication, seed)
    if gc.get_freeze_count():
        # A finished model is one web of cycles that would wait for the next full collection
        # (its objects reach the oldest generation during the run); free it now. Only where
        # the imports are frozen (commands, pool workers): the collection then walks the run's
        # objects alone, a few ms, instead of every module's (tens of ms).
        del model
        gc.collect()
    return tables


def model_tables(model: CloudRaceModel, replication: int, seed: int) -> ReplicationResult:
    """The tables of a finished run, tagged with its replication and seed."""
    record_tenders = model.record_tenders
    contracts = contracts_table(model)
    yearly = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    tenders = pd.DataFrame(model.tender_log) if record_tenders else None
    countries = model.country_log.table()
    for table in (contracts, yearly, tenders, countries):
        if table is not None:
            table.insert(0, "seed", seed)
            table.insert(0, "replication", replication)
    yearly["year"] = yearly["year"].astype(int)
    return ReplicationResult(contracts, yearly, tenders, countries)


def contracts_table(model: CloudRaceModel) -> pd.DataFrame:
    """One row per awarded contract (without the replication and seed columns)."""
    rows = []
    for contract in model.contracts:
        tender, bid = contract.tender, contract.bid
        government = tender.government
        financing = bid.financing_state
        rows.append((
            round(contract.start, 6), int(contract.start), government.iso3, government.name,
            government.region, government.wb_region, contract.extra["income_group"],
            contract.extra["fh_status"], contract.extra["us_security_partner"], tender.kind,
            bid.provider.name, bid.provider.home.name, round(tender.value, 6),
            round(bid.price, 6), round(bid.subsidy, 6), financing.name if financing else "",
            round(bid.loan, 6), round(contract.grant_element, 6), bid.bundled, tender.renewal,
            tender.incumbent.name if tender.incumbent else "", contract.extra["n_bids"],
            contract.troubled, contract.trouble_kind, contract.extra.get("cancelled", False),
        ))
    return pd.DataFrame(rows, columns=CONTRACT_COLUMNS[2:])


def run_scenario(settings: ScenarioFile, replications: int | None = None,
                 seed: int | None = None, record_tenders: bool = False,
                 progress: bool = True, workers: int | Executor = 1,
                 ) -> tuple[list[int], list[ReplicationResult]]:
    """Run every replication; returns the seeds and the results, in replication order."""
    seeds, results = stream_scenario(settings, replications, seed, record_tenders, progress,
                                     workers)
    return seeds, list(results)


def stream_scenario(settings: ScenarioFile, replications: int | None = None,
                    seed: int | None = None, record_tenders: bool = False,
                    progress: bool = True, workers: int | Executor = 1,
                    ) -> tuple[list[int], Iterator[ReplicationResult]]:
    """The seeds, and the results yielded in replication order as they come (few held at once,
    so the caller can write them away: memory does not grow with the replications)."""
    replications = replications or settings.run.replications
    root = settings.run.seed if seed is None else seed
    seeds = replication_seeds(root, replications)
    tasks = [(settings, index, replication_seed, record_tenders)
             for index, replication_seed in enumerate(seeds)]
    return seeds, iter_tasks(tasks, workers, progress, "replications")


def _run_task(task: tuple[ScenarioFile, int, int, bool]) -> ReplicationResult:
    return run_replication(*task)


def run_tasks(tasks: Sequence[tuple], workers: int | Executor = 1, progress: bool = True,
              label: str = "runs", function: Callable = _run_task) -> list:
    """Apply ``function`` to each task, on ``workers`` processes or the executor given.

    By default a task is ``(settings, replication, seed, record_tenders)`` and the result a
    ``ReplicationResult``; ``function`` (a module-level function, so it can be pickled) may be any
    other run of a task. Results come back in task order, so they do not depend on the number of
    workers or the executor. ``workers`` is a number of local processes (``shared_executor``)
    or any executor of ``sim.experiments.executors``; scripts that call this with more than one
    worker need an ``if __name__ == "__main__":`` guard.
    """
    return list(iter_tasks(tasks, workers, progress, label, function))


def iter_tasks(tasks: Sequence[tuple], workers: int | Executor = 1, progress: bool = True,
               label: str = "runs", function: Callable = _run_task) -> Iterator:
    """``run_tasks``, yielding each result in task order as soon as it and those before it are
    done."""
    # The executor before the progress bar, whose first use starts tqdm's monitor thread: a
    # fresh pool forks while no other thread runs.
    executor = shared_executor(workers if len(tasks) > 1 else 1) \
        if isinstance(workers, int) else workers
    if not progress or len(tasks) < 2:
        yield from map_in_batches(executor, function, tasks)
        return
    with tqdm(total=len(tasks), desc=label, unit="run") as bar:
        for result in map_in_batches(executor, function, tasks):
            bar.update()
            yield result


_SHARED: dict[tuple[int, str | None], Executor] = {}


def shared_executor(workers: int = 1, scheduler: str | None = None) -> Executor:
    """The executor for ``workers`` local processes, or for the Dask cluster at ``scheduler``.

    One per process and kind, kept warm: a command that runs several batches (a calibration's
    generations, attribution's variants) starts its workers once. Pools are ``ProcessPool``s
    (crash recovery, workers that exit with this process); they close when this process ends.
    """
    if scheduler is None and workers <= 1:
        if not gc.get_freeze_count():
            gc.collect()
            gc.freeze()  # as a pool does before it forks: the imports leave the collector
        return SerialExecutor()
    key = (workers, scheduler)
    executor = _SHARED.get(key)
    if executor is None:
        executor = _SHARED[key] = DaskExecutor(scheduler, workers) if scheduler else \
            ProcessPool(workers, preload=["sim.runner"])
    return executor


def close_shared_executors() -> None:
    """Shut down the kept executors (for a caller that is done with them; at exit, the pools'
    and Dask's own exit handlers stop them)."""
    while _SHARED:
        _, executor = _SHARED.popitem()
        executor.shutdown(wait=True, cancel_futures=True)
