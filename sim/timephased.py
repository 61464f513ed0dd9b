"""Time-phased values: a number, or a step function written as ``{year: value}``.

In a scenario file a lever reads either ``0.5`` (constant) or ``{2019.37: 0.5, 2022: 0.8}``: the
value in force at time ``t`` is the one under the latest year at or before ``t``; before the
first year listed it is 0 (the lever is off), so ``{2020: 300}`` reads "300 from 2020".
Fractional years are dates: 2019.37 is mid-May 2019.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

Phased = float | dict[float, float]


@dataclass(frozen=True, slots=True)
class StepFunction:
    """A right-continuous step function of time; 0 before its first step."""

    years: tuple[float, ...]
    values: tuple[float, ...]

    @classmethod
    def of(cls, phased: Phased) -> StepFunction:
        """Build from a scenario value: a number (constant) or a ``{year: value}`` mapping."""
        if isinstance(phased, dict):
            steps = sorted((float(year), float(value)) for year, value in phased.items())
            return cls(tuple(y for y, _ in steps), tuple(v for _, v in steps))
        return cls((float("-inf"),), (float(phased),))

    def at(self, time: float) -> float:
        """Value in force at ``time`` (a fractional year)."""
        index = bisect_right(self.years, time)
        return self.values[index - 1] if index else 0.0

    def changes_after(self, time: float) -> list[tuple[float, float]]:
        """The ``(year, new value)`` steps strictly after ``time``, in order."""
        return [(y, v) for y, v in zip(self.years, self.values, strict=True) if y > time]
