"""The roles of the classroom game: states, providers and governments, with their briefings.

A role is one actor of the shared model that a student may take: a state (its levers), a
provider (its bidding) or a government (its awards). Every role nobody claims is played by the
model's own rules, exactly as in a normal run. The briefings are the text each student reads on
their role card; the lesson plan in ``docs/teaching.md`` repeats them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sim.schema import ScenarioFile

Kind = Literal["state", "provider", "government"]

DEFAULT_STATES = ("China", "US")
DEFAULT_PROVIDERS = ("Huawei", "AWS", "Microsoft")
DEFAULT_GOVERNMENTS = ("KEN", "IDN", "BRA", "SAU", "ZMB")

BRIEFINGS: dict[Kind, str] = {
    "state": "You are a state. Each round you set this year's loan budget for your providers' "
    "bids, your subsidies (a budget and the share of a bid's cost it covers), your "
    "security pressure against the rival's providers and your diplomatic promotion of "
    "your own. Money spent wins contracts and, through loans, debt that ties "
    "governments to you; pressure works only where governments depend on you.",
    "provider": "You are a cloud provider. Each round you set your markup policy (a shift "
    "added to the markup your bidding rule would ask: lower wins more, earns less) "
    "and where you bid (regions you stay out of). Your home state's loans and "
    "subsidies come with your bids.",
    "government": "You are a government buying cloud and e-government systems. Each round you "
    "see the tenders you are expected to hold this year and the bids on them, "
    "with the model's own chance for each choice; pick a bid, defer, or leave it "
    "to the model. Think of cost, loans and debt, quality, lock-in and security.",
}


@dataclass(frozen=True)
class Role:
    """One playable actor: its kind, its name in the scenario, the title students see."""

    name: str
    kind: Kind
    title: str

    @property
    def briefing(self) -> str:
        """What the student playing the role reads first."""
        return BRIEFINGS[self.kind]


def available_roles(
    settings: ScenarioFile,
    country_names: dict[str, str],
    states: tuple[str, ...] = DEFAULT_STATES,
    providers: tuple[str, ...] = DEFAULT_PROVIDERS,
    governments: tuple[str, ...] = DEFAULT_GOVERNMENTS,
) -> list[Role]:
    """The roles a session offers, in the order of the join screen.

    A name the scenario (or its population, for governments) lacks is left out, so a lesson
    without Microsoft simply offers no Microsoft role.
    """
    roles = [
        Role(name, "state", "the United States" if name == "US" else name)
        for name in states
        if name in settings.states
    ]
    roles += [Role(name, "provider", name) for name in providers if name in settings.providers]
    roles += [
        Role(iso3, "government", f"the government of {country_names[iso3]}")
        for iso3 in governments
        if iso3 in country_names
    ]
    return roles
