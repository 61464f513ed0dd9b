"""A sweep in EMA Workbench's shape, for its scenario-discovery tools (PRIM, CART).

``ema_workbench.perform_experiments`` returns ``(experiments, outcomes)``: a DataFrame with one
row per experiment and one column per uncertainty and lever followed by ``scenario``, ``policy``
and ``model`` (categorical parameters as pandas categories; here only those with text or
true/false levels: numeric levels stay numbers, which PRIM and CART treat as ordered, and which
EMA Workbench 3.0's PRIM can inspect under pandas 3); and a dictionary of numpy arrays,
one entry per outcome, of shape ``(experiments,)`` for a scalar outcome or
``(experiments, time steps)`` for a time series (with the time axis under ``"TIME"``).
``to_ema`` returns the same from a sweep folder, so, with EMA Workbench installed::

    from ema_workbench.analysis import prim
    from sim.experiments.ema_export import to_ema

    experiments, outcomes = to_ema("results/sweep-sobol")
    x = experiments.drop(columns=["scenario", "policy", "model"])
    box = prim.Prim(x, outcomes["share_new_china_2022_2035"] > 0.5).find_box()

By default an experiment is a design point and each outcome the mean of its successful
replications (what EMA Workbench's ``ReplicatorModel`` results look like after averaging);
``per_run=True`` gives one row per successful run instead. ``scenario`` and ``policy`` are the
design point's number (the design samples uncertainties and levers jointly), ``model`` is
``"cloudrace"``. ``series`` adds yearly columns as time-series outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import UserError
from sim.experiments.store import SweepStore

MODEL_NAME = "cloudrace"


def to_ema(folder: str | Path, *, per_run: bool = False, series: Sequence[str] = ()
           ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """``(experiments, outcomes)`` of a sweep folder, as ``perform_experiments`` returns them."""
    store = SweepStore.open(Path(folder))
    manifest = store.manifest()
    parameters = manifest["parameters"]
    names = [p["name"] for p in parameters]
    outcome_names = [o["name"] for o in manifest["outcomes"]]
    runs = store.runs()
    runs = runs[runs["status"] == "ok"]
    key = ["run_id"] if per_run else ["point"]
    if per_run:
        table = runs[["run_id", "point", *names, *outcome_names]].reset_index(drop=True)
    else:
        table = runs.groupby("point", sort=True).agg(
            {**{name: "first" for name in names}, **{name: "mean" for name in outcome_names}}
        ).reset_index()

    experiments = table[names].copy()
    for parameter in parameters:
        if parameter["type"] == "categorical" and parameter["column"] != "number":
            experiments[parameter["name"]] = experiments[parameter["name"]].astype("category")
    for column in ("scenario", "policy"):
        experiments[column] = pd.Categorical(table["point"])
    experiments["model"] = pd.Categorical([MODEL_NAME] * len(table))
    outcomes = {name: table[name].to_numpy(dtype=float) for name in outcome_names}
    if series:
        outcomes.update(_series(store, runs, table, key, series))
    return experiments, outcomes


def _series(store: SweepStore, runs: pd.DataFrame, table: pd.DataFrame, key: list[str],
            columns: Sequence[str]) -> dict[str, np.ndarray]:
    """Yearly columns as ``(experiments, years)`` arrays, in the experiments' order."""
    yearly = store.yearly()
    if yearly.empty:
        raise UserError(f"{store.folder}: this sweep stored no yearly tables (yearly: false)")
    unknown = [c for c in columns if c not in yearly.columns]
    if unknown:
        raise UserError(f"{store.folder}: no yearly column {', '.join(unknown)}")
    yearly = yearly.merge(runs[["run_id", "point"]], on="run_id")
    grouped = yearly.groupby([*key, "year"])[list(columns)].mean()
    years = sorted(yearly["year"].unique())
    index = pd.MultiIndex.from_product([table[key[0]], years], names=[key[0], "year"])
    grouped = grouped.reindex(index)
    arrays = {column: grouped[column].to_numpy(dtype=float).reshape(len(table), len(years))
              for column in columns}
    return {**arrays, "TIME": np.tile(np.asarray(years, dtype=float), (len(table), 1))}
