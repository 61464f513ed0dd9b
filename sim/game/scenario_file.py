"""A class's game as a scenario file: the lesson it extends plus the decisions, dated.

Decisions enter the model through the same keys a scenario file uses, so the game is replayed by
``cloudrace run`` and compared with ``cloudrace compare`` like any other scenario:

- a state's lever set for a round becomes dated steps of that time-phased lever
  (``states.<name>.financing_budget_usd_m: {..., 2025: 600, 2026: <the lesson's value>}``): the
  player's value over the round, the lesson's own values before and after;
- a provider's bidding becomes an entry of ``hand.bidding`` (markup shift and regions it stays
  out of, from the round's start to its end);
- a government's award becomes an entry of ``hand.choices`` (its n-th tender of a year goes to a
  named provider, or is deferred): the model has no key that picks a bid, so the ``hand``
  section (``sim.schema.HandPlay``, read by ``sim.hand``) is the documented key for it;
- the teacher's events are export controls and coercion events of the states (the lesson's own
  lists kept, the new ones appended) and bans and incidents in ``hand.events``.

``extends`` merges a mapping step by step into the lesson's, so a lever's mapping here lists a
value at every date the lesson has one: the merged schedule is then exactly this one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.schema import ScenarioFile
from sim.timephased import StepFunction


@dataclass
class RoundRecord:
    """One closed (or open) round: its dates and what entered the model in it."""

    start: float
    end: float
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)


def lever_schedule(
    lesson_value: float | dict[float, float],
    overrides: list[tuple[float, float, float]],
    start_year: int,
) -> dict[float, float]:
    """The mapping of a lever: ``overrides`` (start, end, value) over the lesson's schedule."""
    lesson = StepFunction.of(lesson_value)

    def value_at(year: float) -> float:
        for start, end, value in overrides:
            if start <= year < end:
                return value
        return lesson.at(year)

    dates = {start_year if year == float("-inf") else year for year in lesson.years}
    for start, end, _ in overrides:
        dates |= {start, end}
    return {_tidy(year): _tidy(value_at(year)) for year in sorted(dates)}


def class_scenario(
    lesson_path: Path,
    lesson: ScenarioFile,
    folder: Path,
    seed: int,
    rounds: list[RoundRecord],
    roles: dict[str, str],
    description: str,
    leave_out: frozenset[str] = frozenset(),
    with_events: bool = True,
) -> dict[str, Any]:
    """The scenario (as a YAML-ready mapping) of the rounds played, for a file in ``folder``.

    ``roles`` maps each role's name to its kind. ``leave_out`` drops those roles' decisions and
    ``with_events`` false drops the teacher's events (the debrief's "without" runs).
    """
    start_year = lesson.run.start_year
    scenario: dict[str, Any] = {
        "extends": os.path.relpath(lesson_path.resolve(), folder.resolve()),
        "description": description,
        "run": {"seed": seed, "replications": 1},
    }
    states: dict[str, dict[str, Any]] = {}
    hand: dict[str, list] = {"bidding": [], "choices": [], "events": []}
    overrides: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for record in rounds:
        for role, decision in record.decisions.items():
            if role in leave_out:
                continue
            kind = roles[role]
            if kind == "state":
                for lever, value in decision.items():
                    if value is not None:
                        overrides.setdefault((role, lever), []).append(
                            (record.start, record.end, float(value))
                        )
            elif kind == "provider" and (
                decision.get("markup_shift") or decision.get("stays_out_of")
            ):
                hand["bidding"].append(
                    {
                        "provider": role,
                        "start": _tidy(record.start),
                        "end": _tidy(record.end),
                        "markup_shift": float(decision.get("markup_shift", 0.0)),
                        "stays_out_of": list(decision.get("stays_out_of", [])),
                    }
                )
            elif kind == "government":
                for tender, provider in sorted(decision.get("choices", {}).items()):
                    year, number = tender.split(":")
                    hand["choices"].append(
                        {
                            "country": role,
                            "year": int(year),
                            "tender": int(number),
                            "provider": provider,
                        }
                    )
        if with_events:
            for event in record.events:
                _add_event(states, hand, lesson, event, record.start)
    for (state, lever), spans in overrides.items():
        states.setdefault(state, {})[lever] = lever_schedule(
            getattr(lesson.states[state], lever), spans, start_year
        )
    if states:
        scenario["states"] = states
    hand = {key: entries for key, entries in hand.items() if entries}
    if hand:
        scenario["hand"] = hand
    return scenario


def merged_settings(lesson: ScenarioFile, scenario: dict[str, Any]) -> ScenarioFile:
    """What the class's scenario file means, without reading it back (YAML is slow to parse).

    The lesson's resolved settings with the scenario merged in by the rule of ``extends``
    (mappings key by key, anything else replaces); the tests check that loading the file
    itself gives the same game.
    """
    change = {key: value for key, value in scenario.items() if key != "extends"}
    return ScenarioFile.model_validate(_merge(lesson.model_dump(), change))


def _merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in change.items():
        both_mappings = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = _merge(merged[key], value) if both_mappings else value
    return merged


def _add_event(
    states: dict[str, dict[str, Any]],
    hand: dict[str, list],
    lesson: ScenarioFile,
    event: dict[str, Any],
    year: float,
) -> None:
    """Write one of the teacher's events into the scenario, dated at its round's start."""
    kind = event["kind"]
    if kind in ("ban", "incident"):
        hand["events"].append(
            {
                "kind": kind,
                "year": _tidy(year),
                "country": event["country"],
                "provider": event["provider"],
            }
        )
        return
    key = {"export_control": "export_controls", "coercion": "coercion_events"}[kind]
    section = states.setdefault(event["state"], {})
    if key not in section:  # a list replaces the lesson's: start from the lesson's own
        section[key] = [
            entry.model_dump(mode="json") for entry in getattr(lesson.states[event["state"]], key)
        ]
    entry = (
        {"target": event["target"], "start": _tidy(year)}
        if kind == "export_control"
        else {"year": _tidy(year)}
    )
    section[key].append(entry)


def _tidy(number: float) -> float | int:
    """Whole numbers as integers, so the YAML reads ``2025: 600`` rather than ``2025.0: 600.0``."""
    number = float(number)
    return int(number) if number.is_integer() else number
