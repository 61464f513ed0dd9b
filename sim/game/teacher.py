"""The teacher's screen: join code and address, players, the round's controls, events, debrief.

The world map is ``sim.app.map``'s drawing of the shared model, redrawn once per round.
"""

from __future__ import annotations

import io
from typing import Any

import solara

from sim.app.map import world_map_figure
from sim.game.app import Countdown, Markdown
from sim.game.engine import Game, GameError, describe_event
from sim.game.presence import PRESENCE

MAP_DELAY_SECONDS = 2.0
EVENT_LABELS = {
    "export_control": "Export control",
    "coercion": "Coercion threat",
    "incident": "Security incident",
    "ban": "Sanctions decision",
}


@solara.component
def TeacherScreen(game: Game, address: str, version: int) -> None:
    """Everything the teacher runs the game from."""
    with solara.Row(style={"align-items": "baseline", "gap": "32px", "flex-wrap": "wrap"}):
        solara.Text(
            f"Join code: {game.join_code}",
            classes=["game-join-code"],
            style={"font-size": "2em", "font-weight": "bold"},
        )
        solara.Text(f"Students open {address or 'this server'} and type the code.")
    if game.finished:
        Debrief(game, version)
        return
    start, end = game.round_dates(game.round_index)
    with solara.Row(style={"align-items": "baseline", "gap": "24px"}):
        solara.Text(
            f"Round {game.round_index + 1} of {game.state['rounds']}: {start:g} to {end:g}",
            classes=["game-round"],
            style={"font-size": "1.3em"},
        )
        Countdown(game)
        solara.Button("Close the round now", on_click=game.advance, color="primary")
        solara.Button("+1 minute", on_click=lambda: game.extend(60))
    with solara.Columns([5, 7]):
        with solara.Column():
            Players(game, version)
            Events(game, version)
        with solara.Column():
            World(game, version)


@solara.component
def Players(game: Game, version: int) -> None:
    """Who has joined each role, who is connected now and who has submitted this round."""
    claims, submitted, connected = game.state["claims"], game.submitted(), PRESENCE.connected()

    def row(name: str, title: str) -> str:
        if name not in claims:
            return f"| {title} | (the model) | | |\n"
        return (
            f"| {title} | {claims[name]['player']} | "
            f"{'connected' if name in connected else 'disconnected'} | "
            f"{'yes' if name in submitted else 'no'} |\n"
        )

    rows = "".join(row(name, role.title) for name, role in game.roles.items())
    Markdown("### Players\n| Role | Played by | Now | Submitted |\n|---|---|---|---|\n" + rows)
    with solara.Row(style={"flex-wrap": "wrap"}):
        for name in claims:
            solara.Button(f"Free {name}", text=True, on_click=lambda n=name: game.release(n))


@solara.component
def Events(game: Game, version: int) -> None:
    """Inject an event into the open round (dated at its first day)."""
    kind, set_kind = solara.use_state("export_control")
    state, set_state = solara.use_state("US")
    provider, set_provider = solara.use_state("Huawei")
    country, set_country = solara.use_state(game.model.governments[0].iso3)
    message, set_message = solara.use_state("")

    def inject() -> None:
        event = {
            "kind": kind,
            "state": state,
            "target": provider,
            "provider": provider,
            "country": country,
        }
        try:
            set_message("Injected: " + game.inject(event))
        except GameError as error:
            set_message(f"Not injected: {error}")

    Markdown("### Inject an event")
    with solara.ToggleButtonsSingle(kind, on_value=set_kind):
        for value, label in EVENT_LABELS.items():
            solara.Button(label, value=value)
    if kind in ("export_control", "coercion"):
        solara.ToggleButtonsSingle(state, values=list(game.lesson.states), on_value=set_state)
    if kind != "coercion":
        solara.ToggleButtonsSingle(
            provider, values=list(game.lesson.providers), on_value=set_provider
        )
    if kind in ("incident", "ban"):
        solara.Select(
            "Country",
            value=country,
            on_value=set_country,
            values=sorted(g.iso3 for g in game.model.governments),
        )
    solara.Button("Inject", on_click=inject)
    if message:
        solara.Text(message)
    for event in game.current.events:
        solara.Text("This round: " + describe_event(event))


@solara.component
def World(game: Game, version: int) -> None:
    """The class's world now: the map and who has won what since the game began."""

    def draw(cancel) -> bytes | None:
        # A moment after the round opens, so that drawing does not slow the students' screens.
        return None if cancel.wait(MAP_DELAY_SECONDS) else _map_png(game)

    image = solara.use_thread(draw, dependencies=[game.round_index], intrusive_cancel=False)
    if image.value:
        solara.Image(image.value, width="100%")
    else:
        solara.Text("Drawing the map…")
    Markdown(outcome_table({"The class's world": game.world}))


def _map_png(game: Game) -> bytes:
    with game.lock:
        figure = world_map_figure(game.model)
        year = game.round_dates(game.round_index)[0]
    figure.axes[0].set_title(f"Dominant provider by country, start of {year:g}", fontsize=11)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def outcome_table(worlds: dict[str, dict[str, Any]]) -> str:
    """A markdown table: contracts and value won by provider, share, leverage, debt by state."""
    names = list(worlds)
    first = next(iter(worlds.values()))
    header = (
        "| Since the game began | " + " | ".join(names) + " |\n" + "|---" * (len(names) + 1) + "|\n"
    )
    rows = [
        f"| {provider}: contracts (US$ m) | "
        + " | ".join(
            f"{w['won'][provider]['contracts']} ({w['won'][provider]['value']:g})"
            for w in worlds.values()
        )
        + " |"
        for provider in first["won"]
    ]
    for state in first["leverage"]:
        rows.append(
            f"| {state}: share of value won | "
            + " | ".join(f"{100 * w['state_share'].get(state, 0.0):.0f} %" for w in worlds.values())
            + " |"
        )
        rows.append(
            f"| {state}: governments under high leverage | "
            + " | ".join(str(w["leverage"][state]) for w in worlds.values())
            + " |"
        )
        rows.append(
            f"| {state}: debt owed to its banks, US$ m | "
            + " | ".join(f"{w['debt'][state]:g}" for w in worlds.values())
            + " |"
        )
    return header + "\n".join(rows) + "\n"


@solara.component
def Debrief(game: Game, version: int) -> None:
    """The class's world beside the model's own run, and which decisions moved it."""
    debrief = game.debrief
    Markdown(
        f"## Debrief: from {debrief['first_year']:g} to the start of {debrief['end']:g}",
        style={"margin-top": "8px"},
    )
    Markdown(
        outcome_table(
            {
                "The class's world": debrief["class"],
                "The model's own run (same seed)": debrief["model"],
            }
        )
    )
    governments = "".join(
        f"| {game.roles[iso3].title} | {row['debt']:g} | {row['leading_provider'] or '-'} | "
        f"{debrief['model']['governments'][iso3]['debt']:g} | "
        f"{debrief['model']['governments'][iso3]['leading_provider'] or '-'} |\n"
        for iso3, row in debrief["class"]["governments"].items()
    )
    Markdown(
        "| Government | Debt, class (US$ m) | Leading provider, class | Debt, model | "
        "Leading provider, model |\n|---|---|---|---|---|\n" + governments
    )
    moved = "".join(
        f"| {row['title']} | {row['share_points']:+.1f} | "
        + ", ".join(f"{name} {change:+d}" for name, change in row["contracts"].items() if change)
        + " |\n"
        for row in debrief["moved"]
    )
    Markdown(
        "### Which decisions moved the outcome most\nEach row reruns the class's game with "
        "that player's decisions (or the teacher's events) removed: the change in China's "
        "share of the value won, in percentage points, and in contracts won.\n\n"
        "| Whose decisions | China's share moved by (points) | Contracts moved |\n|---|---|---|\n"
        + (moved or "| nobody decided anything | | |\n")
    )
    solara.Text(
        f"The class's game is saved as {game.folder / 'scenario.yaml'}: replay it with "
        "`cloudrace run`, or compare it with the files in debrief/ using "
        "`cloudrace compare`."
    )
