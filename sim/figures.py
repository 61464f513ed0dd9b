"""Figures made with matplotlib's object API, so importing ``sim`` never touches pyplot.

A notebook keeps its own backend and pyplot state: no module calls ``matplotlib.use`` or makes
pyplot figures. A ``Figure`` made here saves to a file (``figure.savefig``) and shows in a
notebook cell as it is; nothing needs closing.
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure


def subplots(
    nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None, **kwargs: Any
) -> tuple[Figure, Any]:
    """A new ``Figure`` and its grid of axes, as ``pyplot.subplots`` returns them (same
    arguments: ``sharey``, ``squeeze``, ``gridspec_kw`` …) but without pyplot."""
    figure = Figure(figsize=figsize)
    return figure, figure.subplots(nrows, ncols, **kwargs)
