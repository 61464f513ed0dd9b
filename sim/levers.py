"""The switches of attribution: every state lever and mechanism a scenario can switch off.

A switch is one player of the Shapley decomposition in ``sim.attribution``: a name and the
overrides (key path -> off value) that switch it off. The registry below is a table, one line
per lever: ``STATE_LEVERS`` for a state's policy levers (each becomes one switch per state that
uses it, ``"China financing"``, ``"US financing"``), ``MECHANISMS`` for the model's non-state
mechanisms. In a key path ``<state>`` stands for the state's name.

``discover_switches`` keeps the switches that are *present* in a scenario: a key path that exists
in the resolved scenario and holds something other than its off value (a step function counts
as off when every step is). So a new lever needs one line here and appears wherever a scenario
uses it; a key path the schema does not (yet) have is skipped, never an error.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.schema import ScenarioFile

STATE = "<state>"

STATE_LEVERS: dict[str, dict[str, Any]] = {
    "financing": {"states.<state>.financing_budget_usd_m": 0.0},
    "development finance": {"states.<state>.development_finance.budget_usd_m": 0.0},
    "strategic value": {"states.<state>.strategic_value": 0.0},
    "security pressure": {"states.<state>.security_pressure": 0.0},
    "promotion": {"states.<state>.promotion": 0.0},
    "subsidies": {"states.<state>.subsidy_rate": 0.0},
    "export controls": {"states.<state>.export_controls": []},
    "technical assistance": {"states.<state>.technical_assistance": 0.0},
    "barrier removal": {"states.<state>.barrier_removal": 0.0},
    "coercion": {"states.<state>.coercion_events": []},
}
"""State lever -> the overrides that switch it off for one state (``<state>`` is its name)."""

MECHANISMS: dict[str, dict[str, Any]] = {
    "bundling": {"choice.bundling_weight": 0.0},
    "lock-in": {"lock_in.incumbency_weight": 0.0, "lock_in.switching_weight": 0.0},
    "incidents": {
        "incidents.base_rate": 0.0,
        "incidents.debt_weight": 0.0,
        "incidents.quality_weight": 0.0,
        "incidents.governance_weight": 0.0,
    },
}
"""Non-state mechanism -> the overrides that switch it off."""


@dataclass(frozen=True)
class Switch:
    """One player of the decomposition: a lever of one state, or a mechanism."""

    name: str
    lever: str
    state: str | None
    overrides: Mapping[str, Any]


_MISSING = object()


def _lookup(tree: Any, key_path: str) -> Any:
    node = tree
    for part in key_path.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _is_off(value: Any, off: Any) -> bool:
    """Whether a resolved value already equals the off value (every step of a step function)."""
    if isinstance(value, dict) and not isinstance(off, dict):
        return all(step == off for step in value.values())
    return value == off


def discover_switches(settings: ScenarioFile) -> list[Switch]:
    """The switches present in a scenario: state levers per state (in the order of
    ``settings.states``, then of ``STATE_LEVERS``), then mechanisms."""
    resolved = settings.model_dump(mode="python")
    candidates = [
        Switch(
            f"{state} {lever}",
            lever,
            state,
            {key.replace(STATE, state): off for key, off in overrides.items()},
        )
        for state in settings.states
        for lever, overrides in STATE_LEVERS.items()
    ]
    candidates += [
        Switch(name, name, None, dict(overrides)) for name, overrides in MECHANISMS.items()
    ]
    present = []
    for switch in candidates:
        values = {key: _lookup(resolved, key) for key in switch.overrides}
        if any(value is _MISSING for value in values.values()):
            continue
        if not all(_is_off(values[key], off) for key, off in switch.overrides.items()):
            present.append(switch)
    return present


def switched_off(switches: list[Switch]) -> dict[str, Any]:
    """The overrides that switch every one of ``switches`` off."""
    overrides: dict[str, Any] = {}
    for switch in switches:
        overrides.update({key: copy.deepcopy(off) for key, off in switch.overrides.items()})
    return overrides


def lever_off_everywhere(settings: ScenarioFile, lever: str) -> dict[str, Any]:
    """The overrides that switch one lever (or mechanism) off for every state that uses it."""
    return switched_off([s for s in discover_switches(settings) if s.lever == lever])
