"""Parameter recovery: does the calibration find parameter values it was given?

Truths are drawn from the prior (seeded); each yields a synthetic record, the calibration
targets of one run at the truth on a fresh seed; the calibration (same spec, its own seed) is
run on that record; and each free parameter's weighted posterior 90 % interval is checked for
covering the truth. With truths from the prior, a calibrated posterior covers them at the
nominal rate on average (Talts et al. 2018; for ABC, Prangle et al. 2014, who note that a
finite tolerance makes ABC intervals conservative, i.e. coverage above nominal).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration import (
    CalibrationSpec,
    Simulator,
    calibrate,
    weighted_quantiles,
)
from sim.runner import replication_seeds
from sim.schema import ScenarioFile
from sim.validation import TargetSet


def draw_truths(spec: CalibrationSpec, count: int) -> list[dict[str, float]]:
    """``count`` parameter sets from the uniform prior (seeded by the spec's seed)."""
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(7,)))
    return [
        {key: float(rng.uniform(p.low, p.high)) for key, p in spec.parameters.items()}
        for _ in range(count)
    ]


def recover(
    spec: CalibrationSpec,
    base: ScenarioFile,
    targets: TargetSet,
    truths: list[dict[str, float]],
    folder: Path,
    workers: int = 1,
) -> pd.DataFrame:
    """Per truth and parameter: the truth, the posterior 5 % / 95 % quantiles and coverage."""
    fitted = targets.role("target")
    simulator = Simulator(base, spec, fitted)
    seeds = replication_seeds(spec.seed + 1, len(truths))
    rows = []
    for index, (truth, seed) in enumerate(zip(truths, seeds, strict=True)):
        record = simulator(truth, seed=seed)
        run_spec = spec.model_copy(update={"seed": spec.seed + 100 + index})
        result = calibrate(
            run_spec,
            base,
            fitted,
            folder / f"recovery-{index}.db",
            workers,
            progress=False,
            observed=record,
            representative=False,
        )
        weights = result.posterior["weight"].to_numpy()
        for key, value in truth.items():
            low, high = weighted_quantiles(result.posterior[key].to_numpy(), weights, (0.05, 0.95))
            prior = spec.parameters[key]
            rows.append(
                {
                    "truth_index": index,
                    "parameter": key,
                    "truth": value,
                    "posterior_p05": low,
                    "posterior_p95": high,
                    "covered": bool(low <= value <= high),
                    "width_over_prior": (high - low) / (prior.high - prior.low),
                    "simulations": result.simulations,
                }
            )
    return pd.DataFrame(rows)
