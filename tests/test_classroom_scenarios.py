"""The classroom lessons: valid scenarios a student can read, each showing what it says it shows.

Every lesson in ``scenarios/classroom/`` extends the baseline, carries a readable description
whose "Try:" names the app's real controls, and its experiment (the lever the description
suggests) moves the result the way the description leads students to find, on average over a
few seeds. The guide's claims about what the screen shows when a lesson's "Try:" is done
(``sim.app.teaching``) are checked against the runs the app computes, seed by seed over the
app's "5 seeds" band.
"""

from __future__ import annotations

import re
from statistics import mean

import pytest
import yaml

from sim.app.app import CONTROL_LABELS, LEVER_CONTROLS, lesson_controls
from sim.app.classroom import LESSON_DIR, find_lesson, lessons, run_lesson
from sim.app.teaching import (
    APP_SEEDS,
    CLAIMS,
    DOC,
    claim_results,
    embedded_table,
    lesson_title,
    leverage_results,
    render_table,
)
from sim.scenario import load_scenario

SEEDS = (1, 2, 3, 4)
LESSON_FILES = sorted(LESSON_DIR.glob("*.yaml"))


def test_there_are_four_to_six_lessons():
    assert 4 <= len(LESSON_FILES) <= 6


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda path: path.stem)
def test_lesson_extends_the_baseline_and_loads(path):
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw["extends"] == "../baseline.yaml"
    settings = load_scenario(path)
    assert {"US", "China"} <= set(settings.states)
    assert settings.run.end_year - settings.run.start_year <= 30


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda path: path.stem)
def test_lesson_description_is_for_students(path):
    lesson = next(lesson for lesson in lessons() if lesson.path == path)
    text = lesson.description
    title = lesson.title.split(". ", 1)[1]
    assert text.startswith(title + "."), "the description opens with the lesson's title"
    assert 60 <= len(text.split()) <= 140
    assert "Try:" in text and "?" in text
    named = re.findall(r'(?:set|untick|tick|raise|lower) "([^"]+)"', text)
    assert named, "the description names a control to change"
    for control in named:
        assert any(label.startswith(control) for label in CONTROL_LABELS), (
            f"no control labelled {control!r} in the app"
        )


def _new_china_share(model, first: int, last: int) -> float:
    """Share of the new contracts in [first, last] won by Chinese providers."""
    won = [
        c.provider.home.name == "China" for c in model.contracts if first <= int(c.start) <= last
    ]
    return sum(won) / len(won)


def _mean(title: str, measure, **levers) -> float:
    return mean(measure(run_lesson(title, seed, **levers)) for seed in SEEDS)


def test_first_mover_incumbents_keep_renewals_and_lock_in_holds_the_2030s():
    title = find_lesson("1. The first mover locks in").title

    def kept(model):
        renewals = [c for c in model.contracts if c.tender.renewal]
        return sum(c.provider is c.tender.incumbent for c in renewals) / len(renewals)

    def late(model):
        return _new_china_share(model, 2026, 2035)

    assert _mean(title, kept) > 0.75
    assert _mean(title, late) > _mean(title, late, lock_in_strength=0.0) + 0.05


def test_without_chinese_loans_fewer_deals_happen_and_more_tenders_wait():
    title = find_lesson("2. The loan that wins the tender").title

    def huawei(model):
        return sum(c.provider.name == "Huawei" for c in model.contracts)

    def deferred(model):
        return model.datacollector.get_model_vars_dataframe()["deferred"].sum()

    assert _mean(title, huawei, china_financing=0.0) < _mean(title, huawei)
    assert _mean(title, deferred, china_financing=0.0) > _mean(title, deferred)


def test_without_chinese_loans_huawei_wins_a_sixth_fewer_deals():
    title = find_lesson("2. The loan that wins the tender").title

    def huawei(model):
        return sum(c.provider.name == "Huawei" for c in model.contracts)

    assert _mean(title, huawei, china_financing=0.0) < 0.85 * _mean(title, huawei)


def test_pressure_moves_security_partners_more_than_the_others():
    title = find_lesson("3. Pressure and its limits").title

    def share_among(partners: bool):
        def measure(model):
            won = [
                c.provider.home.name == "China"
                for c in model.contracts
                if int(c.start) >= 2019 and c.tender.government.us_security_partner == partners
            ]
            return sum(won) / len(won)

        return measure

    partners_gain = _mean(title, share_among(True), us_pressure=0.0) - _mean(
        title, share_among(True)
    )
    others_gain = _mean(title, share_among(False), us_pressure=0.0) - _mean(
        title, share_among(False)
    )
    assert partners_gain > 0.05
    assert partners_gain > others_gain + 0.05


def test_export_controls_cut_huaweis_share_after_they_bite():
    title = find_lesson("4. Export controls").title

    def late(model):
        return _new_china_share(model, 2026, 2032)

    assert _mean(title, late, export_controls=False) > _mean(title, late) + 0.05


def test_coercion_splits_governments_and_spends_leverage():
    title = find_lesson("5. The coercion dilemma").title
    for seed in SEEDS[:2]:
        model = run_lesson(title, seed)
        outcomes = model.coercion_outcomes["China"]
        assert outcomes["complied"] > 0 and outcomes["backlash"] > 0
        leverage = model.datacollector.get_model_vars_dataframe().set_index("year")[
            "leverage_China"
        ]
        assert leverage[2026] < leverage[2025] - 0.03


# --- what the guide says the screen shows, over the seeds the app uses --------------------


@pytest.fixture(scope="module")
def claims():
    """Every claim of the guide, run as written (the ghost) and with its Try, for each seed
    of the app's "5 seeds" band."""
    return claim_results()


def test_the_guides_table_of_what_the_screen_shows_is_generated_from_the_app(claims):
    assert embedded_table(DOC.read_text(encoding="utf-8")) == render_table(), (
        "docs/teaching.md's claims table is stale: run python -m sim.app.teaching"
    )


@pytest.mark.parametrize(
    "index", range(len(CLAIMS)), ids=[f"{c.lesson}-{c.reading[:40]}" for c in CLAIMS]
)
def test_each_try_moves_the_screen_against_the_ghost_the_way_the_guide_says(claims, index):
    result = claims[index]
    claim = result.claim
    where = "in every seed" if claim.every_seed else "on average over the seeds"
    assert result.holds, (
        f"lesson {claim.lesson}, {claim.reading}: ghost {result.ghost}, "
        f"after the Try {result.tried}; the guide says "
        f"{'up' if claim.direction > 0 else 'down' if claim.direction else 'same'}"
        f" {where}"
    )


def test_the_threat_costs_china_leverage_that_never_comes_back_in_any_app_seed():
    before, threat_year, end = (values for _, values in leverage_results())
    for seed_index, seed in enumerate(APP_SEEDS):
        assert threat_year[seed_index] < before[seed_index], f"seed {seed}: no fall in 2026"
        assert end[seed_index] < before[seed_index], f"seed {seed}: leverage came back"


def test_each_lessons_try_names_the_levers_the_guide_tests():
    for claim in [claim for claim in CLAIMS if claim.lesson != "baseline"]:
        named = lesson_controls(lesson_title(claim.lesson))
        for field in claim.levers:
            label = next(c.label for c in LEVER_CONTROLS if c.field == field)
            assert label in named, f"lesson {claim.lesson}'s Try does not name {label!r}"
