"""The round engine: one shared model per session, played in rounds by a class.

A ``Game`` holds the session (roles, claims, rounds, decisions, events), the shared model and the
screens' views. The model is paused just before each round's first date; when the round closes
(countdown over, teacher's advance, or every claimed role submitted) the decisions are written
into the class's scenario file, the model continues under that scenario
(``CloudRaceModel.continue_as``, as ``sim.branching`` forks) to just before the next round, and
new views are built. Because decisions only ever enter through the scenario, running the saved
``scenario.yaml`` from the start reproduces the game (``tests/test_game_engine.py`` checks it).

Rules a player meets:
- a role is claimed by one player, who gets a secret token; only that token acts for the role;
- a submission names the round it answers: a late one (the round has closed) or a bad one (a
  value out of range, a tender not on the card) is refused with a message and changes nothing;
- a role that submits nothing keeps the model's own decisions for the round;
- unclaimed roles are played by the model.

Every method is safe to call from several threads (one per browser connection); each change
bumps ``version`` and wakes ``wait_for_change``, which is how every screen learns of it.
"""

from __future__ import annotations

import json
import pickle
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.branching import FORK_EPSILON
from sim.errors import UserError
from sim.game import store
from sim.game.decisions import DecisionError, check_decision
from sim.game.roles import DEFAULT_GOVERNMENTS, Role, available_roles
from sim.game.scenario_file import RoundRecord, class_scenario, merged_settings
from sim.game.views import (
    government_card,
    provider_card,
    state_card,
    tender_record,
    world_view,
)
from sim.model import CloudRaceModel, CloudRaceScenario
from sim.runner import replication_seeds
from sim.scenario import load_scenario

CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Join-code alphabet: no 0/O or 1/I to misread on a projector."""
EVENT_KINDS = ("export_control", "coercion", "incident", "ban")


class GameError(ValueError):
    """A request the game refuses (bad code, taken role, late or bad submission)."""


def game_seed(root_seed: int) -> int:
    """The model's seed: replication 0 of the root, as ``cloudrace run -n 1`` draws it."""
    return replication_seeds(root_seed, 1)[0]


class Game:
    """A class's game: session state, shared model and views, behind one lock."""

    def __init__(
        self, folder: Path, state: dict[str, Any], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.folder = folder
        self.state = state
        self.clock = clock
        self.lock = threading.RLock()
        self.changed = threading.Condition()
        self.version = 0
        self.lesson_path = Path(state["lesson"])
        self.lesson = load_scenario(self.lesson_path)
        self.played = [RoundRecord(**record) for record in state["played"]]
        self.current = RoundRecord(0.0, 0.0, **state["current"])
        self.debrief: dict[str, Any] | None = None
        self.messages: list[str] = []
        self._start_model()

    # --- creating and resuming ----------------------------------------------------------

    @classmethod
    def open(
        cls,
        sessions: Path,
        name: str,
        lesson: Path,
        first_year: int,
        rounds: int,
        period: float = 1.0,
        round_seconds: int = 300,
        seed: int | None = None,
        governments: tuple[str, ...] = DEFAULT_GOVERNMENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> Game:
        """Resume the session saved in ``sessions/name``, or start it with these settings."""
        folder = store.session_folder(sessions, name)
        if (folder / store.SESSION_FILE).is_file():
            return cls.resume(folder, clock)
        if rounds < 1 or period <= 0 or round_seconds < 10:
            raise UserError(
                f"--rounds {rounds}, --period {period:g}, --round-seconds "
                f"{round_seconds}: expected at least 1 round, a period above 0 "
                "and at least 10 seconds a round"
            )
        settings = load_scenario(lesson)
        last = first_year + rounds * period
        if not settings.run.start_year < first_year or last > settings.run.end_year + 1:
            raise UserError(
                f"--first-year {first_year} with {rounds} round(s) of {period:g} "
                f"year(s): expected the game within {lesson}'s run "
                f"({settings.run.start_year + 1} to {settings.run.end_year})"
            )
        state = {
            "format": 1,
            "name": name,
            "lesson": str(Path(lesson).resolve()),
            "seed": settings.run.seed if seed is None else seed,
            "first_year": first_year,
            "rounds": rounds,
            "period": period,
            "round_seconds": round_seconds,
            "governments": list(governments),
            "join_code": "".join(secrets.choice(CODE_LETTERS) for _ in range(6)),
            "teacher_key": secrets.token_urlsafe(16),
            "claims": {},
            "played": [],
            "current": {"decisions": {}, "events": []},
        }
        game = cls(folder, state, clock)
        game.save()
        return game

    @classmethod
    def resume(cls, folder: Path, clock: Callable[[], float] = time.monotonic) -> Game:
        """The session saved in ``folder``, as it was (the countdown starts again)."""
        return cls(folder, store.load_session(folder), clock)

    def _start_model(self) -> None:
        """Build the model, run it to the first round and replay the rounds already played."""
        self.seed = game_seed(self.state["seed"])
        self.start_year = self.lesson.run.start_year
        self.model = CloudRaceModel(CloudRaceScenario.from_settings(self.lesson, rng=self.seed))
        self._run_to(self.state["first_year"])
        self.first_round_snapshot = pickle.dumps(self.model)
        names = {government.iso3: government.name for government in self.model.governments}
        self.roles: dict[str, Role] = {
            role.name: role
            for role in available_roles(
                self.lesson, names, governments=tuple(self.state["governments"])
            )
        }
        self.held: list[dict[str, Any]] = []
        for index in range(len(self.played)):
            self._continue(self.played[: index + 1])
        if self.finished:
            self._make_debrief()
        else:
            self._open_round()

    # --- reading the state ---------------------------------------------------------------

    @property
    def round_index(self) -> int:
        """The open round, counted from 0 (equal to ``rounds`` once the game is over)."""
        return len(self.played)

    @property
    def finished(self) -> bool:
        return self.round_index >= self.state["rounds"]

    @property
    def join_code(self) -> str:
        return self.state["join_code"]

    def round_dates(self, index: int) -> tuple[float, float]:
        """First date and end (exclusive) of round ``index``."""
        start = self.state["first_year"] + index * self.state["period"]
        return start, start + self.state["period"]

    def check_code(self, code: str | None) -> bool:
        """Whether ``code`` is this session's join code (case and spaces ignored)."""
        return bool(code) and secrets.compare_digest(
            "".join(str(code).split()).upper(), self.join_code
        )

    def is_teacher(self, key: str | None) -> bool:
        return bool(key) and secrets.compare_digest(str(key), self.state["teacher_key"])

    def role_of(self, token: str | None) -> str | None:
        """The role a player's token acts for, or ``None``."""
        if not token:
            return None
        for role, claim in self.state["claims"].items():
            if secrets.compare_digest(claim["token"], str(token)):
                return role
        return None

    def seconds_left(self) -> float:
        """Seconds before the countdown closes the round (0 once it has)."""
        return max(0.0, self.deadline - self.clock()) if not self.finished else 0.0

    def submitted(self) -> set[str]:
        return set(self.current.decisions)

    # --- players ---------------------------------------------------------------------------

    def claim(self, role: str, player: str, code: str | None) -> str:
        """Take a free role; returns the player's secret token."""
        with self.lock:
            if not self.check_code(code):
                raise GameError("wrong join code: ask your teacher for the code on the board")
            if role not in self.roles:
                raise GameError(f"no role {role!r} in this game")
            if role in self.state["claims"]:
                raise GameError(f"{self.roles[role].title} is taken: choose another role")
            player = " ".join(str(player).split())[:40]
            if not player:
                raise GameError("enter your name (or your group's) first")
            token = secrets.token_urlsafe(16)
            self.state["claims"][role] = {"player": player, "token": token}
            self._changed(save=True)
            return token

    def release(self, role: str) -> None:
        """Teacher: free a role (its player's token stops working; decisions made so far stay)."""
        with self.lock:
            self.state["claims"].pop(role, None)
            self.current.decisions.pop(role, None)
            self._changed(save=True)

    def submit(self, token: str | None, round_number: int, values: dict[str, Any]) -> str:
        """A player's decision for round ``round_number`` (counted from 1); returns a receipt.

        Raises ``GameError`` (and changes nothing) for an unknown token, a round that is not
        open, or a form that does not check.
        """
        with self.lock:
            role = self.role_of(token)
            if role is None:
                raise GameError("this screen does not hold a role: join again with the code")
            if self.finished:
                raise GameError("the game is over: nothing more can be submitted")
            if round_number != self.round_index + 1:
                raise GameError(
                    f"round {round_number} is closed (now: round "
                    f"{self.round_index + 1}); your decision was not used"
                )
            kind = self.roles[role].kind
            tenders = {
                tender["id"]: [bid["provider"] for bid in tender["bids"]]
                for tender in self.cards[role].get("tenders", [])
            }
            try:
                form = check_decision(kind, values, tenders)
            except DecisionError as error:
                raise GameError(f"not submitted: {error}") from None
            self.current.decisions[role] = form.model_dump(exclude_none=True)
            claimed = set(self.state["claims"])
            if claimed and claimed <= self.submitted():
                self._close_round()
                return (
                    f"round {round_number}: decision received; every player has "
                    "submitted, so the round is closed"
                )
            self._changed(save=True)
            return (
                f"round {round_number}: decision received (you can change it until the "
                "round closes)"
            )

    # --- the teacher -----------------------------------------------------------------------

    def extend(self, seconds: float) -> None:
        """Give the open round more time."""
        with self.lock:
            if not self.finished:
                self.deadline = max(self.deadline, self.clock()) + seconds
                self._changed()

    def advance(self) -> None:
        """Close the open round now."""
        with self.lock:
            if not self.finished:
                self._close_round()

    def tick(self) -> None:
        """Close the round if its countdown is over (the server calls this every moment)."""
        with self.lock:
            if not self.finished and self.clock() >= self.deadline:
                self._close_round()

    def inject(self, event: dict[str, str]) -> str:
        """Add an event to the open round, dated at its first date; returns a description."""
        with self.lock:
            if self.finished:
                raise GameError("the game is over")
            kind = event.get("kind")
            if kind not in EVENT_KINDS:
                raise GameError(f"event kind: expected one of {', '.join(EVENT_KINDS)}")
            if (
                kind in ("export_control", "coercion")
                and event.get("state") not in self.lesson.states
            ):
                raise GameError(f"state: expected one of {', '.join(self.lesson.states)}")
            providers = self.lesson.providers
            if (
                kind in ("export_control", "incident", "ban")
                and event.get(key := "target" if kind == "export_control" else "provider")
                not in providers
            ):
                raise GameError(f"{key}: expected one of {', '.join(providers)}")
            if kind in ("incident", "ban") and event.get("country") not in {
                g.iso3 for g in self.model.governments
            }:
                raise GameError("country: expected the ISO3 code of a government in the game")
            clean = {
                key: str(value)
                for key, value in event.items()
                if key in ("kind", "state", "target", "provider", "country")
            }
            self.current.events.append(clean)
            self._changed(save=True)
            return describe_event(clean)

    # --- rounds ----------------------------------------------------------------------------

    def _run_to(self, year: float) -> None:
        self.model.run_until(year - self.start_year - FORK_EPSILON)

    def _open_round(self) -> None:
        """Views for the round about to be played: a forecast run on a copy of the model."""
        start, end = self.round_dates(self.round_index)
        forecast_model: CloudRaceModel = pickle.loads(pickle.dumps(self.model))
        forecast: list[dict[str, Any]] = []
        _capture_tenders(forecast_model, forecast)
        forecast_model.run_until(end - self.start_year - FORK_EPSILON)
        last = self.round_dates(self.round_index - 1) if self.round_index else None
        cards = {}
        for name, role in self.roles.items():
            if role.kind == "state":
                cards[name] = state_card(self.model, name, self.lesson, start, last)
            elif role.kind == "provider":
                cards[name] = provider_card(self.model, name, forecast, last)
            else:
                cards[name] = government_card(self.model, name, forecast, self.held)
        self.cards = cards
        self.world = world_view(self.model, self.state["first_year"])
        self.deadline = self.clock() + self.state["round_seconds"]

    def branch(self, settings, end: float) -> CloudRaceModel:
        """The world from the first round on under ``settings``, to just before ``end``.

        Every run the debrief makes shares the history before the first round (no decision
        reaches back before it), so it starts from that moment (as ``sim.branching`` forks).
        """
        model: CloudRaceModel = pickle.loads(self.first_round_snapshot)
        model.continue_as(settings)
        model.run_until(end - self.start_year - FORK_EPSILON)
        return model

    def _continue(self, rounds: list[RoundRecord]) -> None:
        """Write the scenario of ``rounds`` and run the model through the last of them."""
        settings = self.write_scenario(rounds)
        self.model.continue_as(settings)
        self.held = []
        _capture_tenders(self.model, self.held)
        try:
            self._run_to(rounds[-1].end)
        finally:
            del self.model.record_tender  # back to the class's method (and picklable)

    def _close_round(self) -> None:
        start, end = self.round_dates(self.round_index)
        self.current.start, self.current.end = start, end
        self.played.append(self.current)
        self.current = RoundRecord(0.0, 0.0)
        self._continue(self.played)
        if self.finished:
            self._make_debrief()
        else:
            self._open_round()
        self._changed(save=True)

    def _make_debrief(self) -> None:
        from sim.game.debrief import make_debrief

        self.debrief = make_debrief(self)
        store.write_atomic(
            self.folder / "debrief.json", json.dumps(self.debrief, indent=1, sort_keys=True)
        )

    def write_scenario(
        self,
        rounds: list[RoundRecord],
        name: str = store.SCENARIO_FILE,
        leave_out: frozenset[str] = frozenset(),
        with_events: bool = True,
    ):
        """Write the class's scenario for ``rounds`` into the session folder; its settings."""
        path = self.folder / name
        kinds = {name: role.kind for name, role in self.roles.items()}
        scenario = class_scenario(
            self.lesson_path,
            self.lesson,
            path.parent,
            self.state["seed"],
            rounds,
            kinds,
            f"Classroom game {self.state['name']}: {len(rounds)} round(s) from "
            f"{self.state['first_year']}"
            + (f", without {', '.join(sorted(leave_out))}" if leave_out else "")
            + ("" if with_events else ", without the teacher's events"),
            leave_out=leave_out,
            with_events=with_events,
        )
        store.save_scenario(
            path,
            scenario,
            "Written by `cloudrace classroom`: replay with "
            "`cloudrace run` (one replication reproduces the class's world).",
        )
        return merged_settings(self.lesson, scenario)

    # --- notifying and saving --------------------------------------------------------------

    def touch(self) -> None:
        """Wake every screen: something they show changed outside the session (who is
        connected)."""
        self._changed()

    def _changed(self, save: bool = False) -> None:
        if save:
            self.save()
        with self.changed:
            self.version += 1
            self.changed.notify_all()

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Block until ``version`` differs from ``seen`` (or ``timeout`` s); returns it."""
        with self.changed:
            self.changed.wait_for(lambda: self.version != seen, timeout=timeout)
            return self.version

    def save(self) -> None:
        """Write ``session.json`` (atomically)."""
        self.state["played"] = [vars(record) for record in self.played]
        self.state["current"] = {"decisions": self.current.decisions, "events": self.current.events}
        store.save_session(self.folder, self.state)


def _capture_tenders(model: CloudRaceModel, log: list[dict[str, Any]]) -> None:
    """Keep a record of every tender the model holds from now (an instance-level wrapper)."""
    original = type(model).record_tender.__get__(model)

    def record(tender, bids, winner) -> None:
        original(tender, bids, winner)
        log.append(tender_record(model, tender, bids, winner))

    model.record_tender = record


def describe_event(event: dict[str, str]) -> str:
    """One line for the screens and the debrief."""
    kind = event["kind"]
    if kind == "export_control":
        return f"{event['state']} imposes an export control on {event['target']}"
    if kind == "coercion":
        return f"{event['state']} threatens governments over which its leverage is high"
    if kind == "incident":
        return f"security incident on {event['provider']}'s contracts in {event['country']}"
    return f"sanctions decision: {event['country']} bars {event['provider']}"
