"""How many jobs of one kind run at once: a :class:`Limiter` admits at most *n*.

A request beyond that waits at most a few seconds, then gets :class:`Busy` — 503 with
``Retry-After`` (the mapping is in :mod:`ccn_gis_api.errors`). Downloads, first-time
computations, tiles and scenario checks each have one, sized by
:class:`~ccn_gis_api.limits.Limits`.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

import anyio


class Busy(Exception):
    """Too many jobs of one kind are running: the client should retry later (503).

    Parameters
    ----------
    kind
        What the server is busy with, plural ("downloads", "computations").
    retry_after
        Seconds after which the client may try again (``Retry-After``).
    """

    def __init__(self, kind: str, retry_after: int) -> None:
        self.kind = kind
        self.retry_after = max(1, int(retry_after))
        super().__init__(f"máy chủ đang bận: the server is busy with other {kind}; "
                         f"try again in {self.retry_after} s")

    @property
    def headers(self) -> dict[str, str]:
        """The headers of the 503 answer."""
        return {"Retry-After": str(self.retry_after)}


class Slot:
    """One admission by a :class:`Limiter`, held until :meth:`release` (idempotent)."""

    def __init__(self, limiter: Limiter) -> None:
        self._limiter = limiter
        self._lock = threading.Lock()
        self._held = True

    @property
    def held(self) -> bool:
        """Whether the slot is still held."""
        return self._held

    def release(self) -> None:
        """Give the slot back; later calls do nothing."""
        with self._lock:
            if not self._held:
                return
            self._held = False
        self._limiter._leave()


class Limiter:
    """Admits at most ``max_concurrent`` jobs of one kind at once.

    ``async with limiter:`` runs its block when fewer than ``max_concurrent`` blocks are
    running; otherwise it waits at most ``wait`` seconds for one to end, then raises
    :class:`Busy`. For work that outlives a block (a streamed download),
    :meth:`acquire` returns a :class:`Slot` to release later.

    The limiter may be shared by threads and event loops (the test client runs each
    request in a loop of its own): the count is guarded by a thread lock and a waiting
    request polls every few milliseconds instead of waiting on a loop's future. Admission
    is not first come, first served: under sustained load a waiting job may see newcomers
    take the freed slots and end with :class:`Busy` after its ``wait``.

    Parameters
    ----------
    kind
        What the jobs are, plural, for the 503 message ("downloads").
    max_concurrent
        Jobs admitted at once, at least 1.
    retry_after
        The ``Retry-After`` of the 503, in seconds.
    wait
        Seconds a job waits for a free slot before :class:`Busy`; 0 refuses at once.

    Examples
    --------
    >>> import asyncio
    >>> limiter = Limiter("downloads", 4)
    >>> async def download() -> int:
    ...     async with limiter:
    ...         return limiter.active
    >>> asyncio.run(download()), limiter.active
    (1, 0)
    """

    POLL_S = 0.05  # the longest pause between two looks for a free slot

    def __init__(self, kind: str, max_concurrent: int, *, retry_after: int = 5,
                 wait: float = 0.0) -> None:
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be at least 1, not {max_concurrent}")
        self.kind = kind
        self.max_concurrent = max_concurrent
        self.retry_after = retry_after
        self.wait = max(0.0, wait)
        self.refused = 0
        """How many jobs were refused with :class:`Busy` so far."""
        self._lock = threading.Lock()
        self._active = 0

    @property
    def active(self) -> int:
        """Jobs admitted and not yet ended."""
        return self._active

    def try_enter(self) -> bool:
        """Take a slot if one is free, without waiting; return whether it was taken."""
        with self._lock:
            if self._active >= self.max_concurrent:
                return False
            self._active += 1
            return True

    async def _enter(self) -> None:
        if self.try_enter():
            return
        deadline = time.monotonic() + self.wait
        pause = 0.005
        while (left := deadline - time.monotonic()) > 0:
            await anyio.sleep(min(pause, left))
            if self.try_enter():
                return
            pause = min(pause * 2, self.POLL_S)
        with self._lock:
            self.refused += 1
        raise Busy(self.kind, self.retry_after)

    def _leave(self) -> None:
        with self._lock:
            if self._active <= 0:
                raise RuntimeError(f"{self.kind}: a slot was released twice")
            self._active -= 1

    async def acquire(self) -> Slot:
        """Wait for a slot (at most :attr:`wait` seconds) and return it.

        Raises
        ------
        Busy
            When no slot became free in time.
        """
        await self._enter()
        return Slot(self)

    async def __aenter__(self) -> Limiter:
        await self._enter()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self._leave()

    def __repr__(self) -> str:
        return f"Limiter({self.kind!r}, {self.active}/{self.max_concurrent} active)"
