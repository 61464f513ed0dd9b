"""Experiment designs: which points of the parameter space to run.

Each design is a plain function returning a matrix of coordinates, one row per design point and
one column per parameter (``sim.experiments.parameters`` turns coordinates into values):

- ``full_factorial``: every combination of each parameter's grid (``resolution`` evenly spaced
  values of a range; every integer or level);
- ``latin_hypercube``: ``samples`` points, one in each of ``samples`` equal slices of every
  parameter (McKay, Beckman & Conover 1979; ``SALib.sample.latin``);
- ``sobol``: Saltelli's extension of the Sobol' sequence for Sobol' indices: ``samples * (D + 2)``
  points, or ``samples * (2D + 2)`` with second-order indices (Saltelli 2002; Saltelli et al.
  2010; ``SALib.sample.sobol``);
- ``morris``: ``trajectories`` one-at-a-time paths of ``D + 1`` points on a ``levels``-level grid
  for elementary effects (Morris 1991; Campolongo et al. 2007; ``SALib.sample.morris``).

Samplers are seeded, so the same experiment file always gives the same design. The row order is
the sampler's: Sobol' and Morris analyses depend on it. SALib is imported by the samplers that
use it (it brings in SciPy's statistics, half a second at the start of every sweep).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from sim.experiments.parameters import Parameter, salib_problem


def full_factorial(parameters: list[Parameter], resolution: int) -> np.ndarray:
    """Every combination of the parameters' grids, the last parameter varying fastest."""
    grids = [parameter.grid(resolution) for parameter in parameters]
    return np.array(list(itertools.product(*grids)), dtype=float).reshape(-1, len(parameters))


def latin_hypercube(parameters: list[Parameter], samples: int, seed: int) -> np.ndarray:
    """``samples`` points of a Latin hypercube over the parameters' bounds."""
    from SALib.sample import latin

    return latin.sample(salib_problem(parameters), samples, seed=seed)


def sobol(parameters: list[Parameter], samples: int, second_order: bool, seed: int
          ) -> np.ndarray:
    """Saltelli's design for Sobol' indices; ``samples`` (a power of 2) base points."""
    from SALib.sample import sobol as sobol_sampler

    return sobol_sampler.sample(salib_problem(parameters), samples,
                                calc_second_order=second_order, seed=seed)


def morris(parameters: list[Parameter], trajectories: int, levels: int, seed: int) -> np.ndarray:
    """``trajectories`` Morris trajectories on a ``levels``-level grid."""
    from SALib.sample import morris as morris_sampler

    return morris_sampler.sample(salib_problem(parameters), trajectories, num_levels=levels,
                                 seed=seed)


def design_size(parameters: list[Parameter], design: Any) -> int:
    """How many points ``design_points`` would make, computed without making them."""
    if design.method == "full_factorial":
        return math.prod(len(parameter.grid(design.resolution)) for parameter in parameters)
    count = len(parameters)
    if design.method == "latin_hypercube":
        return design.samples
    if design.method == "sobol":
        return design.samples * (2 * count + 2 if design.second_order else count + 2)
    return design.trajectories * (count + 1)


def design_points(parameters: list[Parameter], design: Any, seed: int) -> np.ndarray:
    """The coordinates of every design point for a validated ``design`` section."""
    if design.method == "full_factorial":
        return full_factorial(parameters, design.resolution)
    if design.method == "latin_hypercube":
        return latin_hypercube(parameters, design.samples, seed)
    if design.method == "sobol":
        return sobol(parameters, design.samples, design.second_order, seed)
    return morris(parameters, design.trajectories, design.levels, seed)

