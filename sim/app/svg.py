"""Vector charts for the projector: line charts with a ghost run, a band and milestones, as SVG.

The browser draws SVG itself, so the charts scale with the window and stay sharp when zoomed,
and nothing needs a chart library (or a CDN). Sizes are in the SVG's own units; a chart's
width in units is chosen so that at 1366 x 768 one unit is at least one screen pixel, so text
at ``FONT`` units reads at 18 px or more.

``line_chart`` takes plain data (``Line``s of ``(year, value)`` points, ``Band``s, ``Milestone``s)
so it can be tested without the model; ``sim.app.charts`` builds that data from the runs.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

FONT = 18
"""Every text of a chart, tick labels included, in the SVG's units: the app gives each chart a
width (``line_chart``'s ``width``) no larger than the pixels it fills at 1366 x 768, so the
text is drawn at 18 px or more there (``tests/test_app_browser.py`` measures it)."""
GHOST_OPACITY = 0.45


@dataclass(frozen=True)
class Line:
    """One series: a label, a colour and ``(year, value)`` points (``None`` leaves a gap)."""

    label: str
    colour: str
    points: tuple[tuple[float, float | None], ...]
    ghost: bool = False


@dataclass(frozen=True)
class Band:
    """The range of a series over several seeds: ``(year, low, high)``."""

    colour: str
    points: tuple[tuple[float, float, float], ...]


@dataclass(frozen=True)
class Milestone:
    """A policy event on the time axis: its number on the chart, date and words."""

    number: int
    year: float
    text: str


@dataclass(frozen=True)
class Dots:
    """Counts drawn as one dot per contract (for years with too few for a share)."""

    year: int
    colours: tuple[str, ...]


@dataclass
class Chart:
    """Everything one line chart shows."""

    css: str
    title: str
    y_label: str
    years: tuple[int, int]
    y_max: float
    lines: list[Line] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    dots: list[Dots] = field(default_factory=list)
    percent: bool = False
    now: float | None = None


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def _ticks(top: float) -> list[float]:
    """Four or five round y ticks from 0 to ``top``."""
    if top <= 0:
        return [0.0]
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [step * i for i in range(int(top / step + 1e-9) + 1)]


def line_chart(chart: Chart, width: int = 760, height: int = 300) -> str:
    """The chart as an ``<svg>`` element that fills its container's width."""
    left, right, top, bottom = 66, 30, 58, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    first, last = chart.years
    y_max = chart.y_max if chart.y_max > 0 else 1.0

    def x(year: float) -> float:
        return left + (year - first) / max(last - first, 1) * plot_w

    def y(value: float) -> float:
        return top + plot_h - value / y_max * plot_h

    parts = [
        f'<svg class="cloudrace-chart {chart.css}" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" role="img" '
        f'aria-label="{_esc(chart.title)}" font-family="sans-serif">',
        f'<text class="chart-title" x="{left}" y="24" font-size="{FONT}" '
        f'font-weight="bold">{_esc(chart.title)}</text>',
    ]
    # legend: current runs' labels, then what a dashed line means
    legend_x = left
    for line in [line for line in chart.lines if not line.ghost]:
        parts.append(f'<rect x="{legend_x}" y="36" width="22" height="6" fill="{line.colour}"/>')
        parts.append(
            f'<text x="{legend_x + 28}" y="44" font-size="{FONT}">{_esc(line.label)}</text>'
        )
        legend_x += 40 + 11 * len(line.label)
    if any(line.ghost for line in chart.lines):
        parts.append(
            f'<line x1="{legend_x}" y1="39" x2="{legend_x + 26}" y2="39" '
            'stroke="#555" stroke-width="3" stroke-dasharray="6 4" '
            f'opacity="{GHOST_OPACITY + 0.2}"/>'
        )
        parts.append(
            f'<text x="{legend_x + 32}" y="44" font-size="{FONT}" fill="#555">previous run</text>'
        )
    # axes and grid
    for tick in _ticks(y_max):
        label = f"{tick:.0f} %" if chart.percent else f"{tick:g}"
        parts.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{left + plot_w}" '
            f'y2="{y(tick):.1f}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y(tick) + 5:.1f}" font-size="{FONT}" '
            f'text-anchor="end">{label}</text>'
        )
    span = last - first
    step = 5 if span > 12 else (2 if span > 6 else 1)
    for year in range(first, last + 1):
        if year % step == 0:
            parts.append(
                f'<text x="{x(year):.1f}" y="{top + plot_h + 22}" '
                f'font-size="{FONT}" text-anchor="middle">{year}</text>'
            )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
        f'y2="{top + plot_h}" stroke="#333"/>'
    )
    parts.append(
        f'<text x="{left + plot_w}" y="{height - 2}" font-size="{FONT}" '
        f'text-anchor="end" fill="#444">{_esc(chart.y_label)}</text>'
    )
    # milestones: a dashed rule and a numbered marker on the time axis
    row, last_x = 0, -1e9
    for milestone in chart.milestones:
        mx = x(milestone.year)
        row = row + 1 if mx - last_x < 26 and row < 3 else 0
        last_x = mx
        my = top + 12 + 26 * row
        parts.append(
            f'<g class="milestone" data-year="{milestone.year:.2f}">'
            f"<title>{_esc(milestone.text)}</title>"
            f'<line x1="{mx:.1f}" y1="{top}" x2="{mx:.1f}" y2="{top + plot_h}" '
            'stroke="#7d3c98" stroke-width="1.5" stroke-dasharray="3 3"/>'
            f'<circle cx="{mx:.1f}" cy="{my}" r="12" fill="#7d3c98"/>'
            f'<text x="{mx:.1f}" y="{my + 6}" font-size="18" '
            f'fill="white" text-anchor="middle">{milestone.number}</text></g>'
        )
    for band in chart.bands:
        if len(band.points) >= 2:
            upper = " ".join(f"{x(t):.1f},{y(high):.1f}" for t, _, high in band.points)
            lower = " ".join(f"{x(t):.1f},{y(low):.1f}" for t, low, _ in reversed(band.points))
            parts.append(
                f'<polygon class="band" points="{upper} {lower}" '
                f'fill="{band.colour}" opacity="0.18"/>'
            )
    for dots in chart.dots:
        for index, colour in enumerate(dots.colours):
            parts.append(
                f'<circle class="count-dot" cx="{x(dots.year):.1f}" '
                f'cy="{top + plot_h - 8 - 13 * index}" r="5.5" fill="{colour}"/>'
            )
    for line in sorted(chart.lines, key=lambda line: not line.ghost):
        for segment in _segments(line.points):
            path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in segment)
            style = (
                f'stroke-dasharray="7 5" opacity="{GHOST_OPACITY}" stroke-width="3"'
                if line.ghost
                else 'stroke-width="3.5"'
            )
            css = "ghost" if line.ghost else "current"
            if len(segment) == 1:
                t, v = segment[0]
                parts.append(
                    f'<circle class="{css}" cx="{x(t):.1f}" cy="{y(v):.1f}" r="4" '
                    f'fill="{line.colour}" opacity="{GHOST_OPACITY if line.ghost else 1}"'
                    "/>"
                )
            else:
                parts.append(
                    f'<polyline class="{css}" data-label="{_esc(line.label)}" '
                    f'points="{path}" fill="none" stroke="{line.colour}" {style}/>'
                )
    if chart.now is not None:
        parts.append(
            f'<line class="now" x1="{x(chart.now):.1f}" y1="{top}" '
            f'x2="{x(chart.now):.1f}" y2="{top + plot_h}" stroke="#999"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _segments(points):
    """Runs of consecutive points without gaps."""
    segment = []
    for year, value in points:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            if segment:
                yield segment
            segment = []
        else:
            segment.append((year, value))
    if segment:
        yield segment
