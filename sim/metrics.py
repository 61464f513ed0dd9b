"""The yearly metrics (one row of yearly.csv per replication and year).

For each closed year: contracts and value per provider, each provider's share of the new
contracts (overall and by region, Freedom House status and income group), installed-base shares
and their concentration, each state's leverage index, the governments dependent on it, the debt
owed to its banks, its financing and subsidy spending, its development finance to providers,
and the year's trouble and deferrals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.market.concentration import herfindahl_index, leverage_share
from sim.schema import FH_STATUSES, INCOME_GROUPS, REGIONS

if TYPE_CHECKING:
    from sim.model import CloudRaceModel

GROUPINGS = {"region": ("region", REGIONS), "fh": ("fh_status", FH_STATUSES),
             "income": ("income_group", INCOME_GROUPS)}


def slug(text: str) -> str:
    """Column-name form of a label: ``"Not Free"`` -> ``"not_free"``."""
    return text.lower().replace(" ", "_")


class YearlyMetrics:
    """Computes one year's metrics from the model's state; ``current`` holds the last year's."""

    def __init__(self, model: CloudRaceModel) -> None:
        self.model = model
        self.provider_names = [provider.name for provider in model.providers]
        self.state_names = list(model.states)
        columns = ["year", "tenders", "awarded", "deferred", "troubled"]
        for name in self.provider_names:
            columns += [f"contracts_{name}", f"value_usd_m_{name}", f"share_new_{name}",
                        f"installed_share_{name}"]
        for name in self.provider_names:
            for prefix, (_, labels) in GROUPINGS.items():
                columns += [f"share_new_{name}_{prefix}_{slug(label)}" for label in labels]
        columns += ["hhi_installed", "hhi_country_mean"]
        for name in self.state_names:
            columns += [f"share_new_state_{name}", f"leverage_{name}", f"dependent_{name}",
                        f"debt_usd_m_{name}", f"financing_usd_m_{name}",
                        f"subsidy_usd_m_{name}", f"financed_contracts_{name}",
                        f"coercion_complied_{name}", f"coercion_backlash_{name}"]
        columns += [f"development_usd_m_{name}" for name in self.state_names]
        self.columns = columns
        self.current: dict[str, float] = {}
        self._coercion_seen = {name: {"complied": 0, "backlash": 0} for name in self.state_names}

    def new_contracts(self) -> list:
        """Contracts awarded since the year opened."""
        return self.model.contracts[self.model.year_first_contract:]

    def bloc_shares_last_year(self) -> dict[str, float]:
        """Share of last year's new contracts won by each bloc's providers (for reactions)."""
        if not self.current or not self.current["awarded"]:
            return {}
        shares: dict[str, float] = {}
        for name, state in self.model.states.items():
            shares[state.bloc] = shares.get(state.bloc, 0.0) + \
                self.current[f"share_new_state_{name}"]
        return shares

    def close_year(self, year: float) -> None:
        """Compute the metrics of the year that just ended into ``current``."""
        model = self.model
        new = self.new_contracts()
        row: dict[str, float] = {"year": int(round(year)), "tenders": model.tenders_this_year,
                                 "awarded": len(new), "deferred": model.deferred_this_year,
                                 "troubled": model.troubled_this_year}
        self._provider_columns(row, new)
        self._state_columns(row, new)
        self.current = row

    def _provider_columns(self, row: dict[str, float], new: list) -> None:
        model = self.model
        count = {name: 0 for name in self.provider_names}
        value = {name: 0.0 for name in self.provider_names}
        groups: dict[tuple[str, str], dict[str, int]] = {}
        for contract in new:
            name = contract.provider.name
            count[name] += 1
            value[name] += contract.tender.value
            government = contract.tender.government
            for prefix, (attribute, _) in GROUPINGS.items():
                tally = groups.setdefault((prefix, getattr(government, attribute)), {})
                tally[name] = tally.get(name, 0) + 1
        installed = {name: 0.0 for name in self.provider_names}
        country_hhi = []
        for government in model.governments:
            if government.installed:
                country_hhi.append(herfindahl_index(government.installed.values()))
            for provider, amount in government.installed.items():
                installed[provider.name] += amount
        total_installed = sum(installed.values())
        for name in self.provider_names:
            row[f"contracts_{name}"] = count[name]
            row[f"value_usd_m_{name}"] = round(value[name], 6)
            row[f"share_new_{name}"] = count[name] / len(new) if new else float("nan")
            row[f"installed_share_{name}"] = installed[name] / total_installed \
                if total_installed else float("nan")
            for prefix, (_, labels) in GROUPINGS.items():
                for label in labels:
                    tally = groups.get((prefix, label))
                    row[f"share_new_{name}_{prefix}_{slug(label)}"] = \
                        tally.get(name, 0) / sum(tally.values()) if tally else float("nan")
        row["hhi_installed"] = herfindahl_index(installed.values())
        row["hhi_country_mean"] = sum(country_hhi) / len(country_hhi) if country_hhi \
            else float("nan")

    def _state_columns(self, row: dict[str, float], new: list) -> None:
        model = self.model
        threshold = model.scenario.dependence.dependent_threshold
        workloads = [g.sensitive_workloads() for g in model.governments]
        hosting = [w for w in workloads if w]
        for name, state in model.states.items():
            shares = [leverage_share(w, name) for w in hosting]
            won = [c for c in new if c.provider.home is state]
            row[f"share_new_state_{name}"] = len(won) / len(new) if new else float("nan")
            row[f"leverage_{name}"] = sum(shares) / len(shares) if shares else 0.0
            row[f"dependent_{name}"] = sum(1 for s in shares if s >= threshold)
            row[f"debt_usd_m_{name}"] = round(sum(g.debt.get(name, 0.0)
                                                  for g in model.governments), 6)
            row[f"financing_usd_m_{name}"] = round(state.financing_spent, 6)
            row[f"subsidy_usd_m_{name}"] = round(state.subsidy_spent, 6)
            row[f"financed_contracts_{name}"] = sum(1 for c in new
                                                    if c.bid.financing_state is state)
            for outcome in ("complied", "backlash"):
                total = model.coercion_outcomes[name][outcome]
                row[f"coercion_{outcome}_{name}"] = total - self._coercion_seen[name][outcome]
                self._coercion_seen[name][outcome] = total
        for name, state in model.states.items():
            row[f"development_usd_m_{name}"] = round(state.development_spent, 6)
