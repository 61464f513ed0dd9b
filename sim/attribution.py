"""What each mechanism explains: switch it off, keep the seeds, measure the validated outcomes.

Each mechanism of DESIGN.md that a scenario can switch off has a rule here giving the overrides
that switch it off (Turchin et al. 2013, PNAS 110(41): take a mechanism out and see what is lost).
Every variant runs on the same seeds as the base (common random numbers), so each difference is
paired per replication; the table reports the mean difference and its 90 % interval.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.calibration import load_scenario_values  # noqa: E402
from sim.schema import ScenarioFile  # noqa: E402
from sim.validation import TargetSet  # noqa: E402


def _each_state(lever: str, value: Any) -> Callable[[ScenarioFile], dict[str, Any]]:
    return lambda settings: {f"states.{name}.{lever}": value for name in settings.states}


SWITCH_OFF: dict[str, Callable[[ScenarioFile], dict[str, Any]]] = {
    "financing": _each_state("financing_budget_usd_m", 0.0),
    "subsidies": _each_state("subsidy_rate", 0.0),
    "strategic value": _each_state("strategic_value", 0.0),
    "bundling": lambda settings: {"choice.bundling_weight": 0.0},
    "lock-in": lambda settings: {"lock_in.incumbency_weight": 0.0,
                                 "lock_in.switching_weight": 0.0},
    "security pressure": _each_state("security_pressure", 0.0),
    "export controls": _each_state("export_controls", []),
    "promotion": _each_state("promotion", 0.0),
    "incidents": lambda settings: {"incidents.base_rate": 0.0, "incidents.debt_weight": 0.0,
                                   "incidents.quality_weight": 0.0,
                                   "incidents.governance_weight": 0.0},
}
"""Mechanism name -> the overrides that switch it off in a given scenario."""


def variants(base: ScenarioFile) -> dict[str, ScenarioFile]:
    """The base scenario and one variant per mechanism switched off."""
    scenarios = {"base": base}
    for mechanism, switch_off in SWITCH_OFF.items():
        scenarios[f"no {mechanism}"] = load_scenario_values(base, switch_off(base))
    return scenarios


def paired_differences(outcomes: dict[str, pd.DataFrame], targets: TargetSet) -> pd.DataFrame:
    """Per variant and outcome: base mean, variant mean, mean paired difference, 90 % interval."""
    base = outcomes["base"]
    rows = []
    for variant, table in outcomes.items():
        if variant == "base":
            continue
        for target in targets.targets:
            difference = (table[target.outcome] - base[target.outcome]).dropna()
            rows.append({
                "variant": variant, "outcome": target.outcome, "label": target.label,
                "band": target.band, "base_mean": float(base[target.outcome].mean()),
                "variant_mean": float(table[target.outcome].mean()),
                "difference": float(difference.mean()),
                "difference_p05": float(difference.quantile(0.05)),
                "difference_p95": float(difference.quantile(0.95)),
                "difference_in_bands": float(difference.mean() / target.band),
            })
    return pd.DataFrame(rows)


def plot_attribution(table: pd.DataFrame, path: Path) -> None:
    """Heat map: how far switching each mechanism off moves each outcome (in pass bands)."""
    grid = table.pivot(index="variant", columns="label", values="difference_in_bands")
    raw = table.pivot(index="variant", columns="label", values="difference")
    order = list(dict.fromkeys(table["label"]))
    grid, raw = grid[order], raw[order]
    limit = max(1.0, float(np.nanmax(np.abs(grid.to_numpy()))))
    figure, axis = plt.subplots(figsize=(12, 0.55 * len(grid) + 2.2))
    image = axis.imshow(grid.to_numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    axis.set_xticks(range(len(order)), [label.replace("% of deals in ", "% ") for label in order],
                    rotation=30, ha="right")
    axis.set_yticks(range(len(grid)), grid.index)
    for row in range(grid.shape[0]):
        for column in range(grid.shape[1]):
            axis.text(column, row, f"{raw.iat[row, column]:+.1f}", ha="center", va="center",
                      fontsize=8)
    figure.colorbar(image, ax=axis, label="change of the mean, in pass bands")
    axis.set_title("What each mechanism explains: change in the validated outcomes (to April "
                   "2021) when it is switched off\n(cells: mean paired difference; colour: in "
                   "units of the target's pass band)", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
