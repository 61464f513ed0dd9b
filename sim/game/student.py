"""Students' screens (behind the join gate): choosing a role, then the card and its form.

Every form sends its values to ``Game.submit`` with the round the screen shows, so a screen
left open past the round's close gets the "round closed" message rather than playing late. A
field left empty keeps the model's own value for the round.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import solara

from sim.game.app import Countdown, Markdown
from sim.game.decisions import REGIONS, STATE_LEVERS
from sim.game.engine import Game, GameError
from sim.game.views import LEVER_LABELS

MARKUP_STEPS = {
    "-30 %": -0.3,
    "-20 %": -0.2,
    "-10 %": -0.1,
    "as the rule": 0.0,
    "+10 %": 0.1,
    "+20 %": 0.2,
    "+30 %": 0.3,
}
MODEL_DECIDES = "model decides"
DEFER = "defer"


@solara.component
def ClaimScreen(game: Game, code: str, version: int, on_token: Callable[[str], None]) -> None:
    """Choose a free role; the model plays the others."""
    name, set_name = solara.use_state("")
    message, set_message = solara.use_state("")

    def take(role: str) -> None:
        try:
            on_token(game.claim(role, name, code))
        except GameError as error:
            set_message(str(error))

    Markdown(
        "## Choose your role\nThe model plays every role nobody takes. "
        "Keep the page's address after you join: it is your way back in."
    )
    solara.InputText(
        "Your name (or your group's)", value=name, on_value=set_name, continuous_update=True
    )
    if message:
        solara.Error(message)
    claims = game.state["claims"]
    for kind, heading in (
        ("state", "States"),
        ("provider", "Providers"),
        ("government", "Governments"),
    ):
        solara.Text(heading, style={"font-weight": "bold", "margin-top": "8px"})
        with solara.Row(style={"flex-wrap": "wrap"}):
            for role in game.roles.values():
                if role.kind == kind:
                    taken = role.name in claims
                    solara.Button(
                        role.title + (" (taken)" if taken else ""),
                        on_click=lambda r=role.name: take(r),
                        disabled=taken,
                    )


@solara.component
def StudentScreen(game: Game, role_name: str, token: str, version: int) -> None:
    """A player's screen: the round, the role card and the decision form."""
    role = game.roles[role_name]
    round_number = game.round_index + 1
    player = game.state["claims"][role_name]["player"]
    with solara.Row(style={"align-items": "baseline", "gap": "24px"}):
        solara.Text(
            f"{player}: you are {role.title}", style={"font-size": "1.2em", "font-weight": "bold"}
        )
        if game.finished:
            solara.Text("The game is over: the debrief is on the board.", classes=["game-round"])
            return
        start, _ = game.round_dates(game.round_index)
        solara.Text(
            f"Round {round_number} of {game.state['rounds']}: {start:g}",
            classes=["game-round"],
            style={"font-size": "1.2em"},
        )
        Countdown(game)
    solara.Text(role.briefing, style={"color": "#444"})
    card = game.cards[role_name]
    form = {"state": StateForm, "provider": ProviderForm, "government": GovernmentForm}[role.kind]
    form(game, card, token, round_number)


def use_round_state(initial: Any, round_number: int) -> tuple[Any, Callable[[Any], None]]:
    """A form's state that starts again at ``initial`` each round.

    The form is kept from round to round (so its widgets are updated, not rebuilt: cheaper
    with thirty screens) and its values are tagged with the round they belong to.
    """
    stored, set_stored = solara.use_state((round_number, initial))
    value = stored[1] if stored[0] == round_number else initial
    return value, lambda new: set_stored((round_number, new))


def use_submit(game: Game, token: str, round_number: int):
    """A submit function and its last message (receipt or refusal; at first, the status)."""

    def status() -> tuple[str, bool]:
        if game.role_of(token) in game.submitted():
            return (
                f"round {round_number}: you have submitted (you can change it until the "
                "round closes)",
                True,
            )
        return (
            f"Round {round_number}: not submitted yet; the model decides for you unless "
            "you submit.",
            True,
        )

    message, set_message = use_round_state(status(), round_number)

    def submit(values: dict[str, Any]) -> None:
        try:
            set_message((game.submit(token, round_number, values), True))
        except GameError as error:
            set_message((str(error), False))

    return submit, message


@solara.component
def Message(message: tuple[str, bool]) -> None:
    """The form's status line or the last submission's receipt or refusal.

    One alert whose type and text change (not a different alert each time: a new widget costs
    every screen more than an updated one).
    """
    text, ok = message
    status = text.startswith("Round")
    kind = "info" if status else "success" if ok else "error"
    solara.v.Alert(
        type=kind, children=[text], text=True, class_="game-status" if status else "game-message"
    )


@solara.component
def StateForm(game: Game, card: dict[str, Any], token: str, round_number: int) -> None:
    """A state's card and its levers (empty = the model's value this year, shown beside)."""
    values, set_values = use_round_state({lever: None for lever in STATE_LEVERS}, round_number)
    submit, message = use_submit(game, token, round_number)
    share = card["share_last_round"]
    Markdown(
        f"**Your providers:** {', '.join(card['providers'])}. **Last year** you spent "
        f"US$ {card['spent']['loans']:g} m on loans and "
        f"US$ {card['spent']['subsidies']:g} m on subsidies. **Last round** your providers won "
        f"{card['won_last_round']} contract(s)"
        + (f", {100 * share:.0f} % of the value awarded." if share is not None else ".")
        + f" **Standing:** governments over which your leverage is high: "
        f"{card['leverage_over']}; debt owed to your banks: US$ {card['debt_owed']:g} m."
    )
    for lever in STATE_LEVERS:
        solara.InputFloat(
            f"{LEVER_LABELS[lever]} — model: {card['defaults'][lever]:g}",
            value=values[lever],
            optional=True,
            continuous_update=True,
            on_value=lambda value, lever=lever: set_values({**values, lever: value}),
        )
    solara.Button(
        "Submit decision",
        color="primary",
        on_click=lambda: submit(
            {lever: value for lever, value in values.items() if value is not None}
        ),
    )
    Message(message)


@solara.component
def ProviderForm(game: Game, card: dict[str, Any], token: str, round_number: int) -> None:
    """A provider's card, its markup policy and the regions it stays out of."""
    markup, set_markup = use_round_state("as the rule", round_number)
    out, set_out = use_round_state([], round_number)
    submit, message = use_submit(game, token, round_number)
    rows = "".join(
        f"| {region} | {row['tenders']} | {row['value']:g} | {row['would_bid']} |\n"
        for region, row in card["regions"].items()
    )
    Markdown(
        f"**Home state:** {card['home']}. **Capability** {card['capability']:g}, cost "
        f"{100 * card['cost_share']:.0f} % of a tender's value; installed base US$ "
        f"{card['installed']:g} m. **Last round** you won {card['won_last_round']} contract(s) "
        f"worth US$ {card['value_last_round']:g} m.\n\n**Tenders expected this round** (the "
        "model's forecast):\n\n| Region | Tenders | Value, US$ m | Your rule would bid |\n"
        "|---|---|---|---|\n" + (rows or "| none | | | |\n")
    )
    solara.Text("Markup policy: your bids' markup against your rule's")
    solara.ToggleButtonsSingle(markup, values=list(MARKUP_STEPS), on_value=set_markup)
    solara.Text("Stay out of these regions this round")
    solara.ToggleButtonsMultiple(out, values=list(REGIONS), on_value=set_out)
    solara.Button(
        "Submit decision",
        color="primary",
        on_click=lambda: submit({"markup_shift": MARKUP_STEPS[markup], "stays_out_of": list(out)}),
    )
    Message(message)


def tender_table(tender: dict[str, Any]) -> str:
    """A tender on a government's card: its bids and the model's chance for each choice."""
    rows = "".join(
        f"| {bid['provider']} | {bid['price']:g} | {bid['loan']:g} | {bid['lender'] or '-'} | "
        f"{bid['subsidy']:g} | {100 * bid['chance']:.0f} % |\n"
        for bid in tender["bids"]
    )
    return (
        f"\n\n**Tender {tender['id']}**: {tender['kind']}, US$ {tender['value']:g} m"
        + (" (renewal)" if tender["renewal"] else "")
        + "\n\n| Bid | Price, US$ m | Loan, US$ m | Lender | Subsidy | The model's chance |\n"
        "|---|---|---|---|---|---|\n"
        + (rows or "| no bids | | | | | |\n")
        + f"| defer | | | | | {100 * tender['defer_chance']:.0f} % |\n"
    )


@solara.component
def GovernmentForm(game: Game, card: dict[str, Any], token: str, round_number: int) -> None:
    """A government's card and, for each tender it is expected to hold, its choice."""
    picks, set_picks = use_round_state({}, round_number)
    submit, message = use_submit(game, token, round_number)
    debt = ", ".join(f"{lender} US$ {amount:g} m" for lender, amount in card["debt"].items())
    installed = ", ".join(f"{name} US$ {value:g} m" for name, value in card["installed"].items())
    last = "; ".join(
        f"{t['kind']} ({t['id']}): " + (f"won by {t['winner']}" if t["winner"] else "deferred")
        for t in card["last_round"]
    )
    tables = "".join(tender_table(tender) for tender in card["tenders"])
    # One HTML block for the card and its tenders, one select per tender: each round's new
    # tenders cost a screen a few widgets, not a table and a row of buttons each.
    Markdown(
        f"**{card['name']}** ({card['region']}, {card['income_group']} income). **Debt to state "
        f"banks:** {debt or 'none'} ({100 * card['debt_share_of_gdp']:.2f} % of GDP). "
        f"**Installed systems:** {installed or 'none'}. **Last round:** {last or 'no tender'}."
        + (tables or "\n\nThe model expects no tender from you this round: nothing to choose.")
    )
    for tender in card["tenders"]:
        if tender["bids"]:
            options = [MODEL_DECIDES] + [bid["provider"] for bid in tender["bids"]] + [DEFER]
            solara.Select(
                f"Tender {tender['id']}: your choice",
                value=picks.get(tender["id"], MODEL_DECIDES),
                values=options,
                on_value=lambda value, tid=tender["id"]: set_picks({**picks, tid: value}),
            )
    solara.Button(
        "Submit decision",
        color="primary",
        on_click=lambda: submit(
            {
                "choices": {
                    tid: "" if pick == DEFER else pick
                    for tid, pick in picks.items()
                    if pick != MODEL_DECIDES
                }
            }
        ),
    )
    Message(message)
