"""The parameters an experiment varies: uncertainties kept apart from policy levers.

An *uncertainty* is something the world decides (how much weight governments give security,
how fast demand grows); a *lever* is something a state decides (the US financing budget, its
security pressure). Both are scenario parameters named by their key path
(``states.US.financing_budget_usd_m``), and each is one of three types, as in EMA Workbench:

- ``RealParameter``: a number in ``[low, high]``; with ``scale``, a factor applied to the base
  scenario's value (to a number, or to every step of a time-phased ``{year: value}`` mapping);
- ``IntegerParameter``: a whole number in ``[low, high]``;
- ``CategoricalParameter``: one of a list of levels (numbers, text, true/false or whole
  ``{year: value}`` step functions).

A design samples *coordinates* in each parameter's ``bounds`` (what SALib sees); ``value_at``
turns a coordinate into the value recorded in the results table, and ``scenario_value`` into the
value written into the scenario. Integers and levels are sampled as in EMA Workbench: uniformly
over ``[low, high + 1)`` or ``[0, number of levels)`` and rounded down, so every integer and every
level has the same share of the space.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Kind = Literal["uncertainty", "lever"]


@dataclass(frozen=True)
class RealParameter:
    """A number in ``[low, high]``; with ``scale``, a factor on the base scenario's value."""

    name: str
    kind: Kind
    low: float
    high: float
    scale: bool = False

    def bounds(self) -> tuple[float, float]:
        """The interval a sampler draws coordinates from."""
        return self.low, self.high

    def grid(self, resolution: int) -> list[float]:
        """``resolution`` evenly spaced coordinates, ends included (for full factorial designs)."""
        return [float(x) for x in np.linspace(self.low, self.high, resolution)]

    def value_at(self, coordinate: float) -> float:
        """The recorded value: the number itself (the factor, with ``scale``)."""
        return float(coordinate)

    def scenario_value(self, coordinate: float, base: Any) -> Any:
        """The value written into the scenario; with ``scale``, ``base`` times the factor."""
        if not self.scale:
            return float(coordinate)
        if isinstance(base, dict):
            return {year: value * coordinate for year, value in base.items()}
        return base * coordinate


@dataclass(frozen=True)
class IntegerParameter:
    """A whole number in ``[low, high]``, every integer equally likely."""

    name: str
    kind: Kind
    low: int
    high: int

    def bounds(self) -> tuple[float, float]:
        """``[low, high + 1)``: rounding down gives each integer the same width."""
        return float(self.low), float(self.high + 1)

    def grid(self, resolution: int) -> list[float]:
        """Every integer if there are at most ``resolution``, else that many spread evenly."""
        count = self.high - self.low + 1
        if count <= resolution:
            return [float(v) for v in range(self.low, self.high + 1)]
        return sorted({float(round(v)) for v in np.linspace(self.low, self.high, resolution)})

    def value_at(self, coordinate: float) -> int:
        """The integer whose cell holds the coordinate."""
        return min(int(math.floor(coordinate)), self.high)

    def scenario_value(self, coordinate: float, base: Any) -> int:
        """The integer itself."""
        return self.value_at(coordinate)


@dataclass(frozen=True)
class CategoricalParameter:
    """One of a list of levels, each equally likely."""

    name: str
    kind: Kind
    levels: tuple[Any, ...]

    def bounds(self) -> tuple[float, float]:
        """``[0, number of levels)``: level ``i`` owns ``[i, i + 1)``."""
        return 0.0, float(len(self.levels))

    def grid(self, resolution: int) -> list[float]:
        """Every level (the resolution does not apply)."""
        return [float(index) for index in range(len(self.levels))]

    def level_index(self, coordinate: float) -> int:
        """The index of the level whose cell holds the coordinate."""
        return min(int(math.floor(coordinate)), len(self.levels) - 1)

    def value_at(self, coordinate: float) -> Any:
        """The level, or its JSON text when levels are step functions or of mixed types."""
        level = self.levels[self.level_index(coordinate)]
        return level if self.column_type() != "json" else json.dumps(level, sort_keys=True)

    def scenario_value(self, coordinate: float, base: Any) -> Any:
        """The level itself."""
        return self.levels[self.level_index(coordinate)]

    def column_type(self) -> str:
        """How the results table stores the levels: ``number``, ``bool``, ``text`` or ``json``."""
        kinds = set()
        for level in self.levels:
            if isinstance(level, bool):
                kinds.add("bool")
            elif isinstance(level, int | float):
                kinds.add("number")
            elif isinstance(level, str):
                kinds.add("text")
            else:
                kinds.add("json")
        return kinds.pop() if len(kinds) == 1 else "json"


Parameter = RealParameter | IntegerParameter | CategoricalParameter


def salib_problem(parameters: list[Parameter]) -> dict[str, Any]:
    """The SALib problem dictionary: names and coordinate bounds, in the parameters' order."""
    return {"num_vars": len(parameters), "names": [p.name for p in parameters],
            "bounds": [list(p.bounds()) for p in parameters]}


def value_at_path(tree: Any, key_path: str) -> Any:
    """The value at a dotted key path of a nested mapping (``None`` where the path ends)."""
    node = tree
    for part in key_path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
