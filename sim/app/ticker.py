"""The contract ticker: the latest awards in plain words, newest first.

``describe_contract`` turns one contract into a sentence a student can read aloud, e.g.
"2019 — Kenya awards a national data centre to Huawei, financed by a China Exim loan.";
``ContractTicker`` shows the latest few in the app.
"""

from __future__ import annotations

import solara
from mesa.visualization.utils import update_counter

KIND_PHRASES = {
    "national_data_centre": "national data centre",
    "e_government_platform": "e-government platform",
    "government_cloud": "government cloud",
    "critical_infrastructure_system": "critical-infrastructure system",
}
LOAN_PHRASES = {
    "China": "a China Exim loan",
    "US": "a US EXIM loan",
    "Allies": "an allied (PGII) loan",
}
TICKER_LENGTH = 8


def kind_phrase(kind: str) -> str:
    """A tender kind in words: ``"national_data_centre"`` -> ``"national data centre"``."""
    return KIND_PHRASES.get(kind, kind.replace("_", " "))


def with_article(noun: str) -> str:
    """``"e-government platform"`` -> ``"an e-government platform"``."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def describe_contract(contract) -> str:
    """One sentence: when, who awards what to whom, and whose loan paid for it."""
    tender = contract.tender
    country = tender.government.name
    kind = kind_phrase(tender.kind)
    provider = contract.provider.name
    incumbent = tender.incumbent
    if tender.renewal and incumbent is contract.provider:
        action = f"renews its {kind} with {provider}"
    elif tender.renewal and incumbent is not None:
        action = f"moves its {kind} from {incumbent.name} to {provider}"
    else:
        action = f"awards {with_article(kind)} to {provider}"
    lender = contract.bid.financing_state
    financing = ""
    if lender is not None:
        loan = LOAN_PHRASES.get(lender.name, f"a {lender.name} state loan")
        financing = f", financed by {loan}"
    return f"{int(contract.start)} — {country} {action}{financing}."


def latest_contracts(model, count: int = TICKER_LENGTH) -> list[str]:
    """The ``count`` latest contracts of the model in words, newest first."""
    return [describe_contract(contract) for contract in reversed(model.contracts[-count:])]


@solara.component
def ContractTicker(model) -> None:
    """The latest contracts in plain words (refreshed at every step)."""
    update_counter.get()
    lines = latest_contracts(model)
    with solara.Column(classes=["cloudrace-ticker"], style={"padding": "8px"}):
        solara.Text("Latest contracts", style={"font-weight": "bold", "font-size": "1.1em"})
        if not lines:
            solara.Text("No contracts yet: press Step or ▶.")
        for line in lines:
            solara.Text(line)
