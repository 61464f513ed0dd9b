"""Validation against the public record: the baseline's Huawei deals to April 2021.

The targets (``sim/data/targets.yaml``, from CSIS 2021) are compared with what the model's
mechanisms produce; they are never fed into a run. Each replication yields the validated
outcomes (``record_outcomes``); ``compare_with_targets`` reports the mean, the 90 % interval and
the per-replication spread, and passes a target when the mean lies within its band.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from sim.metrics import slug  # noqa: E402

TARGETS_PATH = Path(__file__).resolve().parent / "data" / "targets.yaml"


@dataclass(frozen=True)
class Target:
    """One figure of the public record with its pass band."""

    outcome: str
    label: str
    value: float
    band: float
    unit: str


@dataclass(frozen=True)
class TargetSet:
    """The targets and the window they describe."""

    provider: str
    cutoff: float
    targets: tuple[Target, ...]

    @property
    def outcomes(self) -> list[str]:
        """Names of the validated outcomes, in target order."""
        return [target.outcome for target in self.targets]


def load_targets(path: Path = TARGETS_PATH) -> TargetSet:
    """Read the targets file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    provider = data["provider"]
    targets = [
        Target("deals", f"{provider} deals", data["deals"]["value"], data["deals"]["band"],
               "deals"),
        Target("countries", "countries with a deal", data["countries"]["value"],
               data["countries"]["band"], "countries"),
    ]
    for key, prefix, title in (("region_shares", "region", "deals in"),
                               ("fh_shares", "fh", "deals in")):
        band = data[key]["band"]
        for group, value in data[key]["values"].items():
            targets.append(Target(f"{prefix}_share_{slug(group)}", f"% of {title} {group}",
                                  value, band, "%"))
    return TargetSet(provider, float(data["cutoff"]), tuple(targets))


def record_outcomes(contracts: pd.DataFrame, targets: TargetSet) -> dict[str, float]:
    """The validated outcomes of one replication's contracts (shares in %)."""
    deals = contracts[(contracts["provider"] == targets.provider)
                      & (contracts["time"] < targets.cutoff)]
    outcomes = {"deals": float(len(deals)), "countries": float(deals["country"].nunique())}
    for target in targets.targets[2:]:
        prefix, group_slug = target.outcome.split("_share_")
        column = "region" if prefix == "region" else "fh_status"
        matching = deals[column].map(slug) == group_slug
        outcomes[target.outcome] = 100.0 * matching.sum() / len(deals) if len(deals) else np.nan
    return outcomes


def outcomes_by_replication(contracts: pd.DataFrame, targets: TargetSet) -> pd.DataFrame:
    """One row per replication with every validated outcome."""
    rows = {replication: record_outcomes(table, targets)
            for replication, table in contracts.groupby("replication")}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("replication")


def compare_with_targets(per_replication: pd.DataFrame, targets: TargetSet) -> pd.DataFrame:
    """Target, band, simulated mean, 90 % interval, spread and pass/fail per outcome."""
    rows = []
    for target in targets.targets:
        values = per_replication[target.outcome].dropna()
        mean = float(values.mean())
        rows.append({
            "outcome": target.outcome, "label": target.label, "unit": target.unit,
            "target": target.value, "band": target.band,
            "simulated_mean": mean, "simulated_p05": float(values.quantile(0.05)),
            "simulated_p95": float(values.quantile(0.95)), "replication_sd": float(values.std()),
            "replications": len(values),
            "passed": bool(abs(mean - target.value) <= target.band),
        })
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame) -> str:
    """The comparison as a fixed-width text table for the terminal."""
    lines = [f"{'outcome':34s} {'target':>12s} {'simulated mean':>15s} {'90 % interval':>17s} "
             f"{'sd':>6s}  result"]
    for row in table.itertuples():
        target = f"{row.target:g} ± {row.band:g}"
        interval = f"{row.simulated_p05:.1f} – {row.simulated_p95:.1f}"
        lines.append(f"{row.label:34s} {target:>12s} {row.simulated_mean:15.1f} {interval:>17s} "
                     f"{row.replication_sd:6.1f}  {'pass' if row.passed else 'FAIL'}")
    passed = int(table["passed"].sum())
    lines.append(f"{passed} of {len(table)} targets pass "
                 f"({int(table['replications'].iloc[0])} replications).")
    return "\n".join(lines)


def plot_validation(per_replication: pd.DataFrame, table: pd.DataFrame, path: Path) -> None:
    """Each outcome's simulated distribution (box and points) against its target and band."""
    groups = [("Deals and countries", table[table["unit"] != "%"]),
              ("Shares of deals (%)", table[table["unit"] == "%"])]
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [2, 8]})
    for axis, (title, rows) in zip(axes, groups, strict=True):
        positions = np.arange(len(rows))
        data = [per_replication[outcome].dropna().to_numpy() for outcome in rows["outcome"]]
        axis.boxplot(data, positions=positions, widths=0.5, showfliers=False)
        for position, values in zip(positions, data, strict=True):
            jitter = np.linspace(-0.15, 0.15, len(values)) if len(values) > 1 else [0.0]
            axis.scatter(position + np.asarray(jitter), values, s=6, alpha=0.4, color="0.3")
        for position, row in zip(positions, rows.itertuples(), strict=True):
            colour = "#2a9d8f" if row.passed else "#e76f51"
            axis.fill_between([position - 0.35, position + 0.35], row.target - row.band,
                              row.target + row.band, color=colour, alpha=0.25, linewidth=0)
            axis.hlines(row.target, position - 0.35, position + 0.35, color=colour, linewidth=2)
        axis.set_xticks(positions, [label.replace("% of deals in ", "")
                                    for label in rows["label"]], rotation=30, ha="right")
        axis.set_title(title)
        axis.grid(axis="y", alpha=0.3)
    figure.suptitle("Baseline against the public record, 2006 – April 2021 "
                    "(line: target; band: pass band, green pass / red fail; box: replications)",
                    fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
