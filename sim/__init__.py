"""Cloud Race: an agent-based model of the US-China contest for government cloud contracts.

The public API (``sim.api``), for notebooks and scripts::

    import sim
    base = sim.load_scenario("baseline")
    results = sim.run(base, replications=4, seed=1)
    results.countries.query("year == 2035")
    comparison = sim.compare("baseline", ["policy/us_dfc_push"], replications=4)
    comparison.differences

The names are imported on first use, so ``import sim`` (and ``cloudrace --help``) stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Comparison",
    "Results",
    "UserError",
    "Validation",
    "__version__",
    "attribute",
    "calibrate",
    "compare",
    "contracts_table",
    "load_scenario",
    "run",
    "sweep",
    "validate",
]

_HOMES = {
    "Comparison": "sim.api",
    "Validation": "sim.api",
    "attribute": "sim.api",
    "calibrate": "sim.api",
    "compare": "sim.api",
    "load_scenario": "sim.api",
    "run": "sim.api",
    "sweep": "sim.api",
    "validate": "sim.api",
    "Results": "sim.results",
    "UserError": "sim.errors",
    "contracts_table": "sim.runner",
}
"""Where each public name is defined (imported when first asked for)."""

if TYPE_CHECKING:
    from sim.api import (
        Comparison,
        Validation,
        attribute,
        calibrate,
        compare,
        load_scenario,
        run,
        sweep,
        validate,
    )
    from sim.errors import UserError
    from sim.results import Results
    from sim.runner import contracts_table


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
