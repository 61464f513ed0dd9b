"""pyabc samplers whose populations do not depend on the executor, the workers or the timing.

pyabc's job-based samplers (``ConcurrentFutureSampler`` on a process pool, and
``DaskDistributedSampler`` on a Dask cluster) number every evaluation and keep the first ``n``
accepted ones by that number, so a population does not depend on which job finished first.
What they do not fix is the random stream: each job reseeds numpy from fresh entropy. Here each
job instead seeds numpy and Python's ``random`` from ``SeedSequence(root, spawn_key=(t + 1,
job))`` (``t`` is pyabc's generation, -1 for its calibration sample), and hands the simulator
the model's seed from the same key, so the proposal, the simulation and the acceptance of job
``j`` in generation ``t`` are the same serially, in processes and on Dask, and a run is
reproducible from its root seed. (A job may run a batch of evaluations to save pyabc's
per-job overhead; the batch size is part of the calibration file, since it changes which
evaluations run.)

pyabc's ``MulticoreEvalParallelSampler`` is not used: its worker loop reseeds from entropy and
hands out evaluation numbers by a race, so its runs cannot be reproduced.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import cloudpickle
import numpy as np
from pyabc.sampler import ConcurrentFutureSampler, DaskDistributedSampler

_MODEL_SEED: list[int] = []
"""The model seed of the evaluation running in this process (set by ``_seeded_batch``)."""


def model_seed() -> int:
    """The seed for the simulation of the evaluation that is running now."""
    if not _MODEL_SEED:
        raise RuntimeError("model_seed() called outside a seeded pyabc evaluation")
    return _MODEL_SEED[-1]


def evaluation_seeds(root: int, generation: int, job: int) -> tuple[int, int]:
    """The sampler's and the model's seeds of one evaluation, spawned from the root seed."""
    sequence = np.random.SeedSequence(root, spawn_key=(generation + 1, job))
    sampler_state, model_state = sequence.generate_state(2, dtype=np.uint64)
    return int(sampler_state >> np.uint64(33)), int(model_state >> np.uint64(1))


@functools.lru_cache(maxsize=1)
def _simulate_one(simulate_one_pickle: bytes) -> Callable:
    """pyabc's evaluation function, unpickled once per generation and process.

    Unpickling it rebuilds every prior as a frozen scipy distribution (milliseconds each, about
    0.5 s a job with ~130 free parameters, more than a simulation); pyabc's evaluation keeps no
    state between calls, so reusing it does not change which particles a job yields.
    """
    return cloudpickle.loads(simulate_one_pickle)


def _seeded_batch(
    simulate_one_pickle: bytes, batch_size: int, job_ids: list[int], root: int, generation: int
) -> list[tuple[Any, bool, int]]:
    """pyabc's submit function, with each evaluation's streams seeded from its number."""
    simulate_one = _simulate_one(simulate_one_pickle)
    saved = np.random.get_state(), random.getstate()
    results = []
    try:
        for job in job_ids[:batch_size]:
            sampler_seed, simulation_seed = evaluation_seeds(root, generation, job)
            np.random.seed(sampler_seed)
            random.seed(sampler_seed)
            _MODEL_SEED.append(simulation_seed)
            try:
                result = simulate_one()
            finally:
                _MODEL_SEED.pop()
            results.append((result, result.accepted, job))
    finally:
        np.random.set_state(saved[0])
        random.setstate(saved[1])
    return results


class _SeedingClient:
    """Wraps an executor or Dask client: every pyabc job runs through ``_seeded_batch``."""

    def __init__(self, client: Any, root: int) -> None:
        self.client, self.root, self.generation = client, root, 0

    def submit(
        self, _function: Callable, simulate_one_pickle: bytes, batch_size: int, job_ids: list[int]
    ) -> Any:
        return self.client.submit(
            _seeded_batch, simulate_one_pickle, batch_size, job_ids, self.root, self.generation
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


class _SeededMixin:
    """Sets the generation on the seeding client before pyabc samples a population."""

    client: _SeedingClient

    def sample_until_n_accepted(self, n, simulate_one, t, **kwargs):  # noqa: D102
        self.client.generation = t
        return super().sample_until_n_accepted(n, simulate_one, t, **kwargs)


class SeededFutureSampler(_SeededMixin, ConcurrentFutureSampler):
    """pyabc's ``ConcurrentFutureSampler`` on any executor, seeded per evaluation."""

    def __init__(self, executor: Executor, root: int, jobs: int, batch_size: int = 1) -> None:
        super().__init__(
            _SeedingClient(executor, root), client_max_jobs=jobs, batch_size=batch_size
        )


class SeededDaskSampler(_SeededMixin, DaskDistributedSampler):
    """pyabc's ``DaskDistributedSampler`` on a Dask client, seeded per evaluation."""

    def __init__(self, client: Any, root: int, batch_size: int = 1) -> None:
        super().__init__(_SeedingClient(client, root), batch_size=batch_size)
