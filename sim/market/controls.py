"""Export controls counted once: a pre-control path with the dated controls applied on top.

A provider's capability path fitted to what was observed *after* export controls (Huawei's
growth from 2019 under the Entity List and the foreign-direct-product rules) already contains
the controls' effect. The model applies each control as a factor on the path it is given, so the
path it is given must be the pre-control one:

    pre(t) = observed(t) / prod_{controls c with start_c <= t} (1 - loss_c)

and then ``pre(t) * prod (1 - loss_c) = observed(t)``: the controls are counted once, and a
scenario without them (``export_controls_never``) shows the path the provider would have had.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence


def control_factor(controls: Sequence[tuple[float, float]], year: float) -> float:
    """Product of ``1 - loss`` over the controls ``(start, loss)`` in force at ``year``.

    >>> round(control_factor([(2019.37, 0.05), (2020.37, 0.05)], 2020.5), 4)
    0.9025
    """
    factor = 1.0
    for start, loss in controls:
        if start <= year:
            factor *= 1.0 - loss
    return factor


def step_value(path: Mapping[float, float], year: float) -> float:
    """A ``{year: value}`` step function's value at ``year`` (0 before its first step)."""
    years = sorted(path)
    index = bisect_right(years, year)
    return path[years[index - 1]] if index else 0.0


def pre_control_path(
    observed: Mapping[float, float], controls: Sequence[tuple[float, float]]
) -> dict[float, float]:
    """The pre-control step path whose controlled value equals ``observed`` at every date.

    Steps at every observed year and every control's start.

    >>> path = pre_control_path({2006: 0.5, 2020: 0.6}, [(2019.0, 0.2)])
    >>> {year: round(value, 4) for year, value in path.items()}
    {2006: 0.5, 2019.0: 0.625, 2020: 0.75}
    """
    dates = sorted(set(observed) | {start for start, _ in controls})
    return {date: step_value(observed, date) / control_factor(controls, date) for date in dates}
