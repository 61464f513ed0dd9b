"""StateActor agents: the United States, China (and any allied pool) with their policy levers.

A state holds time-phased levers read from the scenario; each lever's current value is reset by a
scheduled event at every date the scenario changes it. States lend and subsidise from yearly
budgets, impose export controls, stage coercion events and, optionally, react to the rival's share
of new contracts.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from mesa import Agent

from sim.market.financing import (
    capacity_cost_discount,
    discount_rate_for,
    grant_element,
    invest_capacity,
    loan_offer,
)
from sim.market.pricing import subsidy_amount
from sim.timephased import StepFunction

if TYPE_CHECKING:
    from sim.model import CloudRaceModel
    from sim.schema import CoercionEvent, ExportControl, StateSettings

PHASED_LEVERS = ("strategic_value", "financing_budget_usd_m", "subsidy_budget_usd_m",
                 "subsidy_rate", "security_pressure", "promotion", "technical_assistance",
                 "barrier_removal")
REACTIVE_LEVERS = ("security_pressure", "promotion", "financing_budget_usd_m",
                   "subsidy_budget_usd_m")


class StateActor(Agent):
    """A state and its policy levers (DESIGN.md: StateActor)."""

    def __init__(self, model: CloudRaceModel, name: str, settings: StateSettings) -> None:
        super().__init__(model)
        self.index = len(model.agents_by_type[StateActor]) - 1
        """Position among the model's states (the key of its coercion events' draws)."""
        self.name = name
        self.effort = 1.0
        self.providers: list = []
        self.financing_left = 0.0
        self.subsidy_left = 0.0
        self.financing_spent = 0.0
        self.subsidy_spent = 0.0
        self.capacity: dict[str, float] = {}
        self.development_spent = 0.0
        self.configure(settings)

    def configure(self, settings: StateSettings) -> None:
        """Take its attributes and lever schedules from the scenario, then read the levers."""
        self.bloc = settings.bloc
        self.exposure = settings.exposure
        self.ties = dict(settings.ties)
        self.ties_from = dict(settings.ties_from)
        self.co_finances = frozenset(settings.co_finances)
        self.settings = settings
        self.loan_terms = settings.financing
        self.interest_schedule = StepFunction.of(settings.financing.interest_rate)
        self.development = settings.development_finance
        self.development_schedule = StepFunction.of(settings.development_finance.budget_usd_m)
        self.schedules = {lever: StepFunction.of(getattr(settings, lever))
                          for lever in PHASED_LEVERS}
        self.refresh_levers()
        self.refresh_discounts()

    def refresh_levers(self) -> None:
        """Read every lever's value in force now (run at each scheduled policy change).

        A budget that changes during a year changes what is left of this year's budget pro rata
        to the part of the year still to run.
        """
        year = self.model.year
        old_budgets = (getattr(self, "financing_budget_usd_m", None),
                       getattr(self, "subsidy_budget_usd_m", None))
        for lever, schedule in self.schedules.items():
            value = schedule.at(year)
            if lever in REACTIVE_LEVERS:
                value *= self.effort
            setattr(self, lever, value)
        for attribute in ("security_pressure", "promotion"):
            setattr(self, attribute, min(getattr(self, attribute), 1.0))
        if old_budgets[0] is not None:
            still_to_run = 1.0 - (year - int(year))
            self.financing_left += (self.financing_budget_usd_m - old_budgets[0]) * still_to_run
            self.subsidy_left += (self.subsidy_budget_usd_m - old_budgets[1]) * still_to_run

    def open_budget_year(self) -> None:
        """Reset the yearly budgets and spending counters; invest the development finance."""
        self.financing_left = self.financing_budget_usd_m
        self.subsidy_left = self.subsidy_budget_usd_m
        self.financing_spent = 0.0
        self.subsidy_spent = 0.0
        self.invest_development_finance()

    def grant_element_for(self, income_group: str) -> float:
        """Grant element of a loan signed now with a government of ``income_group``.

        The interest rate in force now (a CIRR moves with bond yields), the state's terms, and
        the discount rate of the scenario's convention (``choice.grant_discount``).
        """
        choice = self.model.scenario.choice
        terms = self.loan_terms
        rate = discount_rate_for(choice.grant_discount, income_group,
                                 choice.unified_discount_rate, choice.dac_discount_rates,
                                 choice.legacy_discount_rate)
        return _grant_element(self.interest_schedule.at(self.model.year), terms.maturity_years,
                              terms.grace_years, rate, terms.payments_per_year)

    def invest_development_finance(self) -> None:
        """Mechanism 3b: invest this year's development finance in its regions' capacity.

        Every region's financed capacity depreciates; the year's budget (as in force on
        1 January) is added in equal shares to the regions the scenario lists.
        """
        budget = self.development_schedule.at(self.model.year)
        regions = self.development.regions
        share = budget / len(regions) if regions else 0.0
        for region in set(self.capacity) | set(regions):
            self.capacity[region] = invest_capacity(self.capacity.get(region, 0.0),
                                                    share if region in regions else 0.0,
                                                    self.development.depreciation)
        self.development_spent = budget if regions else 0.0
        self.refresh_discounts()

    def refresh_discounts(self) -> None:
        """The cost discount of each region's financed capacity, for ``capacity_discount``."""
        self.discounts = {region: capacity_cost_discount(capacity,
                                                         self.development.capacity_scale_usd_m,
                                                         self.development.max_cost_discount)
                          for region, capacity in self.capacity.items()}

    def capacity_discount(self, region: str) -> float:
        """Share of its providers' delivery cost in ``region`` saved by financed capacity.

        The capacity changes once a year (``invest_development_finance``) and the terms only
        in a branch (``configure``), so the discounts are computed then, not per bid.
        """
        return self.discounts.get(region, 0.0)

    def offer_loan(self, price: float, financing_need: float) -> float:
        """Mechanism 3, financing: the loan its policy banks would attach to a bid."""
        return loan_offer(price, self.loan_terms.coverage, financing_need, self.loan_terms.min_need,
                          self.financing_left)

    def offer_subsidy(self, cost: float) -> float:
        """Subsidy it would put into a bid of this cost (covered by this year's budget)."""
        return subsidy_amount(cost, self.subsidy_rate, self.subsidy_left)

    def commit(self, loan: float, subsidy: float) -> None:
        """Spend budget on a bid that won."""
        self.financing_left -= loan
        self.financing_spent += loan
        self.subsidy_left -= subsidy
        self.subsidy_spent += subsidy

    def impose_export_control(self, control: ExportControl) -> None:
        """Mechanism 7, export controls: take effect on the target provider from today."""
        self.model.providers_by_name[control.target].suffer_export_control(control)

    def coerce(self, event: CoercionEvent) -> None:
        """Mechanism 9, leverage: threaten governments over which its leverage is high.

        Under the decision rule (``coercion.rule``) the threats cost the coercer trust across
        each region and make its governments more watchful, in proportion to the share of their
        neighbours (the other governments of the CSIS region) that were threatened.
        """
        settings = self.model.scenario.coercion
        threatened = set()
        draws = self.coercion_draws(event)
        for government in self.model.governments:
            leverage = government.leverage_share(self.name)
            if leverage >= event.leverage_threshold and leverage > 0.0:
                government.face_coercion(self, event, leverage, draws[government.index])
                threatened.add(government)
        if settings.rule != "decision" or not threatened:
            return
        for government in self.model.governments:
            neighbours = [n for n in self.model.governments_by_region[government.region]
                          if n is not government]
            share = sum(n in threatened for n in neighbours) / len(neighbours) \
                if neighbours else 0.0
            if share > 0.0:
                government.witness_coercion(self, settings.regional_trust_loss * share,
                                            settings.regional_scrutiny_gain * share)

    def coercion_draws(self, event: CoercionEvent) -> list[float]:
        """One uniform per government for ``event``, from the stream of its state and date."""
        return self.model.streams.coercion(self.index, event.year, len(self.model.governments))

    def react_to_rival(self, rival_share: float) -> None:
        """Raise effort while the rival bloc's share of last year's new contracts is too high."""
        reactive = self.settings.reactive
        if not reactive.enabled:
            return
        effort = reactive.effort_multiplier if rival_share > reactive.rival_share_threshold \
            else 1.0
        if effort != self.effort:
            self.effort = effort
            self.refresh_levers()


@functools.lru_cache(maxsize=4096)
def _grant_element(interest_rate: float, maturity: float, grace: float, discount_rate: float,
                   payments_per_year: int) -> float:
    """``grant_element``, cached: a run asks for the same few terms thousands of times."""
    return grant_element(interest_rate, maturity, grace, discount_rate, payments_per_year)
