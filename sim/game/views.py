"""What each screen shows, read from the shared model: plain mappings, built once per round.

The model is paused just before the round's first date. A role card holds the role's standing
now, what happened to it last round, and what is in front of it this round: for a government,
the tenders the model expects it to hold and the bids on them with the model's own chance for
each choice (a forecast under the model's defaults: other players' decisions this round can
change the bids); for a provider, those tenders by region and whether its rule would bid.
"""

from __future__ import annotations

from typing import Any

from sim.market.choice import logit_probabilities
from sim.model import CloudRaceModel
from sim.schema import ScenarioFile
from sim.timephased import StepFunction

LEVER_LABELS = {
    "financing_budget_usd_m": "Loan budget (US$ m a year)",
    "subsidy_budget_usd_m": "Subsidy budget (US$ m a year)",
    "subsidy_rate": "Subsidy: share of a bid's cost covered (0-0.5)",
    "security_pressure": "Security pressure on the rival's providers (0-1)",
    "promotion": "Promotion of your own providers (0-1)",
}


def tender_record(model: CloudRaceModel, tender, bids: list, winner) -> dict[str, Any]:
    """One tender as held: its bids with their terms and the model's chance for each choice."""
    government = tender.government
    utilities = [government.score_bid(tender, bid) for bid in bids]
    utilities.append(model.scenario.choice.defer_utility)
    chances = logit_probabilities(utilities, model.scenario.choice.scale) if bids else [1.0]
    return {
        "id": f"{int(model.year)}:{tender.number}",
        "country": government.iso3,
        "region": government.region,
        "kind": tender.kind.replace("_", " "),
        "value": round(tender.value, 1),
        "renewal": tender.renewal,
        "bids": [
            {
                "provider": bid.provider.name,
                "price": round(bid.price, 1),
                "loan": round(bid.loan, 1),
                "subsidy": round(bid.subsidy, 1),
                "markup": round(bid.markup, 3),
                "lender": bid.financing_state.name if bid.financing_state else "",
                "chance": round(float(chance), 3),
            }
            for bid, chance in zip(bids, chances, strict=False)
        ],
        "defer_chance": round(float(chances[-1]), 3),
        "winner": winner.provider.name if winner is not None else "",
    }


def contracts_between(model: CloudRaceModel, start: float, end: float) -> list:
    """Contracts awarded from ``start`` (inclusive) to ``end`` (exclusive)."""
    return [contract for contract in model.contracts if start <= contract.start < end]


def share_by_state(contracts: list) -> dict[str, float]:
    """Share of the contracts' value won by each state's providers."""
    total = sum(contract.tender.value for contract in contracts)
    shares: dict[str, float] = {}
    for contract in contracts:
        state = contract.provider.home.name
        shares[state] = shares.get(state, 0.0) + contract.tender.value / total
    return shares


def leverage_counts(model: CloudRaceModel) -> dict[str, int]:
    """Governments over which each state's leverage share is at least the dependent line."""
    line = model.scenario.dependence.dependent_threshold
    return {
        name: sum(
            1
            for government in model.governments
            if (share := government.leverage_share(name)) >= line and share > 0
        )
        for name in model.states
    }


def debt_owed(model: CloudRaceModel) -> dict[str, float]:
    """State-bank debt owed to each state, US$ m, now."""
    return {
        name: sum(government.debt.get(name, 0.0) for government in model.governments)
        for name in model.states
    }


def world_view(model: CloudRaceModel, since: float) -> dict[str, Any]:
    """The class's world now: contracts won since the game began, leverage and debt."""
    contracts = contracts_between(model, since, float("inf"))
    won = {provider.name: {"contracts": 0, "value": 0.0} for provider in model.providers}
    for contract in contracts:
        won[contract.provider.name]["contracts"] += 1
        won[contract.provider.name]["value"] += contract.tender.value
    return {
        "won": {
            name: {"contracts": row["contracts"], "value": round(row["value"], 1)}
            for name, row in won.items()
        },
        "state_share": {name: round(share, 3) for name, share in share_by_state(contracts).items()},
        "leverage": leverage_counts(model),
        "debt": {name: round(value, 1) for name, value in debt_owed(model).items()},
    }


def state_card(
    model: CloudRaceModel,
    name: str,
    lesson: ScenarioFile,
    start: float,
    last: tuple[float, float] | None,
) -> dict[str, Any]:
    """A state's card: the lesson's levers for the round, its spending, standing, last round."""
    state = model.states[name]
    settings = lesson.states[name]
    defaults = {
        lever: round(StepFunction.of(getattr(settings, lever)).at(start), 3)
        for lever in LEVER_LABELS
    }
    recent = contracts_between(model, *last) if last else []
    return {
        "defaults": defaults,
        "spent": {
            "loans": round(state.financing_spent, 1),
            "subsidies": round(state.subsidy_spent, 1),
        },
        "providers": [provider.name for provider in state.providers],
        "share_last_round": round(share_by_state(recent).get(name, 0.0), 3) if recent else None,
        "won_last_round": sum(1 for c in recent if c.provider.home is state),
        "leverage_over": leverage_counts(model)[name],
        "debt_owed": round(debt_owed(model)[name], 1),
    }


def provider_card(
    model: CloudRaceModel,
    name: str,
    forecast: list[dict[str, Any]],
    last: tuple[float, float] | None,
) -> dict[str, Any]:
    """A provider's card: capability, cost, installed base, last round, tenders by region."""
    provider = model.providers_by_name[name]
    recent = [c for c in contracts_between(model, *last) if c.provider is provider] if last else []
    regions: dict[str, dict[str, Any]] = {}
    for tender in forecast:
        row = regions.setdefault(tender["region"], {"tenders": 0, "value": 0.0, "would_bid": 0})
        row["tenders"] += 1
        row["value"] = round(row["value"] + tender["value"], 1)
        row["would_bid"] += any(bid["provider"] == name for bid in tender["bids"])
    installed = sum(government.installed.get(provider, 0.0) for government in model.governments)
    return {
        "home": provider.home.name,
        "capability": round(provider.capability, 3),
        "cost_share": round(provider.cost_share, 3),
        "installed": round(installed, 1),
        "won_last_round": len(recent),
        "value_last_round": round(sum(c.tender.value for c in recent), 1),
        "regions": dict(sorted(regions.items())),
    }


def government_card(
    model: CloudRaceModel,
    iso3: str,
    forecast: list[dict[str, Any]],
    held_last_round: list[dict[str, Any]],
) -> dict[str, Any]:
    """A government's card: debt, dependence, installed base, its tenders with their bids."""
    government = next(g for g in model.governments if g.iso3 == iso3)
    return {
        "name": government.name,
        "region": government.region,
        "income_group": government.income_group,
        "debt": {lender: round(amount, 1) for lender, amount in government.debt.items()},
        "debt_share_of_gdp": round(government.total_debt() / (government.gdp * 1e3), 4),
        "dependence": {state: round(value, 3) for state, value in government.dependence.items()},
        "alignment": round(government.alignment, 3),
        "installed": {
            provider.name: round(value, 1)
            for provider, value in sorted(government.installed.items(), key=lambda item: -item[1])
        },
        "tenders": [tender for tender in forecast if tender["country"] == iso3],
        "last_round": [tender for tender in held_last_round if tender["country"] == iso3],
    }
