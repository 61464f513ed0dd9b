"""Provider agents: cloud companies that bid for government tenders (Huawei, AWS, ...).

Mechanism 2, bidding: a provider bids where the value of a bid (its margin plus its home state's
strategic value, times its believed chance of winning) beats a bid-preparation cost drawn for the
tender (``sim.market.entry``; Levin & Smith 1994), or, under the old knife-edge rule, a fixed
entry cost plus a risk premium. It prices at the markup that maximises that expected value given
its belief about winning in the region, and learns the belief from wins and losses, damped and
per market (``sim.market.pricing``). It attaches its home state's loans and subsidy, and bundles
hard infrastructure where the tender needs it and it can.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mesa import Agent

from sim.hand import hand_bidding
from sim.market.entry import bid_cost_scale, enters, enters_knife_edge
from sim.market.pricing import bid_price, optimal_markup, update_belief, win_probability
from sim.timephased import StepFunction

if TYPE_CHECKING:
    from sim.government import Government, Tender
    from sim.model import CloudRaceModel
    from sim.schema import ExportControl, ProviderSettings
    from sim.state_actor import StateActor

@dataclass(slots=True)
class Bid:
    """One provider's offer on one tender."""

    provider: Provider
    cost: float
    markup: float
    subsidy: float
    price: float
    loan: float
    financing_state: StateActor | None
    bundled: bool
    believed_win_chance: float
    grant_element: float = 0.0


class Provider(Agent):
    """A cloud provider (DESIGN.md: Provider)."""

    def __init__(self, model: CloudRaceModel, name: str, settings: ProviderSettings,
                 home: StateActor) -> None:
        super().__init__(model)
        self.index = len(model.agents_by_type[Provider]) - 1
        """Position among the model's providers (its column in a tender's entry draws)."""
        self.name = name
        self.home = home
        home.providers.append(self)
        self.capability_loss = 0.0
        self.cost_increase = 0.0
        self.supply_risk = 0.0
        self.beliefs: dict[str, float] = {}
        self.configure(settings)

    def configure(self, settings: ProviderSettings) -> None:
        """Take its attributes and schedules from the scenario, then read them for now."""
        self.can_bundle_hardware = settings.can_bundle_hardware
        self.risk_appetite = settings.risk_appetite
        self.barred_where_taiwan_recognised = settings.barred_where_taiwan_recognised
        self.barred_in = frozenset(settings.barred_in)
        self.state_financing = settings.state_financing
        self.market_size_quality = settings.market_size_quality
        self.localisation_quality = settings.localisation_quality
        self.financiers = [self.home] + [state for state in self.model.states.values()
                                         if self.home.name in state.co_finances]
        self.cloud_regions = dict(settings.cloud_regions)
        self.capability_schedule = StepFunction.of(settings.capability)
        self.cost_schedule = StepFunction.of(settings.cost_share)
        self.bidding = self.model.scenario.bidding
        self.refresh_capability()

    def refresh_capability(self) -> None:
        """Read capability, cost and cloud-region presence in force now (scheduled changes)."""
        year = self.model.year
        self.capability = self.capability_schedule.at(year) * (1.0 - self.capability_loss)
        self.cost_share = self.cost_schedule.at(year) * (1.0 + self.cost_increase)
        self.present_countries = frozenset(
            iso3 for iso3, opened in self.cloud_regions.items() if opened <= year)
        self.present_regions = frozenset(
            self.model.region_of[iso3] for iso3 in self.present_countries
            if iso3 in self.model.region_of)

    def suffer_export_control(self, control: ExportControl) -> None:
        """Mechanism 7: lose capability, pay more, carry supply risk from the effective date."""
        self.capability_loss = 1.0 - (1.0 - self.capability_loss) * (1.0 - control.capability_loss)
        self.cost_increase = (1.0 + self.cost_increase) * (1.0 + control.cost_increase) - 1.0
        self.supply_risk += control.supply_risk
        self.refresh_capability()

    def presence_in(self, government: Government) -> float:
        """1 with a cloud region in the country, a share of it elsewhere in the region, else 0."""
        if government.iso3 in self.present_countries:
            return 1.0
        return self.bidding.regional_presence if government.region in self.present_regions \
            else 0.0

    def quality_for(self, government: Government) -> float:
        """Capability as the government sees it: local presence adds latency and residency.

        A provider with a market-size or localisation term (the other suppliers) is stronger in
        large markets and where a government-data localisation rule is in force (mechanism 11).
        """
        quality = self.capability + self.bidding.presence_quality_bonus \
            * self.presence_in(government)
        if self.market_size_quality:
            reference = self.model.scenario.demand.reference_gdp_usd_bn
            quality += self.market_size_quality * math.log(government.gdp / reference)
        if self.localisation_quality and self.model.localises(government.iso3):
            quality += self.localisation_quality
        return max(quality, 0.0)

    def development_discount(self, government: Government) -> float:
        """Share of its cost in the government's region saved by development-financed capacity."""
        if not self.state_financing:
            return 0.0
        return max(state.capacity_discount(government.region) for state in self.financiers)

    def decide_bid(self, tender: Tender) -> Bid | None:
        """Bid if the value of entering beats the bid-preparation cost; price at the best markup."""
        government = tender.government
        bidding = self.bidding
        hand = self.model.scenario.hand
        shift, stays_out = hand_bidding(hand, self.name, government.region, self.model.year) \
            if hand.bidding else (0.0, False)
        if stays_out:
            return None
        presence = self.presence_in(government)
        cost = tender.value * self.cost_share * (1.0 - bidding.presence_cost_discount * presence) \
            * (1.0 - self.development_discount(government))
        strategic_share = self.home.strategic_value * tender.sensitivity
        belief = self.beliefs.get(government.region, bidding.initial_belief)
        markup = optimal_markup(belief, bidding.price_sensitivity, bidding.reference_markup,
                                strategic_share, bidding.min_markup, bidding.max_markup)
        markup = min(max(markup + shift, bidding.min_markup), bidding.max_markup) if shift \
            else markup
        chance = win_probability(markup, belief, bidding.price_sensitivity,
                                 bidding.reference_markup)
        expected_value = chance * (markup + strategic_share)
        country_risk = bidding.country_risk[government.income_group]
        if bidding.entry_rule == "knife_edge":
            risk = (1.0 - self.risk_appetite) * country_risk * bidding.risk_cost
            if not enters_knife_edge(expected_value,
                                     bidding.bid_cost_usd_m * (1.0 - self.home.barrier_removal),
                                     cost, risk):
                return None
        else:
            scale = bid_cost_scale(bidding.bid_cost_usd_m, self.home.barrier_removal,
                                   bidding.entry_risk_weight, country_risk, self.risk_appetite)
            if not enters(expected_value * cost, scale, bidding.bid_cost_dispersion,
                          tender.draws.entry(tender.deferrals, self.index)):
                return None
        backed = self.state_financing
        subsidy = self.home.offer_subsidy(cost) if backed else 0.0
        price = bid_price(cost, markup, subsidy)
        loan, lender = (self.find_loan(price, tender.financing_need, government) if backed
                        else (0.0, None))
        grant = lender.grant_element_for(government.income_group) if lender else 0.0
        bundled = tender.needs_hardware and self.can_bundle_hardware
        return Bid(self, cost, markup, subsidy, price, loan, lender, bundled, chance, grant)

    def find_loan(self, price: float, financing_need: float, government: Government,
                  ) -> tuple[float, StateActor | None]:
        """Mechanism 3: its home state's banks lend if they can, else a co-financing ally's.

        Never a lender the government may not borrow from (``Government.may_borrow_from``).
        """
        for state in self.financiers:
            if not government.may_borrow_from(state):
                continue
            loan = state.offer_loan(price, financing_need)
            if loan > 0.0:
                return loan, state
        return 0.0, None

    def learn_from_outcome(self, region: str, bid: Bid, won: bool) -> None:
        """Nudge the win belief for the region toward what happened (damped)."""
        belief = self.beliefs.get(region, self.bidding.initial_belief)
        self.beliefs[region] = update_belief(belief, won, bid.believed_win_chance,
                                             self.bidding.learning_rate)

    def revert_beliefs(self) -> None:
        """Yearly pull of every regional belief back toward the initial belief."""
        pull = self.bidding.belief_reversion
        start = self.bidding.initial_belief
        self.beliefs = {region: belief + pull * (start - belief)
                        for region, belief in self.beliefs.items()}
