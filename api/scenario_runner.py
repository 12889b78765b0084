"""Where scenario checks run: a pool of their own, bounded in number and in time.

Checks are heavy and a stranger may send one (``docs/security.md``): each runs under a
:class:`~ccn_gis.budget.Deadline` that the computation checks as it goes and that is
cancelled when the client leaves; at most ``Limits.scenario_concurrency`` run at once, in
threads of their own so that the threads serving every other route stay free, and beyond
that a request gets 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccn_gis.budget import Deadline, DeadlineExceeded
from ccn_gis_api.limits import Limiter, Limits, SingleFlight

LOG = logging.getLogger("ccn_gis_api.scenarios")  # the scenario routes' log, one name
T = TypeVar("T")
K = TypeVar("K")


class ScenarioRunner:
    """Runs scenario checks in a pool of their own, bounded in number and in time.

    At most ``limits.scenario_concurrency`` checks run at once (beyond, :class:`Limiter`
    answers 503); each one stops at its deadline, when its client leaves or when the
    server shuts down (the waiting request is cancelled, and so is its deadline). One
    runner serves every revision of the layers: the bound is the server's.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.limiter = Limiter("scenario checks", limits.scenario_concurrency,
                               retry_after=limits.retry_after_s)
        self.pool = DaemonExecutor("ccn-gis-scenario")

    def bounded(self, job: Callable[[], T], deadline: Deadline | None = None
                ) -> Callable[[], T]:
        """``job`` run under ``deadline`` (a fresh one of the configured length if none)."""

        def run() -> T:
            with (deadline or Deadline(self.limits.scenario_deadline_s)).applied():
                return job()

        return run

    async def run(self, request: Request, job: Callable[[], T]) -> T:
        """Run ``job`` in the pool under a deadline cancelled when ``request``'s client leaves.

        Raises
        ------
        Busy
            When as many checks as allowed are running already (503).
        StarletteHTTPException
            422 when the deadline passes first.
        """
        async with self.limiter:
            deadline = Deadline(self.limits.scenario_deadline_s)
            future = asyncio.get_running_loop().run_in_executor(
                self.pool, contextvars.copy_context().run, self.bounded(job, deadline))
            try:
                while True:
                    done, _ = await asyncio.wait({future}, timeout=0.25)
                    if done:
                        return future.result()
                    if await request.is_disconnected():
                        deadline.cancel("the client left")
            except DeadlineExceeded as err:
                LOG.info("scenario check %s", err)
                raise _too_long(err) from err
            finally:
                deadline.cancel("the request ended")  # a cancelled request stops its work

    async def shared(self, flight: SingleFlight[K, bytes], key: K, job: Callable[[], bytes]
                     ) -> bytes:
        """``job``'s answer for ``key``, computed once for every request that asks for it."""
        try:
            return await flight.get(key, self.bounded(job), limiter=self.limiter,
                                    executor=self.pool)
        except DeadlineExceeded as err:
            raise _too_long(err) from err


def _too_long(err: DeadlineExceeded) -> StarletteHTTPException:
    return StarletteHTTPException(422, f"the scenario check {err}; check fewer changes or "
                                  "smaller geometries")


class DaemonExecutor(concurrent.futures.Executor):
    """Each job in a daemon thread of its own: a check still running when the server
    stops does not keep the process alive (a pool's threads are joined at exit). The
    number of threads is bounded by the :class:`Limiter` that admits the jobs."""

    def __init__(self, name: str) -> None:
        self.name = name

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
               ) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as err:  # noqa: BLE001 - handed to the waiting request
                future.set_exception(err)

        threading.Thread(target=work, name=self.name, daemon=True).start()
        return future
