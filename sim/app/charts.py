"""The app's charts, as data for ``sim.app.svg``: this run, the previous run as a ghost, a band.

Each chart reads a run's yearly series (``RunData.series``) up to the years played. A share of
new contracts is drawn only for a year with at least ``FEW`` of them; before that each contract
is a dot (a count), so one or two early contracts do not read as "100 %". The colours are those
of the map: reds and oranges for Chinese providers, blues for US ones.
"""

from __future__ import annotations

import math

from sim.app.svg import Band, Chart, Dots, Line, Milestone
from sim.palette import provider_colour, state_colour

FEW = 5
"""Fewer new contracts than this in a year: shown as counts, not as a share."""
CHART_TITLES = {
    "new": "Who wins the new contracts",
    "deals": "New contracts a year, and tenders put off",
    "partners": "China's share of new contracts: US security partners and the others",
    "leverage": "Each state's leverage",
}
CAPTIONS = {
    "new": f"Share of each year's new contracts won by Chinese and by US providers. Years with "
    f"fewer than {FEW} new contracts show one dot per contract instead of a share.",
    "deals": "Contracts won each year by Huawei, by Alibaba and by AWS and Microsoft together, "
    "and the tenders governments put off (no deal that time).",
    "partners": "Among US security partners (Rio Treaty, the Philippines, Thailand, Morocco, "
    f"Egypt ...) and among the other countries; years with fewer than {FEW} new "
    "contracts in a group are left out.",
    "leverage": "Leverage: the share of a government's sensitive workloads (tax, health, "
    "police, power grids) that this state's providers host, averaged over the "
    "governments with any contract. It falls when newly signing countries choose "
    "the other side, even if no government leaves.",
}
ADJECTIVE = {"China": "Chinese", "US": "US"}
PARTNER_COLOURS = {"US security partners": "#117a65", "the others": "#ca6f1e"}


def _share(count: float, total: float) -> float | None:
    return 100.0 * count / total if total >= FEW else None


def _series(run, step: int, kind: str) -> dict[str, tuple[str, list[tuple[int, float | None]]]]:
    """The chart's series for one run: label -> (colour, points)."""
    rows = run.upto(step)
    years = [int(year) for year in rows["year"]]
    if kind == "new":
        return {
            f"{ADJECTIVE[state]} providers": (
                state_colour(state),
                [
                    (year, _share(count, total))
                    for year, count, total in zip(
                        years, rows[f"new_{state}"], rows["new_total"], strict=True
                    )
                ],
            )
            for state in ("China", "US")
        }
    if kind == "deals":
        columns = (
            ("Huawei", "new_Huawei", provider_colour("Huawei")),
            ("Alibaba", "new_Alibaba", provider_colour("Alibaba")),
            ("AWS + Microsoft", "new_AWS_Microsoft", provider_colour("AWS")),
            ("put off", "deferred", "#7f8c8d"),
        )
        return {
            label: (colour, list(zip(years, map(float, rows[column]), strict=True)))
            for label, column, colour in columns
        }
    if kind == "partners":
        return {
            label: (
                PARTNER_COLOURS[label],
                [
                    (year, _share(count, total))
                    for year, count, total in zip(
                        years, rows[f"{group}_China"], rows[f"{group}_total"], strict=True
                    )
                ],
            )
            for label, group in (("US security partners", "partners"), ("the others", "others"))
        }
    if kind == "leverage":
        return {
            state: (
                state_colour(state),
                [
                    (year, 100.0 * value)
                    for year, value in zip(years, rows[f"leverage_{state}"], strict=True)
                ],
            )
            for state in ("China", "US")
        }
    raise ValueError(f"no chart {kind!r}")


def series_values(run, step: int, kind: str) -> dict[str, list[tuple[int, float | None]]]:
    """What a chart plots for ``run`` after ``step`` years: label -> (year, value) points."""
    return {label: points for label, (_, points) in _series(run, step, kind).items()}


def milestone_markers(events) -> list[Milestone]:
    """Numbered markers, one per date (events on the same date share a number)."""
    markers: list[Milestone] = []
    for event in events:
        if markers and abs(markers[-1].year - event.year) < 1e-6:
            last = markers[-1]
            markers[-1] = Milestone(last.number, last.year, f"{last.text}; {event.text}")
        else:
            markers.append(Milestone(len(markers) + 1, event.year, event.text))
    return markers


def build_chart(
    kind: str, run, step: int, previous=None, previous_step: int = 0, band=None, events=()
) -> Chart:
    """The chart ``kind`` for ``run`` after ``step`` years, the ghost of ``previous`` (played
    ``previous_step`` years) and, given ``band`` runs, their range."""
    current = _series(run, step, kind)
    lines = [Line(label, colour, tuple(points)) for label, (colour, points) in current.items()]
    if previous is not None:
        shown = max(previous_step, step)
        lines += [
            Line(label, colour, tuple(points), ghost=True)
            for label, (colour, points) in _series(previous, shown, kind).items()
        ]
    bands = []
    if band:
        for label, (colour, _) in current.items():
            per_run = [dict(_series(other, step, kind)[label][1]) for other in band]
            points = []
            for year in sorted(per_run[0]):
                values = [values.get(year) for values in per_run]
                if all(value is not None and not math.isnan(value) for value in values):
                    points.append((year, min(values), max(values)))
            bands.append(Band(colour, tuple(points)))
    dots = []
    if kind == "new":
        rows = run.upto(step)
        for year, china, us, total in zip(
            rows["year"], rows["new_China"], rows["new_US"], rows["new_total"], strict=True
        ):
            if 0 < total < FEW:
                dots.append(
                    Dots(
                        int(year),
                        (state_colour("China"),) * int(china)
                        + (state_colour("US"),) * int(us)
                        + (state_colour("Others"),) * int(total - china - us),
                    )
                )
    values = [
        value
        for line in lines
        for _, value in line.points
        if value is not None and not math.isnan(value)
    ]
    values += [high for band_ in bands for _, _, high in band_.points]
    percent = kind in ("new", "partners", "leverage")
    top = 100.0 if percent else max([*values, 4.0]) * 1.1
    return Chart(
        css=f"cloudrace-{kind}",
        title=CHART_TITLES[kind],
        y_label=(
            "% of new contracts"
            if kind in ("new", "partners")
            else "% of sensitive workloads"
            if kind == "leverage"
            else "contracts or tenders a year"
        ),
        years=(run.start_year, run.end_year),
        y_max=top,
        lines=lines,
        bands=bands,
        milestones=milestone_markers(events),
        dots=dots,
        percent=percent,
        now=run.start_year + step - 0.5 if 0 < step <= run.last_step else None,
    )
