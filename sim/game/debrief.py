"""The debrief: the class's world beside the model's own run, and which decisions moved it.

Every run here is the lesson with the game's seed, from the first round (the history before it
is shared: ``Game.branch``) to the end of the last round. The model's own run has no player
decisions and no teacher's events; each "without" run is the class's scenario with one player's
decisions removed (or the teacher's events removed), so the difference between it and the
class's world is what that player's decisions did, given everyone else's. Their scenarios are
written to ``debrief/`` in the session folder, so ``cloudrace compare`` can take any further.

The outcome a class argues about first is the share of new contract value won by China's
providers over the game; the table ranks the players by how far their decisions moved it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.game.views import world_view
from sim.model import CloudRaceModel

if TYPE_CHECKING:
    from sim.game.engine import Game

MOVED_BY = "China"
"""The state whose share of new contract value ranks the decisions."""


def outcomes(model: CloudRaceModel, since: float, governments: list[str]) -> dict[str, Any]:
    """Who won what since the game began, leverage and debt, and the played governments."""
    world = world_view(model, since)
    played = {}
    for government in model.governments:
        if government.iso3 in governments:
            leader = max(
                government.installed.items(), key=lambda item: item[1], default=(None, 0.0)
            )[0]
            played[government.iso3] = {
                "debt": round(government.total_debt(), 1),
                "leading_provider": leader.name if leader else "",
            }
    return {**world, "governments": played}


def make_debrief(game: Game) -> dict[str, Any]:
    """The debrief's tables (plain mappings) for the teacher's screen and ``debrief.json``."""
    first, end = game.state["first_year"], game.played[-1].end
    governments = [name for name, role in game.roles.items() if role.kind == "government"]
    own = game.write_scenario([], name="debrief/model-own-run.yaml")
    result = {
        "first_year": first,
        "end": end,
        "class": outcomes(game.model, first, governments),
        "model": outcomes(game.branch(own, end), first, governments),
        "events": [event for record in game.played for event in record.events],
        "moved": [],
    }
    share = result["class"]["state_share"].get(MOVED_BY, 0.0)
    acted = sorted({role for record in game.played for role in record.decisions})
    removals = [(role, game.roles[role].title, frozenset([role]), True) for role in acted]
    if result["events"]:
        removals.append(("events", "the teacher's events", frozenset(), False))
    for key, title, leave_out, with_events in removals:
        settings = game.write_scenario(
            game.played,
            name=f"debrief/without-{key}.yaml",
            leave_out=leave_out,
            with_events=with_events,
        )
        without = outcomes(game.branch(settings, end), first, governments)
        moved = share - without["state_share"].get(MOVED_BY, 0.0)
        won = {
            name: result["class"]["won"][name]["contracts"] - row["contracts"]
            for name, row in without["won"].items()
        }
        result["moved"].append(
            {"role": key, "title": title, "share_points": round(100 * moved, 1), "contracts": won}
        )
    result["moved"].sort(key=lambda row: -abs(row["share_points"]))
    return result
