"""Paired scenario comparisons: the same seeds in every scenario, differences with intervals.

Every scenario runs on the same replication seeds as the base (common random numbers), so the
difference in an outcome is paired replication by replication. A paired draw is one
(structure, posterior member, replication): the structures are the combinations of a structural
ensemble's switches (``load_structures``), the members are drawn from the posterior by weight
(``sim.calibration.draw_members``). Each difference is reported with intervals that say what
they contain (``paired_differences``):

- ``mean_ci90_low/high_chance``: the 90 % confidence interval of the mean effect, chance only
  (the spread of replications within each structure and member);
- ``single_run_p05/p95``: the 5-95 % spread of single paired runs (chance and, when present,
  parameters and structure): what one run could show, not an interval for the effect;
- ``predictive_p05/p95_parameters_structure``: 5-95 % across the mean effects of the
  (structure, member) cells: the effect's predictive interval across posterior members and
  structures;
- ``variance_chance/parameters/structure``: the variance of a single run's effect decomposed by
  the law of total variance into chance (within cells), parameters (between members within a
  structure, less the chance left in a member mean) and structure (between structures).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.errors import UserError
from sim.metrics import slug
from sim.schema import FH_STATUSES, REGIONS, ScenarioFile

FUTURE = (2022, 2035)
"""The window of 'new contracts' in the key outcomes: from the fork to the end of the run."""


AS_SPECIFIED = "as specified"
"""The name of the structure with no switch changed."""
MAX_STRUCTURES = 32


@dataclass(frozen=True)
class Draw:
    """One paired draw: a replication seed, under one posterior member (or none), under one
    structure of the ensemble."""

    member: int
    replication: int
    seed: int
    structure: str = AS_SPECIFIED


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


KEYS = ["structure", "member", "replication"]


def paired_differences(outcomes: pd.DataFrame, base: str) -> pd.DataFrame:
    """Per scenario and outcome: means, the mean paired difference and its labelled intervals.

    ``outcomes`` has one row per (scenario, structure, member, replication) and a column per
    outcome (see the module docstring for the columns).
    """
    if "structure" not in outcomes:
        outcomes = outcomes.assign(structure=AS_SPECIFIED)
    totals = [c for c in outcomes.columns if c.startswith(STATE_TOTALS)]
    outcomes = outcomes.fillna(dict.fromkeys(totals, 0.0))
    base_rows = outcomes[outcomes["scenario"] == base].set_index(KEYS)
    columns = [c for c in outcomes.columns if c not in ("scenario", *KEYS)]
    rows = []
    for scenario, table in outcomes.groupby("scenario", sort=False):
        if scenario == base:
            continue
        table = table.set_index(KEYS)
        for column in columns:
            difference = (table[column] - base_rows[column]).dropna()
            rows.append({"scenario": scenario, "outcome": column,
                         "base_mean": float(base_rows[column].mean()),
                         "scenario_mean": float(table[column].mean()),
                         **effect_summary(difference)})
        rows.extend(money_per_contract_gained(table, base_rows, scenario))
    return pd.DataFrame(rows)


def effect_summary(difference: pd.Series) -> dict[str, Any]:
    """Mean of paired differences (indexed by ``KEYS``) with its intervals and variance shares."""
    empty = {"difference": np.nan, "mean_ci90_low_chance": np.nan,
             "mean_ci90_high_chance": np.nan, "single_run_p05": np.nan,
             "single_run_p95": np.nan, "predictive_p05_parameters_structure": np.nan,
             "predictive_p95_parameters_structure": np.nan, "variance_chance": np.nan,
             "variance_parameters": np.nan, "variance_structure": np.nan,
             "draws": len(difference)}
    if not len(difference):
        return empty
    cells = difference.groupby(level=["structure", "member"])
    means, variances, sizes = cells.mean(), cells.var(ddof=1), cells.size()
    freedom = int((sizes - 1).sum())
    standard_error = float(np.sqrt((variances.fillna(0) / sizes).sum()) / len(means))
    half = float(stats.t.ppf(0.95, freedom)) * standard_error if freedom > 0 else np.nan
    centre = float(means.mean())
    chance = float(variances.mean()) if freedom > 0 else np.nan
    by_structure = means.groupby(level="structure")
    parameters = float(by_structure.var(ddof=1).mean()) \
        if by_structure.size().max() > 1 else 0.0
    if parameters and not np.isnan(chance):
        parameters = max(0.0, parameters - chance / float(sizes.mean()))
    structure = float(by_structure.mean().var(ddof=1)) if by_structure.ngroups > 1 else 0.0
    multiple = len(means) > 1
    return {**empty, "difference": centre,
            "mean_ci90_low_chance": centre - half, "mean_ci90_high_chance": centre + half,
            "single_run_p05": float(difference.quantile(0.05)),
            "single_run_p95": float(difference.quantile(0.95)),
            "predictive_p05_parameters_structure": float(means.quantile(0.05))
            if multiple else np.nan,
            "predictive_p95_parameters_structure": float(means.quantile(0.95))
            if multiple else np.nan,
            "variance_chance": chance, "variance_parameters": parameters,
            "variance_structure": structure}


def money_per_contract_gained(table: pd.DataFrame, base: pd.DataFrame,
                              scenario: str) -> list[dict[str, Any]]:
    """Public money a bloc spent per contract its providers gained: mean extra money over mean
    extra contracts won, signed (negative: contracts gained while spending less).

    Undefined (NaN, with the reason in ``note``) unless the 90 % chance-only confidence
    interval of the contract change lies above zero: a ratio whose denominator could be zero or
    negative says nothing about the price of a contract.
    """
    rows = []
    for column in [c for c in table.columns if c.startswith("public_money_")]:
        state = column.removeprefix("public_money_")
        money = effect_summary((table[column] - base[column]).dropna())
        contracts = effect_summary((table[f"contracts_won_{state}"]
                                    - base[f"contracts_won_{state}"]).dropna())
        value, note = np.nan, ""
        if not contracts["mean_ci90_low_chance"] > 0:
            note = ("contracts lost" if contracts["mean_ci90_high_chance"] < 0
                    else "contract change not significant")
        else:
            value = money["difference"] / contracts["difference"]
        rows.append({"scenario": scenario, "outcome": f"money_per_contract_gained_{state}",
                     "base_mean": np.nan, "scenario_mean": np.nan,
                     **{key: np.nan for key in money}, "difference": value,
                     "draws": contracts["draws"], "note": note})
    return rows


def load_structures(path: Path) -> dict[str, dict[str, Any]]:
    """The structural ensemble of a YAML file: every combination of its switches.

    The file maps each switch's name to ``{key: KEY.PATH, alternatives: [...]}``; a switch is at
    the scenario's own value or at one of its alternatives. Returns structure name -> overrides
    (``as specified`` first, with none).
    """
    import itertools

    if not path.is_file():
        raise UserError(f"{path}: structural ensemble file not found")
    from sim.scenario import read_text
    from sim.strict_yaml import load_yaml

    data = load_yaml(read_text(path, "structural ensemble"), str(path)) or {}
    switches = data.get("switches") or {}
    if not isinstance(switches, dict):
        raise UserError(f"{path}: switches: expected a mapping of switch names")
    options = []
    for name, switch in switches.items():
        if not isinstance(switch, dict) or "key" not in switch or not switch.get("alternatives"):
            raise UserError(f"{path}: switches.{name}: expected key and a non-empty list of "
                            "alternatives")
        options.append([None] + [(name, switch["key"], value)
                                 for value in switch["alternatives"]])
    structures: dict[str, dict[str, Any]] = {}
    for combination in itertools.product(*options):
        chosen = [option for option in combination if option]
        label = ", ".join(f"{name}={value}" for name, _, value in chosen) or AS_SPECIFIED
        structures[label] = {key: value for _, key, value in chosen}
    if len(structures) > MAX_STRUCTURES:
        raise UserError(f"{path}: {len(structures)} structures; at most {MAX_STRUCTURES}")
    return structures


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


def load_posterior(path: Path, members: int, seed: int) -> pd.DataFrame:
    """``members`` members of a posterior (``weight`` column) drawn by weight, with replacement."""
    from sim.calibration import draw_members

    posterior = pd.read_csv(path, index_col=0)
    if "weight" not in posterior:
        raise UserError(f"{path}: expected a weight column (a posterior from cloudrace "
                        "calibrate)")
    return draw_members(posterior, members, seed)


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
    outcomes = {"scenario": name, "structure": draw.structure, "member": draw.member,
                "replication": draw.replication,
                **key_outcomes(result.contracts, result.yearly, blocs)}
    trajectory = result.yearly[["year", *[f"share_new_state_{s}" for s in states],
                                *[f"leverage_{s}" for s in states]]].copy()
    trajectory.insert(0, "scenario", name)
    trajectory.insert(1, "structure", draw.structure)
    trajectory.insert(2, "member", draw.member)
    trajectory.insert(3, "replication", draw.replication)
    return outcomes, trajectory


def format_interval(row: pd.Series, digits: int = 1) -> str:
    """``+1.2 [+0.8, +1.6]`` (90 % CI of the mean, chance only), then the predictive interval
    across members and structures in braces when there is one."""
    if pd.isna(row["difference"]):
        return "n/a"
    text = f"{row['difference']:+,.{digits}f}"
    if not pd.isna(row["mean_ci90_low_chance"]):
        text += (f" [{row['mean_ci90_low_chance']:+,.{digits}f}, "
                 f"{row['mean_ci90_high_chance']:+,.{digits}f}]")
    if not pd.isna(row.get("predictive_p05_parameters_structure", np.nan)):
        text += (f" {{{row['predictive_p05_parameters_structure']:+,.{digits}f}, "
                 f"{row['predictive_p95_parameters_structure']:+,.{digits}f}}}")
    return text


def variance_shares(row: pd.Series) -> str:
    """``chance 80 % / parameters 15 % / structure 5 %`` of a single run's effect variance."""
    parts = [row["variance_chance"], row["variance_parameters"], row["variance_structure"]]
    total = float(np.nansum(parts))
    if not total:
        return "n/a"
    return " / ".join(f"{name} {100 * float(np.nan_to_num(value)) / total:.0f} %" for name, value
                      in zip(("chance", "parameters", "structure"), parts, strict=True))
