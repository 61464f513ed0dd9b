"""summary.md: the run's headline numbers in plain language, with 90 % intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.country_outputs import most_dependent

TOP = 5
"""Governments named per state in the dependence section."""
RECORD_CUTOFF = 2021.33
"""End of the CSIS data (April 2021): the window for the historical headline."""


def interval(values: pd.Series | np.ndarray) -> str:
    """``mean (5 %-95 %)`` of per-replication values, or the value alone for one replication."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return "n/a"
    mean = values.mean()
    if len(values) == 1:
        return _fmt(mean)
    low, high = np.quantile(values, [0.05, 0.95])
    return f"{_fmt(mean)} ({_fmt(low)} to {_fmt(high)})"


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.2f}"


def _percent(values: pd.Series) -> str:
    return interval(values * 100) + " %"


def _per_replication(table: pd.DataFrame, replications: pd.Index) -> pd.Series:
    return table.groupby("replication").size().reindex(replications, fill_value=0)


def write_summary(path, *, scenario_name: str, description: str, contracts: pd.DataFrame,
                  yearly: pd.DataFrame, providers: list[str], states: list[str],
                  replications: int, end_year: int, countries: pd.DataFrame) -> None:
    """Write the headline numbers of a run as markdown (``countries``: at least the last
    year's rows of countries.csv)."""
    path.write_text(summary_text(
        scenario_name=scenario_name, description=description, contracts=contracts,
        yearly=yearly, providers=providers, states=states, replications=replications,
        end_year=end_year, countries=countries))


def summary_text(*, scenario_name: str, description: str, contracts: pd.DataFrame,
                 yearly: pd.DataFrame, providers: list[str], states: list[str],
                 replications: int, end_year: int, countries: pd.DataFrame) -> str:
    """The headline numbers of a run as markdown text."""
    reps = pd.Index(range(replications), name="replication")
    lines = [f"# {scenario_name}: summary", "", description.strip(), "",
             f"{replications} replication(s); each number is the mean across replications "
             "with its 5-95 % range in brackets.", ""]

    early = contracts[contracts["time"] < RECORD_CUTOFF]
    huawei = early[early["provider"] == "Huawei"]
    if "Huawei" in providers:
        deals = huawei.groupby("replication").size().reindex(reps, fill_value=0)
        places = huawei.groupby("replication")["country"].nunique().reindex(reps, fill_value=0)
        lines += ["## Up to April 2021 (the period of the CSIS record)", "",
                  f"- Huawei won {interval(deals)} government contracts in "
                  f"{interval(places)} countries.", ""]
        for column, label in (("region", "region"), ("fh_status", "Freedom House status")):
            shares = (huawei.groupby(["replication", column]).size()
                      / huawei.groupby("replication").size()).unstack(fill_value=0)
            parts = [f"{group} {_percent(shares[group].reindex(reps, fill_value=0))}"
                     for group in shares.columns]
            lines.append(f"- Huawei's deals by {label}: " + "; ".join(parts) + ".")
        lines.append("")

    late = contracts[contracts["year"] >= 2022]
    if len(late):
        total = late.groupby("replication").size().reindex(reps)
        lines += [f"## New contracts 2022-{end_year}", "",
                  f"- Contracts awarded: {interval(total)} per replication."]
        for name in providers:
            won = late[late["provider"] == name].groupby("replication").size()
            lines.append(f"- {name}: {_percent(won.reindex(reps, fill_value=0) / total)} of them.")
        for name in states:
            won = late[late["provider_state"] == name].groupby("replication").size()
            lines.append(f"- Providers from {name}: "
                         f"{_percent(won.reindex(reps, fill_value=0) / total)}.")
        lines.append("")

    final = yearly[yearly["year"] == yearly["year"].max()]
    lines += [f"## Leverage and debt in {end_year}", ""]
    for name in states:
        lines.append(
            f"- {name}: leverage index {interval(final[f'leverage_{name}'])} (average share of a "
            f"government's sensitive workloads its providers host); "
            f"{interval(final[f'dependent_{name}'])} governments dependent on it; "
            f"debt owed to its banks US$ {interval(final[f'debt_usd_m_{name}'])} m.")
    financed = _per_replication(contracts[contracts["financing_state"] != ""], reps)
    share = financed / _per_replication(contracts, reps)
    lines += ["", f"Contracts financed by a state bank: {_percent(share)} of all contracts.", ""]
    lines += _dependence_lines(countries, states)
    return "\n".join(lines) + "\n"


def _dependence_lines(countries: pd.DataFrame, states: list[str]) -> list[str]:
    """The governments most dependent on each state in the last year (from countries.csv)."""
    if countries.empty:
        return []
    year = int(countries["year"].max())
    lines = [f"## Governments most dependent on each state in {year}", "",
             "Dependent: the state's providers host at least the threshold share of the "
             "government's sensitive workloads; the share of replications in which it is, and "
             "the mean leverage across replications (countries.csv has every country and year).",
             ""]
    for state, table in most_dependent(countries, states).items():
        always = int((table["replications_dependent"] == 1).sum())
        named = [f"{row.country} ({row.replications_dependent:.0%} of replications, leverage "
                 f"{row.mean_leverage:.2f})" for row in table.head(TOP).itertuples()]
        lines.append(f"- {state}: {always} governments dependent in every replication, "
                     f"{len(table)} in at least one; first: "
                     + ("; ".join(named) if named else "none") + ".")
    return [*lines, ""]
