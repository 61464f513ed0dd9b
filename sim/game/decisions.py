"""Players' decisions: the forms each kind of role submits, checked before they count.

A decision is a plain mapping (what a browser form or a test sends). ``check_decision`` turns it
into a validated form or raises ``DecisionError`` with one readable line naming the field and
what was expected; a refused decision changes nothing. A field left out (or ``None``) keeps the
model's own value for the round, so an empty form is the same as not submitting.

The bounds below are the game's form limits, not calibrated parameters: wide enough for any
policy a class argues for (several times the baseline's largest budgets), narrow enough that a
typing slip (an extra zero) is refused rather than played.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.game.roles import Kind

REGIONS = ("Africa", "Asia", "Americas", "Europe", "Middle East")
STATE_LEVERS = (
    "financing_budget_usd_m",
    "subsidy_budget_usd_m",
    "subsidy_rate",
    "security_pressure",
    "promotion",
)
"""The state levers a player sets: time-phased keys of ``states.<name>`` in the schema."""


class DecisionError(ValueError):
    """A decision that cannot be played; the message says why, in one line."""


class Form(BaseModel):
    """Base of the forms: unknown fields are refused, numbers are not read from text."""

    model_config = ConfigDict(extra="forbid", strict=True)


class StateDecision(Form):
    """A state's levers for the round (US$ m a year, shares 0-1); ``None`` keeps the model's."""

    financing_budget_usd_m: float | None = Field(None, ge=0, le=3000)
    subsidy_budget_usd_m: float | None = Field(None, ge=0, le=2000)
    subsidy_rate: float | None = Field(None, ge=0, le=0.5)
    security_pressure: float | None = Field(None, ge=0, le=1)
    promotion: float | None = Field(None, ge=0, le=1)


class ProviderDecision(Form):
    """A provider's bidding for the round: a markup shift and the regions it stays out of."""

    markup_shift: float = Field(0.0, ge=-0.3, le=0.3)
    stays_out_of: list[Literal["Africa", "Asia", "Americas", "Europe", "Middle East"]] = []


class GovernmentDecision(Form):
    """A government's awards: ``{tender id: provider}``, ``""`` to defer; absent = the model's."""

    choices: dict[str, str] = {}


FORMS: dict[Kind, type[Form]] = {
    "state": StateDecision,
    "provider": ProviderDecision,
    "government": GovernmentDecision,
}


def check_decision(
    kind: Kind, values: dict[str, Any], tenders: dict[str, list[str]] | None = None
) -> Form:
    """Validate a submitted form for a role of ``kind``.

    For a government, ``tenders`` maps each tender id on its card to the providers that bid on
    it; a choice of another tender or of a provider that did not bid is refused.
    """
    if not isinstance(values, dict):
        raise DecisionError("expected a form of named fields")
    try:
        form = FORMS[kind].model_validate(values)
    except ValidationError as error:
        item = error.errors()[0]
        field = ".".join(str(part) for part in item["loc"]) or "form"
        raise DecisionError(f"{field}: {_expected(item)}") from None
    if isinstance(form, GovernmentDecision):
        tenders = tenders or {}
        for tender, provider in form.choices.items():
            if tender not in tenders:
                raise DecisionError(
                    f"choices.{tender}: no such tender on your card "
                    f"(yours: {', '.join(tenders) or 'none this round'})"
                )
            if provider and provider not in tenders[tender]:
                raise DecisionError(
                    f"choices.{tender}: {provider} made no bid on this tender "
                    f"(bids from: {', '.join(tenders[tender])}; or defer)"
                )
    return form


def _expected(item: dict[str, Any]) -> str:
    kind, given, context = item["type"], item.get("input"), item.get("ctx", {})
    if kind == "extra_forbidden":
        return "not a field of this form"
    if kind in ("greater_than_equal", "less_than_equal"):
        return (
            f"expected a number {'>=' if 'ge' in context else '<='} "
            f"{next(iter(context.values()))}, got {given!r}"
        )
    if kind == "literal_error":
        return f"expected one of {', '.join(REGIONS)}, got {given!r}"
    if kind in ("float_type", "int_type", "float_parsing"):
        return f"expected a number, got {given!r}"
    return f"{item['msg']} (got {given!r})"
