"""Branching: run the shared history once to a fork date, then continue each scenario from it.

Scenarios compared this way differ only after the fork: up to it every branch is the same
model, step for step and draw for draw. The trunk runs the base scenario to just before the fork
date, is saved (pickled), and each branch restores it and continues under its own scenario
(``CloudRaceModel.continue_as``). A state that only some scenarios have (an allied pool, say) is
present in every branch's trunk with all its levers off, so the branches share one history.
"""

from __future__ import annotations

import pickle

from sim.model import CloudRaceModel, CloudRaceScenario
from sim.runner import ReplicationResult, model_tables
from sim.schema import ScenarioFile, StateSettings

FORK_EPSILON = 1e-9
"""The trunk stops this far (in years) before the fork date, so the fork date's yearly opening
already follows each branch's scenario."""


def with_states(settings: ScenarioFile, states: dict[str, StateSettings]) -> ScenarioFile:
    """``settings`` with every state of ``states`` it lacks added, all levers off."""
    missing = {name: StateSettings(bloc=state.bloc) for name, state in states.items()
               if name not in settings.states}
    return settings.model_copy(update={"states": {**settings.states, **missing}})


def run_branches(trunk: ScenarioFile, branches: dict[str, ScenarioFile], fork_year: float,
                 replication: int, seed: int) -> dict[str, ReplicationResult]:
    """One replication of every branch, sharing the trunk's history up to ``fork_year``."""
    start, end = trunk.run.start_year, trunk.run.end_year
    if not start < fork_year <= end:
        raise ValueError(f"the fork date must fall within the run ({start} to {end})")
    every_state: dict[str, StateSettings] = {}
    for settings in (trunk, *branches.values()):
        for name, state in settings.states.items():
            every_state.setdefault(name, state)
    model = CloudRaceModel(CloudRaceScenario.from_settings(with_states(trunk, every_state),
                                                           rng=seed))
    model.run_until(fork_year - start - FORK_EPSILON)
    saved = pickle.dumps(model)
    results = {}
    for name, settings in branches.items():
        branch: CloudRaceModel = pickle.loads(saved)
        branch.continue_as(with_states(settings, every_state))
        branch.run_model()
        results[name] = model_tables(branch, replication, seed)
    return results
