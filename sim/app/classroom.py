"""Lessons and levers: the model as a classroom builds it.

A lesson is a scenario file in ``scenarios/classroom/`` whose ``description:`` students read; the
baseline is offered too. The levers are the app's sliders and toggles. Each one maps to scenario
key paths and is applied on top of the lesson, so that a lever at its neutral setting (× 1, no
extra money, export controls on) leaves the lesson exactly as written:

- US loans: US$ m a year added to ``states.US.financing_budget_usd_m`` from the first year;
- allied pooling: an allied state ``states.Allies`` (EU, Japan, Australia under PGII) with this
  yearly loan budget from mid-2022, which co-finances US providers' bids where the US banks do
  not lend (``co_finances: [US]``), on its own softer terms. The model has no European,
  Japanese or Australian providers, so pooled money backs US providers' bids; the state, its
  terms and its date are those of ``scenarios/policy/allied_pooling.yaml``. A lesson that has
  an ``Allies`` state already gets the money added to that state's budget;
- US security pressure: ``states.US.security_pressure`` × factor (at most 1);
- US export controls: off sets ``states.US.export_controls`` to none;
- China's loans: ``states.China.financing_budget_usd_m`` × factor;
- China's subsidies: ``states.China.subsidy_budget_usd_m`` and ``subsidy_rate`` × factor;
- lock-in strength: ``lock_in.incumbency_weight`` and ``lock_in.switching_weight`` × factor.

Time-phased levers keep their dates: a factor scales every step, added money adds to every step
from its start.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.branching import with_states
from sim.errors import UserError
from sim.model import BASELINE, CloudRaceModel, CloudRaceScenario
from sim.scenario import SCENARIO_DIR, load_scenario
from sim.schema import ScenarioFile, StateSettings
from sim.timephased import Phased, StepFunction

LESSON_DIR = SCENARIO_DIR / "classroom"
BASELINE_TITLE = "Baseline: the policies in force"
ALLIED_POOLING_FROM = 2022.48
"""Start of allied pooling: the Partnership for Global Infrastructure and Investment, June 2022."""
ALLIED_POOL = {
    "bloc": "west",
    "exposure": 0.3,
    "financing": {"interest_rate": 0.015, "maturity_years": 25, "grace_years": 5, "coverage": 0.85},
    "co_finances": ["US"],
}
"""The allied state the pooling lever adds (as in ``scenarios/policy/allied_pooling.yaml``)."""
DEFAULT_SEED = 1


@dataclass(frozen=True)
class Lesson:
    """A classroom scenario: the title the chooser shows, its file and what students read."""

    title: str
    path: Path
    description: str


def lesson_title(path: Path) -> str:
    """The chooser's title from the file name: ``1-the-first-mover.yaml`` -> ``1. The first
    mover``."""
    number, _, words = path.stem.partition("-")
    if not number.isdigit():
        number, words = "", path.stem
    text = words.replace("-", " ").strip()
    text = text[:1].upper() + text[1:]
    return f"{int(number)}. {text}" if number else text


def lessons(folder: Path = LESSON_DIR) -> list[Lesson]:
    """The baseline, then every lesson in ``folder`` in the order of their numbers."""

    def order(path: Path) -> tuple[int, str]:
        number = path.stem.partition("-")[0]
        return (int(number) if number.isdigit() else 1_000, path.stem)

    found = [Lesson(BASELINE_TITLE, BASELINE, _description(BASELINE))]
    found += [
        Lesson(lesson_title(path), path, _description(path))
        for path in sorted(folder.glob("*.yaml"), key=order)
    ]
    return found


def find_lesson(title: str) -> Lesson:
    """The lesson with this title; ``UserError`` listing the titles if there is none."""
    catalogue = lessons()
    for lesson in catalogue:
        if lesson.title == title:
            return lesson
    raise UserError(
        f"no lesson titled {title!r}; the lessons are: "
        + "; ".join(lesson.title for lesson in catalogue)
    )


def _description(path: Path) -> str:
    """A lesson's text, read once per version of its file (the page asks at every redraw)."""
    return _read_description(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _read_description(path: Path, _version: int) -> str:
    text = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("description", "")
    return " ".join(str(text).split())


@dataclass(frozen=True)
class Levers:
    """The app's levers; the defaults leave a lesson as written."""

    us_financing_usd_m: float = 0.0
    allied_pooling_usd_m: float = 0.0
    us_pressure: float = 1.0
    export_controls: bool = True
    china_financing: float = 1.0
    china_subsidies: float = 1.0
    lock_in_strength: float = 1.0

    def changes(self) -> list[str]:
        """The levers away from their neutral setting, in words (for the lesson panel)."""
        words = []
        if self.us_financing_usd_m:
            words.append(f"US loans +{self.us_financing_usd_m:g} US$ m a year")
        if self.allied_pooling_usd_m:
            words.append(
                f"allied pooling {self.allied_pooling_usd_m:g} US$ m a year from "
                f"{int(ALLIED_POOLING_FROM)}"
            )
        if not self.export_controls:
            words.append("no US export controls")
        for factor, name in (
            (self.us_pressure, "US security pressure"),
            (self.china_financing, "China's loans"),
            (self.china_subsidies, "China's subsidies"),
            (self.lock_in_strength, "lock-in strength"),
        ):
            if factor != 1.0:
                words.append(f"{name} × {factor:g}")
        return words

    def overrides(self, settings: ScenarioFile) -> dict[str, Any]:
        """Scenario key paths (with dots) and values that apply the levers to ``settings``.

        Only levers away from their neutral setting appear, so the defaults give ``{}``.
        """
        start = float(settings.run.start_year)
        us, china = settings.states["US"], settings.states["China"]
        values: dict[str, Any] = {}
        if self.us_financing_usd_m:
            values["states.US.financing_budget_usd_m"] = _added(
                us.financing_budget_usd_m, self.us_financing_usd_m, start, start
            )
        allies = settings.states.get("Allies")
        if self.allied_pooling_usd_m and allies is None:
            values["states.Allies"] = {
                **ALLIED_POOL,
                "financing_budget_usd_m": {ALLIED_POOLING_FROM: self.allied_pooling_usd_m},
            }
        elif self.allied_pooling_usd_m:
            values["states.Allies.financing_budget_usd_m"] = _added(
                allies.financing_budget_usd_m,
                self.allied_pooling_usd_m,
                max(start, ALLIED_POOLING_FROM),
                start,
            )
        if not self.export_controls:
            values["states.US.export_controls"] = []
        scalings = (
            (self.us_pressure, "states.US.security_pressure", us.security_pressure, 1.0),
            (
                self.china_financing,
                "states.China.financing_budget_usd_m",
                china.financing_budget_usd_m,
                1e6,
            ),
            (
                self.china_subsidies,
                "states.China.subsidy_budget_usd_m",
                china.subsidy_budget_usd_m,
                1e6,
            ),
            (self.china_subsidies, "states.China.subsidy_rate", china.subsidy_rate, 1.0),
            (
                self.lock_in_strength,
                "lock_in.incumbency_weight",
                settings.lock_in.incumbency_weight,
                50.0,
            ),
            (
                self.lock_in_strength,
                "lock_in.switching_weight",
                settings.lock_in.switching_weight,
                50.0,
            ),
        )
        for factor, key, phased, cap in scalings:
            if factor != 1.0:
                if isinstance(phased, dict):
                    schedule = StepFunction.of(phased)
                    values[key] = _phased_from(
                        start,
                        _step_years(phased),
                        lambda year, s=schedule, f=factor, c=cap: min(s.at(year) * f, c),
                    )
                else:
                    values[key] = min(phased * factor, cap)
        return values


def _step_years(phased: Phased) -> list[float]:
    """The years a time-phased value changes (none for a constant)."""
    return [float(year) for year in phased] if isinstance(phased, dict) else []


def _added(phased: Phased, amount: float, since: float, start: float) -> dict[float, float]:
    """``phased`` with ``amount`` added from the year ``since`` on, as a schedule from
    ``start``."""
    schedule = StepFunction.of(phased)
    return _phased_from(
        start,
        [*_step_years(phased), since],
        lambda year: schedule.at(year) + (amount if year >= since else 0.0),
    )


def _phased_from(
    start: float, change_years: list[float], value_at: Callable[[float], float]
) -> dict[float, float]:
    """``value_at`` as a ``{year: value}`` schedule: at ``start`` and each later change year."""
    years = sorted({start, *(year for year in change_years if year > start)})
    return {year: value_at(year) for year in years}


def _slider(value: float) -> float:
    """A slider's value rounded to what a slider can set (they deliver 0.30000000000000004)."""
    return round(float(value), 3)


@functools.lru_cache(maxsize=128)
def _lesson_settings(path: Path, _version: int, levers: Levers, with_allies: bool) -> ScenarioFile:
    """A lesson's scenario with the levers applied, read and validated once per file version
    (the model only reads it)."""
    settings = load_scenario(path, values=levers.overrides(load_scenario(path)))
    if with_allies and "Allies" not in settings.states:
        settings = with_states(settings, {"Allies": StateSettings(bloc="west")})
    return settings


class ClassroomModel(CloudRaceModel):
    """The Cloud Race model built from a lesson and the levers (the app's controls).

    ``rng`` is the seed: the same seed and settings give the same run. The random history is
    shared by every lever setting because the model keys its streams by purpose
    (``sim.random_streams``): each year's tender arrivals and each tender's own draws (bid
    costs, choice, trouble) are the same whatever the levers, so a run with another lever sees
    the same tenders arrive on the same dates with the same luck, and a difference on screen is
    the lever's, not chance's (common random numbers).
    ``with_allies`` adds the allied pooling state with no money, so that a later ``change_levers``
    can give it some (a fork keeps the states it started with). ``record_tenders`` keeps every
    tender's bids, as ``CloudRaceModel`` does.
    """

    def __init__(
        self,
        lesson: str = BASELINE_TITLE,
        us_financing_usd_m: float = 0.0,
        allied_pooling_usd_m: float = 0.0,
        us_pressure: float = 1.0,
        export_controls: bool = True,
        china_financing: float = 1.0,
        china_subsidies: float = 1.0,
        lock_in_strength: float = 1.0,
        rng: int | None = DEFAULT_SEED,
        with_allies: bool = False,
        record_tenders: bool = False,
    ) -> None:
        chosen = find_lesson(lesson)
        levers = Levers(
            _slider(us_financing_usd_m),
            _slider(allied_pooling_usd_m),
            _slider(us_pressure),
            bool(export_controls),
            _slider(china_financing),
            _slider(china_subsidies),
            _slider(lock_in_strength),
        )
        self.lesson = chosen
        self.levers = levers
        self.lesson_seed = rng
        self.with_allies = with_allies or bool(levers.allied_pooling_usd_m)
        settings = self.settings_for(levers)
        super().__init__(
            CloudRaceScenario.from_settings(settings, rng=rng), record_tenders=record_tenders
        )

    def settings_for(self, levers: Levers) -> ScenarioFile:
        """The lesson's scenario with ``levers`` applied (and the allied state, if kept)."""
        path = self.lesson.path
        return _lesson_settings(path, path.stat().st_mtime_ns, levers, self.with_allies)

    def change_levers(self, levers: Levers) -> None:
        """Fork: from now on the run follows ``levers``; the history so far stays."""
        self.continue_as(self.settings_for(levers))
        self.levers = levers


def run_lesson(title: str = BASELINE_TITLE, seed: int = DEFAULT_SEED, **levers) -> ClassroomModel:
    """Build a lesson with the given levers (keyword names as in ``Levers``), run it to its end
    year and return the model (its contracts and ``datacollector`` hold the results)."""
    model = ClassroomModel(title, rng=seed, **levers)
    while model.running:
        model.step()
    return model
