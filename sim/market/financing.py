"""Loan arithmetic: grant elements, repayment schedules, export-credit terms, development finance.

The grant element measures how concessional a loan is: one minus the present value of the
borrower's debt service over the loan's face value. The discount rate is a convention
(``discount_rate_for``): the IMF's unified 5 % (IMF, "Unification of Discount Rates Used in
External Debt Analysis for Low-Income Countries", Oct 2013), the OECD-DAC's differentiated rates
of its 2018 grant-equivalent method (5 % plus 1, 2 or 4 points for upper-middle, lower-middle and
low-income or least-developed borrowers: 6/7/9 %; OECD, "Modernising ODA: grant equivalent",
DAC High Level Meeting 2014), or the pre-2018 DAC 10 %. A grant has a grant element of 1; a loan
at the discount rate has 0.

Sovereign export credit on OECD Arrangement terms (US EXIM): the Commercial Interest Reference
Rate (CIRR) is the lender's government bond yield plus 100 basis points, at most 85 % of the
export contract is officially supported (15 % down payment), and principal is repaid in equal
instalments at least every six months from no later than six months after the starting point,
over at most 10 years for Category II (developing) countries (OECD, Arrangement on Officially
Supported Export Credits, TAD/PG(2023)7, arts. 10, 12, 14, 20). ``cirr`` and
``arrangement_terms_problems`` state these rules.

Development finance to providers (DFC, PGII) is not a loan to the government: it funds capacity
(e.g. DFC's US$ 300 m to Africa Data Centres, 2021) that lowers a provider's delivery cost in a
region; ``capacity_cost_discount`` maps the capacity a state has financed to that discount.

Convention: equal principal instalments after the grace period, interest on the outstanding
balance, ``payments_per_year`` payments a year. AidData's figure for the Senegal data-centre loan
(2 %, 20 years, 5 years' grace) is about 53 %; this formula gives 54.8 % with annual payments and
53.9 % with semi-annual ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

IMF_UNIFIED_RATE = 0.05
"""The IMF's unified discount rate for concessionality since October 2013."""

LEGACY_DAC_RATE = 0.10
"""The DAC's pre-2018 discount rate for the grant element."""

DAC_DIFFERENTIATED = {"Low": 0.09, "Lower middle": 0.07, "Upper middle": 0.06, "High": 0.05}
"""DAC 2018 grant-equivalent discount rates by income group (IMF 5 % plus 4/2/1/0 points)."""

ARRANGEMENT_MAX_COVERAGE = 0.85
"""OECD Arrangement: at least 15 % down payment, so at most 85 % officially supported."""

ARRANGEMENT_MAX_REPAYMENT_YEARS = 10.0
"""OECD Arrangement: maximum repayment term for Category II (developing) countries."""

ARRANGEMENT_MAX_FIRST_REPAYMENT_YEARS = 0.5
"""OECD Arrangement: first principal instalment no later than six months after the start."""

CIRR_MARGIN = 0.01
"""OECD Arrangement: the CIRR is the base government bond yield plus 100 basis points."""


def debt_service_schedule(
    face_value: float,
    interest_rate: float,
    maturity_years: float,
    grace_years: float,
    payments_per_year: int = 1,
) -> list[tuple[float, float]]:
    """Return the loan's payments as ``(time_in_years, amount)`` pairs.

    Interest accrues on the outstanding balance from the start; the principal is repaid in equal
    instalments from the end of the grace period to maturity.

    >>> debt_service_schedule(100.0, 0.0, 2, 0)
    [(1.0, 50.0), (2.0, 50.0)]
    """
    periods = round(maturity_years * payments_per_year)
    grace_periods = round(grace_years * payments_per_year)
    if repayment_periods(maturity_years, grace_years, payments_per_year) < 1:
        raise ValueError("maturity must exceed the grace period by at least one payment period")
    instalment = face_value / (periods - grace_periods)
    period_rate = interest_rate / payments_per_year
    balance = face_value
    payments = []
    for period in range(1, periods + 1):
        principal = instalment if period > grace_periods else 0.0
        payments.append((period / payments_per_year, balance * period_rate + principal))
        balance -= principal
    return payments


def repayment_periods(maturity_years: float, grace_years: float,
                      payments_per_year: int = 1) -> int:
    """Payments of principal: whole periods to maturity less whole periods of grace.

    Both are rounded to whole periods, so a maturity of 5.4 years and a grace of 4.6 leave no
    instalment at all (5 - 5) although the maturity is the longer.

    >>> repayment_periods(20, 5), repayment_periods(5.4, 4.6)
    (15, 0)
    """
    return round(maturity_years * payments_per_year) - round(grace_years * payments_per_year)


def grant_element(
    interest_rate: float,
    maturity_years: float,
    grace_years: float,
    discount_rate: float = LEGACY_DAC_RATE,
    payments_per_year: int = 1,
) -> float:
    """Grant element of a loan: ``1 - PV(debt service) / face value``.

    Args:
        interest_rate: annual nominal interest rate (0.02 for 2 %).
        maturity_years: years from signature to the last repayment.
        grace_years: years before the first repayment of principal.
        discount_rate: annual rate at which the borrower discounts payments (the model passes
            the convention's rate, ``discount_rate_for``; the default is the legacy DAC 10 %).
        payments_per_year: payments per year (1 = annual, 2 = semi-annual).

    Returns:
        The grant element, a fraction (1 for a grant, 0 for a loan at the discount rate,
        negative for a loan dearer than the discount rate).

    >>> round(grant_element(0.02, 20, 5), 4)
    0.5481
    >>> round(grant_element(0.02, 20, 5, discount_rate=0.05), 4)
    0.2747
    """
    schedule = debt_service_schedule(1.0, interest_rate, maturity_years, grace_years,
                                     payments_per_year)
    present_value = sum(amount / (1.0 + discount_rate) ** time for time, amount in schedule)
    return 1.0 - present_value


def outstanding_principal(
    face_value: float, maturity_years: float, grace_years: float, years_elapsed: float
) -> float:
    """Principal still owed ``years_elapsed`` after signature (equal instalments after grace)."""
    if years_elapsed <= grace_years:
        return face_value
    if years_elapsed >= maturity_years:
        return 0.0
    repaid_share = (years_elapsed - grace_years) / (maturity_years - grace_years)
    return face_value * (1.0 - repaid_share)


def loan_offer(
    price: float, coverage: float, financing_need: float, min_need: float, budget_left: float
) -> float:
    """Size of the loan a state bank offers on a bid, in the price's currency.

    The bank lends ``coverage`` of the price, but only to a government that needs financing
    (``financing_need`` at least ``min_need``) and only while its annual budget lasts; an offer
    the remaining budget cannot cover in full is not made (banks do not part-finance a contract).

    >>> loan_offer(100.0, 0.85, 0.6, 0.3, 1000.0)
    85.0
    """
    if financing_need <= 0.0 or financing_need < min_need:
        return 0.0
    amount = coverage * price
    return amount if amount <= budget_left else 0.0


def discount_rate_for(
    convention: str,
    income_group: str,
    unified_rate: float = IMF_UNIFIED_RATE,
    differentiated: Mapping[str, float] = DAC_DIFFERENTIATED,
    legacy_rate: float = LEGACY_DAC_RATE,
) -> float:
    """The rate at which a borrower of ``income_group`` discounts debt service, by convention.

    ``"imf"``: one unified rate for every borrower; ``"dac"``: the DAC 2018 rate differentiated
    by income group; ``"legacy"``: the pre-2018 DAC 10 %.

    >>> discount_rate_for("dac", "Lower middle")
    0.07
    """
    if convention == "imf":
        return unified_rate
    if convention == "dac":
        return differentiated[income_group]
    if convention == "legacy":
        return legacy_rate
    raise ValueError(f"unknown discount convention {convention!r}")


def cirr(base_bond_yield: float, margin: float = CIRR_MARGIN) -> float:
    """Commercial Interest Reference Rate: the base government bond yield plus 100 bp.

    >>> round(cirr(0.0404), 4)
    0.0504
    """
    return base_bond_yield + margin


def arrangement_terms_problems(
    coverage: float, maturity_years: float, grace_years: float
) -> list[str]:
    """What in these terms the OECD Arrangement forbids for a Category II country (empty if none).

    >>> arrangement_terms_problems(0.85, 10.5, 0.5)
    []
    >>> arrangement_terms_problems(1.0, 20, 5)[0]
    'coverage 1 above the 0.85 the Arrangement allows'
    """
    problems = []
    if coverage > ARRANGEMENT_MAX_COVERAGE + 1e-12:
        problems.append(f"coverage {coverage:g} above the {ARRANGEMENT_MAX_COVERAGE:g} the "
                        "Arrangement allows")
    if grace_years > ARRANGEMENT_MAX_FIRST_REPAYMENT_YEARS + 1e-12:
        problems.append(f"grace of {grace_years:g} years above the "
                        f"{ARRANGEMENT_MAX_FIRST_REPAYMENT_YEARS:g} the Arrangement allows")
    if maturity_years - grace_years > ARRANGEMENT_MAX_REPAYMENT_YEARS + 1e-12:
        problems.append(f"repayment over {maturity_years - grace_years:g} years, above the "
                        f"{ARRANGEMENT_MAX_REPAYMENT_YEARS:g} the Arrangement allows")
    return problems


def capacity_cost_discount(
    capacity_usd_m: float, capacity_scale_usd_m: float, max_discount: float
) -> float:
    """Share of a provider's delivery cost saved thanks to development-financed capacity.

    ``max_discount * (1 - exp(-capacity / scale))``: the first colocation data centre in a region
    saves the most (diminishing returns), and no amount of capacity saves more than
    ``max_discount``.

    >>> round(capacity_cost_discount(500.0, 500.0, 0.1), 4)
    0.0632
    """
    if capacity_usd_m <= 0.0 or capacity_scale_usd_m <= 0.0:
        return 0.0
    return max_discount * (1.0 - math.exp(-capacity_usd_m / capacity_scale_usd_m))


def invest_capacity(
    capacity_usd_m: float, investment_usd_m: float, depreciation: float
) -> float:
    """A region's financed capacity after one year: depreciate, then add the year's investment.

    >>> invest_capacity(100.0, 50.0, 0.1)
    140.0
    """
    return capacity_usd_m * (1.0 - depreciation) + investment_usd_m
