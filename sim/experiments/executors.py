"""Where runs execute: three ``concurrent.futures`` executors, interchangeable for every command.

- ``SerialExecutor``: in this process, one run at a time (for debugging and tiny sweeps).
- ``ProcessPool``: worker processes on this machine (the default). When this process has a
  single thread, workers are ``fork``ed from it after the modules named in ``preload`` are
  imported and ``gc.freeze()`` has moved everything imported out of the collector's reach: a
  worker is ready at once, imports nothing and copies no page it does not write. Otherwise
  (threads running, where ``fork`` could copy a held lock) they start from a ``forkserver``
  that has imported the same modules. A worker that dies (killed, out of memory, a crash in a
  C extension) breaks a plain ``ProcessPoolExecutor`` for good; here the pool is rebuilt, the
  runs that were unfinished are run again one at a time to find the culprit, and a run that
  kills its worker ``max_deaths`` times alone fails with ``WorkerDied`` while the others go
  on. Workers exit by themselves when the process that made the pool is gone, even after a
  SIGKILL (and the fork server and the resource tracker with them), and leave Ctrl-C to it.
- ``DaskExecutor``: Dask distributed, on a ``LocalCluster`` of worker processes it starts, or on
  an existing cluster given its scheduler's address. Dask reruns the tasks of a dead worker
  itself, and fails a task that kills four workers with ``KilledWorker``.

A sweep only calls ``submit``, ``shutdown`` and reads ``slots`` (how many runs can execute at
once) and ``batches_per_slot`` (if set, runs are sent in that many batches per slot rather than
one by one), so any other ``concurrent.futures.Executor`` (``mpi4py.futures.MPIPoolExecutor``,
say) works too. ``map_in_batches`` runs a list of calls on any of them in batches (fewer, larger
tasks: what makes a cluster pay off) and yields the results in order.

Only the standard library's light modules are imported here (``multiprocessing`` and Dask when
a pool is made), so ``cloudrace --help`` does not pay for them.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import queue
import select
import shutil
import signal
import tempfile
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from concurrent.futures import BrokenExecutor, Executor, Future, InvalidStateError
from dataclasses import dataclass, field
from typing import Any

from sim.errors import UserError

EXECUTORS = ("serial", "processes", "dask")


def available_cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        os.cpu_count() or 1


def make_executor(name: str, workers: int | None = None, scheduler: str | None = None,
                  preload: Sequence[str] = ()) -> Executor:
    """The executor called ``name`` (one of ``EXECUTORS``).

    ``workers`` defaults to the available cores; ``scheduler`` (dask only) is the address of an
    existing cluster's scheduler; ``preload`` names modules a process pool's workers import
    before their first run.
    """
    if scheduler and name != "dask":
        raise UserError(f"--scheduler needs --executor dask (got --executor {name})")
    if name == "serial":
        return SerialExecutor()
    if name == "processes":
        return ProcessPool(workers or available_cores(), preload=preload)
    if name == "dask":
        return DaskExecutor(scheduler, workers or available_cores())
    raise UserError(f"unknown executor {name!r}; expected one of {', '.join(EXECUTORS)}")


class SerialExecutor(Executor):
    """Runs each call at once, in this process; the future is already done when returned."""

    slots = 1

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:
            future.set_exception(error)
        return future


class WorkerDied(RuntimeError):
    """The run killed the worker process running it, each time it was run alone."""


@dataclass(eq=False)
class _Task:
    fn: Callable
    args: tuple
    kwargs: dict
    proxy: Future = field(default_factory=Future)
    deaths: int = 0


class ProcessPool(Executor):
    """A process pool that survives dead workers (see the module docstring).

    The futures it returns are its own; each maps to a call on the current inner
    ``ProcessPoolExecutor``. Completions of inner futures are handled by one dispatcher thread,
    never inside the inner pool's threads (which hold the inner pool's lock while they report a
    broken pool).
    """

    def __init__(self, workers: int, *, max_deaths: int = 2, preload: Sequence[str] = (),
                 start_method: str | None = None) -> None:
        import multiprocessing

        self.slots = workers
        self.max_deaths = max_deaths
        self._preload = list(preload)
        # fork is safe only while this process has one thread: a thread could hold a lock
        # (stdout's, say) at the moment of the fork, and the worker would inherit it held.
        self.start_method = start_method or (
            "fork" if threading.active_count() == 1 else "forkserver")
        self._context = multiprocessing.get_context(self.start_method)
        self._lock = threading.Lock()
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._generation = 0
        self._pool = self._new_pool()
        self._running: set[_Task] = set()
        self._suspects: deque[_Task] = deque()
        self._waiting: deque[_Task] = deque()
        self._isolating = False
        self._closed = False
        self._dispatcher = threading.Thread(target=self._dispatch, name="process-pool-dispatch",
                                            daemon=True)
        self._dispatcher.start()

    def _new_pool(self):
        """An inner pool whose workers are started (forked now, or from the fork server)."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = self._context
        if context.get_start_method() == "fork" and threading.active_count() == 1:
            for module in self._preload:
                importlib.import_module(module)
            gc.collect()
            gc.freeze()  # what is imported now stays shared with the workers, page for page
            pool = ProcessPoolExecutor(self.slots, mp_context=context,
                                       initializer=exit_with_process, initargs=(os.getpid(),))
            with warnings.catch_warnings():
                # Python warns of any thread at a fork; the only ones here are C libraries'
                # (OpenBLAS's pool, pyarrow's jemalloc), which fork safely (pthread_atfork).
                warnings.filterwarnings("ignore", "This process .* is multi-threaded",
                                        DeprecationWarning)
                pool.submit(os.getpid)  # forks every worker now, while no Python thread runs
            gc.unfreeze()
            return pool
        # forkserver asked for, or a pool rebuilt after a worker died (threads run by then).
        import multiprocessing.forkserver

        if context.get_start_method() == "fork":
            context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(self._preload)
        # Start the fork server now: it imports the model while the caller prepares its runs.
        multiprocessing.forkserver.ensure_running()
        return ProcessPoolExecutor(self.slots, mp_context=context,
                                   initializer=exit_with_process, initargs=(os.getpid(),))

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        task = _Task(fn, args, kwargs)
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a pool that has been shut down")
            if self._isolating:
                self._waiting.append(task)
            else:
                self._start(task)
        return task.proxy

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            if cancel_futures:
                for task in [*self._suspects, *self._waiting]:
                    task.proxy.cancel()
                self._suspects.clear()
                self._waiting.clear()
            outstanding = [t.proxy for t in [*self._running, *self._suspects, *self._waiting]]
        if wait and not cancel_futures:
            futures.wait(outstanding)
        with self._lock:
            pool = self._pool
        pool.shutdown(wait=wait, cancel_futures=cancel_futures)
        self._events.put(None)
        if wait:
            self._dispatcher.join()

    # --- the dispatcher's side (all under the lock) ----------------------------------------

    def _start(self, task: _Task) -> None:
        generation = self._generation
        self._running.add(task)
        try:
            inner = self._pool.submit(task.fn, *task.args, **task.kwargs)
        except BrokenExecutor:
            self._recover()
            return
        inner.add_done_callback(lambda done: self._events.put((task, generation, done)))

    def _dispatch(self) -> None:
        while (event := self._events.get()) is not None:
            with self._lock:
                self._settle(*event)

    def _settle(self, task: _Task, generation: int, inner: Future) -> None:
        if generation != self._generation or task not in self._running:
            return  # it ran on a pool that broke since: it was queued again then
        if not inner.cancelled() and isinstance(inner.exception(), BrokenExecutor):
            self._recover()
            return
        self._running.discard(task)
        _copy_outcome(inner, task.proxy)
        if self._isolating:
            self._next()

    def _recover(self) -> None:
        """The pool broke: replace it, and rerun its unfinished tasks one at a time."""
        lost = list(self._running)
        self._running.clear()
        self._generation += 1
        if self._closed:  # shutting down: no new pool
            for task in lost:
                _fail(task.proxy, BrokenExecutor("a worker died while the pool shut down"))
            return
        self._pool = self._new_pool()  # the broken pool has already stopped its workers
        if self._isolating:
            task, = lost  # alone on the pool: it is the one that killed its worker
            task.deaths += 1
            if task.deaths < self.max_deaths:
                self._suspects.appendleft(task)
            else:
                _fail(task.proxy, WorkerDied(
                    f"the run killed its worker process each of the {task.deaths} times it "
                    "ran alone (out of memory, a crash, or a signal)"))
        else:
            self._suspects.extend(lost)
        self._next()

    def _next(self) -> None:
        """Run the next suspect alone; once none is left, start the tasks that waited."""
        self._isolating = bool(self._suspects)
        if self._suspects:
            self._start(self._suspects.popleft())
            return
        while self._waiting:
            self._start(self._waiting.popleft())


def _copy_outcome(source: Future, target: Future) -> None:
    if source.cancelled():
        target.cancel()
    elif source.exception() is not None:
        _fail(target, source.exception())
    else:
        with contextlib.suppress(InvalidStateError):  # the caller cancelled it meanwhile
            target.set_result(source.result())


def _fail(target: Future, error: BaseException) -> None:
    with contextlib.suppress(InvalidStateError):  # the caller cancelled it meanwhile
        target.set_exception(error)


def exit_with_process(pid: int) -> None:
    """Pool initializer: end this worker as soon as process ``pid`` (the pool's) has ended.

    Ctrl-C reaches every process of the terminal's group: the worker ignores it and leaves it
    to the pool's process, which stops the pool (no traceback from each worker).

    Watching the worker's own parent is not enough with ``forkserver``: the parent is the fork
    server, which stays up as long as any worker does (each holds the pipe it waits on).
    """
    def watch() -> None:
        try:
            handle = os.pidfd_open(pid)  # readable once the process ends, even as a zombie
        except (AttributeError, OSError):
            handle = None
        if handle is not None:
            select.select([handle], [], [])
        else:
            while _alive(pid):
                time.sleep(0.5)
        os._exit(1)

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=watch, name="exit-with-pool", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, but belongs to another user
    return True


class DaskExecutor(Executor):
    """Dask distributed as a ``concurrent.futures`` executor (``Client.get_executor``).

    Without ``scheduler``, starts a ``LocalCluster`` of ``workers`` single-threaded worker
    processes (scratch files in ``local_directory``, by default a temporary folder removed on
    shutdown; logs below errors silenced) and stops it on shutdown; with it, connects to that
    scheduler and leaves the cluster running. Each task costs the scheduler a few
    milliseconds, so ``map_in_batches`` sends it ``batches_per_slot`` batches per worker thread.
    """

    batches_per_slot = 4

    def __init__(self, scheduler: str | None, workers: int,
                 local_directory: str | os.PathLike | None = None) -> None:
        import logging

        from distributed import Client, LocalCluster

        self._cluster = None
        self._scratch = None
        try:
            if scheduler:
                self._client = Client(scheduler, timeout="20s")
            else:
                if local_directory is None:
                    local_directory = self._scratch = tempfile.mkdtemp(prefix="cloudrace-dask-")
                self._cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True,
                    dashboard_address=None, local_directory=local_directory,
                    silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
        except (OSError, TimeoutError) as error:
            self._remove_scratch()
            where = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
            raise UserError(f"cannot reach {where}: {error}") from None
        # pure=False: two runs with equal arguments are still two runs.
        self._executor = self._client.get_executor(pure=False)
        self.slots = max(1, sum(self._client.nthreads().values()))

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait=wait and not cancel_futures)
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._remove_scratch()

    def _remove_scratch(self) -> None:
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)


def map_in_batches(executor: Executor, function: Callable, items: Sequence, *,
                   batch_size: int | None = None, window: int | None = None) -> Iterator:
    """``function(item)`` for each item, run on ``executor`` and yielded in the items' order.

    Items travel in batches of ``batch_size`` (default: one per call, or for an executor with
    ``batches_per_slot`` about that many batches per slot, so a cluster gets few large tasks;
    what a batch shares, such as the scenario of its runs, is pickled once per batch). At most
    ``window`` batches (default: two per slot) are in flight, so results never pile up however
    many items there are. An exception in a call is raised here, and the batches not yet
    finished are cancelled.
    """
    slots = max(1, getattr(executor, "slots", 1))
    if batch_size is None:
        per_slot = getattr(executor, "batches_per_slot", None)
        batch_size = max(1, -(-len(items) // (per_slot * slots))) if per_slot else 1
    batches = (items[start:start + batch_size] for start in range(0, len(items), batch_size))
    window = window or 2 * slots
    in_flight: deque[Future] = deque()
    try:
        while True:
            while len(in_flight) < window and (batch := next(batches, None)) is not None:
                in_flight.append(executor.submit(call_each, function, batch))
            if not in_flight:
                return
            yield from in_flight.popleft().result()
    finally:
        for future in in_flight:
            future.cancel()


def call_each(function: Callable, batch: Sequence) -> list:
    """``[function(item) for item in batch]``: one batch of ``map_in_batches``, in a worker."""
    return [function(item) for item in batch]
