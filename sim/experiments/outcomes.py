"""Outcomes: the numbers a sweep records for each run, computed from the run's own tables.

Each outcome is a pure pandas function of one replication's ``contracts`` table (one row per
awarded contract, as in contracts.csv) or its ``yearly`` table (one row per year, as in
yearly.csv), named in an experiment file by a pattern:

====================================  =========================================================
name                                  meaning
====================================  =========================================================
``<provider>_deals_to_<YYYY>_<MM>``   contracts the provider won up to the end of that month
                                      (``huawei_deals_to_2021_04``: the CSIS record's window)
``<provider>_countries_to_<YYYY>_<MM>``  countries where it won at least one of them
``share_new_<who>_<YYYY>_<YYYY>``     share of the contracts awarded in those years (inclusive)
                                      won by a provider (``share_new_huawei_2022_2035``) or by
                                      a state's providers (``share_new_china_2022_2035``)
``debt_<state>_<YYYY>``               debt owed to the state's banks at the end of the year,
                                      US$ m (yearly column ``debt_usd_m_<state>``)
``<column>_<YYYY>``                   any yearly.csv column at the end of the year:
                                      ``leverage_china_2035`` (the state's leverage index),
                                      ``dependent_us_2035`` (governments dependent on it),
                                      ``installed_share_huawei_2035``, ``hhi_installed_2035``...
====================================  =========================================================

Provider, state and column names are matched without regard to case; the name as written is the
outcome's column in the results. A share is NaN when no contract was awarded in the window, and
a yearly value is NaN when the run did not reach the year.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

YEAR = r"(?P<year>\d{4})"
MONTH = r"(?P<month>0[1-9]|1[0-2])"


# --- the outcome functions ---------------------------------------------------------------------


def deals_to(contracts: pd.DataFrame, provider: str, cutoff: float) -> float:
    """Contracts ``provider`` won with an award date before ``cutoff`` (a fractional year)."""
    won = contracts[(contracts["provider"] == provider) & (contracts["time"] < cutoff)]
    return float(len(won))


def countries_to(contracts: pd.DataFrame, provider: str, cutoff: float) -> float:
    """Countries where ``provider`` won at least one contract before ``cutoff``."""
    won = contracts[(contracts["provider"] == provider) & (contracts["time"] < cutoff)]
    return float(won["country"].nunique())


def share_of_new_contracts(contracts: pd.DataFrame, column: str, name: str, first_year: int,
                           last_year: int) -> float:
    """Share of the contracts awarded in ``first_year``-``last_year`` whose ``column`` is ``name``.

    ``column`` is ``provider`` (one provider's share) or ``provider_state`` (the share of a
    state's providers). NaN when no contract was awarded in those years.
    """
    window = contracts[contracts["year"].between(first_year, last_year)]
    if window.empty:
        return float("nan")
    return float((window[column] == name).mean())


def yearly_value(yearly: pd.DataFrame, column: str, year: int) -> float:
    """The yearly table's ``column`` in ``year`` (NaN if the run did not reach that year)."""
    row = yearly.loc[yearly["year"] == year, column]
    return float(row.iloc[0]) if len(row) else float("nan")


# --- outcomes by name --------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A named outcome: which table it reads, the pure function and its arguments."""

    name: str
    description: str
    table: Literal["contracts", "yearly"]
    function: Callable[..., float]
    arguments: dict = field(default_factory=dict)
    year: int | None = None
    """The last year the outcome reads (the run must reach it)."""

    def __call__(self, contracts: pd.DataFrame, yearly: pd.DataFrame) -> float:
        """The outcome of one replication."""
        table = contracts if self.table == "contracts" else yearly
        return self.function(table, **self.arguments)


def resolve_outcome(name: str, providers: Iterable[str], states: Iterable[str],
                    yearly_columns: Iterable[str]) -> Outcome:
    """The outcome a name stands for, given the scenario's providers, states and yearly columns.

    Raises ``ValueError`` with the patterns understood when the name matches none.
    """
    by_lower = {
        "provider": {p.lower(): p for p in providers},
        "state": {s.lower(): s for s in states},
        "column": {c.lower(): c for c in yearly_columns if c != "year"},
    }
    lower = name.lower()
    for pattern, build in _PATTERNS:
        match = re.fullmatch(pattern, lower)
        if match:
            outcome = build(name, match, by_lower)
            if outcome is not None:
                return outcome
    raise ValueError(
        f"unknown outcome {name!r}; expected one of: <provider>_deals_to_<YYYY>_<MM>, "
        "<provider>_countries_to_<YYYY>_<MM>, share_new_<provider or state>_<YYYY>_<YYYY>, "
        "debt_<state>_<YYYY> or <yearly column>_<YYYY>, with providers "
        f"{_listing(by_lower['provider'])} and states {_listing(by_lower['state'])}")


def _listing(names: dict[str, str]) -> str:
    return ", ".join(sorted(names.values()))


def _cutoff(match: re.Match) -> tuple[float, str]:
    year, month = int(match["year"]), int(match["month"])
    return year + month / 12, f"the end of {year}-{month:02d}"


def _deals(name: str, match: re.Match, names: dict) -> Outcome | None:
    provider = names["provider"].get(match["who"])
    if provider is None:
        return None
    cutoff, label = _cutoff(match)
    return Outcome(name, f"contracts won by {provider} up to {label}", "contracts", deals_to,
                   {"provider": provider, "cutoff": cutoff}, int(match["year"]))


def _countries(name: str, match: re.Match, names: dict) -> Outcome | None:
    provider = names["provider"].get(match["who"])
    if provider is None:
        return None
    cutoff, label = _cutoff(match)
    return Outcome(name, f"countries where {provider} won a contract up to {label}",
                   "contracts", countries_to, {"provider": provider, "cutoff": cutoff},
                   int(match["year"]))


def _share(name: str, match: re.Match, names: dict) -> Outcome | None:
    first, last = int(match["first"]), int(match["last"])
    if first > last:
        return None
    who = match["who"]
    if who in names["provider"]:
        column, label = "provider", names["provider"][who]
        noun = label
    elif who in names["state"]:
        column, label = "provider_state", names["state"][who]
        noun = f"{label}'s providers"
    else:
        return None
    return Outcome(name, f"share of the contracts awarded {first}-{last} won by {noun}",
                   "contracts", share_of_new_contracts,
                   {"column": column, "name": label, "first_year": first, "last_year": last},
                   last)


def _debt(name: str, match: re.Match, names: dict) -> Outcome | None:
    state = names["state"].get(match["who"])
    column = names["column"].get(f"debt_usd_m_{match['who']}")
    if state is None or column is None:
        return None
    year = int(match["year"])
    return Outcome(name, f"debt owed to {state}'s banks at the end of {year}, US$ m", "yearly",
                   yearly_value, {"column": column, "year": year}, year)


def _yearly(name: str, match: re.Match, names: dict) -> Outcome | None:
    column = names["column"].get(match["column"])
    if column is None:
        return None
    year = int(match["year"])
    return Outcome(name, f"yearly {column} in {year}", "yearly", yearly_value,
                   {"column": column, "year": year}, year)


_PATTERNS = [
    (rf"(?P<who>.+)_deals_to_{YEAR}_{MONTH}", _deals),
    (rf"(?P<who>.+)_countries_to_{YEAR}_{MONTH}", _countries),
    (r"share_new_(?P<who>.+)_(?P<first>\d{4})_(?P<last>\d{4})", _share),
    (rf"debt_(?P<who>.+)_{YEAR}", _debt),
    (rf"(?P<column>.+)_{YEAR}", _yearly),
]
