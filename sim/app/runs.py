"""Runs the app shows: computed once, shared by every viewer, kept as one snapshot per year.

A run is a lesson, a seed and a lever schedule (the levers from the start, and any change the
class made at a later year). ``get_run`` computes it with common random numbers (see
``ClassroomModel``) from the start to the lesson's end year — a lesson takes well under a second
— and keeps it in a cache shared by every browser tab, so six tabs watching the same lesson,
levers and seed cost one computation, and playing is only showing the next snapshot.

A ``YearView`` is what the screen needs at one moment: the yearly metrics of the year just
closed, the dominant provider of each country (the map), the
year's new contracts in words (the ticker) and the coercion outcomes so far. ``RunData.series``
holds the yearly numbers the charts, the headline strip and the debrief draw on.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd

from sim.app.classroom import ClassroomModel, Levers
from sim.app.ticker import describe_contract

SEEDS_IN_BAND = 5
"""How many seeds the "5 seeds" band spans: the run's seed and the four after it."""
CACHE_SIZE = 256


@dataclass(frozen=True)
class RunKey:
    """What identifies a run: lesson, seed, and the levers from each step index on.

    ``schedule[0]`` is ``(0, levers at the start)``; a later ``(k, levers)`` means the class
    changed the levers after ``k`` years had been played.
    """

    lesson: str
    seed: int
    schedule: tuple[tuple[int, Levers], ...]

    @property
    def levers(self) -> Levers:
        """The levers in force at the end of the schedule."""
        return self.schedule[-1][1]

    def changed_at(self, step: int, levers: Levers) -> RunKey:
        """This run with ``levers`` from ``step`` on (replacing changes at or after it)."""
        kept = tuple(entry for entry in self.schedule if entry[0] < step) or ((0, levers),)
        if step > 0 and kept[-1][1] != levers:
            kept += ((step, levers),)
        elif step == 0:
            kept = ((0, levers),)
        return RunKey(self.lesson, self.seed, kept)

    def with_seed(self, seed: int) -> RunKey:
        return RunKey(self.lesson, seed, self.schedule)


@dataclass(frozen=True)
class YearView:
    """One moment of a run: after ``step`` years, at the start of ``year``."""

    step: int
    year: int
    dominant: dict[str, str]
    new_contracts: tuple[str, ...]
    coercion: dict[str, dict[str, int]]


@dataclass
class RunData:
    """A whole run: its views (index = years played), yearly series, providers and states."""

    key: RunKey
    start_year: int
    end_year: int
    providers: list[str]
    provider_home: dict[str, str]
    states_with_providers: list[str]
    views: list[YearView]
    series: pd.DataFrame
    settings: object
    centroids: dict[str, tuple[float, float]]
    settings_by_step: list[tuple[int, object]] = field(default_factory=list)

    @property
    def last_step(self) -> int:
        return len(self.views) - 1

    def view(self, step: int) -> YearView:
        return self.views[min(max(step, 0), self.last_step)]

    def upto(self, step: int) -> pd.DataFrame:
        """The yearly rows of the years closed after ``step`` steps."""
        return self.series.iloc[: max(step, 0)]


def _view(model: ClassroomModel, step: int, first_contract: int) -> YearView:
    dominant = {}
    for government in model.governments:
        if government.installed:
            provider = max(government.installed.items(), key=lambda item: item[1])[0]
            dominant[government.iso3] = provider.name
    new = tuple(
        describe_contract(contract) for contract in reversed(model.contracts[first_contract:])
    )
    coercion = {name: dict(outcome) for name, outcome in model.coercion_outcomes.items()}
    return YearView(step, int(model.year), dominant, new, coercion)


def _year_counts(contracts) -> dict[str, float]:
    """Counts of one year's new contracts: by bloc, by provider group, by security partnership."""
    home = Counter(contract.provider.home.name for contract in contracts)
    name = Counter(contract.provider.name for contract in contracts)
    partners = [c for c in contracts if c.tender.government.us_security_partner]
    others = [c for c in contracts if not c.tender.government.us_security_partner]
    return {
        "new_total": len(contracts),
        "new_China": home.get("China", 0),
        "new_US": home.get("US", 0),
        "new_Huawei": name.get("Huawei", 0),
        "new_Alibaba": name.get("Alibaba", 0),
        "new_AWS_Microsoft": name.get("AWS", 0) + name.get("Microsoft", 0),
        "partners_total": len(partners),
        "partners_China": sum(c.provider.home.name == "China" for c in partners),
        "others_total": len(others),
        "others_China": sum(c.provider.home.name == "China" for c in others),
        "financed_China_loan": sum(
            c.bid.financing_state is not None and c.bid.financing_state.name == "China"
            for c in contracts
        ),
    }


def replay(key: RunKey, record_tenders: bool = False) -> Iterator[tuple[ClassroomModel, int, int]]:
    """Play ``key`` from its first year to its end: yield the model, the years played and the
    index of the first contract of the year just played, before the first year and after each.

    The lever changes of the schedule are applied at the start of their year to the model as it
    stands (``ClassroomModel.change_levers``: same history, same seed), so a run forked at a
    lever change is the run before it up to that year. ``record_tenders`` keeps every tender's
    bids (``CloudRaceModel.tender_log``), for tests.
    """
    needs_allies = any(levers.allied_pooling_usd_m for _, levers in key.schedule)
    model = ClassroomModel(
        key.lesson,
        rng=key.seed,
        with_allies=needs_allies,
        record_tenders=record_tenders,
        **vars(key.schedule[0][1]),
    )
    changes = dict(key.schedule[1:])
    step = 0
    yield model, step, 0
    while model.running:
        if step in changes:
            model.change_levers(changes[step])
        first_contract = len(model.contracts)
        model.step()
        step += 1
        yield model, step, first_contract


def compute_run(key: RunKey) -> RunData:
    """Run the lesson under ``key``'s lever schedule to its end, one snapshot per year."""
    changes = dict(key.schedule[1:])
    views, extra, settings_by_step = [], [], []
    for model, step, first_contract in replay(key):
        if step == 0:
            settings_by_step.append((0, model.settings_for(key.schedule[0][1])))
        else:
            extra.append(_year_counts(model.contracts[first_contract:]))
        if step in changes:
            settings_by_step.append((step, model.settings_for(changes[step])))
        views.append(_view(model, step, first_contract))
    series = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    series = pd.concat([series, pd.DataFrame(extra)], axis=1)
    series["year"] = series["year"].astype(int)
    return RunData(
        key=key,
        start_year=int(model.start_year),
        end_year=int(model.end_year),
        providers=[provider.name for provider in model.providers],
        provider_home={provider.name: provider.home.name for provider in model.providers},
        states_with_providers=[name for name, state in model.states.items() if state.providers],
        views=views,
        series=series,
        settings=settings_by_step[-1][1],
        centroids={g.iso3: (g.country["lon"], g.country["lat"]) for g in model.governments},
        settings_by_step=settings_by_step,
    )


_locks: dict[RunKey, threading.Lock] = {}
_locks_guard = threading.Lock()


@functools.lru_cache(maxsize=CACHE_SIZE)
def _cached(key: RunKey) -> RunData:
    return compute_run(key)


def get_run(key: RunKey) -> RunData:
    """The run for ``key``, computed once however many viewers ask at the same time."""
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        return _cached(key)


def band_runs(key: RunKey) -> list[RunData]:
    """The runs of the "5 seeds" band: ``key`` with its seed and the four after it."""
    return [get_run(key.with_seed(key.seed + offset)) for offset in range(SEEDS_IN_BAND)]
