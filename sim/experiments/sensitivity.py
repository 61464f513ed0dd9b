"""Sensitivity indices from a finished sweep: Sobol' (first and total order) or Morris.

- Sobol' (Sobol' 2001; Saltelli et al. 2010, the estimators of ``SALib.analyze.sobol``): the
  first-order index ``S1`` of a parameter is the share of an outcome's variance it explains on
  its own, the total-order index ``ST`` the share it has a hand in, interactions included.
  Needs a ``sobol`` design.
- Morris elementary effects (Morris 1991; Campolongo et al. 2007, ``SALib.analyze.morris``):
  ``mu_star``, the mean absolute change of the outcome when the parameter moves one grid step
  across its range, ranks influence; ``sigma`` (their spread) flags interactions or
  non-linearity. Needs a ``morris`` design.

The model is stochastic, so each design point's outcome is the mean of its replications (runs
that failed are left out of the mean; a point with no successful run stops the analysis). An
outcome that is the same at every point has no variance to apportion: its indices are left
empty (NaN) and the table says so.
Confidence intervals (95 %) come from SALib's bootstrap, seeded from the sweep's root seed so the
same sweep always gives the same table.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analysis
from SALib.analyze import sobol as sobol_analysis

from sim.errors import UserError
from sim.experiments.store import SweepStore

METHODS = ("sobol", "morris")
CONFIDENCE = 0.95
SOBOL_COLUMNS = ["S1", "S1_conf", "ST", "ST_conf"]
MORRIS_COLUMNS = ["mu", "mu_star", "mu_star_conf", "sigma"]


def sobol_indices(problem: dict[str, Any], outputs: np.ndarray, *, second_order: bool,
                  seed: int) -> pd.DataFrame:
    """First- and total-order Sobol' indices with 95 % intervals (half-widths), by parameter.

    ``outputs`` holds one value per point of a Saltelli design, in the design's order.
    """
    result = sobol_analysis.analyze(problem, outputs, calc_second_order=second_order,
                                    conf_level=CONFIDENCE, seed=seed)
    return pd.DataFrame({"parameter": problem["names"],
                         **{column: result[column] for column in SOBOL_COLUMNS}})


def morris_indices(problem: dict[str, Any], inputs: np.ndarray, outputs: np.ndarray, *,
                   levels: int, seed: int) -> pd.DataFrame:
    """Morris ``mu``, ``mu_star`` (with its 95 % interval half-width) and ``sigma``, by
    parameter; ``inputs`` are the design's coordinates, ``outputs`` one value per point."""
    result = morris_analysis.analyze(problem, inputs, outputs, num_levels=levels,
                                     conf_level=CONFIDENCE, seed=seed)
    return pd.DataFrame({"parameter": problem["names"],
                         **{column: np.asarray(result[column], dtype=float)
                            for column in MORRIS_COLUMNS}})


def point_means(runs: pd.DataFrame, outcome: str, points: int) -> np.ndarray:
    """Each design point's mean outcome over its successful runs (NaN where it has none)."""
    ok = runs[runs["status"] == "ok"]
    means = ok.groupby("point")[outcome].mean()
    return means.reindex(range(points)).to_numpy(dtype=float)


def analyse(store: SweepStore, outcomes: list[str] | None = None) -> tuple[str, pd.DataFrame]:
    """The design's method and a table of indices: one row per outcome and parameter."""
    manifest = store.manifest()
    method = manifest["design"]["method"]
    if method not in METHODS:
        raise UserError(f"{store.folder}: sensitivity indices need a sobol or morris design; "
                        f"this sweep's is {method} (for scenario discovery on it, see the EMA "
                        "Workbench export in docs/experiments.md)")
    known = [o["name"] for o in manifest["outcomes"]]
    chosen = outcomes or known
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise UserError(f"{store.folder}: no outcome {', '.join(unknown)} in this sweep "
                        f"(it recorded {', '.join(known)})")
    runs = store.runs()
    missing = manifest["runs"] - len(runs)
    if missing:
        raise UserError(f"{store.folder}: {missing} of {manifest['runs']} runs have not run "
                        "yet; finish the sweep first (cloudrace sweep EXPERIMENT --out "
                        f"{store.folder} --resume)")
    problem = manifest["problem"]
    design = store.design()
    seed = manifest["root_seed"] % 2**32
    tables = []
    for name in chosen:
        outputs = point_means(runs, name, manifest["points"])
        _check_outputs(store.folder, name, outputs, runs)
        columns = SOBOL_COLUMNS if method == "sobol" else MORRIS_COLUMNS
        if np.ptp(outputs) == 0:
            table = pd.DataFrame({"parameter": problem["names"],
                                  **{column: np.nan for column in columns}, "note": ""})
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if method == "sobol":
                    table = sobol_indices(problem, outputs, seed=seed,
                                          second_order=manifest["design"]["second_order"])
                else:
                    table = morris_indices(problem, design[problem["names"]].to_numpy(),
                                           outputs, levels=manifest["design"]["levels"],
                                           seed=seed)
            # SALib's warnings about the data (not numpy's arithmetic ones) go into the table.
            notes = dict.fromkeys(str(w.message) for w in caught
                                  if issubclass(w.category, UserWarning))
            table["note"] = " ".join(notes)
        table.insert(0, "outcome", name)
        tables.append(table)
    return method, pd.concat(tables, ignore_index=True)


def _check_outputs(folder: Path, outcome: str, outputs: np.ndarray, runs: pd.DataFrame) -> None:
    """SALib returns all-zero indices for outputs with a NaN in them, without a warning."""
    missing = np.flatnonzero(np.isnan(outputs))
    if not len(missing):
        return
    failed = int((runs["status"] == "failed").sum())
    why = f"; {failed} run(s) failed (see the runs table's error column)" if failed else \
        " (the outcome is undefined there, e.g. a share of no contracts)"
    raise UserError(f"{folder}: outcome {outcome} has no value at {len(missing)} design "
                    f"point(s), e.g. point {missing[0]}{why}; indices need a value at every "
                    "point")


def format_table(method: str, table: pd.DataFrame) -> str:
    """The indices as plain text, one block per outcome."""
    columns = SOBOL_COLUMNS if method == "sobol" else MORRIS_COLUMNS
    blocks = []
    for outcome, rows in table.groupby("outcome", sort=False):
        shown = rows.set_index("parameter")[columns]
        if shown.isna().all().all():
            blocks.append(f"{outcome}\n  the same at every design point: no variance to "
                          "apportion")
            continue
        note = rows["note"].iloc[0]
        blocks.append(f"{outcome}\n{shown.to_string(float_format=lambda v: f'{v:9.3f}')}"
                      + (f"\n  note (SALib): {note}" if note else ""))
    note = ("S1: first-order index, ST: total-order index; _conf: half-width of the 95 % "
            "interval" if method == "sobol" else
            "mu_star: mean absolute elementary effect (influence), sigma: their spread "
            "(interactions); mu_star_conf: half-width of the 95 % interval")
    return "\n\n".join(blocks) + f"\n\n{note}\n"


def plot_indices(method: str, table: pd.DataFrame, path: Path) -> None:
    """One panel per outcome: S1 and ST bars with intervals, or Morris mu_star against sigma."""
    from sim.figures import subplots

    outcomes = list(dict.fromkeys(table["outcome"]))
    columns = min(len(outcomes), 2)
    rows = -(-len(outcomes) // columns)
    parameters = list(dict.fromkeys(table["parameter"]))
    figure, axes = subplots(rows, columns, squeeze=False,
                                figsize=(6.5 * columns, 0.45 * len(parameters) * rows + 1.6 * rows))
    for axis, outcome in zip(axes.flat, outcomes, strict=False):
        data = table[table["outcome"] == outcome]
        if method == "sobol":
            positions = np.arange(len(data))
            axis.barh(positions - 0.2, data["S1"], 0.4, xerr=data["S1_conf"],
                      label="first order S1", color="#1f4e9c", capsize=2)
            axis.barh(positions + 0.2, data["ST"], 0.4, xerr=data["ST_conf"],
                      label="total order ST", color="#c7000b", capsize=2)
            axis.set_yticks(positions, data["parameter"])
            axis.invert_yaxis()
            axis.axvline(0, color="black", linewidth=0.5)
            axis.set_xlabel("Sobol' index (share of variance)")
        else:
            axis.errorbar(data["mu_star"], data["sigma"], xerr=data["mu_star_conf"], fmt="o",
                          color="#1f4e9c", capsize=2)
            for _, row in data.iterrows():
                axis.annotate(row["parameter"], (row["mu_star"], row["sigma"]), fontsize=8,
                              xytext=(4, 4), textcoords="offset points")
            axis.set_xlabel("mu* (mean absolute elementary effect)")
            axis.set_ylabel("sigma (spread of the effects)")
        axis.set_title(outcome, fontsize=10)
        if data[SOBOL_COLUMNS if method == "sobol" else MORRIS_COLUMNS].isna().all().all():
            axis.text(0.5, 0.5, "the same at every point", transform=axis.transAxes,
                      ha="center", va="center", color="grey")
    for axis in list(axes.flat)[len(outcomes):]:
        axis.set_visible(False)
    if method == "sobol":
        axes.flat[0].legend(fontsize=8, loc="best")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def write_sensitivity(folder: Path, method: str, table: pd.DataFrame, figure: bool) -> None:
    """Write ``indices.csv`` (and ``indices.png``) into a new folder, all at once or not at all."""
    from functools import partial

    from sim.outputs import reserve_folder, write_results

    reserve_folder(folder)
    writers = {"indices.csv": partial(_write_csv, table)}
    if figure:
        writers["indices.png"] = partial(plot_indices, method, table)
    write_results(folder, writers)


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    table.to_csv(path, index=False, lineterminator="\n")
