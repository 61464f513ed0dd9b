"""Random streams with fixed consumption: a lever change leaves every draw it does not touch.

Each random number of a run belongs to a stream keyed by what it is for, derived from the run's
seed (``numpy.random.SeedSequence`` with a spawn key), never to one shared generator whose
position depends on the decisions taken before:

- **arrivals of year y** (key ``(ARRIVALS, y)``): the year's new tenders per government
  (Poisson counts, element i for government i, then their times within the year) and, for each
  new tender, its kind, value and hardware draws and its whole block of draws (below), drawn in
  one go when the year opens. The expected counts follow GDP and the adoption curve only, so no
  policy lever moves a single one of these numbers.
- **follow-on tenders** (key ``(FOLLOW_ONS,)``): a renewal or a replacement after a
  cancellation exists only because of earlier decisions; it draws its block, in the order such
  tenders are created, from this one stream.
- **a coercion event of state s at date d** (key ``(COERCION, s, d)``, d in ten-thousandths
  of a year): one uniform per government, element i for government i, whether or not the
  government is threatened.

A tender's block holds every number it can use: for each hold (the first call and each
reopening after a deferral, ``demand.max_deferrals + 1`` in all) one standard normal per
provider (its bid-preparation cost, ``sim.market.entry``) and one uniform for the government's
pick among the bids (``sim.market.choice.choose_index``), and for each year of the contract it
may become, one uniform for trouble on it (mechanism 8). A number is used or not, never shifted
onto another purpose: a provider that stays out leaves its normal unused, a tender awarded at
its first hold leaves the rows of its later holds unused. Hence common random numbers across
scenarios: two runs on the same seed whose levers differ (a US lever, say) see the same new
tenders at the same dates with the same draws (``tests/test_determinism.py``).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np

ARRIVALS = 1
FOLLOW_ONS = 2
COERCION = 3


class TenderDraws:
    """Every random number one tender can use (module docstring).

    Held in one packed ``array('d')``, bid-cost normals (hold by hold), then the choice
    uniforms, then the trouble uniforms: a run keeps every tender it awarded, and packed
    numbers take a fifth of the memory of Python floats in lists, while reading one still
    gives a Python float.
    """

    __slots__ = ("holds", "providers", "values")

    def __init__(self, values: array, holds: int, providers: int) -> None:
        self.values = values
        self.holds = holds
        self.providers = providers

    def __eq__(self, other: object) -> bool:
        """Two blocks are equal when they hold the same numbers for the same shape (tests compare
        the draws of the same tender across lever settings: common random numbers)."""
        if not isinstance(other, TenderDraws):
            return NotImplemented
        return (self.holds, self.providers, self.values) == (
            other.holds,
            other.providers,
            other.values,
        )

    __hash__ = None  # mutable contents: equal blocks need not hash alike

    def entry(self, hold: int, provider: int) -> float:
        """Standard normal of ``provider``'s bid-preparation cost at hold ``hold`` (0 first)."""
        return self.values[hold * self.providers + provider]

    def choice(self, hold: int) -> float:
        """Uniform through which the government picks among the options at hold ``hold``."""
        return self.values[self.holds * self.providers + hold]

    def trouble(self, year: int) -> float:
        """Uniform for trouble on the contract in its ``year``-th calendar year (0 first)."""
        return self.values[self.holds * (self.providers + 1) + year]


@dataclass(slots=True)
class Arrival:
    """A new tender of the year: its government, date and draws (kind, value, hardware)."""

    government: int
    offset: float
    kind: float
    value: float
    hardware: float
    draws: TenderDraws


class RandomStreams:
    """The run's keyed streams (module docstring), from the model's seed sequence."""

    def __init__(
        self, root: np.random.SeedSequence, providers: int, holds: int, years: int
    ) -> None:
        self.root = root
        self.providers = providers
        self.holds = holds
        self.years = years
        self.follow_ons = self.generator(FOLLOW_ONS)

    def generator(self, *key: int) -> np.random.Generator:
        """A generator of its own for ``key``, independent of every other key."""
        sequence = np.random.SeedSequence(self.root.entropy, spawn_key=(*self.root.spawn_key, *key))
        return np.random.default_rng(sequence)

    def arrivals(self, year: int, rates: list[float]) -> list[Arrival]:
        """The year's new tenders, government by government and in date order within each."""
        rng = self.generator(ARRIVALS, year)
        counts = rng.poisson(rates)
        total = int(counts.sum())
        owners = np.repeat(np.arange(len(rates)), counts)
        offsets = rng.random(total)
        offsets = offsets[np.lexsort((offsets, owners))]
        kinds = rng.random(total).tolist()
        values = rng.standard_normal(total).tolist()
        hardware = rng.random(total).tolist()
        blocks = self.blocks(rng, total)
        return [
            Arrival(owner, offset, kind, value, chance, draws)
            for owner, offset, kind, value, chance, draws in zip(
                owners.tolist(), offsets.tolist(), kinds, values, hardware, blocks, strict=True
            )
        ]

    def follow_on(self) -> TenderDraws:
        """The block of a renewal or replacement tender, next from the follow-on stream."""
        return self.blocks(self.follow_ons, 1)[0]

    def blocks(self, rng: np.random.Generator, count: int) -> list[TenderDraws]:
        """``count`` tenders' blocks of draws, in one call per kind of draw."""
        entry = rng.standard_normal((count, self.holds * self.providers))
        choice = rng.random((count, self.holds))
        trouble = rng.random((count, self.years))
        packed = np.concatenate((entry, choice, trouble), axis=1)
        return [
            TenderDraws(array("d", row.tobytes()), self.holds, self.providers) for row in packed
        ]

    def coercion(self, state: int, date: float, governments: int) -> list[float]:
        """One uniform per government for state ``state``'s coercion event at ``date``."""
        return self.generator(COERCION, state, round(date * 10_000)).random(governments).tolist()
