"""Validation against the public record: the declared patterns, their fit and predictive checks.

The patterns (``sim/data/targets.yaml``: CSIS 2021, VOA, Axios, AidData) are compared with what
the model's mechanisms produce; they are never fed into a run. Each has a role: a calibration
``target`` (fitted by ``cloudrace calibrate``) or a ``holdout`` (never fitted: the project's own
out-of-sample check). Each replication yields every pattern's outcome (``record_outcomes``);
``compare_with_targets`` reports per pattern the mean over replications, the spread of single
replications, a band check on the mean, and a posterior-predictive p-value; ``joint_check``
adds the Mahalanobis distance of the record from the simulated replications; and
``seed_stability`` repeats the verdict for several root seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from sim.errors import UserError
from sim.figures import subplots
from sim.metrics import slug

TARGETS_PATH = Path(__file__).resolve().parent / "data" / "targets.yaml"
ROLES = ("target", "holdout")
SIMPLE_OUTCOMES = ("deals", "countries", "financed_share", "china_financed_share",
                   "named_countries", "first_deal_year", "share_since_2018", "bundled_share")
"""Outcomes computed by name; the others are ``region_share_<region>`` or ``fh_share_<status>``."""


@dataclass(frozen=True)
class Target:
    """One pattern of the public record with its pass band, source and role."""

    outcome: str
    label: str
    value: float
    band: float
    unit: str
    role: str = "target"
    source: str = ""
    countries: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetSet:
    """The patterns and the window they describe."""

    provider: str
    cutoff: float
    targets: tuple[Target, ...]

    @property
    def outcomes(self) -> list[str]:
        """Names of every pattern's outcome, in file order."""
        return [target.outcome for target in self.targets]

    def role(self, role: str) -> TargetSet:
        """The patterns with one role (``target`` or ``holdout``)."""
        return TargetSet(self.provider, self.cutoff,
                         tuple(t for t in self.targets if t.role == role))


def load_targets(path: Path = TARGETS_PATH) -> TargetSet:
    """Read the patterns file; a malformed entry names the file, the entry and the key."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    targets = []
    for index, entry in enumerate(data.get("patterns", [])):
        where = f"{path}: patterns[{index}]"
        missing = {"outcome", "label", "unit", "value", "band", "role"} - set(entry)
        if missing:
            raise UserError(f"{where}: missing key(s) {', '.join(sorted(missing))}")
        outcome = entry["outcome"]
        if entry["role"] not in ROLES:
            raise UserError(f"{where}.role: expected one of {', '.join(ROLES)}, "
                            f"got {entry['role']!r}")
        if outcome not in SIMPLE_OUTCOMES and not outcome.startswith(("region_share_",
                                                                     "fh_share_")):
            raise UserError(f"{where}.outcome: unknown outcome {outcome!r}")
        if outcome == "named_countries" and not entry.get("countries"):
            raise UserError(f"{where}.countries: expected a list of ISO3 codes")
        targets.append(Target(outcome, entry["label"], float(entry["value"]),
                              float(entry["band"]), entry["unit"], entry["role"],
                              entry.get("source", ""), tuple(entry.get("countries", ()))))
    return TargetSet(data["provider"], float(data["cutoff"]), tuple(targets))


def record_outcomes(contracts: pd.DataFrame, targets: TargetSet) -> dict[str, float]:
    """Every pattern's outcome in one replication's contracts (shares in %).

    A share is undefined (NaN) when its denominator is empty; ``first_deal_year`` is NaN
    without a deal.
    """
    deals = contracts[(contracts["provider"] == targets.provider)
                      & (contracts["time"] < targets.cutoff)]
    count = len(deals)
    financed = deals[deals["loan_usd_m"] > 0] if "loan_usd_m" in deals else deals.iloc[:0]
    outcomes: dict[str, float] = {}
    for target in targets.targets:
        name = target.outcome
        if name == "deals":
            value = float(count)
        elif name == "countries":
            value = float(deals["country"].nunique())
        elif name == "financed_share":
            value = 100.0 * len(financed) / count if count else np.nan
        elif name == "china_financed_share":
            value = 100.0 * float((financed["financing_state"] == "China").mean()) \
                if len(financed) else np.nan
        elif name == "named_countries":
            value = float(len(set(target.countries) & set(deals["country"])))
        elif name == "first_deal_year":
            value = float(deals["time"].min()) if count else np.nan
        elif name == "share_since_2018":
            value = 100.0 * float((deals["time"] >= 2018).sum()) / count if count else np.nan
        elif name == "bundled_share":
            value = 100.0 * float(deals["bundled_hardware"].astype(bool).sum()) / count \
                if count else np.nan
        else:
            prefix, group_slug = name.split("_share_")
            column = "region" if prefix == "region" else "fh_status"
            value = 100.0 * float((deals[column].map(slug) == group_slug).sum()) / count \
                if count else np.nan
        outcomes[name] = value
    return outcomes


def outcomes_by_replication(contracts: pd.DataFrame, targets: TargetSet) -> pd.DataFrame:
    """One row per replication with every pattern's outcome."""
    rows = {replication: record_outcomes(table, targets)
            for replication, table in contracts.groupby("replication")}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("replication")


def predictive_p_value(simulated: np.ndarray, observed: float) -> float:
    """Two-sided posterior-predictive p-value of the record among simulated replications.

    Twice the share of replications at least as extreme as the record on the side where the
    record lies (ties count), capped at 1 (Gelman, Meng & Stern 1996): small when the record
    is rare among the model's single runs. NaN without replications.
    """
    simulated = simulated[~np.isnan(simulated)]
    if not len(simulated):
        return float("nan")
    lower, upper = np.mean(simulated <= observed), np.mean(simulated >= observed)
    return float(min(1.0, 2.0 * min(lower, upper)))


def compare_with_targets(per_replication: pd.DataFrame, targets: TargetSet) -> pd.DataFrame:
    """Per pattern: role, record and band, simulated mean with its 90 % confidence interval
    (chance only), the 5-95 % spread of single replications, the band check on the mean and
    the predictive p-value of the record among single replications."""
    rows = []
    for target in targets.targets:
        values = per_replication[target.outcome].dropna()
        mean, sd, n = float(values.mean()), float(values.std()), len(values)
        half = float(stats.t.ppf(0.95, n - 1) * sd / np.sqrt(n)) if n > 1 else np.nan
        rows.append({
            "outcome": target.outcome, "label": target.label, "unit": target.unit,
            "role": target.role, "source": target.source,
            "target": target.value, "band": target.band,
            "simulated_mean": mean, "mean_ci90_low": mean - half, "mean_ci90_high": mean + half,
            "single_run_p05": float(values.quantile(0.05)),
            "single_run_p95": float(values.quantile(0.95)), "replication_sd": sd,
            "replications": n,
            "predictive_p": predictive_p_value(values.to_numpy(), target.value),
            "passed": bool(n > 0 and abs(mean - target.value) <= target.band),
        })
    return pd.DataFrame(rows)


def joint_check(per_replication: pd.DataFrame, targets: TargetSet) -> dict[str, float]:
    """Mahalanobis distance of the record from the simulated replications, with p-values.

    The covariance is that of the single replications (a pseudo-inverse, since shares that sum
    to 100 % make it singular; ``rank`` is the dimension used). ``p_monte_carlo`` is the share
    of replications at least as far from the simulated mean as the record (no normality
    assumed); ``p_chi2`` the chi-square tail with ``rank`` degrees of freedom.
    """
    columns = [t.outcome for t in targets.targets]
    runs = per_replication[columns].dropna()
    record = np.array([t.value for t in targets.targets])
    if len(runs) < 3:
        return {"distance2": np.nan, "rank": 0, "p_monte_carlo": np.nan, "p_chi2": np.nan,
                "replications": len(runs)}
    values = runs.to_numpy()
    centre = values.mean(axis=0)
    scale = values.std(axis=0, ddof=1)
    scale[scale == 0] = 1.0
    standardised = (values - centre) / scale
    covariance = np.atleast_2d(np.cov(standardised.T))
    inverse = np.linalg.pinv(covariance, rcond=1e-8, hermitian=True)
    rank = int(np.linalg.matrix_rank(covariance, tol=1e-8, hermitian=True))

    def squared(row: np.ndarray) -> float:
        return float(row @ inverse @ row)

    observed = squared((record - centre) / scale)
    simulated = np.array([squared(row) for row in standardised])
    return {"distance2": observed, "rank": rank,
            "p_monte_carlo": float(np.mean(simulated >= observed)),
            "p_chi2": float(stats.chi2.sf(observed, rank)), "replications": len(runs)}


def seed_stability(tables: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """Per pattern, the verdict under each root seed and whether they all agree."""
    frame = pd.DataFrame({seed: table.set_index("outcome")["passed"]
                          for seed, table in tables.items()})
    first = next(iter(tables.values())).set_index("outcome")
    result = pd.DataFrame({"role": first["role"], "passed_in": frame.sum(axis=1).astype(int),
                           "root_seeds": frame.shape[1]})
    result["stable"] = (result["passed_in"] == 0) | (result["passed_in"] == result["root_seeds"])
    return result.reset_index()


def format_table(table: pd.DataFrame, joint: dict[str, dict[str, float]] | None = None) -> str:
    """The comparison as fixed-width text, one block per role, for the terminal."""
    lines = []
    for role, title in (("target", "Calibration targets (fitted)"),
                        ("holdout", "Hold-out patterns (never fitted)")):
        rows = table[table["role"] == role]
        if rows.empty:
            continue
        lines += [title, f"{'pattern':38s} {'record':>12s} {'mean':>8s} {'90 % CI of mean':>17s} "
                  f"{'single runs 5-95 %':>19s} {'pred. p':>7s}  result"]
        for row in rows.itertuples():
            record = f"{row.target:g} ± {row.band:g}"
            ci = f"{row.mean_ci90_low:.1f} – {row.mean_ci90_high:.1f}"
            spread = f"{row.single_run_p05:.1f} – {row.single_run_p95:.1f}"
            lines.append(f"{row.label:38s} {record:>12s} {row.simulated_mean:8.1f} {ci:>17s} "
                         f"{spread:>19s} {row.predictive_p:7.2f}  "
                         f"{'pass' if row.passed else 'FAIL'}")
        passed = int(rows["passed"].sum())
        lines.append(f"{passed} of {len(rows)} {role} patterns pass "
                     f"({int(rows['replications'].iloc[0])} replications).")
        if joint and role in joint:
            check = joint[role]
            lines.append(f"Joint check: Mahalanobis distance² {check['distance2']:.1f} "
                         f"(rank {check['rank']}), p = {check['p_monte_carlo']:.2f} among "
                         f"replications, p = {check['p_chi2']:.3f} by chi-square.")
        lines.append("")
    lines.append("90 % CI of mean: chance only. Single runs: the spread of one replication. "
                 "pred. p: share of runs at least as extreme as the record, two-sided.")
    return "\n".join(lines)


def plot_validation(per_replication: pd.DataFrame, table: pd.DataFrame, path: Path) -> None:
    """Each pattern's single replications (box and points) against its record and band."""
    groups = [(f"{'Targets' if role == 'target' else 'Hold-outs'}: {title}", rows)
              for role in ROLES
              for title, rows in (("counts", table[(table["role"] == role)
                                                   & (table["unit"] != "%")]),
                                  ("shares of deals (%)", table[(table["role"] == role)
                                                                & (table["unit"] == "%")]))
              if not rows.empty]
    widths = [max(2, len(rows)) for _, rows in groups]
    figure, axes = subplots(1, len(groups), figsize=(2.2 + 1.0 * sum(widths), 4.8),
                                gridspec_kw={"width_ratios": widths}, squeeze=False)
    for axis, (title, rows) in zip(axes[0], groups, strict=True):
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
        axis.set_title(title, fontsize=9)
        axis.grid(axis="y", alpha=0.3)
    figure.suptitle("Model against the public record, 2006 – April 2021 (line: record; band: "
                    "pass band on the mean, green pass / red fail; box and points: single "
                    "replications)", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
