"""A run's results: in memory for a notebook (``Results``) and as a results folder on disk.

``write_run_folder`` is the one way a run becomes a results folder: ``cloudrace run`` streams its
replications through it (memory does not grow with them), and ``Results.save`` passes the
replications it holds. The folder is claimed first (it must not exist), the tables are appended
to files beside it as the replications come, and everything is moved into place at once
(``sim.outputs``): a results folder is complete or absent, and never overwritten.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from sim.errors import UserError
from sim.runner import ReplicationResult
from sim.schema import ScenarioFile


@dataclass
class RunRecord:
    """What was run: the manifest's facts about a run, whatever wrote it."""

    settings: ScenarioFile
    name: str
    """The scenario's name, for the default folder name and the summary's title."""
    scenario_file: str
    overrides: list[str]
    replications: int
    root_seed: int
    seeds: list[int]
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    command: str | None = None
    """The command line, for a run started from the CLI."""

    def manifest_fields(self) -> dict[str, Any]:
        """The manifest's fields (``write_manifest`` adds the commit and package versions)."""
        from sim.countries import DEFAULT_COUNTRIES_PATH
        from sim.outputs import file_sha256
        from sim.scenario import scenario_hash

        data_file = Path(self.settings.population.data_file or DEFAULT_COUNTRIES_PATH)
        return {
            "command": self.command,
            "scenario_file": self.scenario_file,
            "scenario_name": self.name,
            "scenario_hash": scenario_hash(self.settings),
            "overrides": self.overrides,
            "root_seed": self.root_seed,
            "replications": self.replications,
            "replication_seeds": self.seeds,
            "country_data": {"file": str(data_file), "sha256": file_sha256(data_file)},
            "started": self.started.isoformat(timespec="seconds"),
        }


def write_run_folder(
    out: Path | None,
    record: RunRecord,
    results: Iterable[ReplicationResult],
    *,
    tenders: bool = False,
    figures: bool = True,
) -> tuple[Path, int]:
    """Write the results folder of a run: contracts.csv, yearly.csv, countries.csv (and
    tenders.csv), summary.md, figures/ and manifest.json.

    ``out`` must not exist (``None``: a new ``results/NAME-DATE-TIME``). ``results`` is consumed
    here, in replication order, after the folder is claimed. Returns the folder and the number
    of contracts.
    """
    from sim.outputs import claim_results_folder, release_folder, write_manifest, write_results
    from sim.run_tables import stream_tables

    folder = claim_results_folder(out, record.name, record.started)
    # The tables stream into a hidden folder beside it, cleared as stale if this process dies.
    streamed = folder.parent / f".{folder.name}.tables.partial-{os.getpid()}"
    try:
        streamed.mkdir(parents=True)
        run = stream_tables(results, streamed, tenders)
    except OSError as error:
        shutil.rmtree(streamed, ignore_errors=True)
        release_folder(folder)
        raise UserError(
            f"{folder}: cannot write the results ({error.strerror}); nothing was written"
        ) from None
    except BaseException:
        shutil.rmtree(streamed, ignore_errors=True)
        release_folder(folder)
        raise
    settings = record.settings
    tables = ["contracts.csv", "yearly.csv", "countries.csv", *(["tenders.csv"] if tenders else [])]
    writers: dict[str, Any] = {name: partial(os.replace, streamed / name) for name in tables}
    writers["summary.md"] = partial(
        _write_summary,
        record=record,
        contracts=run.contracts,
        yearly=run.yearly,
        countries=run.last_year_countries,
    )
    if figures:
        writers["figures"] = partial(
            _write_figures, settings=settings, contracts=run.contracts, yearly=run.yearly
        )
    writers["manifest.json"] = partial(
        write_manifest,
        **record.manifest_fields(),
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        outputs=sorted(writers),
        scenario=settings.model_dump(mode="json"),
    )
    try:
        write_results(folder, writers)
    finally:
        shutil.rmtree(streamed, ignore_errors=True)
    return folder, run.contract_count


def _write_summary(
    path: Path,
    record: RunRecord,
    contracts: pd.DataFrame,
    yearly: pd.DataFrame,
    countries: pd.DataFrame,
) -> None:
    path.write_text(summary_of(record, contracts, yearly, countries))


def summary_of(
    record: RunRecord, contracts: pd.DataFrame, yearly: pd.DataFrame, countries: pd.DataFrame
) -> str:
    """summary.md's text for a run's tables."""
    from sim.summary import summary_text

    settings = record.settings
    return summary_text(
        scenario_name=record.name,
        description=settings.description,
        contracts=contracts,
        yearly=yearly,
        providers=list(settings.providers),
        states=list(settings.states),
        replications=record.replications,
        end_year=settings.run.end_year,
        countries=countries,
    )


def _write_figures(
    path: Path, settings: ScenarioFile, contracts: pd.DataFrame, yearly: pd.DataFrame
) -> None:
    from sim.plots import write_figures

    write_figures(
        path,
        contracts=contracts,
        yearly=yearly,
        providers=list(settings.providers),
        states=list(settings.states),
        centroids=_centroids(settings),
        blocs=_blocs(settings),
    )


def _centroids(settings: ScenarioFile) -> dict[str, tuple[float, float]]:
    from sim.countries import load_countries

    countries = load_countries(settings.population.data_file)
    return {row.iso3: (row.lon, row.lat) for row in countries.itertuples()}


def _blocs(settings: ScenarioFile) -> dict[str, str]:
    return {name: state.bloc for name, state in settings.states.items()}


class Results:
    """The replications of one run, held in memory, with tables, summary, figures and ``save``.

    Made by ``sim.run``. The tables are the files of a results folder as DataFrames:
    ``contracts`` (one row per contract), ``yearly`` (per replication and year) and ``countries``
    (per replication, year and country; ``sim.country_outputs``).
    """

    def __init__(self, record: RunRecord, replications: list[ReplicationResult]) -> None:
        self.record = record
        self.replications = replications

    def __repr__(self) -> str:
        return (
            f"Results({self.record.name!r}, {self.record.replications} replication(s), "
            f"seed {self.record.root_seed})"
        )

    @property
    def scenario(self) -> ScenarioFile:
        """The scenario that was run (validated, overrides applied)."""
        return self.record.settings

    @cached_property
    def contracts(self) -> pd.DataFrame:
        """contracts.csv: every awarded contract."""
        return self._concat("contracts")

    @cached_property
    def yearly(self) -> pd.DataFrame:
        """yearly.csv: the yearly metrics of each replication."""
        return self._concat("yearly")

    @cached_property
    def countries(self) -> pd.DataFrame:
        """countries.csv: shares, leverage, debt, alignment and dependence by country and year."""
        return self._concat("countries")

    @cached_property
    def tenders(self) -> pd.DataFrame | None:
        """tenders.csv (every tender with every bid), if the run recorded them."""
        if self.replications and self.replications[0].tenders is None:
            return None
        return self._concat("tenders")

    def _concat(self, name: str) -> pd.DataFrame:
        return pd.concat([getattr(r, name) for r in self.replications], ignore_index=True)

    @property
    def manifest(self) -> dict[str, Any]:
        """What was run: scenario, its hash, overrides, seeds, country data, start time."""
        return self.record.manifest_fields()

    def summary(self) -> str:
        """summary.md's text: the headline numbers with their 5-95 % ranges across
        replications."""
        return summary_of(self.record, self.contracts, self.yearly, self.countries)

    def plot_market_share(self) -> Figure:
        """Shares of new contracts and of the installed base by provider (mean, 5-95 % band of
        single replications)."""
        from sim.plots import plot_market_share

        return plot_market_share(self.yearly, list(self.scenario.providers))

    def plot_leverage(self) -> Figure:
        """Each state's leverage index and the governments dependent on it."""
        from sim.plots import plot_leverage

        return plot_leverage(self.yearly, list(self.scenario.states))

    def plot_deals_by_region(self) -> Figure:
        """Contracts per replication by region and provider."""
        from sim.plots import plot_deals_by_group
        from sim.schema import REGIONS

        return plot_deals_by_group(
            self.contracts,
            list(self.scenario.providers),
            "region",
            REGIONS,
            "Contracts by region",
            self.record.replications,
        )

    def plot_world_map(self) -> Figure:
        """Each country coloured by its dominant provider over the run."""
        from sim.plots import plot_world_map

        return plot_world_map(
            self.contracts,
            list(self.scenario.providers),
            _centroids(self.scenario),
            _blocs(self.scenario),
            self.record.replications,
        )

    def save(self, folder: str | Path | None = None, *, figures: bool = True) -> Path:
        """Write the results folder ``cloudrace run`` writes; ``folder`` must not exist
        (``None``: a new ``results/NAME-DATE-TIME``). Returns the folder."""
        written, _ = write_run_folder(
            None if folder is None else Path(folder),
            self.record,
            iter(self.replications),
            tenders=self.tenders is not None,
            figures=figures,
        )
        return written
