"""Common random numbers in the app: a lever change replays the run on the same random history.

The app forks a run at a lever change (``sim.app.runs.replay``: the model as it stands, the same
seed), so the run after the change differs from the one before it only through the lever. These
tests play a lesson twice from the same seed, once as it is and once with a lever that touches
only the US (more US loans) from ``FORK`` years on, recording every tender as it is held.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sim.app.classroom import Levers
from sim.app.runs import RunKey, compute_run, replay
from sim.government import Government

LESSON = "2. The loan that wins the tender"
SEED = 1
FORK = 12
US_ONLY = Levers(us_financing_usd_m=1000.0)
FORKED = ((0, Levers()), (FORK, US_ONLY))


@dataclass(frozen=True)
class Held:
    """One tender as a government held it, with its bids and the random draws it carries."""

    time: float
    country: str
    kind: str
    value: float
    needs_hardware: bool
    renewal: bool
    bids: tuple[tuple, ...]
    draws: object

    @property
    def tender(self) -> tuple:
        return (self.country, self.kind, self.value, self.needs_hardware)

    @property
    def award(self) -> tuple | None:
        return next((bid for bid in self.bids if bid[-1]), None)


def play(key: RunKey, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Held], object]:
    """Every tender held when the app plays ``key``, in order, and the model at the end."""
    held: list[Held] = []
    hold = Government.hold_tender

    def recording(government, tender):
        log = government.model.tender_log
        start = len(log)
        hold(government, tender)
        bids = tuple(
            (row["provider"], row["price_usd_m"], row["loan_usd_m"], row["won"])
            for row in log[start:]
            if row["provider"]
        )
        held.append(
            Held(
                round(float(government.model.year), 9),
                government.iso3,
                tender.kind,
                tender.value,
                tender.needs_hardware,
                tender.renewal,
                bids,
                getattr(tender, "draws", None),
            )
        )

    monkeypatch.setattr(Government, "hold_tender", recording)
    *_, (model, _, _) = replay(key, record_tenders=True)
    return held, model


@pytest.fixture(scope="module")
def runs():
    """The lesson as written and with more US loans from ``FORK`` on: (tenders held, model)."""
    played = []
    for key in (RunKey(LESSON, SEED, ((0, Levers()),)), RunKey(LESSON, SEED, FORKED)):
        with pytest.MonkeyPatch.context() as monkeypatch:
            played.append(play(key, monkeypatch))
    return played


def test_the_fork_replays_the_run_before_it_up_to_the_lever_change(runs):
    (held_before, model_before), (held_after, model_after) = runs
    fork_year = model_before.start_year + FORK
    assert [h for h in held_before if h.time < fork_year] == [
        h for h in held_after if h.time < fork_year
    ]
    before = compute_run(RunKey(LESSON, SEED, ((0, Levers()),)))
    after = compute_run(RunKey(LESSON, SEED, FORKED))
    assert before.series.iloc[:FORK].equals(after.series.iloc[:FORK])
    assert before.views[: FORK + 1] == after.views[: FORK + 1]
    # and the lever did something afterwards
    assert [h.award for h in held_before] != [h.award for h in held_after]


def test_a_us_lever_change_keeps_every_new_tender(runs):
    (held_before, _), (held_after, _) = runs

    def new_tenders(held):
        return sorted({h.tender for h in held if not h.renewal})

    assert len(new_tenders(held_before)) > 100
    assert new_tenders(held_before) == new_tenders(held_after)


def test_tenders_no_us_provider_bid_on_are_decided_alike_until_an_award_differs(runs):
    """In the year of the change, the tenders the US providers did not bid on are decided as
    before until the first tender whose award differs (after it, budgets and installed bases
    differ too, so a difference there is the lever's through the state, not chance's)."""
    (held_before, model), (held_after, _) = runs
    fork_year = model.start_year + FORK
    year_before = [h for h in held_before if fork_year <= h.time < fork_year + 1]
    year_after = {(h.time, h.tender): h for h in held_after if fork_year <= h.time < fork_year + 1}
    us = {provider.name for provider in model.providers if provider.home.name == "US"}
    compared = 0
    for held in year_before:
        other = year_after.get((held.time, held.tender))
        if other is None or other.award != held.award:
            break
        if not {bid[0] for bid in held.bids + other.bids} & us:
            assert other == held
            compared += 1
    assert compared >= 2, "the test's lesson, seed and fork no longer reach such tenders"


def test_every_tender_carries_the_same_random_draws_after_a_lever_change(runs):
    (held_before, _), (held_after, _) = runs
    draws_before = {h.tender: h.draws for h in held_before if not h.renewal}
    draws_after = {h.tender: h.draws for h in held_after if not h.renewal}
    assert None not in draws_before.values(), "tenders carry no draws of their own"
    assert draws_before == draws_after
