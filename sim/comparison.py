"""Paired scenario comparisons: the same seeds in every scenario, differences with intervals.

Every scenario runs on the same replication seeds as the base (common random numbers), so the
difference in an outcome is paired replication by replication and its interval shows the
spread of the policy's effect, not the spread of chance between two unrelated runs. With a
posterior ensemble, each (member, replication) pair is one paired draw, so the intervals carry
parameter uncertainty as well as chance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.metrics import slug
from sim.schema import FH_STATUSES, REGIONS, ScenarioFile

FUTURE = (2022, 2035)
"""The window of 'new contracts' in the key outcomes: from the fork to the end of the run."""


@dataclass(frozen=True)
class Draw:
    """One paired draw: a replication seed, under one posterior member (or none)."""

    member: int
    replication: int
    seed: int


def key_outcomes(contracts: pd.DataFrame, yearly: pd.DataFrame, blocs: dict[str, str],
                 window: tuple[int, int] = FUTURE) -> dict[str, float]:
    """The compared outcomes of one run (shares in %, money in US$ m).

    Shares of new contracts in ``window`` won by Huawei, by Chinese and by US providers, overall
    and by region and Freedom House status; and, in the last year, each state's leverage index,
    the governments dependent on it and the debt owed to its banks; plus each bloc's public
    money spent (financing and subsidy) and contracts won in the window. ``blocs`` maps each
    state to its bloc.
    """
    states = list(blocs)
    new = contracts[(contracts["year"] >= window[0]) & (contracts["year"] <= window[1])]
    winners = {"huawei": new["provider"] == "Huawei"}
    for state in states:
        winners[slug(state)] = new["provider_state"] == state
    outcomes: dict[str, float] = {"contracts_new": float(len(new))}
    groups = [("all", pd.Series(True, index=new.index))]
    groups += [(f"region_{slug(r)}", new["region"] == r) for r in REGIONS]
    groups += [(f"fh_{slug(s)}", new["fh_status"] == s) for s in FH_STATUSES]
    for who, won in winners.items():
        for group, members in groups:
            count = int(members.sum())
            outcomes[f"share_{who}_{group}"] = 100.0 * float((won & members).sum()) / count \
                if count else np.nan
    last = yearly[yearly["year"] == yearly["year"].max()].iloc[0]
    in_window = yearly[(yearly["year"] >= window[0]) & (yearly["year"] <= window[1])]
    for state in states:
        key = slug(state)
        outcomes[f"leverage_{key}_end"] = float(last[f"leverage_{state}"])
        outcomes[f"dependent_{key}_end"] = float(last[f"dependent_{state}"])
        outcomes[f"debt_{key}_end"] = float(last[f"debt_usd_m_{state}"])
    for bloc in sorted(set(blocs.values())):
        members = [state for state, side in blocs.items() if side == bloc]
        outcomes[f"public_money_{bloc}"] = float(sum(
            in_window[f"financing_usd_m_{s}"].sum() + in_window[f"subsidy_usd_m_{s}"].sum()
            for s in members))
        outcomes[f"contracts_won_{bloc}"] = float(new["provider_state"].isin(members).sum())
    return outcomes


STATE_TOTALS = ("leverage_", "dependent_", "debt_", "public_money_", "contracts_won_")
"""Outcome families that are zero, not missing, for a state absent from a scenario."""


def paired_differences(outcomes: pd.DataFrame, base: str) -> pd.DataFrame:
    """Per scenario and outcome: means, mean paired difference and its 90 % interval.

    ``outcomes`` has one row per (scenario, member, replication) and a column per outcome.
    """
    keys = ["member", "replication"]
    totals = [c for c in outcomes.columns if c.startswith(STATE_TOTALS)]
    outcomes = outcomes.fillna(dict.fromkeys(totals, 0.0))
    base_rows = outcomes[outcomes["scenario"] == base].set_index(keys)
    columns = [c for c in outcomes.columns if c not in ("scenario", *keys)]
    rows = []
    for scenario, table in outcomes.groupby("scenario", sort=False):
        if scenario == base:
            continue
        table = table.set_index(keys)
        for column in columns:
            difference = (table[column] - base_rows[column]).dropna()
            rows.append({
                "scenario": scenario, "outcome": column,
                "base_mean": float(base_rows[column].mean()),
                "scenario_mean": float(table[column].mean()),
                "difference": float(difference.mean()) if len(difference) else np.nan,
                "difference_p05": float(difference.quantile(0.05)) if len(difference) else np.nan,
                "difference_p95": float(difference.quantile(0.95)) if len(difference) else np.nan,
                "draws": len(difference),
            })
        rows.extend(money_per_contract_swung(table, base_rows, scenario))
    return pd.DataFrame(rows)


def money_per_contract_swung(table: pd.DataFrame, base: pd.DataFrame,
                             scenario: str) -> list[dict[str, Any]]:
    """Extra public money a bloc spent per extra contract its providers won (ratio of means).

    Undefined (empty) when the scenario changed neither the money nor the contracts; no interval,
    since a ratio of paired differences is unstable near zero.
    """
    rows = []
    for column in [c for c in table.columns if c.startswith("public_money_")]:
        state = column.removeprefix("public_money_")
        extra_money = float((table[column] - base[column]).mean())
        extra_contracts = float((table[f"contracts_won_{state}"]
                                 - base[f"contracts_won_{state}"]).mean())
        ratio = extra_money / extra_contracts if abs(extra_contracts) >= 0.5 else np.nan
        rows.append({"scenario": scenario, "outcome": f"money_per_contract_swung_{state}",
                     "base_mean": np.nan, "scenario_mean": np.nan, "difference": ratio,
                     "difference_p05": np.nan, "difference_p95": np.nan,
                     "draws": len(table)})
    return rows


def what_changes(base: ScenarioFile, other: ScenarioFile) -> list[str]:
    """The key paths whose resolved values differ from the base, with the new values."""
    changes: list[str] = []

    def walk(left: Any, right: Any, path: str) -> None:
        if isinstance(left, dict) and isinstance(right, dict):
            for key in sorted(set(left) | set(right), key=str):
                walk(left.get(key), right.get(key), f"{path}.{key}" if path else str(key))
        elif left != right and path != "description":
            changes.append(f"`{path}` = {right!r}")

    walk(base.model_dump(mode="json"), other.model_dump(mode="json"), "")
    return changes


def load_posterior(path: Path, members: int) -> pd.DataFrame:
    """The ``members`` heaviest members of a shipped posterior ensemble."""
    posterior = pd.read_csv(path, index_col=0)
    return posterior.nlargest(members, "weight")


HEADLINES = {
    "share_huawei_all": "Huawei's share of new contracts 2022-2035 (%)",
    "share_china_all": "Chinese providers' share of new contracts 2022-2035 (%)",
    "share_us_all": "US providers' share of new contracts 2022-2035 (%)",
    "leverage_china_end": "China's leverage index in 2035",
    "leverage_us_end": "US leverage index in 2035",
    "dependent_china_end": "governments dependent on China in 2035",
    "dependent_us_end": "governments dependent on the US in 2035",
    "debt_china_end": "debt owed to Chinese banks in 2035 (US$ m)",
    "debt_us_end": "debt owed to US banks in 2035 (US$ m)",
}
"""The outcomes a report leads with, and how to say them."""


def run_outcomes(task: tuple[ScenarioFile, str, Draw]) -> tuple[dict[str, Any], pd.DataFrame]:
    """One run of one scenario for one draw: key outcomes and its yearly trajectory."""
    from sim.runner import run_replication

    settings, name, draw = task
    return summarise(settings, name, draw, run_replication(settings, draw.replication,
                                                           draw.seed))


def run_forked_outcomes(task: tuple[dict[str, ScenarioFile], float, Draw]
                        ) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """Every scenario for one draw, branching from one shared history at the fork date.

    The first scenario is the trunk (the base) whose history every branch shares.
    """
    from sim.branching import run_branches

    scenarios, fork_year, draw = task
    trunk = next(iter(scenarios.values()))
    results = run_branches(trunk, scenarios, fork_year, draw.replication, draw.seed)
    return [summarise(scenarios[name], name, draw, result) for name, result in results.items()]


def summarise(settings: ScenarioFile, name: str, draw: Draw,
              result: Any) -> tuple[dict[str, Any], pd.DataFrame]:
    """Key outcomes and yearly trajectory of one run's tables."""
    states = list(settings.states)
    blocs = {state: settings.states[state].bloc for state in states}
    outcomes = {"scenario": name, "member": draw.member, "replication": draw.replication,
                **key_outcomes(result.contracts, result.yearly, blocs)}
    trajectory = result.yearly[["year", *[f"share_new_state_{s}" for s in states],
                                *[f"leverage_{s}" for s in states]]].copy()
    trajectory.insert(0, "scenario", name)
    trajectory.insert(1, "member", draw.member)
    trajectory.insert(2, "replication", draw.replication)
    return outcomes, trajectory


def format_interval(row: pd.Series, digits: int = 1) -> str:
    """``+1.2 (-0.5 to +3.0)`` for a difference row; the mean alone without an interval."""
    if pd.isna(row["difference"]):
        return "n/a"
    if pd.isna(row["difference_p05"]):
        return f"{row['difference']:+,.{digits}f}"
    return (f"{row['difference']:+,.{digits}f} ({row['difference_p05']:+,.{digits}f} to "
            f"{row['difference_p95']:+,.{digits}f})")
