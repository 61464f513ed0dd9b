"""Running replications: seeds spawned from one root, one model per replication, tidy tables.

A replication is a plain function of (scenario, seed) -> tables, so any executor can call it.
Each replication's seed is drawn from ``SeedSequence(root).spawn(n)[i]``: independent streams,
and the integer written to the outputs reproduces that replication on its own
(``CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=seed))``).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim.model import CloudRaceModel, CloudRaceScenario
from sim.schema import ScenarioFile

CONTRACT_COLUMNS = [
    "replication", "seed", "time", "year", "country", "country_name", "region", "wb_region",
    "income_group", "fh_status", "us_security_partner", "tender_kind", "provider",
    "provider_state", "value_usd_m", "price_usd_m", "subsidy_usd_m", "financing_state",
    "loan_usd_m", "grant_element", "bundled_hardware", "renewal", "incumbent_provider", "n_bids",
    "troubled", "trouble_kind", "cancelled",
]


@dataclass
class ReplicationResult:
    """The tables one replication produces."""

    contracts: pd.DataFrame
    yearly: pd.DataFrame
    tenders: pd.DataFrame | None


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
    model = CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=seed),
                           record_tenders=record_tenders)
    model.run_model()
    return model_tables(model, replication, seed)


def model_tables(model: CloudRaceModel, replication: int, seed: int) -> ReplicationResult:
    """The tables of a finished run, tagged with its replication and seed."""
    record_tenders = model.record_tenders
    contracts = contracts_table(model)
    yearly = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    tenders = pd.DataFrame(model.tender_log) if record_tenders else None
    for table in (contracts, yearly, tenders):
        if table is not None:
            table.insert(0, "seed", seed)
            table.insert(0, "replication", replication)
    yearly["year"] = yearly["year"].astype(int)
    return ReplicationResult(contracts, yearly, tenders)


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
                 progress: bool = True, workers: int = 1,
                 ) -> tuple[list[int], list[ReplicationResult]]:
    """Run every replication; returns the seeds and the results, in replication order."""
    replications = replications or settings.run.replications
    root = settings.run.seed if seed is None else seed
    seeds = replication_seeds(root, replications)
    tasks = [(settings, index, replication_seed, record_tenders)
             for index, replication_seed in enumerate(seeds)]
    return seeds, run_tasks(tasks, workers, progress, "replications")


def _run_task(task: tuple[ScenarioFile, int, int, bool]) -> ReplicationResult:
    return run_replication(*task)


def run_tasks(tasks: list[tuple], workers: int = 1, progress: bool = True,
              label: str = "runs", function: Callable = _run_task) -> list:
    """Apply ``function`` to each task, in parallel processes if ``workers`` > 1.

    By default a task is ``(settings, replication, seed, record_tenders)`` and the result a
    ``ReplicationResult``; ``function`` (a module-level function, so it can be pickled) may be any
    other run of a task. Results come back in task order, so they do not depend on the number of
    workers. Workers start with ``forkserver`` (no inherited threads or locks); scripts that call
    this with ``workers`` > 1 need an ``if __name__ == "__main__":`` guard.
    """
    bar = tqdm(total=len(tasks), desc=label, unit="run", disable=not progress or len(tasks) < 2)
    if workers <= 1 or len(tasks) < 2:
        results = []
        for task in tasks:
            results.append(function(task))
            bar.update()
    else:
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(function, task) for task in tasks]
            for future in as_completed(futures):
                future.result()
                bar.update()
            results = [future.result() for future in futures]
    bar.close()
    return results
