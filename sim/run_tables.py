"""A run's tables written as its replications come, so memory does not grow with the work.

``cloudrace run -n 1000`` would hold a thousand replications' contracts (about 280 MB as a
DataFrame, twice that while concatenating) to write them at the end. Instead each replication's
rows are appended to the CSV files as soon as it and those before it are done (in replication
order, so the files are the same bytes as one ``write_csv`` of the concatenated tables), and
only what the summary and the figures read is kept: the yearly table and a few contract columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pandas.api.types import union_categoricals

from sim.outputs import write_csv
from sim.runner import ReplicationResult

SUMMARY_CONTRACT_COLUMNS = [
    "replication", "time", "year", "country", "region", "fh_status", "provider",
    "provider_state", "financing_state", "value_usd_m",
]
"""The contract columns ``write_summary`` and ``write_figures`` read."""
CATEGORY_COLUMNS = ["country", "region", "fh_status", "provider", "provider_state",
                    "financing_state"]
"""Kept as categories: a few distinct names in a million rows (73 MB instead of 127 MB for
1,000 baseline replications). pandas groups categories by the values observed, in sorted
order, as it groups strings, so the summary and the figures are the same."""


@dataclass
class StreamedRun:
    """What stays in memory of a streamed run: enough for the summary and the figures."""

    contracts: pd.DataFrame
    """The contracts with ``SUMMARY_CONTRACT_COLUMNS`` only."""
    yearly: pd.DataFrame
    contract_count: int
    last_year_countries: pd.DataFrame
    """The rows of countries.csv for each replication's last year (for the summary)."""


class CsvAppender:
    """One CSV file written table by table, formatted as ``write_csv`` writes the whole table.

    The header is the first table's columns; later tables are laid out in the same columns (a
    column a table lacks is left empty, as ``pd.concat`` would leave it). A table with a column
    the header lacks cannot be appended without rewriting the file, and is refused.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.columns: list[str] | None = None

    def append(self, table: pd.DataFrame) -> None:
        """Append the rows of ``table`` (an empty table with no columns is skipped)."""
        if self.columns is None:
            if table.columns.empty:
                return
            self.columns = list(table.columns)
            write_csv(table, self.path)
            return
        extra = [column for column in table.columns if column not in self.columns]
        if extra:
            raise ValueError(f"{self.path.name}: a replication has columns the first lacks "
                             f"({', '.join(extra)})")
        write_csv(table.reindex(columns=self.columns), self.path, append=True)

    def finish(self) -> None:
        """Make sure the file exists (empty) even if no table had any column."""
        if self.columns is None:
            self.path.touch()


def stream_tables(results: Iterable[ReplicationResult], folder: Path, tenders: bool
                  ) -> StreamedRun:
    """Append each replication's tables to ``folder``'s contracts.csv, yearly.csv,
    countries.csv and (with ``tenders``) tenders.csv, in the order given; keep what the summary
    and figures need."""
    names = ["contracts", "yearly", "countries", *(["tenders"] if tenders else [])]
    files = {name: CsvAppender(folder / f"{name}.csv") for name in names}
    kept_contracts, kept_yearly, kept_countries = [], [], []
    count = 0
    for result in results:
        for name, appender in files.items():
            appender.append(getattr(result, name))
        kept_contracts.append(_compact(result.contracts))
        kept_yearly.append(result.yearly)
        countries = result.countries
        kept_countries.append(countries[countries["year"] == countries["year"].max()])
        count += len(result.contracts)
    for appender in files.values():
        appender.finish()
    return StreamedRun(_concat(kept_contracts), pd.concat(kept_yearly, ignore_index=True), count,
                       pd.concat(kept_countries, ignore_index=True))


def _compact(contracts: pd.DataFrame) -> pd.DataFrame:
    """The summary's columns of one replication's contracts, names as categories (a copy, so
    it does not hold on to the whole table's memory)."""
    kept = contracts[SUMMARY_CONTRACT_COLUMNS].copy()
    for column in CATEGORY_COLUMNS:
        kept[column] = kept[column].astype("category")
    return kept


def _concat(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate compacted tables, each category column over the union of their categories
    (sorted, as strings sort)."""
    combined = pd.concat([table.drop(columns=CATEGORY_COLUMNS) for table in tables],
                         ignore_index=True)
    for column in CATEGORY_COLUMNS:
        combined[column] = union_categoricals([table[column] for table in tables],
                                              sort_categories=True)
    return combined[SUMMARY_CONTRACT_COLUMNS]
