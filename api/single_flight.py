"""One computation for every request that asks for the same answer at the same time.

:class:`SingleFlight` keeps the answers in a bounded LRU (by count and, optionally, by
bytes): plain GETs for thousands of distinct dates cannot exhaust memory. A computation
not kept yet is admitted through a :class:`~ccn_gis_api.limiter.Limiter`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from starlette.concurrency import run_in_threadpool

from ccn_gis_api.limiter import Limiter

K = TypeVar("K")
V = TypeVar("V")


class _Abandoned(Exception):
    """The request computing a value went away before the computation started."""


class SingleFlight(Generic[K, V]):
    """One computation shared by concurrent requests for the same key; results kept in a
    bounded LRU.

    :meth:`get` returns a kept value; else, when the same key is being computed, waits
    for that computation; else admits the computation through a :class:`Limiter` and
    runs it in a thread, keeps its value and returns it. Exceptions are not kept: the
    next request computes again (the requests waiting at the time get the exception).

    Parameters
    ----------
    maxsize
        Values kept at most (0: none, only the sharing of concurrent computations).
    max_weight
        The most the kept values may weigh in all (e.g. bytes); a value heavier than
        this is returned but not kept. None: no bound besides ``maxsize``.
    weigh
        A value's weight; default ``len``. Used only with ``max_weight``.

    Examples
    --------
    >>> import asyncio
    >>> bodies: SingleFlight[str, bytes] = SingleFlight(256, max_weight=16 << 20)
    >>> asyncio.run(bodies.get("2020-12-31", lambda: b"{}"))
    b'{}'
    >>> "2020-12-31" in bodies, bodies.computations
    (True, 1)
    """

    def __init__(self, maxsize: int, *, max_weight: int | None = None,
                 weigh: Callable[[V], int] | None = None) -> None:
        if maxsize < 0:
            raise ValueError(f"maxsize must not be negative, not {maxsize}")
        self.maxsize = maxsize
        self.max_weight = max_weight
        self._weigh: Callable[[Any], int] = weigh or len
        self._lock = threading.Lock()
        self._values: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._pending: dict[K, concurrent.futures.Future[V]] = {}
        self._weight = 0
        self.hits = 0
        """Answers found kept."""
        self.computations = 0
        """Computations started."""
        self.evictions = 0
        """Values dropped to stay within the bounds."""

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    @property
    def weight(self) -> int:
        """What the kept values weigh in all (0 without ``max_weight``)."""
        return self._weight

    @property
    def in_flight(self) -> int:
        """Keys being computed now."""
        return len(self._pending)

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` for ``key`` (a value computed elsewhere)."""
        with self._lock:
            self._store(key, value)

    def clear(self) -> None:
        """Drop every kept value."""
        with self._lock:
            self._values.clear()
            self._weight = 0

    async def get(self, key: K, compute: Callable[[], V], *, limiter: Limiter | None = None,
                  executor: concurrent.futures.Executor | None = None) -> V:
        """The value for ``key``: kept, being computed, or computed now by ``compute``.

        Parameters
        ----------
        key
            What identifies the value.
        compute
            Computes it; runs in ``executor`` (default: the thread pool of anyio, as
            :func:`starlette.concurrency.run_in_threadpool`).
        limiter
            Admits the computation (not the look-up of a kept value).

        Raises
        ------
        Busy
            When ``limiter`` refuses the computation; the requests waiting for it get it too.
        Exception
            Whatever ``compute`` raises, to every request waiting for it.
        """
        while True:
            with self._lock:
                if key in self._values:
                    self._values.move_to_end(key)
                    self.hits += 1
                    return self._values[key][0]
                pending = self._pending.get(key)
                leader = pending is None
                if pending is None:
                    pending = concurrent.futures.Future()
                    self._pending[key] = pending
            if leader:
                return await self._lead(key, pending, compute, limiter, executor)
            try:  # a waiter that leaves must not cancel the computation of the others
                return await asyncio.shield(asyncio.wrap_future(pending))
            except _Abandoned:
                continue  # its computing request left before starting: compute it anew

    async def _lead(self, key: K, pending: concurrent.futures.Future[V],
                    compute: Callable[[], V], limiter: Limiter | None,
                    executor: concurrent.futures.Executor | None) -> V:
        started = threading.Event()

        def job() -> V:
            started.set()
            with self._lock:
                self.computations += 1
            try:
                value = compute()
            except BaseException as err:
                self._settle(key, pending, error=err)
                raise
            self._settle(key, pending, value=value)
            return value

        try:
            if limiter is None:
                return await self._run(job, executor)
            async with limiter:
                return await self._run(job, executor)
        except BaseException as err:
            # refused by the limiter, or this request cancelled: settle the waiters unless
            # the job runs and settles them itself
            if not started.is_set():
                self._settle(key, pending,
                             error=err if isinstance(err, Exception) else _Abandoned())
            raise

    @staticmethod
    async def _run(job: Callable[[], V], executor: concurrent.futures.Executor | None) -> V:
        if executor is None:
            return await run_in_threadpool(job)
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            executor, functools.partial(context.run, job))

    def _settle(self, key: K, pending: concurrent.futures.Future[V], *,
                value: V | None = None, error: BaseException | None = None) -> None:
        with self._lock:
            if self._pending.get(key) is pending:
                del self._pending[key]
            if error is None:
                self._store(key, value)  # type: ignore[arg-type]
            if pending.done():
                return
            if error is None:
                pending.set_result(value)  # type: ignore[arg-type]
            else:
                pending.set_exception(error)

    def _store(self, key: K, value: V) -> None:
        """Keep ``value`` (the lock held), dropping the least recently used beyond the bounds."""
        weight = self._weigh(value) if self.max_weight is not None else 0
        old = self._values.pop(key, None)
        if old is not None:
            self._weight -= old[1]
        if self.maxsize == 0 or (self.max_weight is not None and weight > self.max_weight):
            return
        self._values[key] = (value, weight)
        self._weight += weight
        while len(self._values) > self.maxsize or (
                self.max_weight is not None and self._weight > self.max_weight):
            _, (_, dropped) = self._values.popitem(last=False)
            self._weight -= dropped
            self.evictions += 1

    def __repr__(self) -> str:
        bound = f", {self._weight}/{self.max_weight}" if self.max_weight is not None else ""
        return f"SingleFlight({len(self)}/{self.maxsize}{bound}, {self.in_flight} in flight)"
