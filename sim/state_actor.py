"""StateActor agents: the United States, China (and any allied pool) with their policy levers.

A state holds time-phased levers read from the scenario; each lever's current value is reset by a
scheduled event at every date the scenario changes it. States lend and subsidise from yearly
budgets, impose export controls, stage coercion events and, optionally, react to the rival's share
of new contracts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from sim.market.financing import grant_element, loan_offer
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
        self.name = name
        self.effort = 1.0
        self.providers: list = []
        self.financing_left = 0.0
        self.subsidy_left = 0.0
        self.financing_spent = 0.0
        self.subsidy_spent = 0.0
        self.configure(settings)

    def configure(self, settings: StateSettings) -> None:
        """Take its attributes and lever schedules from the scenario, then read the levers."""
        self.bloc = settings.bloc
        self.exposure = settings.exposure
        self.ties = dict(settings.ties)
        self.ties_from = dict(settings.ties_from)
        self.co_finances = frozenset(settings.co_finances)
        self.settings = settings
        terms = settings.financing
        self.loan_terms = terms
        self.loan_grant_element = grant_element(terms.interest_rate, terms.maturity_years,
                                                terms.grace_years)
        self.schedules = {lever: StepFunction.of(getattr(settings, lever))
                          for lever in PHASED_LEVERS}
        self.refresh_levers()

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
        """Reset the yearly financing and subsidy budgets and the spending counters."""
        self.financing_left = self.financing_budget_usd_m
        self.subsidy_left = self.subsidy_budget_usd_m
        self.financing_spent = 0.0
        self.subsidy_spent = 0.0

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
        """Mechanism 9, leverage: threaten governments over which its leverage is high."""
        for government in self.model.governments:
            leverage = government.leverage_share(self.name)
            if leverage >= event.leverage_threshold and leverage > 0.0:
                government.face_coercion(self, event, leverage)

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
