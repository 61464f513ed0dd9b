"""countries.csv: one row per replication, year and country, read from the governments.

At each year's close the model calls ``CountryLog.record`` (one hook beside the yearly
metrics); it reads only the governments' public attributes (``installed``, ``debt``,
``dependence``, ``alignment``, ``sensitive_workloads()``), so it keeps working however the model
computes them. Columns, for each provider and state of the scenario:

- ``installed_share_<provider>``: the provider's share of the government's installed base;
- ``leverage_<state>``: the state's providers' share of the government's sensitive workloads
  (``sim.market.concentration.leverage_share``, as the yearly ``leverage_<state>`` averages it);
- ``dependent_<state>``: that leverage at or above ``dependence.dependent_threshold`` (the
  yearly ``dependent_<state>`` counts these);
- ``dependence_<state>``: the government's dependence index on the state (debt and ties);
- ``debt_usd_m_<state>``: what the government owes the state's banks;
- ``alignment``: the government's alignment, -1 (China) to 1 (the west).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from sim.market.concentration import leverage_share

if TYPE_CHECKING:
    from sim.model import CloudRaceModel

DIGITS = 6
"""Decimals kept, as in the other tables."""


class CountryLog:
    """The country rows of one run, a year at a time."""

    def __init__(self, model: CloudRaceModel) -> None:
        self.model = model
        self.providers = [provider.name for provider in model.providers]
        self.states = list(model.states)
        self.columns = ["year", "country", *(f"installed_share_{p}" for p in self.providers)]
        for state in self.states:
            self.columns += [
                f"leverage_{state}",
                f"dependent_{state}",
                f"dependence_{state}",
                f"debt_usd_m_{state}",
            ]
        self.columns.append("alignment")
        self.rows: list[tuple] = []

    def record(self, year: float) -> None:
        """Add one row per government for the year just closed."""
        threshold = self.model.scenario.dependence.dependent_threshold
        for government in self.model.governments:
            installed = {provider.name: amount for provider, amount in government.installed.items()}
            total = sum(installed.values())
            row: list = [int(round(year)), government.iso3]
            row += [
                round(installed.get(name, 0.0) / total, DIGITS) if total else 0.0
                for name in self.providers
            ]
            workloads = government.sensitive_workloads()
            for state in self.states:
                leverage = leverage_share(workloads, state) if workloads else 0.0
                row += [
                    round(leverage, DIGITS),
                    leverage >= threshold and bool(workloads),
                    round(government.dependence.get(state, 0.0), DIGITS),
                    round(government.debt.get(state, 0.0), DIGITS),
                ]
            row.append(round(government.alignment, DIGITS))
            self.rows.append(tuple(row))

    def table(self) -> pd.DataFrame:
        """The rows so far (without the replication and seed columns)."""
        return pd.DataFrame(self.rows, columns=self.columns)


def most_dependent(countries: pd.DataFrame, states: list[str]) -> dict[str, pd.DataFrame]:
    """The governments most dependent on each state in the table's last year.

    Ranked by the share of replications in which the government is dependent on the state
    (leverage at or above the threshold), then by its mean leverage (then by code); every
    government dependent in at least one replication. Each table has ``country``,
    ``replications_dependent`` (a share) and ``mean_leverage``.
    """
    last = countries[countries["year"] == countries["year"].max()]
    ranked = {}
    for state in states:
        table = (
            last.groupby("country", observed=True)
            .agg(
                replications_dependent=(f"dependent_{state}", "mean"),
                mean_leverage=(f"leverage_{state}", "mean"),
            )
            .reset_index()
        )
        table = table[table["replications_dependent"] > 0]
        ranked[state] = table.sort_values(
            ["replications_dependent", "mean_leverage", "country"], ascending=[False, False, True]
        )
    return ranked
