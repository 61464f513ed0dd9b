"""The scenario schema: every parameter with its default, unit, range and meaning.

A scenario file is validated against ``ScenarioFile``: unknown keys, wrong types and
out-of-range values are refused (see ``sim.scenario`` for the messages). Numbers marked
"time-phased" accept a number or a ``{year: value}`` step function (``sim.timephased``). The
parameter reference in ``docs/parameters.md`` is generated from this module.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.market.financing import (
    DAC_DIFFERENTIATED,
    IMF_UNIFIED_RATE,
    LEGACY_DAC_RATE,
    arrangement_terms_problems,
)
from sim.timephased import Phased

REGIONS = ("Africa", "Asia", "Americas", "Europe", "Middle East")
INCOME_GROUPS = ("Low", "Lower middle", "Upper middle", "High")
FH_STATUSES = ("Free", "Partly Free", "Not Free")
IncomeGroup = Literal["Low", "Lower middle", "Upper middle", "High"]
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
"""A provider's or state's name: it becomes part of key paths and of yearly.csv's columns."""


def param(default: Any, unit: str, meaning: str, *, ge: float | None = None,
          le: float | None = None) -> Any:
    """A plain parameter: default, unit, inclusive range and one line of meaning."""
    return Field(default, ge=ge, le=le, description=meaning, json_schema_extra={"unit": unit})


def phased(default: Phased, unit: str, meaning: str, *, ge: float, le: float) -> Any:
    """A time-phased parameter: a number or ``{year: value}``, each value within ``[ge, le]``."""
    return Field(default, description=meaning,
                 json_schema_extra={"unit": unit, "phased": True, "minimum": ge, "maximum": le})


def by_income_group(defaults: dict[str, float], meaning: str) -> Any:
    """A share (0-1) per World Bank income group; groups a file leaves out keep their default."""
    return Field(default_factory=lambda: dict(defaults), description=meaning,
                 json_schema_extra={"unit": "share by income group", "by_income_group": True})


class Section(BaseModel):
    """Base of every scenario section: unknown keys are errors; time-phased values are checked."""

    model_config = ConfigDict(extra="forbid", validate_default=True, strict=True,
                              allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _fill_income_groups(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields[info.field_name]
        extra = field.json_schema_extra
        if isinstance(extra, dict) and extra.get("by_income_group") and isinstance(value, dict):
            return {**field.get_default(call_default_factory=True), **value}
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _check_ranges(cls, value: Any, info: ValidationInfo) -> Any:
        extra = cls.model_fields[info.field_name].json_schema_extra
        if isinstance(extra, dict) and extra.get("by_income_group"):
            for group, share in value.items():
                if not 0.0 <= share <= 1.0:
                    raise ValueError(f"a share between 0 and 1 for {group}, got {share:g}")
            return value
        if not (isinstance(extra, dict) and extra.get("phased")):
            return value
        low, high = extra["minimum"], extra["maximum"]
        steps = value.items() if isinstance(value, dict) else [(None, value)]
        for year, number in steps:
            if year is not None and not 1900 <= year <= 2200:
                raise ValueError(f"a year between 1900 and 2200 as key, got {year}")
            if not low <= number <= high:
                where = f" in {year:g}" if year is not None else ""
                raise ValueError(f"a value between {low:g} and {high:g}{where}, got {number:g}")
        return value


class RunSettings(Section):
    """How long and how often to run."""

    start_year: int = param(2006, "year", "First simulated year (tenders from 1 January).",
                            ge=1990, le=2100)
    end_year: int = param(2035, "year", "Last simulated year (inclusive).", ge=1991, le=2200)
    replications: int = param(10, "runs", "Independent replications per run command.",
                              ge=1, le=100_000)
    seed: int = param(20210401, "integer", "Root seed; replication streams are spawned from it.",
                      ge=0, le=2**63 - 1)


class PopulationSettings(Section):
    """Which governments take part."""

    data_file: str | None = param(
        None, "path", "Country data CSV (relative to the scenario file); default: the shipped "
        "file.")
    only: list[str] = param([], "ISO3 codes", "If not empty, only these countries take part.")
    exclude: list[str] = param([], "ISO3 codes", "Countries left out of the population.")


class DemandSettings(Section):
    """Mechanism 1, digital demand: how often governments tender."""

    tender_rate: float = param(
        0.2, "tenders/year", "New tenders a year of a reference economy at full adoption.",
        ge=0, le=10)
    size_elasticity: float = param(
        0.4, "-", "Elasticity of the tender rate to GDP (GDP/reference GDP)^e.", ge=0, le=2)
    reference_gdp_usd_bn: float = param(
        50.0, "US$ bn", "GDP of the reference economy for tender rates and values.", ge=0.1, le=1e6)
    adoption_midpoint_year: float = param(
        2020.0, "year", "Year a reference economy reaches half its full tender rate.",
        ge=1990, le=2100)
    adoption_steepness: float = param(
        0.35, "1/year", "Steepness of the adoption S-curve.", ge=0.01, le=5)
    income_lead_years: float = param(
        0.0, "years per log-unit", "Years earlier the S-curve's midpoint comes per log-unit of "
        "GDP per capita above the reference.", ge=0, le=20)
    reference_gdp_per_capita_usd: float = param(
        5000.0, "US$", "GDP per capita at which the S-curve midpoint is the reference year.",
        ge=100, le=1e6)
    internet_lead_years: float = param(
        1.0, "years", "Years earlier the midpoint comes for 100 % internet use than for none.",
        ge=0, le=20)
    gdp_growth_floor: float = param(
        -0.05, "1/year", "Floor on each country's GDP growth rate.", ge=-0.5, le=0)
    gdp_growth_cap: float = param(
        0.08, "1/year", "Cap on each country's GDP growth rate (from its 2006-2019 growth).",
        ge=0, le=0.3)
    deferral_years: float = param(
        1.0, "years", "Delay before a deferred tender is issued again.", ge=0.1, le=10)
    max_deferrals: int = param(2, "times", "Deferrals after which a tender is dropped.",
                               ge=0, le=10)


class TenderKind(Section):
    """One kind of tender: how common, how sensitive, how big, how long."""

    share: float = param(0.25, "-", "Relative frequency of this kind among new tenders.",
                         ge=0, le=1)
    sensitivity: float = param(0.5, "0-1", "Sensitivity of the data or system it hosts.",
                               ge=0, le=1)
    hardware_probability: float = param(
        0.3, "0-1", "Chance it needs new hard infrastructure in a country with no internet use "
        "(falls linearly with internet use, see tenders.hardware_internet_falloff).", ge=0, le=1)
    value_usd_m: float = param(40.0, "US$ m", "Typical value in the reference economy.",
                               ge=0.1, le=10_000)
    duration_years: float = param(7.0, "years", "Contract length; a renewal tender follows.",
                                  ge=1, le=40)


def _default_kinds() -> dict[str, TenderKind]:
    return {
        "national_data_centre": TenderKind(share=0.25, sensitivity=0.7, hardware_probability=0.9,
                                           value_usd_m=60.0, duration_years=10.0),
        "e_government_platform": TenderKind(share=0.35, sensitivity=0.8, hardware_probability=0.5,
                                            value_usd_m=35.0, duration_years=7.0),
        "government_cloud": TenderKind(share=0.25, sensitivity=0.6, hardware_probability=0.2,
                                       value_usd_m=25.0, duration_years=5.0),
        "critical_infrastructure_system": TenderKind(share=0.15, sensitivity=0.9,
                                                     hardware_probability=0.6, value_usd_m=45.0,
                                                     duration_years=8.0),
    }


class TenderSettings(Section):
    """Mechanism 1, tenders: kinds, values and the financing governments need."""

    kinds: dict[str, TenderKind] = Field(default_factory=_default_kinds,
                                         description="The kinds of tender, by name.")
    value_elasticity: float = param(0.35, "-", "Elasticity of tender value to GDP.", ge=0, le=2)
    hardware_internet_falloff: float = param(
        0.9, "share", "Share of the hardware probability that disappears at 100 % internet use.",
        ge=0, le=1)
    value_dispersion: float = param(0.5, "log-sd", "Log-normal spread of tender values.",
                                    ge=0, le=3)
    min_value_usd_m: float = param(3.0, "US$ m", "Smallest tender value.", ge=0.01,
                                  le=100_000)
    max_value_usd_m: float = param(600.0, "US$ m", "Largest tender value.", ge=1,
                                  le=100_000)
    renewal_value_share: float = param(
        0.6, "-", "Value of a renewal relative to the contract it renews (no new hardware).",
        ge=0.05, le=2)
    financing_need: dict[IncomeGroup, float] = by_income_group(
        {"Low": 0.85, "Lower middle": 0.65, "Upper middle": 0.35, "High": 0.05},
        "Share of a tender's value the government cannot pay up front, by income group (0-1; "
        "groups left out keep their default).")
    debt_need_weight: float = param(
        5.0, "per debt/GDP", "Extra financing need per unit of outstanding state-bank debt "
        "over GDP.", ge=0, le=20)

    @model_validator(mode="after")
    def _min_within_max(self) -> TenderSettings:
        if self.min_value_usd_m > self.max_value_usd_m:
            raise ValueError(f"min_value_usd_m ({self.min_value_usd_m:g}) at most "
                             f"max_value_usd_m ({self.max_value_usd_m:g})")
        return self



class ChoiceSettings(Section):
    """Mechanism 4, choice: weights of the government's logit rule (docs/ODD.md, Choice)."""

    cost_weight: float = param(3.0, "per value", "Weight on effective cost (after the loan's "
                               "grant element) over the tender's value.", ge=0, le=50)
    liquidity_weight: float = param(4.0, "per value", "Weight on the share of value the "
                                    "government cannot fund.", ge=0, le=50)
    quality_weight: float = param(2.0, "per capability", "Weight on the provider's capability.",
                                  ge=0, le=50)
    bundling_weight: float = param(1.0, "utility", "Bonus for bundling hard infrastructure a "
                                   "tender needs.", ge=0, le=50)
    security_weight: float = param(2.0, "per risk", "Weight on perceived security risk.",
                                   ge=0, le=50)
    pressure_weight: float = param(1.5, "per pressure", "Weight on the rival state's pressure "
                                   "(times dependence on that state).", ge=0, le=50)
    promotion_weight: float = param(1.0, "per promotion", "Weight on promotion by the bidder's "
                                    "state (times dependence on that state).", ge=0, le=50)
    trust_weight: float = param(2.0, "per trust", "Weight on lost trust in the provider.",
                                ge=0, le=50)
    defer_utility: float = param(-3.5, "utility", "Utility of deferring the tender.",
                                 ge=-50, le=50)
    scale: float = param(1.0, "utility", "Logit scale: larger means noisier choices.",
                         ge=0.01, le=100)
    nesting: float = param(
        0.6, "0-1", "Nested logit: dissimilarity parameter of the bloc nests (providers of one "
        "bloc, of the other suppliers; deferral alone). 1 = the flat multinomial logit; lower "
        "values make same-bloc providers closer substitutes (Train 2009, ch. 4). Calibration "
        "prior.", ge=0.05, le=1)
    grant_discount: Literal["imf", "dac", "legacy"] = param(
        "imf", "convention", "Discount rate of a loan's grant element: 'imf' the IMF's unified "
        "rate (choice.unified_discount_rate), 'dac' the DAC 2018 rate by income group "
        "(choice.dac_discount_rates), 'legacy' the pre-2018 DAC rate "
        "(choice.legacy_discount_rate).")
    unified_discount_rate: float = param(
        IMF_UNIFIED_RATE, "1/year", "The IMF's unified discount rate (5 % since Oct 2013).",
        ge=0, le=0.3)
    dac_discount_rates: dict[IncomeGroup, float] = by_income_group(
        DAC_DIFFERENTIATED, "DAC 2018 grant-equivalent discount rates by income group: 5 % plus "
        "4 (Low), 2 (Lower middle), 1 (Upper middle), 0 (High) points.")
    legacy_discount_rate: float = param(
        LEGACY_DAC_RATE, "1/year", "The DAC's pre-2018 discount rate (10 %).", ge=0, le=0.3)


class LockInSettings(Section):
    """Mechanism 5, lock-in: increasing returns to installed base."""

    incumbency_weight: float = param(2.5, "per share", "Utility per unit share of the "
                                     "government's installed base held by the bidder.",
                                     ge=0, le=50)
    switching_weight: float = param(1.5, "utility", "Migration cost a newcomer carries in a "
                                    "renewal tender.", ge=0, le=50)


class BiddingSettings(Section):
    """Mechanism 2, bidding: who bids and at what markup."""

    price_sensitivity: float = param(8.0, "per markup", "Believed fall in win log-odds per unit "
                                     "of markup.", ge=0.1, le=100)
    reference_markup: float = param(0.15, "-", "Markup at which the win belief is stated.",
                                    ge=-1, le=2)
    initial_belief: float = param(-0.5, "log-odds", "Win belief before any tender.",
                                  ge=-10, le=10)
    learning_rate: float = param(0.15, "-", "Damping of belief updates after each tender.",
                                 ge=0, le=2)
    belief_reversion: float = param(0.15, "1/year", "Yearly pull of beliefs back toward the "
                                    "initial belief (markets change).", ge=0, le=1)
    min_markup: float = param(-0.3, "-", "Lowest markup (below cost) a provider will bid.",
                              ge=-1, le=0)
    max_markup: float = param(0.8, "-", "Highest markup.", ge=0, le=5)
    bid_cost_usd_m: float = param(0.6, "US$ m", "Fixed cost of preparing each bid (entering "
                                  "the tender).", ge=0, le=100)
    country_risk: dict[IncomeGroup, float] = by_income_group(
        {"Low": 1.0, "Lower middle": 0.7, "Upper middle": 0.4, "High": 0.15},
        "Market risk by income group (0-1; groups left out keep their default): default, "
        "currency and payment risk rise as income falls.")
    regional_presence: float = param(0.5, "share", "Presence credited for a cloud region "
                                     "elsewhere in the country's region (1 = in the country).",
                                     ge=0, le=1)
    presence_cost_discount: float = param(0.05, "share", "Cost saved with a cloud region in the "
                                          "country (scaled by presence).", ge=0, le=1)
    presence_quality_bonus: float = param(0.1, "capability", "Capability added by a cloud region "
                                          "in the country (scaled by presence).", ge=0, le=1)
    risk_cost: float = param(0.25, "per cost", "Knife-edge entry only: risk premium, in units "
                             "of the bid's cost, a fully risk-averse provider asks in the "
                             "riskiest market.", ge=0, le=5)
    entry_rule: Literal["stochastic", "knife_edge"] = param(
        "stochastic", "rule", "Entry: 'stochastic' draws a bid-preparation cost per tender and "
        "provider (Levin & Smith 1994; sim/market/entry.py); 'knife_edge' is the old fixed rule "
        "(bid cost plus bidding.risk_cost premium).")
    bid_cost_dispersion: float = param(
        1.0, "log-sd", "Stochastic entry: log-normal spread of the bid-preparation cost drawn "
        "per tender and provider (its mean is the scale). Calibration prior.", ge=0.05, le=5)
    entry_risk_weight: float = param(
        2.0, "-", "Stochastic entry: rise of the mean bid-preparation cost per unit of country "
        "risk times (1 - risk appetite): due diligence, guarantees and local partners cost more "
        "in riskier markets. Calibration prior.", ge=0, le=20)



class ProviderSettings(Section):
    """A cloud provider (Huawei, AWS, Microsoft, Alibaba, ...)."""

    home_state: str = param(..., "name", "Its home state (a key of states).")
    capability: Phased = phased(0.8, "0-1.5", "Quality of its cloud products (time-phased).",
                                ge=0, le=1.5)
    cost_share: Phased = phased(0.85, "of value", "Its cost of delivering a tender, as a share "
                                "of the tender's value (time-phased).", ge=0.1, le=3)
    can_bundle_hardware: bool = param(False, "yes/no", "Whether it supplies hard "
                                      "infrastructure (fibre, data-centre buildings) itself.")
    risk_appetite: float = param(0.5, "0-1", "Appetite for small, poor or risky markets.",
                                 ge=0, le=1)
    cloud_regions: dict[str, float] = param(
        {}, "ISO3: year", "Cloud regions it operates in developing markets, with opening years.")
    barred_where_taiwan_recognised: bool = param(
        False, "yes/no", "Barred by governments that recognise Taiwan and by Chinese-vendor bans.")
    barred_in: list[str] = param([], "ISO3 codes", "Countries that bar it outright.")
    state_financing: bool = param(True, "yes/no", "Whether its home state's banks lend on its "
                                  "bids and its home state subsidises them.")
    market_size_quality: float = param(
        0.0, "capability per log GDP", "Capability added per log-unit of the buyer's GDP over "
        "the reference economy's (domestic and third-country suppliers are stronger in large "
        "markets; may be negative in small ones).", ge=0, le=1)
    localisation_quality: float = param(
        0.0, "capability", "Capability added where a government-data localisation rule is in "
        "force (sim/data/data_localisation.csv).", ge=0, le=1)

    @field_validator("cloud_regions")
    @classmethod
    def _region_years(cls, regions: dict[str, float]) -> dict[str, float]:
        return _check_years(regions, "opening year")


class ExportControl(Section):
    """Mechanism 7: an export control imposed by a state on a provider from a date."""

    target: str = param(..., "provider", "The sanctioned provider.")
    start: float = param(..., "year", "Effective date (fractional year).", ge=1990, le=2200)
    capability_loss: float = param(0.15, "share", "Share of capability lost (chips, software).",
                                   ge=0, le=1)
    cost_increase: float = param(0.10, "share", "Relative rise in its costs.", ge=0, le=3)
    supply_risk: float = param(0.01, "1/year", "Added yearly chance of operational trouble on "
                               "its contracts.", ge=0, le=1)


class CoercionEvent(Section):
    """Mechanism 9: a state threatens to cut services where its leverage is high."""

    year: float = param(..., "year", "When the threat is made.", ge=1990, le=2200)
    leverage_threshold: float = param(0.5, "share", "Governments with at least this leverage "
                                      "share are threatened.", ge=0, le=1)
    compliance_propensity: float = param(1.0, "-", "Chance of compliance = propensity x "
                                         "leverage x dependence (capped at 1).", ge=0, le=5)
    alignment_shift: float = param(0.3, "alignment", "Shift toward the state on compliance, "
                                   "away from it on backlash.", ge=0, le=2)
    backlash_scrutiny: float = param(0.2, "scrutiny", "Scrutiny gained on backlash.", ge=0, le=1)
    backlash_trust_loss: float = param(0.3, "trust", "Trust lost in the state's providers on "
                                       "backlash.", ge=0, le=1)
    backlash_cancels: bool = param(True, "yes/no", "Whether backlash cancels the state's "
                                   "contracts (re-tendered at once).")


class FinancingTerms(Section):
    """Mechanism 3: the terms of a state's sovereign export credit (loans to the government)."""

    regime: Literal["own_terms", "oecd_arrangement"] = param(
        "own_terms", "regime", "'oecd_arrangement' (US EXIM and other OECD export-credit "
        "agencies): the terms must respect the Arrangement (at most 85 % financed, first "
        "repayment within 6 months, repayment over at most 10 years); 'own_terms' (China Exim, "
        "CDB): any terms.")
    interest_rate: Phased = phased(0.02, "1/year", "Interest rate at signature (time-phased: "
                                   "a CIRR follows bond yields).", ge=0, le=0.3)
    payments_per_year: int = param(1, "payments", "Debt-service payments a year (the "
                                   "Arrangement requires at least 2).", ge=1, le=12)
    maturity_years: float = param(20.0, "years", "Maturity.", ge=1, le=50)
    grace_years: float = param(5.0, "years", "Grace period before repayments.", ge=0, le=30)
    coverage: float = param(0.85, "share", "Share of the contract price lent.", ge=0, le=1)
    min_need: float = param(0.3, "share", "Lends only to governments whose financing need is "
                            "at least this.", ge=0, le=1)

    @model_validator(mode="after")
    def _arrangement(self) -> FinancingTerms:
        # (grace >= maturity is refused with its own message, sim/scenario.py)
        if self.regime == "oecd_arrangement" and self.grace_years < self.maturity_years:
            problems = arrangement_terms_problems(self.coverage, self.maturity_years,
                                                  self.grace_years)
            if problems:
                raise ValueError("OECD Arrangement terms: " + "; ".join(problems))
            if self.payments_per_year < 2:
                raise ValueError("OECD Arrangement terms: at least 2 payments a year")
        return self


class DevelopmentFinance(Section):
    """Mechanism 3b: development finance to a state's providers (DFC, PGII), not to governments.

    Each 1 January the year's budget is invested in colocation and cloud capacity in the
    listed regions (equal shares); the capacity depreciates, and in a region it lowers the
    delivery cost of the state's providers (and of those of states it co-finances) by
    ``max_cost_discount * (1 - exp(-capacity / capacity_scale_usd_m))``.
    """

    budget_usd_m: Phased = phased(0.0, "US$ m/year", "Yearly development finance for digital "
                                  "infrastructure of its providers (time-phased).", ge=0, le=1e6)
    regions: list[str] = param(list(REGIONS), "regions", "Regions the finance goes to "
                               "(equal shares).")
    capacity_scale_usd_m: float = param(
        500.0, "US$ m", "Financed capacity in a region at which 63 % of the maximum cost "
        "discount is reached (DFC's Africa Data Centres loan, US$ 300 m, 2021, is a typical "
        "project). Calibration prior.", ge=1, le=1e6)
    max_cost_discount: float = param(
        0.08, "share", "Largest share of a provider's delivery cost that financed capacity "
        "saves. Calibration prior.", ge=0, le=0.5)
    depreciation: float = param(0.05, "1/year", "Yearly depreciation of financed capacity "
                                "(a 20-year facility).", ge=0, le=1)

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, value: list[str]) -> list[str]:
        unknown = [region for region in value if region not in REGIONS]
        if unknown:
            raise ValueError(f"regions among {', '.join(REGIONS)}, got {', '.join(unknown)}")
        return value


class ReactiveSettings(Section):
    """A state that raises its effort when the rival's share of new contracts passes a line."""

    enabled: bool = param(False, "yes/no", "Whether the state reacts.")
    rival_share_threshold: float = param(0.5, "share", "Rival share of last year's new "
                                         "contracts that triggers a reaction.", ge=0, le=1)
    effort_multiplier: float = param(1.5, "x", "Factor on pressure, promotion and budgets while "
                                     "reacting.", ge=1, le=10)


class StateSettings(Section):
    """A state actor (US, China, an allied pool) and its policy levers."""

    bloc: Literal["west", "china", "none"] = param(
        ..., "west/china/none", "Side of the alignment axis ('none': the other suppliers' "
        "home, on neither side).")
    exposure: float = param(0.5, "0-1", "Legal reach of the state into its providers' data.",
                            ge=0, le=1)
    ties: dict[str, float] = param(
        {}, "column: weight", "Country-data columns that tie governments to this state "
        "(dependence), with weights.")
    ties_from: dict[str, float] = param(
        {}, "column: year", "Year from which a tie column counts (default: from the data's "
        "'<column>_year' column if there is one, else always).")
    strategic_value: Phased = phased(0.0, "of cost", "Value the state puts on a contract won by "
                                     "its providers, times the tender's sensitivity, passed on "
                                     "as a lower markup (time-phased).", ge=0, le=3)
    financing_budget_usd_m: Phased = phased(0.0, "US$ m/year", "Yearly budget of concessional "
                                            "loans for its providers' bids (time-phased).",
                                            ge=0, le=1e6)
    financing: FinancingTerms = Field(default_factory=FinancingTerms,
                                      description="Sovereign export-credit terms.")
    development_finance: DevelopmentFinance = Field(
        default_factory=DevelopmentFinance,
        description="Development finance to its providers (not to governments).")
    co_finances: list[str] = param(
        [], "state names", "States whose providers' bids it also finances (allied pooling), "
        "when their home state's banks do not.")
    subsidy_budget_usd_m: Phased = phased(0.0, "US$ m/year", "Yearly subsidy budget "
                                          "(time-phased).", ge=0, le=1e6)
    subsidy_rate: Phased = phased(0.0, "of cost", "Share of a bid's cost the subsidy covers "
                                  "(time-phased).", ge=0, le=1)
    security_pressure: Phased = phased(0.0, "0-1", "Warnings against the rival's providers "
                                       "(time-phased).", ge=0, le=1)
    promotion: Phased = phased(0.0, "0-1", "Diplomatic promotion of its own providers "
                               "(time-phased).", ge=0, le=1)
    technical_assistance: Phased = phased(0.0, "0-1", "Training and procurement support that "
                                          "raises scrutiny (time-phased).", ge=0, le=1)
    barrier_removal: Phased = phased(0.0, "0-1", "Removal of foreign regulatory barriers: cuts "
                                     "its providers' bid costs (time-phased).", ge=0, le=1)
    export_controls: list[ExportControl] = Field(default_factory=list,
                                                 description="Export controls it imposes.")
    coercion_events: list[CoercionEvent] = Field(default_factory=list,
                                                 description="Coercion events it stages.")
    reactive: ReactiveSettings = Field(default_factory=ReactiveSettings,
                                       description="Reaction to the rival's share.")

    @field_validator("ties_from")
    @classmethod
    def _tie_years(cls, years: dict[str, float]) -> dict[str, float]:
        return _check_years(years, "year")


def _check_years(years: dict[str, float], noun: str) -> dict[str, float]:
    """Every value of a ``{name: year}`` mapping a year between 1900 and 2200."""
    for name, year in years.items():
        if not 1900 <= year <= 2200:
            raise ValueError(f"an {noun} between 1900 and 2200 for {name}, got {year:g}")
    return years


class CoercionSettings(Section):
    """Mechanism 9: how a threatened government decides, and how the others react."""

    rule: Literal["decision", "chance"] = param(
        "decision", "rule", "'decision': comply when the cost of losing the service outweighs "
        "the cost of complying (logit in the difference); 'chance': the old rule, comply with "
        "chance compliance_propensity x leverage x dependence.")
    service_weight: float = param(
        1.5, "utility per share", "Decision rule: cost of losing the coercer's services per "
        "unit share of sensitive workloads it hosts, on top of the migration cost "
        "(lock_in.switching_weight). Calibration prior.", ge=0, le=50)
    compliance_cost: float = param(
        6.0, "utility", "Decision rule: cost of complying for a government neither aligned "
        "with the coercer nor against it (sovereignty and reputation); it scales with "
        "1 - alignment with the coercer. Calibration prior.", ge=0, le=50)
    regional_trust_loss: float = param(
        0.2, "trust", "Decision rule: trust a government loses in the coercer's providers when "
        "all its neighbours (the other governments of its region) are threatened; pro rata to "
        "the share threatened. Calibration prior.", ge=0, le=1)
    regional_scrutiny_gain: float = param(
        0.1, "scrutiny", "Decision rule: scrutiny a government gains when all its neighbours "
        "are threatened; pro rata to the share threatened. Calibration prior.", ge=0, le=1)


class GovernmentSettings(Section):
    """Governments' alignment (pulled to its anchor), scrutiny and trust (mechanisms 6, 8)."""

    alignment_restoring_rate: float = param(
        0.32, "1/year", "Yearly share of the gap between alignment and the country's anchor "
        "(its UNGA ideal point that year) that closes (prior from the panel's persistence).",
        ge=0, le=1)
    alignment_pressure_response: float = param(
        0.05, "1/year", "Yearly move toward a state per unit of its pressure and promotion "
        "times dependence.", ge=0, le=1)
    scrutiny_base: float = param(0.2, "0-1", "Scrutiny of a government with Freedom House "
                                 "score 0.", ge=0, le=1)
    scrutiny_freedom_weight: float = param(0.5, "0-1", "Added scrutiny at Freedom House score "
                                           "100.", ge=0, le=1)
    scrutiny_pressure_response: float = param(
        0.05, "1/year", "Yearly scrutiny gained per unit of security pressure times dependence "
        "on the pressing state.", ge=0, le=1)
    scrutiny_assistance_response: float = param(
        0.1, "1/year", "Yearly scrutiny gained per unit of technical assistance times "
        "dependence.", ge=0, le=1)
    scrutiny_decay: float = param(0.1, "1/year", "Yearly pull of scrutiny back to its base.",
                                  ge=0, le=1)
    trust_recovery: float = param(0.1, "1/year", "Yearly recovery of lost trust.", ge=0, le=1)


class DependenceSettings(Section):
    """Mechanism 6: how governments depend on states."""

    debt_weight: float = param(20.0, "per debt/GDP", "Tie per unit of debt to the state's banks "
                               "over GDP.", ge=0, le=200)
    dependent_threshold: float = param(0.5, "share", "Leverage share at which a government "
                                       "counts as dependent on a state.", ge=0, le=1)


class IncidentSettings(Section):
    """Mechanism 8: security, operational and financial trouble on contracts."""

    base_rate: float = param(0.01, "1/year", "Base yearly chance of operational trouble on a "
                             "contract.", ge=0, le=1)
    debt_weight: float = param(1.0, "1/year per debt/GDP", "Added chance of financial trouble "
                               "on a financed contract per unit of state-bank debt over GDP.",
                               ge=0, le=20)
    quality_weight: float = param(0.03, "1/year", "Added chance of operational trouble at "
                                  "capability 0 (none at 1).", ge=0, le=1)
    governance_weight: float = param(0.02, "1/year", "Added chance of security trouble at "
                                     "Freedom House score 0, times the tender's sensitivity.",
                                     ge=0, le=1)
    trust_loss: float = param(0.3, "trust", "Trust lost in the provider in the country.",
                              ge=0, le=1)
    regional_spillover: float = param(0.25, "share", "Share of that loss felt elsewhere in the "
                                      "region.", ge=0, le=1)
    scrutiny_gain: float = param(0.1, "scrutiny", "Scrutiny gained by the government.",
                                 ge=0, le=1)


class HandBidding(Section):
    """The classroom game (``sim.game``): a provider's bidding set by a player for a period."""

    provider: str = param(..., "provider", "The provider (a key of providers).")
    start: float = param(..., "year", "First date it applies (fractional year).",
                         ge=1990, le=2200)
    end: float = param(..., "year", "Date it stops applying (exclusive).", ge=1990, le=2200)
    markup_shift: float = param(0.0, "-", "Added to the markup its bidding rule picks (the "
                                "result kept within bidding.min_markup and max_markup).",
                                ge=-0.5, le=0.5)
    stays_out_of: list[Literal["Africa", "Asia", "Americas", "Europe", "Middle East"]] = param(
        [], "regions", "Regions where it makes no bid in the period.")


class HandChoice(Section):
    """The classroom game (``sim.game``): a government's award made by a player."""

    country: str = param(..., "ISO3", "The government.")
    year: int = param(..., "year", "The calendar year of the tender.", ge=1990, le=2200)
    tender: int = param(..., "number", "Which of the tenders it holds that year (new, renewal "
                        "or re-issued), counted from 1 in the order held.", ge=1, le=1000)
    provider: str = param(..., "provider", "Whose bid wins, if that provider bid; an empty "
                          "name defers the tender.")


class HandEvent(Section):
    """The classroom game (``sim.game``): an event the teacher injects (a sanction, an incident)."""

    kind: Literal["ban", "incident"] = param(..., "ban/incident", "ban: the government bars the "
                                             "provider from the date on (a sanctions decision); "
                                             "incident: a security incident on the provider's "
                                             "active contracts in the country on the date.")
    year: float = param(..., "year", "Date (fractional year).", ge=1990, le=2200)
    country: str = param(..., "ISO3", "The government.")
    provider: str = param(..., "provider", "The provider.")


class HandPlay(Section):
    """Decisions a class took by hand in the classroom game (``sim.game``), dated; empty otherwise.

    The states' decisions need nothing here: they are dated steps of their time-phased levers.
    """

    bidding: list[HandBidding] = Field(default_factory=list,
                                       description="Providers' bidding set by players.")
    choices: list[HandChoice] = Field(default_factory=list,
                                      description="Governments' awards made by players.")
    events: list[HandEvent] = Field(default_factory=list,
                                    description="Bans and incidents injected by the teacher.")


def _default_providers() -> dict[str, ProviderSettings]:
    return {
        "Huawei": ProviderSettings(home_state="China", can_bundle_hardware=True),
        "AWS": ProviderSettings(home_state="US"),
    }


def _default_states() -> dict[str, StateSettings]:
    return {
        "US": StateSettings(bloc="west", ties={"us_security_partner": 1.0}),
        "China": StateSettings(bloc="china", ties={"bri_mou": 0.5}),
    }


class ScenarioFile(Section):
    """A whole scenario: what a YAML file holds once ``extends`` has been resolved."""

    description: str = param("", "text", "The policy question this scenario answers.")
    run: RunSettings = Field(default_factory=RunSettings, description="Horizon and seeds.")
    population: PopulationSettings = Field(default_factory=PopulationSettings,
                                           description="Which governments take part.")
    demand: DemandSettings = Field(default_factory=DemandSettings,
                                   description="Digital demand.")
    tenders: TenderSettings = Field(default_factory=TenderSettings, description="Tenders.")
    choice: ChoiceSettings = Field(default_factory=ChoiceSettings,
                                   description="Government choice.")
    lock_in: LockInSettings = Field(default_factory=LockInSettings, description="Lock-in.")
    bidding: BiddingSettings = Field(default_factory=BiddingSettings, description="Bidding.")
    governments: GovernmentSettings = Field(default_factory=GovernmentSettings,
                                            description="Government behaviour.")
    dependence: DependenceSettings = Field(default_factory=DependenceSettings,
                                           description="Dependence.")
    incidents: IncidentSettings = Field(default_factory=IncidentSettings,
                                        description="Incidents.")
    coercion: CoercionSettings = Field(default_factory=CoercionSettings,
                                       description="Coercion decisions.")
    providers: dict[str, ProviderSettings] = Field(default_factory=_default_providers,
                                                   description="Cloud providers, by name.")
    states: dict[str, StateSettings] = Field(default_factory=_default_states,
                                             description="State actors, by name.")

    @field_validator("providers", "states")
    @classmethod
    def _plain_names(cls, actors: dict[str, Any]) -> dict[str, Any]:
        for name in actors:
            if not NAME.fullmatch(name):
                raise ValueError(f"names of letters, digits, '_' or '-' starting with a letter "
                                 f"(at most 40), got {name[:60]!r}")
        if not actors:
            raise ValueError("at least one")
        return actors

    hand: HandPlay = Field(default_factory=HandPlay,
                           description="Decisions taken by hand in the classroom game.")
