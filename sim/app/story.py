"""The story on screen: policy milestones for the time axis, and the ticker's last twenty lines.

Milestones come from the run's scenario, so a lesson that moves a date moves its marker: US
export controls on Huawei (the Entity List, the foreign-direct-product rules), the US and allied
development-finance loans (DFC, PGII), a step up in US warnings, a coercion threat, and any
lever the class changed during the run. A date the project's sources name gets its name
(``KNOWN_EVENTS``, the dates of ``scenarios/baseline.yaml``'s comments); others get a plain
description of what the scenario does.
"""

from __future__ import annotations

from dataclasses import dataclass

TICKER_LINES = 20
KNOWN_EVENTS = {
    ("controls", 2019.37): "Entity List: Huawei cut off from US chips and software",
    ("controls", 2020.37): "foreign-direct-product rule tightens the cut-off",
    ("controls", 2020.63): "FDP rule broadened; Huawei Cloud affiliates listed",
    ("loans", 2019.95): "DFC opens: US development-finance loans begin",
    ("loans", 2022.5): "PGII: US development loans rise",
    ("allies", 2022.48): "PGII: allied loans pooled behind US providers",
}
PRESSURE_STEP = 0.3
"""A rise in US security pressure at least this large is a milestone ("warnings step up")."""


@dataclass(frozen=True)
class StoryEvent:
    """A dated milestone: when, and what happened, in words."""

    year: float
    text: str


def _named(kind: str, year: float, fallback: str) -> str:
    return KNOWN_EVENTS.get((kind, round(year, 2)), fallback)


def scenario_events(settings, start: float, end: float) -> list[StoryEvent]:
    """The policy milestones of one scenario within ``[start, end + 1)``."""
    events = []
    for name, state in settings.states.items():
        for control in state.export_controls:
            events.append(
                StoryEvent(
                    control.start,
                    _named(
                        "controls",
                        control.start,
                        f"{name} export controls on {control.target} tighten",
                    ),
                )
            )
        for threat in state.coercion_events:
            events.append(
                StoryEvent(
                    threat.year,
                    (
                        f"{name} threatens to cut services wherever its providers host at least "
                        f"{threat.leverage_threshold:.0%} of the sensitive workloads"
                    ),
                )
            )
        previous = 0.0
        for year, amount in sorted(_steps(state.financing_budget_usd_m)):
            if amount > previous and name in ("US", "Allies"):
                kind = "allies" if name == "Allies" else "loans"
                events.append(
                    StoryEvent(
                        year, _named(kind, year, f"{name} loans rise to US$ {amount:,.0f} m a year")
                    )
                )
            previous = amount
        previous = None
        for year, pressure in sorted(_steps(state.security_pressure)):
            if previous is not None and pressure - previous >= PRESSURE_STEP - 1e-9:
                events.append(
                    StoryEvent(
                        year,
                        f"{name} warnings against Chinese providers "
                        f"step up ({previous:g} → {pressure:g})",
                    )
                )
            previous = pressure
    return sorted(
        (event for event in events if start <= event.year < end + 1), key=lambda event: event.year
    )


def _steps(phased) -> list[tuple[float, float]]:
    if isinstance(phased, dict):
        return [(float(year), float(value)) for year, value in phased.items()]
    return [(0.0, float(phased))]


def run_events(run) -> list[StoryEvent]:
    """A run's milestones: its scenario's events and every lever change the class made."""
    events = scenario_events(run.settings_by_step[0][1], run.start_year, run.end_year)
    for step, settings in run.settings_by_step[1:]:
        year = run.start_year + step
        events = [event for event in events if event.year < year]
        later = scenario_events(settings, year, run.end_year)
        levers = dict(run.key.schedule)[step]
        changes = levers.changes()
        events.append(
            StoryEvent(
                year,
                "the class changes the levers: "
                + ("; ".join(changes) if changes else "back as in the lesson"),
            )
        )
        events += later
    return sorted(events, key=lambda event: event.year)


def ticker_lines(
    run, step: int, events: list[StoryEvent], count: int = TICKER_LINES
) -> list[tuple[str, str]]:
    """The latest ``count`` lines, newest first: ``("milestone" | "contract", text)``.

    A year's milestones come before (above) its contracts, and a coercion threat's line says how
    many governments complied and how many pushed back.
    """
    lines: list[tuple[str, str]] = []
    for played in range(min(step, run.last_step), 0, -1):
        view = run.views[played]
        year = view.year - 1
        for event in reversed([e for e in events if int(e.year) == year]):
            text = f"{year} ★ {event.text}."
            if "threatens" in event.text:
                state = event.text.split(" ", 1)[0]
                outcome = view.coercion.get(state, {})
                text = (
                    f"{year} ★ {event.text}: so far {outcome.get('complied', 0)} "
                    f"governments complied, {outcome.get('backlash', 0)} pushed back."
                )
            lines.append(("milestone", text))
        lines += [("contract", text) for text in view.new_contracts]
        if len(lines) >= count:
            break
    return lines[:count]
