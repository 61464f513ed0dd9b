"""Decisions taken by hand: how the model consults a scenario's ``hand`` section.

The classroom game (``sim.game``) lets players take the decisions of providers and governments
that the model's rules take otherwise. They are written to the scenario's ``hand`` section
(``sim.schema.HandPlay``), so a class's game is a scenario file that ``cloudrace run`` replays.
These are the three lookups the model makes (all no-ops on an empty section, the case of every
other scenario) and the scheduling of the teacher's injected incidents:

- ``hand_bidding``: a provider's markup shift and whether it stays out of a region now;
- ``hand_award``: which bid a government's player picked on its n-th tender of a year;
- ``hand_bans``: the providers a government has barred by a sanctions decision by now;
- ``schedule_hand_incidents``: security incidents on a provider's contracts in a country.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model import CloudRaceModel
    from sim.schema import HandEvent, HandPlay


def hand_bidding(hand: HandPlay, provider: str, region: str, year: float) -> tuple[float, bool]:
    """``(markup shift, stays out)`` for a provider bidding in a region at ``year``."""
    shift, stays_out = 0.0, False
    for entry in hand.bidding:
        if entry.provider == provider and entry.start <= year < entry.end:
            shift += entry.markup_shift
            stays_out = stays_out or region in entry.stays_out_of
    return shift, stays_out


def hand_award(hand: HandPlay, country: str, year: int, number: int, bidders: list[str],
               chosen: int) -> int:
    """The index of the bid a player picked (``len(bidders)`` defers), else ``chosen``.

    A choice names a provider; if that provider made no bid on this tender the model's own
    choice stands.
    """
    for choice in hand.choices:
        if (choice.country, choice.year, choice.tender) == (country, year, number):
            if choice.provider == "":
                return len(bidders)
            if choice.provider in bidders:
                return bidders.index(choice.provider)
    return chosen


def hand_bans(hand: HandPlay, country: str, year: float) -> frozenset[str]:
    """Names of the providers the government has barred by a sanctions decision by ``year``."""
    return frozenset(event.provider for event in hand.events
                     if event.kind == "ban" and event.country == country and event.year <= year)


def schedule_hand_incidents(model: CloudRaceModel, replay_past: bool = True) -> None:
    """Schedule every injected security incident (``hand.events`` of kind ``incident``)."""
    for event in model.scenario.hand.events:
        if event.kind == "incident":
            model.schedule_at(event.year, _security_incident, model, event,
                              replay_past=replay_past)


def _security_incident(model: CloudRaceModel, event: HandEvent) -> None:
    """Mechanism 8 by hand: trouble on each of the provider's untroubled contracts there."""
    for government in model.governments:
        if government.iso3 == event.country:
            for contract in list(government.contracts):
                if contract.provider.name == event.provider and not contract.troubled:
                    government.suffer_incident(contract, "security")
