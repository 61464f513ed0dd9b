"""Cloud Race: the US-China contest for government cloud contracts in developing countries.

Governments tender data centres, e-government platforms, government clouds and critical systems
as their digital demand grows; cloud providers bid, backed by their home states' loans,
subsidies, pressure and promotion; each government picks a bid with a logit rule in which cost,
quality, lock-in and security risk all count. The model runs in fractional years: tenders,
contract expiries and policy changes are scheduled events, and a yearly step closes the books.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from functools import partial
from pathlib import Path

import numpy as np
from mesa import Model
from mesa.datacollection import DataCollector
from mesa.experimental.scenarios import Scenario
from mesa.time import Priority

from sim.countries import load_countries
from sim.country_outputs import CountryLog
from sim.government import Government, Tender
from sim.hand import schedule_hand_incidents
from sim.localisation import localisation_since
from sim.market.choice import ChoiceWeights
from sim.metrics import YearlyMetrics
from sim.provider import Bid, Provider
from sim.random_streams import Arrival, RandomStreams
from sim.schema import (
    BiddingSettings,
    ChoiceSettings,
    CoercionSettings,
    DemandSettings,
    DependenceSettings,
    GovernmentSettings,
    HandPlay,
    IncidentSettings,
    LockInSettings,
    PopulationSettings,
    ProviderSettings,
    RunSettings,
    ScenarioFile,
    StateSettings,
    TenderSettings,
)
from sim.shipped import shipped_folder
from sim.state_actor import StateActor

BASELINE = shipped_folder("scenarios") / "baseline.yaml"


class CloudRaceScenario(Scenario):
    """The model's parameters: one typed attribute per section of the scenario schema."""

    description: str = ""
    run: RunSettings = RunSettings()
    population: PopulationSettings = PopulationSettings()
    demand: DemandSettings = DemandSettings()
    tenders: TenderSettings = TenderSettings()
    choice: ChoiceSettings = ChoiceSettings()
    lock_in: LockInSettings = LockInSettings()
    bidding: BiddingSettings = BiddingSettings()
    governments: GovernmentSettings = GovernmentSettings()
    dependence: DependenceSettings = DependenceSettings()
    incidents: IncidentSettings = IncidentSettings()
    coercion: CoercionSettings = CoercionSettings()
    providers: dict[str, ProviderSettings] = ScenarioFile().providers
    states: dict[str, StateSettings] = ScenarioFile().states
    hand: HandPlay = HandPlay()

    @classmethod
    def from_settings(cls, settings: ScenarioFile, rng: np.random.SeedSequence | int | None = None,
                      ) -> CloudRaceScenario:
        """Build from a validated scenario file (``sim.scenario.load_scenario``)."""
        return cls(rng=rng, **{name: getattr(settings, name)
                               for name in ScenarioFile.model_fields})


class _Action:
    """A scheduled call with arguments (Mesa events hold weak references to callables)."""

    def __init__(self, function, *args) -> None:
        self.function = function
        self.args = args

    def run(self) -> None:
        self.function(*self.args)


class CloudRaceModel(Model):
    """Governments, providers and states competing over government cloud contracts."""

    def __init__(self, scenario: CloudRaceScenario | None = None, *, rng=None,
                 record_tenders: bool = False, scenario_file: str | Path = BASELINE,
                 **parameters) -> None:
        """Build the world from a scenario.

        Without ``scenario``, the scenario is read from ``scenario_file`` (the baseline by
        default) with ``parameters`` as overrides, keyed by path with ``__`` for the dots
        (``choice__cost_weight=2.5``), and seeded with ``rng``: the form SolaraViz sliders and
        Mesa's ``batch_run`` call.
        """
        if scenario is None:
            from sim.scenario import load_scenario
            values = {key.replace("__", "."): value for key, value in parameters.items()}
            scenario = CloudRaceScenario.from_settings(load_scenario(scenario_file, values=values),
                                                       rng=rng)
        elif parameters:
            raise TypeError("pass either a scenario or parameters, not both")
        super().__init__(scenario=scenario)
        self.start_year = scenario.run.start_year
        self.end_year = scenario.run.end_year
        self.end_time = float(self.end_year + 1)
        self.record_tenders = record_tenders
        self.read_market_rules()

        countries = self.select_population(scenario.population)
        self.region_of = dict(zip(countries["iso3"], countries["region"], strict=True))
        self.localisation_since = localisation_since()
        self.states = {name: StateActor(self, name, settings)
                       for name, settings in scenario.states.items()}
        self.providers = [Provider(self, name, settings, self.states[settings.home_state])
                          for name, settings in scenario.providers.items()]
        self.providers_by_name = {provider.name: provider for provider in self.providers}
        self.governments = Government.create_agents(self, len(countries),
                                                    country=countries.to_dict("records"))
        self.streams = RandomStreams(self.rng.bit_generator.seed_seq, len(self.providers),
                                     holds=scenario.demand.max_deferrals + 1,
                                     years=self.end_year - self.start_year + 1)
        self.governments_by_region: dict[str, list[Government]] = {}
        for government in self.governments:
            self.governments_by_region.setdefault(government.region, []).append(government)

        self.contracts = []
        self.tender_log: list[dict] = []
        self.coercion_outcomes = {name: {"complied": 0, "backlash": 0} for name in self.states}
        self._actions: list[_Action] = []
        self._year_actions: list[_Action] = []
        self._policy_events: list = []
        self.schedule_policy_changes()
        self.metrics = YearlyMetrics(self)
        self.country_log = CountryLog(self)
        self.datacollector = DataCollector(model_reporters={
            column: partial(_reported, column) for column in self.metrics.columns})
        self.begin_year()

    def read_market_rules(self) -> None:
        """The choice weights and tender kinds of the current scenario, in the form used."""
        scenario = self.scenario
        self.choice_weights = ChoiceWeights(
            cost=scenario.choice.cost_weight, liquidity=scenario.choice.liquidity_weight,
            quality=scenario.choice.quality_weight, bundling=scenario.choice.bundling_weight,
            incumbency=scenario.lock_in.incumbency_weight,
            switching=scenario.lock_in.switching_weight,
            security=scenario.choice.security_weight, pressure=scenario.choice.pressure_weight,
            promotion=scenario.choice.promotion_weight, trust=scenario.choice.trust_weight,
            scale=scenario.choice.scale)
        kinds = [(name, kind) for name, kind in scenario.tenders.kinds.items() if kind.share > 0]
        total_share = sum(kind.share for _, kind in kinds)
        self.tender_kinds = kinds
        self.kind_cumulative = np.cumsum([kind.share / total_share for _, kind in kinds]).tolist()

    def continue_as(self, settings: ScenarioFile) -> None:
        """Fork: from now on follow another scenario, keeping the history made so far.

        Contracts, debts, beliefs, trust, installed bases and the random stream stay; every
        parameter is read from ``settings`` from now on. Its dated changes after now are
        scheduled and the old scenario's are cancelled; dated events already past (export
        controls, coercion) belong to the shared history and are not replayed. The new
        scenario must have the same horizon, states and providers (a state a branch adds can
        be present, with its levers off, in the shared history: see ``sim.branching``).
        """
        names = (set(settings.states), set(settings.providers))
        if names != (set(self.states), set(self.providers_by_name)):
            raise ValueError("a branch must have the same states and providers as its trunk")
        if (settings.run.start_year, settings.run.end_year) != (self.start_year, self.end_year):
            raise ValueError("a branch must have the same horizon as its trunk")
        if settings.demand.max_deferrals + 1 > self.streams.holds:
            raise ValueError("a branch may not allow more deferrals than its trunk (each "
                             "tender's draws are sized for the trunk's, sim.random_streams)")
        self.scenario = CloudRaceScenario.from_settings(settings, rng=self.scenario.rng)
        self.read_market_rules()
        for event in self._policy_events:
            event.cancel()
        self._policy_events = []
        for name, state_settings in settings.states.items():
            self.states[name].configure(state_settings)
        for name, provider_settings in settings.providers.items():
            provider = self.providers_by_name[name]
            if provider.home.name != provider_settings.home_state:
                raise ValueError(f"provider {name} cannot change its home state in a branch")
            provider.configure(provider_settings)
        for government in self.governments:
            government.update_dependence()
            government.update_bars()
        self.schedule_policy_changes(replay_past=False)

    def localises(self, iso3: str) -> bool:
        """Whether a government-data localisation rule is in force in the country now."""
        since = self.localisation_since.get(iso3)
        return since is not None and self.year >= since

    @property
    def year(self) -> float:
        """The current date as a fractional calendar year."""
        return self.start_year + self.time

    def select_population(self, population: PopulationSettings):
        """The governments taking part: the country file, less exclusions, or only those named."""
        countries = load_countries(population.data_file)
        if population.only:
            countries = countries[countries["iso3"].isin(population.only)]
        return countries[~countries["iso3"].isin(population.exclude)].reset_index(drop=True)

    # --- scheduled events ------------------------------------------------------------------

    def schedule_at(self, year: float, function, *args, replay_past: bool = True) -> None:
        """Schedule ``function(*args)`` at a calendar date (now, if the date has passed).

        Dated events run after the yearly step of the same date (default priority), so an
        event dated 1 January belongs to the year it opens. With ``replay_past`` false, a date
        already past is skipped instead of run now.
        """
        if args:
            action = _Action(function, *args)
            self._actions.append(action)
            function = action.run
        if year <= self.year:
            if replay_past:
                function()
        elif year < self.end_time:
            self._policy_events.append(self.schedule_event(
                function, at=year - self.start_year, priority=Priority.DEFAULT))

    def schedule_policy_changes(self, replay_past: bool = True) -> None:
        """Every dated change in the scenario becomes an event: levers, capability, controls."""
        for state in self.states.values():
            for year in sorted({y for s in state.schedules.values()
                                for y, _ in s.changes_after(self.year)}):
                self.schedule_at(year, state.refresh_levers)
            for control in state.settings.export_controls:
                self.schedule_at(control.start, state.impose_export_control, control,
                                 replay_past=replay_past)
            for event in state.settings.coercion_events:
                self.schedule_at(event.year, state.coerce, event, replay_past=replay_past)
        for provider in self.providers:
            years = {y for y, _ in provider.capability_schedule.changes_after(self.year)}
            years |= {y for y, _ in provider.cost_schedule.changes_after(self.year)}
            years |= {y for y in provider.cloud_regions.values() if y > self.year}
            for year in sorted(years):
                self.schedule_at(year, provider.refresh_capability)
        for government in self.governments:
            for year in government.change_dates():
                self.schedule_at(year, government.refresh_ties_and_bars)

        schedule_hand_incidents(self, replay_past=replay_past)

    def schedule_year_tenders(self) -> None:
        """Mechanism 1: this year's new tenders (Poisson) and their arrivals as events.

        From the year's own arrival stream (``sim.random_streams``), so no decision moves them.
        """
        rates = [government.tender_rate(self.year + 0.5) for government in self.governments]
        governments = self.governments.to_list()
        self._year_actions = []
        for arrival in self.streams.arrivals(int(self.year), rates):
            action = _Action(governments[arrival.government].issue_tender, arrival)
            self._year_actions.append(action)
            self.schedule_event(action.run, at=self.time + arrival.offset)

    def draw_tender(self, government: Government) -> Tender:
        """A new tender for ``government`` now, its draws next from the follow-on stream.

        For tools and tests that want one tender outside the year's arrivals; the run's own
        arrivals come from ``tender_from``.
        """
        rng = self.streams.follow_ons
        return self.tender_from(government, Arrival(
            government.index, 0.0, float(rng.random()), float(rng.standard_normal()),
            float(rng.random()), self.streams.follow_on()))

    def tender_from(self, government: Government, arrival: Arrival) -> Tender:
        """A new tender: its kind, value (scaled to the economy), hardware and financing need."""
        index = min(bisect_right(self.kind_cumulative, arrival.kind), len(self.tender_kinds) - 1)
        kind_name, kind = self.tender_kinds[index]
        tenders = self.scenario.tenders
        spread = tenders.value_dispersion
        value = kind.value_usd_m * (government.gdp / self.scenario.demand.reference_gdp_usd_bn
                                    ) ** tenders.value_elasticity \
            * math.exp(spread * arrival.value - spread * spread / 2.0)
        value = min(max(value, tenders.min_value_usd_m), tenders.max_value_usd_m)
        hardware_chance = kind.hardware_probability * (
            1.0 - tenders.hardware_internet_falloff * government.internet_share)
        return Tender(government, kind_name, value, kind.sensitivity,
                      arrival.hardware < hardware_chance, government.financing_need(),
                      kind.duration_years, arrival.draws)

    # --- records ---------------------------------------------------------------------------

    def record_contract(self, contract) -> None:
        """Keep every awarded contract for contracts.csv and the yearly metrics."""
        self.contracts.append(contract)

    def record_tender(self, tender: Tender, bids: list[Bid], winner: Bid | None) -> None:
        """Count the tender; with ``record_tenders``, keep every bid for tenders.csv."""
        self.tenders_this_year += 1
        if not self.record_tenders:
            return
        base = {"time": round(self.year, 4), "country": tender.government.iso3,
                "tender_kind": tender.kind, "value_usd_m": tender.value,
                "renewal": tender.renewal, "needs_hardware": tender.needs_hardware,
                "financing_need": tender.financing_need, "n_bids": len(bids),
                "outcome": "deferred" if winner is None else "awarded"}
        if not bids:
            self.tender_log.append({**base, "provider": "", "bundled_hardware": False,
                                    "won": False})
        for bid in bids:
            self.tender_log.append({
                **base, "provider": bid.provider.name, "cost_usd_m": bid.cost,
                "markup": bid.markup, "subsidy_usd_m": bid.subsidy, "price_usd_m": bid.price,
                "loan_usd_m": bid.loan, "bundled_hardware": bid.bundled,
                "believed_win_chance": bid.believed_win_chance, "won": bid is winner})

    # --- the yearly round ------------------------------------------------------------------

    def begin_year(self) -> None:
        """Open a year: states react and reopen budgets, governments update, tenders drawn."""
        self.year_first_contract = len(self.contracts)
        self.tenders_this_year = 0
        self.deferred_this_year = 0
        self.troubled_this_year = 0
        rival_shares = self.metrics.bloc_shares_last_year()
        for state in self.states.values():
            state.react_to_rival(rival_shares.get("china" if state.bloc == "west" else "west",
                                                  0.0))
        # Changes dated 1 January apply before the year opens, whatever the event order.
        self.agents_by_type[StateActor].do("refresh_levers")
        self.agents_by_type[StateActor].do("open_budget_year")
        self.agents_by_type[Provider].do("refresh_capability")
        self.agents_by_type[Provider].do("revert_beliefs")
        self.governments.do("open_year")
        self.schedule_year_tenders()

    def step(self) -> None:
        """Close the year just ended (trouble, debt, data), then open the next."""
        self.governments.do("close_year")
        self.metrics.close_year(self.year - 1)
        self.country_log.record(self.year - 1)
        self.datacollector.collect(self)
        if self.year > self.end_year:
            self.running = False
            return
        self.begin_year()


def _reported(column: str, model: CloudRaceModel) -> float:
    return model.metrics.current[column]
