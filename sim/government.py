"""Government agents: the buyers. One per country of the population.

A government issues tenders as its digital demand grows, scores the bids with a logit rule and
awards a contract or defers, services the debt its loans created, and reacts to pressure,
incidents and coercion. The arithmetic lives in ``sim.market``; this module only gathers the
numbers each rule needs.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mesa import Agent

from sim.country_panel import DATED_TIES, load_panel
from sim.hand import hand_award, hand_bans
from sim.market.choice import (
    bid_utility,
    choose_index,
    nested_logit_probabilities,
    perceived_security_risk,
    unfunded_share,
)
from sim.market.coercion import (
    chance_compliance_probability,
    compliance_probability,
    cost_of_complying,
    cost_of_defying,
)
from sim.market.concentration import dependence_index, leverage_share
from sim.market.financing import outstanding_principal

if TYPE_CHECKING:
    from sim.model import CloudRaceModel
    from sim.provider import Bid, Provider
    from sim.random_streams import Arrival, TenderDraws
    from sim.schema import CoercionEvent
    from sim.state_actor import StateActor


@dataclass(slots=True, weakref_slot=True)
class Tender:
    """A call for bids: what the government wants, how sensitive it is, what it needs."""

    government: Government
    kind: str
    value: float
    sensitivity: float
    needs_hardware: bool
    financing_need: float
    duration: float
    draws: TenderDraws
    """Every random number the tender can use (``sim.random_streams``)."""
    renewal: bool = False
    incumbent: Provider | None = None
    deferrals: int = 0
    number: int = 0

    def reopen(self) -> None:
        """Issue a deferred tender again (a scheduled event)."""
        self.government.pending.remove(self)
        self.government.hold_tender(self)


@dataclass(slots=True)
class Loan:
    """A state-bank loan on a contract, repaid in equal instalments after its grace period."""

    lender: str
    amount: float
    start: float
    maturity: float
    grace: float


@dataclass(slots=True, eq=False, weakref_slot=True)
class Contract:
    """An awarded contract; its expiry (a scheduled event) opens the renewal tender."""

    tender: Tender
    bid: Bid
    start: float
    grant_element: float
    troubled: bool = False
    trouble_kind: str = ""
    active: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def provider(self) -> Provider:
        """The provider that holds the contract."""
        return self.bid.provider

    def expire(self) -> None:
        """End of term: the government re-tenders, with this provider as incumbent."""
        if self.active:
            self.tender.government.renew(self)


class Government(Agent):
    """A government buying cloud, data-centre and e-government systems (DESIGN.md: Government)."""

    def __init__(self, model: CloudRaceModel, country: dict[str, Any]) -> None:
        super().__init__(model)
        self.index = len(model.agents_by_type[Government]) - 1
        """Position among the model's governments (its element in per-government draws)."""
        self.country = country
        self.iso3: str = country["iso3"]
        self.name: str = country["name"]
        self.region: str = country["region"]
        self.wb_region: str = country["wb_region"]
        self.panel = load_panel()
        self.dated = self.panel.knows(self.iso3)
        self._ties_cache: tuple = (None, None, None, {})
        self._bars_cache: tuple = (None, None, None, (frozenset(), frozenset()))
        self.read_country_year()
        self.population_m = float(country["population_m"])
        self.gdp_2019 = float(country["gdp_usd_bn"])
        demand = model.scenario.demand
        past_growth = (self.gdp_2019 / float(country["gdp_usd_bn_2006"])) ** (1.0 / 13.0) - 1.0
        self.gdp_growth = min(max(past_growth, demand.gdp_growth_floor), demand.gdp_growth_cap)
        gdp_per_capita = self.gdp_2019 * 1e3 / self.population_m
        self.adoption_midpoint = (
            demand.adoption_midpoint_year
            - demand.income_lead_years * math.log(gdp_per_capita
                                                  / demand.reference_gdp_per_capita_usd)
            - demand.internet_lead_years * (float(country["internet_pct"]) / 100.0 - 0.5))
        self.gdp = self.gdp_at(model.year)

        self.contracts: list[Contract] = []
        self.installed: dict[Provider, float] = {}
        self.loans: list[Loan] = []
        self.debt: dict[str, float] = {}
        self.pending: list[Tender] = []
        self.trust: dict[Provider, float] = {}
        self.scrutiny = self.scrutiny_base
        self.dependence: dict[str, float] = {}
        self.update_dependence()
        self.alignment = self.alignment_anchor
        self.barred: frozenset[Provider] = frozenset()
        self.barred_lenders: frozenset[str] = frozenset()
        self.update_bars()
        self.tenders_held = (0, 0)

    # --- dated country data (sim.country_panel) -------------------------------------------

    def read_country_year(self) -> None:
        """Re-read this year's income group, Freedom House, internet use and alignment anchor.

        From the dated panel (``sim/data/country_years.csv``); a country the panel does not know
        (a user's own country file) keeps its row's values, with a neutral anchor of 0.
        """
        year, country, panel = self.model.year, self.country, self.panel
        if self.dated:
            rows = _panel_rows(self.iso3)
            (self.income_group, self.fh_status, self.fh_score, self.internet_share,
             self.alignment_anchor) = rows[min(max(math.floor(year) - panel.first_year, 0),
                                               len(rows) - 1)]
        else:
            self.income_group = country["income_group"]
            self.fh_status = country["fh_status"]
            self.fh_score = float(country["fh_score"])
            self.internet_share = float(country["internet_pct"]) / 100.0
            self.alignment_anchor = 0.0
        self.us_security_partner: bool = self.tie_value("us_security_partner", year) > 0.0
        governments = self.model.scenario.governments
        self.scrutiny_base = (governments.scrutiny_base
                              + governments.scrutiny_freedom_weight * self.fh_score / 100.0)

    def tie_value(self, column: str, year: float, since: float | None = None) -> float:
        """A tie's strength (0 or 1, or the column's number) in force at ``year``.

        The dated ties (``us_security_partner``, ``bri_mou``) come from ``sim/data/ties.csv``
        with their start and end dates; any other column of the country file counts from the
        year in a companion column ``x_year`` if there is one, else always. ``since`` (a
        scenario's ``ties_from``) replaces that companion year, and is a further start date for
        a dated tie.
        """
        if since is not None and year < since:
            return 0.0
        if column in DATED_TIES and self.dated:
            return 1.0 if self.panel.tie(self.iso3, column, year) else 0.0
        if since is None:
            since = self.country.get(f"{column}_year")
        if since is not None and not _missing(since) and year < float(since):
            return 0.0
        return float(self.country[column])

    def change_dates(self) -> list[float]:
        """Dates after now at which one of this country's ties or eligibility bars changes."""
        return [date for date in self.panel.change_dates(self.iso3) if date > self.model.year]

    def refresh_ties_and_bars(self) -> None:
        """A dated tie or bar changes today (a scheduled event): re-read ties, dependence, bars."""
        self.us_security_partner = self.tie_value("us_security_partner", self.model.year) > 0.0
        self.update_dependence()
        self.update_bars()

    def may_borrow_from(self, state: StateActor) -> bool:
        """Whether ``state``'s banks may lend to this government now (eligibility file)."""
        return state.name not in self.barred_lenders

    # --- economy and demand (mechanism 1) -------------------------------------------------

    def gdp_at(self, year: float) -> float:
        """GDP in US$ bn, grown from 2019 at the country's capped 2006-2019 rate."""
        return self.gdp_2019 * (1.0 + self.gdp_growth) ** (year - 2019.0)

    def tender_rate(self, year: float) -> float:
        """Mechanism 1: expected new tenders a year on the adoption S-curve, scaled by GDP."""
        demand = self.model.scenario.demand
        adoption = 1.0 / (1.0 + math.exp(-demand.adoption_steepness
                                         * (year - self.adoption_midpoint)))
        size = (self.gdp / demand.reference_gdp_usd_bn) ** demand.size_elasticity
        return demand.tender_rate * size * adoption

    def issue_tender(self, arrival: Arrival) -> None:
        """A scheduled tender arrival: make the new tender from its draws and hold it."""
        self.hold_tender(self.model.tender_from(self, arrival))

    def financing_need(self) -> float:
        """Share of a tender's value the government cannot pay up front."""
        tenders = self.model.scenario.tenders
        debt_ratio = self.total_debt() / (self.gdp * 1e3)
        need = tenders.financing_need[self.income_group] + tenders.debt_need_weight * debt_ratio
        return min(need, 1.0)

    # --- choice (mechanism 4) -------------------------------------------------------------

    def hold_tender(self, tender: Tender) -> None:
        """Collect bids, score them and the outside option, then award or defer."""
        year = int(self.model.year)
        self.tenders_held = (year, self.tenders_held[1] + 1 if self.tenders_held[0] == year else 1)
        tender.number = self.tenders_held[1]
        bids = [bid for provider in self.model.providers
                if provider not in self.barred and (bid := provider.decide_bid(tender))]
        if not bids:
            self.model.record_tender(tender, bids, None)
            self.defer(tender)
            return
        choice = self.model.scenario.choice
        utilities = [self.score_bid(tender, bid) for bid in bids]
        utilities.append(choice.defer_utility)
        # Nests: the bidders' blocs (the other suppliers are bloc "none"), deferral alone.
        nests = [bid.provider.home.bloc for bid in bids] + ["defer"]
        lambdas = {"west": choice.nesting, "china": choice.nesting, "none": choice.nesting}
        probabilities = nested_logit_probabilities(utilities, nests, lambdas, choice.scale)
        chosen = choose_index(probabilities, tender.draws.choice(tender.deferrals))
        chosen = hand_award(self.model.scenario.hand, self.iso3, year, tender.number,
                            [bid.provider.name for bid in bids], chosen)
        winner = bids[chosen] if chosen < len(bids) else None
        self.model.record_tender(tender, bids, winner)
        for bid in bids:
            bid.provider.learn_from_outcome(self.region, bid, bid is winner)
        if winner is None:
            self.defer(tender)
        else:
            self.award_contract(tender, winner, len(bids))

    def score_bid(self, tender: Tender, bid: Bid) -> float:
        """Mechanism 4: the systematic utility of one bid to this government."""
        provider = bid.provider
        state = provider.home
        grant = bid.grant_element
        installed_total = sum(self.installed.values())
        installed_share = self.installed.get(provider, 0.0) / installed_total \
            if installed_total > 0.0 else 0.0
        rival_pressure = sum(other.security_pressure * self.dependence[other.name]
                             for other in self.model.states.values()
                             if _rival_blocs(other.bloc, state.bloc))
        return bid_utility(
            self.model.choice_weights,
            effective_cost_share=(bid.price - grant * bid.loan) / tender.value,
            unfunded=unfunded_share(bid.price, bid.loan, tender.value, tender.financing_need),
            quality=provider.quality_for(self),
            bundles_needed_hardware=bid.bundled,
            installed_share=installed_share,
            is_switch=tender.renewal and provider is not tender.incumbent,
            security_risk=perceived_security_risk(tender.sensitivity, self.scrutiny,
                                                  state.exposure, self.alignment_with(state)),
            rival_pressure=rival_pressure,
            promotion=state.promotion * self.dependence[state.name],
            trust=self.trust.get(provider, 1.0),
        )

    def award_contract(self, tender: Tender, bid: Bid, n_bids: int) -> None:
        """Sign the contract: installed base, loan and budgets; schedule its expiry."""
        provider = bid.provider
        lender = bid.financing_state
        now = self.model.year
        provider.home.commit(0.0, bid.subsidy)
        grant = 0.0
        if lender is not None:
            lender.commit(bid.loan, 0.0)
            grant = bid.grant_element
            terms = lender.loan_terms
            self.loans.append(Loan(lender.name, bid.loan, now, terms.maturity_years,
                                   terms.grace_years))
            self.debt[lender.name] = self.debt.get(lender.name, 0.0) + bid.loan
        contract = Contract(tender, bid, now, grant, extra={
            "n_bids": n_bids, "income_group": self.income_group, "fh_status": self.fh_status,
            "us_security_partner": self.us_security_partner})
        self.contracts.append(contract)
        self.installed[provider] = self.installed.get(provider, 0.0) + tender.value
        self.model.record_contract(contract)
        end = now + tender.duration
        if end < self.model.end_time:
            self.model.schedule_event(contract.expire, at=end - self.model.start_year)

    def defer(self, tender: Tender) -> None:
        """Put the tender off; re-issue it later, or drop it after too many deferrals."""
        self.model.deferred_this_year += 1
        demand = self.model.scenario.demand
        if tender.deferrals >= demand.max_deferrals:
            return
        tender.deferrals += 1
        reopen = self.model.year + demand.deferral_years
        if reopen < self.model.end_time:
            self.pending.append(tender)
            self.model.schedule_event(tender.reopen, at=reopen - self.model.start_year)

    # --- lock-in (mechanism 5) ------------------------------------------------------------

    def renew(self, contract: Contract) -> None:
        """Contract ends: re-tender with the holder as incumbent, then retire the old one."""
        old = contract.tender
        value = old.value * self.model.scenario.tenders.renewal_value_share
        renewal = Tender(self, old.kind, value, old.sensitivity, False, self.financing_need(),
                         old.duration, self.model.streams.follow_on(), renewal=True,
                         incumbent=contract.provider)
        self.hold_tender(renewal)
        self.retire(contract)

    def retire(self, contract: Contract) -> None:
        """Remove a contract from the active book and the installed base."""
        contract.active = False
        self.contracts.remove(contract)
        provider = contract.provider
        remaining = self.installed[provider] - contract.tender.value
        if remaining > 1e-9:
            self.installed[provider] = remaining
        else:
            del self.installed[provider]

    # --- debt, dependence and alignment (mechanisms 3, 6) ---------------------------------

    def total_debt(self) -> float:
        """Outstanding state-bank debt, US$ m."""
        return sum(self.debt.values())

    def service_debt(self) -> None:
        """Repay principal on schedule: recompute what is still owed to each lender."""
        now = self.model.year
        debt: dict[str, float] = {}
        for loan in self.loans:
            owed = outstanding_principal(loan.amount, loan.maturity, loan.grace, now - loan.start)
            debt[loan.lender] = debt.get(loan.lender, 0.0) + owed
        self.loans = [loan for loan in self.loans if now - loan.start < loan.maturity]
        self.debt = debt

    def update_dependence(self) -> None:
        """Mechanism 6: dependence on each state from its ties and the debt owed.

        A tie counts while it is in force (``tie_value``: dated spells for the dated ties, else
        from the scenario's ``ties_from`` or the data's ``x_year``).
        """
        debt_weight = self.model.scenario.dependence.debt_weight
        gdp_m = self.gdp * 1e3
        for name, (terms, debt_free) in self.tie_terms().items():
            owed = self.debt.get(name, 0.0)
            self.dependence[name] = debt_free if owed == 0.0 else dependence_index(
                [debt_weight * owed / gdp_m, *terms])

    def tie_terms(self) -> dict[str, tuple[list[float], float]]:
        """Each state's weighted ties in force now (``weight * tie_value`` per tie column), and
        the dependence they make without debt.

        Ties are step functions of the date; the terms are recomputed only when the date has
        crossed one of their steps (or the scenario changed, in a branch), else reused.
        """
        year, scenario = self.model.year, self.model.scenario
        cached_scenario, dates, interval, terms = self._ties_cache
        if cached_scenario is not scenario:
            dates = sorted(self.tie_dates())
        now = bisect_right(dates, year)
        if cached_scenario is not scenario or now != interval:
            terms = {}
            for name, state in self.model.states.items():
                ties = [weight * self.tie_value(column, year, state.ties_from.get(column))
                        for column, weight in state.ties.items()]
                terms[name] = (ties, dependence_index([0.0, *ties]))
            self._ties_cache = (scenario, dates, now, terms)
        return terms

    def tie_dates(self) -> set[float]:
        """Every date at which one of the states' ties to this government can start or end."""
        dates = set(self.panel.change_dates(self.iso3))
        for state in self.model.states.values():
            dates.update(since for since in state.ties_from.values() if since is not None)
            for column in state.ties:
                since = self.country.get(f"{column}_year")
                if since is not None and not _missing(since):
                    dates.add(float(since))
        return dates

    def alignment_with(self, state: StateActor) -> float:
        """Alignment with ``state`` in [-1, 1] (the axis runs from China to the west).

        A state on neither side (the other suppliers' home) is at 0 from everyone.
        """
        if state.bloc == "none":
            return 0.0
        return self.alignment if state.bloc == "west" else -self.alignment

    def respond_to_pressure(self) -> None:
        """Mechanism 6: pressure and promotion move alignment and scrutiny, through dependence.

        Alignment is pulled back toward the country's anchor (its UNGA ideal point this year,
        ``sim/data/country_years.csv``) by ``alignment_restoring_rate`` of the gap each year,
        and pushed by each state's pressure and promotion times the government's dependence.
        """
        settings = self.model.scenario.governments
        push = 0.0
        for name, state in self.model.states.items():
            reach = self.dependence[name]
            direction = bloc_direction(state.bloc)
            push += direction * settings.alignment_pressure_response * reach * (
                state.security_pressure + state.promotion)
            self.scrutiny += reach * (settings.scrutiny_pressure_response * state.security_pressure
                                      + settings.scrutiny_assistance_response
                                      * state.technical_assistance)
        self.alignment += (settings.alignment_restoring_rate
                           * (self.alignment_anchor - self.alignment) + push)
        self.scrutiny += settings.scrutiny_decay * (self.scrutiny_base - self.scrutiny)
        self.alignment = min(max(self.alignment, -1.0), 1.0)
        self.scrutiny = min(max(self.scrutiny, 0.0), 1.0)

    def recognises_taiwan(self, year: float) -> bool:
        """Whether the government recognises Taiwan at ``year``.

        From the data's recognition dates where it has them (switches since 2006), else its
        end-2021 status.
        """
        since = self.country.get("taiwan_recognition_from")
        until = self.country.get("taiwan_recognition_until")
        has_since = since is not None and not _missing(since)
        has_until = until is not None and not _missing(until)
        if not (self.country["taiwan_recognition"] or has_until):
            return False
        return (not has_since or year >= float(since)) and (not has_until or year < float(until))

    def update_bars(self) -> None:
        """Providers and lenders this government bars now.

        Providers: Taiwan recognition and national vendor bans (the providers' flag), the
        scenario's ``barred_in``, and the states whose providers the eligibility file
        (``sim/data/eligibility.csv``: US sanctions) bars from contracting here. Lenders: the
        states the file bars from lending here.
        """
        year, scenario = self.model.year, self.model.scenario
        cached_scenario, dates, interval, bars = self._bars_cache
        if cached_scenario is not scenario:
            dates = sorted(self.bar_dates())
        now = bisect_right(dates, year)
        if cached_scenario is not scenario or now != interval:
            bars = self.bars_at(year)
            self._bars_cache = (scenario, dates, now, bars)
        self.barred, self.barred_lenders = bars

    def bar_dates(self) -> set[float]:
        """Every date at which a bar on a provider or lender here can start or end."""
        dates = set(self.panel.change_dates(self.iso3))
        for key in ("chinese_vendor_ban_year", "taiwan_recognition_from",
                    "taiwan_recognition_until"):
            date = self.country.get(key)
            if date is not None and not _missing(date):
                dates.add(float(date))
        dates.update(event.year for event in self.model.scenario.hand.events
                     if event.kind == "ban" and event.country == self.iso3)
        return dates

    def bars_at(self, year: float) -> tuple[frozenset[Provider], frozenset[str]]:
        """The providers and the lenders barred here at ``year`` (see ``update_bars``)."""
        ban_year = self.country.get("chinese_vendor_ban_year")
        banned = ban_year is not None and not _missing(ban_year) and year >= float(ban_year)
        bars_chinese_linked = banned or self.recognises_taiwan(year)
        rules = self.panel.bars(self.iso3, year, flagged=False)
        sanctioning = {bar.state for bar in rules if bar.contract}
        hand_barred = hand_bans(self.model.scenario.hand, self.iso3, year)
        barred = frozenset(
            provider for provider in self.model.providers
            if self.iso3 in provider.barred_in
            or provider.home.name in sanctioning
            or provider.name in hand_barred
            or (provider.barred_where_taiwan_recognised and bars_chinese_linked))
        return barred, frozenset(bar.state for bar in rules if bar.lend)

    # --- incidents and trust (mechanism 8) ------------------------------------------------

    def check_contracts_for_trouble(self) -> None:
        """Mechanism 8: each untroubled contract may run into trouble this year.

        The draw is the contract's own for this year of its life (its tender's block).
        """
        if not self.contracts:
            return
        settings = self.model.scenario.incidents
        closing = round(self.model.year) - 1
        debt_risk = settings.debt_weight * self.total_debt() / (self.gdp * 1e3)
        governance_risk = settings.governance_weight * (1.0 - self.fh_score / 100.0)
        for contract in list(self.contracts):
            if contract.troubled:
                continue
            provider = contract.provider
            operational = (settings.base_rate + provider.supply_risk
                           + settings.quality_weight * max(0.0, 1.0 - provider.capability))
            financial = debt_risk if contract.bid.loan > 0.0 else 0.0
            risks = (("operational", operational), ("financial", financial),
                     ("security", governance_risk * contract.tender.sensitivity))
            draw = contract.tender.draws.trouble(closing - int(contract.start))
            for kind, risk in risks:
                if draw < risk:
                    self.suffer_incident(contract, kind)
                    break
                draw -= risk

    def suffer_incident(self, contract: Contract, kind: str) -> None:
        """Trouble raises scrutiny and lowers trust in the provider here and in the region."""
        settings = self.model.scenario.incidents
        contract.troubled = True
        contract.trouble_kind = kind
        self.model.troubled_this_year += 1
        self.scrutiny = min(1.0, self.scrutiny + settings.scrutiny_gain)
        provider = contract.provider
        self.lose_trust(provider, settings.trust_loss)
        for neighbour in self.model.governments_by_region[self.region]:
            if neighbour is not self:
                neighbour.lose_trust(provider, settings.trust_loss * settings.regional_spillover)

    def lose_trust(self, provider: Provider, amount: float) -> None:
        """Lower trust in a provider (trust runs from 0 to 1)."""
        self.trust[provider] = max(0.0, self.trust.get(provider, 1.0) - amount)

    def recover_trust(self) -> None:
        """Lost trust recovers a little each year."""
        recovery = self.model.scenario.governments.trust_recovery
        self.trust = {p: t + recovery * (1.0 - t) for p, t in self.trust.items()
                      if t + recovery * (1.0 - t) < 0.999}

    # --- leverage and coercion (mechanism 9) ----------------------------------------------

    def sensitive_workloads(self) -> dict[str, float]:
        """Sensitivity-weighted value of active contracts, by the holder's home state."""
        by_state: dict[str, float] = {}
        for contract in self.contracts:
            state = contract.provider.home.name
            weight = contract.tender.value * contract.tender.sensitivity
            by_state[state] = by_state.get(state, 0.0) + weight
        return by_state

    def leverage_share(self, state: str) -> float:
        """Mechanism 9: the share of this government's sensitive workloads ``state`` hosts."""
        return leverage_share(self.sensitive_workloads(), state)

    def face_coercion(self, state: StateActor, event: CoercionEvent, leverage: float,
                      draw: float | None = None) -> None:
        """Comply (align with the coercer) or push back (scrutiny, distrust, cancellations).

        Under ``coercion.rule: decision`` the government complies when losing the service
        would cost it more than conceding (``sim.market.coercion``); under ``chance``, with
        chance propensity x leverage x dependence. ``draw`` is the government's uniform for
        the event (``StateActor.coercion_draws``, read here when not given).
        """
        if draw is None:
            draw = state.coercion_draws(event)[self.index]
        settings = self.model.scenario.coercion
        if settings.rule == "decision":
            comply_chance = compliance_probability(
                cost_of_defying(leverage, self.model.scenario.lock_in.switching_weight,
                                settings.service_weight),
                cost_of_complying(settings.compliance_cost, self.alignment_with(state)),
                self.model.scenario.choice.scale)
        else:
            comply_chance = chance_compliance_probability(event.compliance_propensity, leverage,
                                                          self.dependence[state.name])
        direction = bloc_direction(state.bloc)
        if draw < comply_chance:
            self.model.coercion_outcomes[state.name]["complied"] += 1
            self.alignment = min(max(self.alignment + direction * event.alignment_shift, -1), 1)
            return
        self.model.coercion_outcomes[state.name]["backlash"] += 1
        self.alignment = min(max(self.alignment - direction * event.alignment_shift, -1), 1)
        self.scrutiny = min(1.0, self.scrutiny + event.backlash_scrutiny)
        for provider in state.providers:
            self.lose_trust(provider, event.backlash_trust_loss)
        if event.backlash_cancels:
            for contract in [c for c in self.contracts if c.provider.home is state]:
                self.cancel(contract)

    def witness_coercion(self, state: StateActor, trust_loss: float,
                         scrutiny_gain: float) -> None:
        """A neighbour was threatened: trust in the coercer's providers falls, scrutiny rises."""
        for provider in state.providers:
            self.lose_trust(provider, trust_loss)
        self.scrutiny = min(1.0, self.scrutiny + scrutiny_gain)

    def cancel(self, contract: Contract) -> None:
        """End a contract early and tender its replacement at once, with no incumbent."""
        contract.extra["cancelled"] = True
        self.retire(contract)
        old = contract.tender
        value = old.value * self.model.scenario.tenders.renewal_value_share
        self.hold_tender(Tender(self, old.kind, value, old.sensitivity, False,
                                self.financing_need(), old.duration,
                                self.model.streams.follow_on()))

    # --- the yearly round -----------------------------------------------------------------

    def close_year(self) -> None:
        """End of year: trouble on contracts, debt service, trust, pressure."""
        self.check_contracts_for_trouble()
        self.service_debt()
        self.recover_trust()

    def open_year(self) -> None:
        """Start of year: the economy grows, this year's data, ties and bars are re-read,
        pressure is felt."""
        self.gdp = self.gdp_at(self.model.year)
        self.read_country_year()
        self.update_dependence()
        self.update_bars()
        self.respond_to_pressure()


def bloc_direction(bloc: str) -> float:
    """Which way a state's pull moves alignment on the China (-1) to west (+1) axis: a state on
    neither side (the other suppliers' home) pulls nowhere."""
    return {"west": 1.0, "china": -1.0}.get(bloc, 0.0)


def _rival_blocs(bloc: str, other: str) -> bool:
    """Whether two blocs are the two sides of the axis (a state on neither side has no rival)."""
    return bloc != other and "none" not in (bloc, other)


@functools.cache
def _panel_rows(iso3: str) -> list[tuple[str, str, float, float, float]]:
    """The country's panel values per panel year, read once per process (``read_country_year``).

    Each row: income group, Freedom House status and score, internet share, alignment anchor.
    """
    panel = load_panel()
    return [(panel.value(iso3, "income_group", year), panel.value(iso3, "fh_status", year),
             float(panel.value(iso3, "fh_score", year)),
             panel.value(iso3, "internet_pct", year) / 100.0,
             panel.value(iso3, "alignment_anchor", year))
            for year in range(panel.first_year, panel.last_year + 1)]


def _missing(value: Any) -> bool:
    return value == "" or (isinstance(value, float) and math.isnan(value))
