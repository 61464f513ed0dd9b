"""The classroom game's round engine, without a browser: claims, tokens, rounds, replay.

A small world (a dozen governments, more tenders than the baseline so every played government
has some) keeps each game to a fraction of a second.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.branching import FORK_EPSILON
from sim.cli import main
from sim.errors import UserError
from sim.game.debrief import outcomes
from sim.game.engine import Game, GameError
from sim.model import BASELINE, CloudRaceModel, CloudRaceScenario
from sim.runner import contracts_table
from sim.scenario import load_scenario

COUNTRIES = ["KEN", "IDN", "BRA", "SAU", "ZMB", "NGA", "GHA", "EGY", "VNM", "MEX", "PAK", "ETH"]
LATER = ["troubled", "trouble_kind", "cancelled"]


def run_until_end(settings, seed: int, end: float) -> CloudRaceModel:
    """A run from the lesson's start (no fork) to just before ``end``."""
    model = CloudRaceModel(CloudRaceScenario.from_settings(settings, rng=seed))
    model.run_until(end - settings.run.start_year - FORK_EPSILON)
    return model


class Clock:
    """A hand-moved clock for the countdown."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def lesson(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lesson") / "small.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "extends": str(BASELINE),
                "description": "A small world for the game's tests.",
                "population": {"only": COUNTRIES},
                "demand": {"tender_rate": 1.5},
            }
        )
    )
    return path


def new_game(tmp_path: Path, lesson: Path, clock=None, rounds: int = 3) -> Game:
    return Game.open(
        tmp_path / "sessions",
        "class",
        lesson,
        2025,
        rounds,
        round_seconds=120,
        clock=clock or Clock(),
    )


@pytest.fixture
def game(tmp_path, lesson) -> Game:
    return new_game(tmp_path, lesson)


def tokens(game: Game, roles=("China", "US", "AWS", "Huawei", "KEN", "IDN")) -> dict[str, str]:
    return {role: game.claim(role, f"player {role}", game.join_code) for role in roles}


def first_choice(game: Game, country: str, loser: bool = True) -> dict[str, str]:
    """A choice for the government's first tender with bids: a bid the model would not pick."""
    for tender in game.cards[country]["tenders"]:
        bids = sorted(tender["bids"], key=lambda bid: bid["chance"])
        if bids:
            return {tender["id"]: bids[0]["provider"] if loser else ""}
    return {}


def play(game: Game, who: dict[str, str]) -> None:
    """Three rounds in which every kind of decision and event is taken."""
    game.submit(who["China"], 1, {"financing_budget_usd_m": 1500.0, "promotion": 1.0})
    game.submit(who["AWS"], 1, {"markup_shift": -0.2, "stays_out_of": ["Africa"]})
    game.submit(who["KEN"], 1, {"choices": first_choice(game, "KEN")})
    game.inject({"kind": "export_control", "state": "US", "target": "Huawei"})
    game.advance()
    game.submit(
        who["US"],
        2,
        {
            "financing_budget_usd_m": 900.0,
            "subsidy_rate": 0.2,
            "subsidy_budget_usd_m": 300.0,
            "security_pressure": 1.0,
        },
    )
    game.submit(who["IDN"], 2, {"choices": first_choice(game, "IDN", loser=False)})
    game.inject({"kind": "ban", "country": "NGA", "provider": "Huawei"})
    game.inject({"kind": "incident", "country": "KEN", "provider": "Huawei"})
    game.advance()
    game.submit(who["Huawei"], 3, {"markup_shift": 0.1})
    game.inject({"kind": "coercion", "state": "China"})
    game.advance()


@pytest.fixture(scope="module")
def played(tmp_path_factory, lesson) -> Game:
    """A game of three rounds played to the debrief, shared by the tests that only read it."""
    game = new_game(tmp_path_factory.mktemp("played"), lesson)
    play(game, tokens(game))
    return game


def test_one_player_per_role_and_the_code_is_required(game):
    token = game.claim("China", "Ana", game.join_code.lower())
    assert game.role_of(token) == "China"
    with pytest.raises(GameError, match="taken"):
        game.claim("China", "Ben", game.join_code)
    with pytest.raises(GameError, match="join code"):
        game.claim("US", "Ben", "WRONG1")
    with pytest.raises(GameError, match="no role"):
        game.claim("Atlantis", "Ben", game.join_code)


def test_a_player_acts_only_for_their_own_role(game):
    who = tokens(game)
    # China's token carries a state's form: a provider's field is refused, and nothing counts.
    with pytest.raises(GameError, match="markup_shift: not a field"):
        game.submit(who["China"], 1, {"markup_shift": -0.3})
    with pytest.raises(GameError, match="does not hold a role"):
        game.submit("forged-token", 1, {"financing_budget_usd_m": 0.0})
    game.submit(who["US"], 1, {"promotion": 1.0})
    assert game.current.decisions == {"US": {"promotion": 1.0}}


def test_bad_and_late_submissions_change_nothing(game):
    who = tokens(game)
    game.submit(who["China"], 1, {"promotion": 0.8})
    before = (json.dumps(game.current.decisions), game.version)
    bad = [
        (who["China"], {"promotion": 2.0}, "promotion: expected a number <= 1"),
        (who["China"], {"promotion": "lots"}, "promotion: expected a number"),
        (who["AWS"], {"stays_out_of": ["Antarctica"]}, "expected one of Africa"),
        (who["KEN"], {"choices": {"1999:1": "AWS"}}, "no such tender on your card"),
    ]
    for token, values, message in bad:
        with pytest.raises(GameError, match=message):
            game.submit(token, 1, values)
    assert (json.dumps(game.current.decisions), game.version) == before
    game.advance()
    with pytest.raises(GameError, match="round 1 is closed"):
        game.submit(who["China"], 1, {"promotion": 0.1})
    assert game.current.decisions == {}
    assert game.played[0].decisions == {"China": {"promotion": 0.8}}


def test_the_round_closes_when_every_player_has_submitted(game):
    who = tokens(game, ("China", "US"))
    game.submit(who["China"], 1, {})
    assert game.round_index == 0
    assert "every player has submitted" in game.submit(who["US"], 1, {})
    assert game.round_index == 1


def test_the_countdown_closes_the_round_and_the_teacher_can_extend_it(tmp_path, lesson):
    clock = Clock()
    game = new_game(tmp_path, lesson, clock)
    clock.now = 100.0
    game.extend(60)
    clock.now = 150.0
    game.tick()
    assert game.round_index == 0 and game.seconds_left() == pytest.approx(30.0)
    clock.now = 181.0
    game.tick()
    assert game.round_index == 1


def test_nobody_submitting_is_the_models_own_run(game):
    for _ in range(3):
        game.advance()
    own = run_until_end(game.lesson, game.seed, 2028)
    assert len(game.model.contracts) > 30
    assert contracts_table(game.model).equals(contracts_table(own))
    assert game.debrief["class"] == game.debrief["model"]


def test_a_states_decision_is_a_dated_step_for_its_round_only(game):
    who = tokens(game)
    game.submit(who["China"], 1, {"financing_budget_usd_m": 1500.0})
    game.advance()
    steps = yaml.safe_load((game.folder / "scenario.yaml").read_text())["states"]["China"][
        "financing_budget_usd_m"
    ]
    lesson_value = game.lesson.states["China"].financing_budget_usd_m[2020]
    assert steps[2025] == 1500 and steps[2026] == pytest.approx(lesson_value)
    assert game.model.states["China"].financing_budget_usd_m == pytest.approx(1500.0)
    game.advance()
    assert game.model.states["China"].financing_budget_usd_m == pytest.approx(lesson_value)


def test_a_provider_that_stays_out_of_a_region_makes_no_bid_there(game):
    who = tokens(game)
    game.submit(
        who["AWS"], 1, {"stays_out_of": ["Asia", "Americas", "Middle East", "Africa", "Europe"]}
    )
    game.advance()
    assert game.held, "no tender held in the round"
    assert not [bid for tender in game.held for bid in tender["bids"] if bid["provider"] == "AWS"]


def test_a_governments_choice_picks_the_bid_it_names(game):
    who = tokens(game)
    choice = first_choice(game, "KEN")
    assert choice, "Kenya has no tender with bids on its card"
    game.submit(who["KEN"], 1, {"choices": choice})
    game.advance()
    ((tender_id, provider),) = choice.items()
    held = {tender["id"]: tender for tender in game.held if tender["country"] == "KEN"}
    bidders = [bid["provider"] for bid in held[tender_id]["bids"]]
    assert provider in bidders  # the forecast held: the same bids came in
    assert held[tender_id]["winner"] == provider


def test_replaying_the_saved_scenario_reproduces_the_games_contracts(played):
    game = played
    saved = load_scenario(game.folder / "scenario.yaml")
    assert saved.hand.bidding and saved.hand.choices and saved.hand.events
    replay = run_until_end(saved, game.seed, 2028)
    game_contracts = contracts_table(game.model)
    assert len(game_contracts) > 30
    assert game_contracts.equals(contracts_table(replay))
    assert not game_contracts.equals(contracts_table(run_until_end(game.lesson, game.seed, 2028)))


def test_cloudrace_run_replays_the_saved_game(played, tmp_path):
    game = played
    out = tmp_path / "replay"
    assert (
        main(["run", str(game.folder / "scenario.yaml"), "--no-figures", "-q", "--out", str(out)])
        == 0
    )
    replayed = pd.read_csv(out / "contracts.csv")
    replayed = replayed[replayed["time"] < 2028].drop(columns=["replication", "seed", *LATER])
    played = contracts_table(game.model).drop(columns=LATER)
    assert len(played) == len(replayed)
    assert played["provider"].tolist() == replayed["provider"].tolist()
    assert played["time"].round(6).tolist() == replayed["time"].round(6).tolist()
    assert played["price_usd_m"].round(4).tolist() == replayed["price_usd_m"].round(4).tolist()


def test_a_session_saved_mid_game_continues_where_it_stopped(tmp_path, lesson):
    game = new_game(tmp_path, lesson)
    who = tokens(game)
    game.submit(who["China"], 1, {"promotion": 1.0})
    game.advance()
    game.submit(who["US"], 2, {"security_pressure": 1.0})  # submitted, round still open
    resumed = new_game(tmp_path, lesson)
    assert resumed.round_index == 1 and resumed.role_of(who["US"]) == "US"
    assert resumed.current.decisions == {"US": {"security_pressure": 1.0}}
    assert contracts_table(resumed.model).equals(contracts_table(game.model))
    for each in (game, resumed):
        each.advance()
        each.advance()
    assert contracts_table(resumed.model).equals(contracts_table(game.model))
    assert (resumed.folder / "debrief.json").is_file()


def test_the_debrief_ranks_the_decisions_that_moved_the_outcome(played):
    game = played
    debrief = game.debrief
    assert debrief["class"] != debrief["model"]
    moved = [row["role"] for row in debrief["moved"]]
    assert set(moved) == {"China", "US", "AWS", "Huawei", "KEN", "IDN", "events"}
    sizes = [abs(row["share_points"]) for row in debrief["moved"]]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 0
    assert (game.folder / "debrief" / "without-AWS.yaml").is_file()
    # The debrief's runs fork at the first round; unforked runs give the same worlds.
    own = run_until_end(game.lesson, game.seed, 2028)
    assert debrief["model"] == outcomes(own, 2025, ["KEN", "IDN", "BRA", "SAU", "ZMB"])
    without_aws = load_scenario(game.folder / "debrief" / "without-AWS.yaml")
    aws_row = next(row for row in debrief["moved"] if row["role"] == "AWS")
    share = outcomes(run_until_end(without_aws, game.seed, 2028), 2025, [])["state_share"]
    assert aws_row["share_points"] == round(
        100 * (debrief["class"]["state_share"]["China"] - share["China"]), 1
    )
    with pytest.raises(GameError, match="over"):
        game.submit(game.state["claims"]["China"]["token"], 4, {})


def test_session_names_cannot_leave_the_session_folder(tmp_path, lesson):
    for name in ("../escape", "a/b", ".hidden", ""):
        with pytest.raises(UserError, match="session name"):
            Game.open(tmp_path, name, lesson, 2025, 3)


def test_bad_events_are_refused(game):
    for event, message in (
        ({"kind": "meteor"}, "event kind"),
        ({"kind": "coercion", "state": "Atlantis"}, "state"),
        ({"kind": "ban", "country": "FRA", "provider": "Huawei"}, "country"),
        ({"kind": "incident", "country": "KEN", "provider": "IBM"}, "provider"),
    ):
        with pytest.raises(GameError, match=message):
            game.inject(event)
    assert game.current.events == []
