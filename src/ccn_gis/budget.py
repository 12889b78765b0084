"""Deadlines for long computations: a scenario check stops when its time is up or it is
cancelled (its client left, the server shuts down), not when it happens to finish.

Python cannot stop a thread from outside, so long loops call :func:`checkpoint`, which
raises :class:`DeadlineExceeded` once the deadline of the computation running in this
context has passed or been cancelled. A computation without a deadline (the command
line) runs to the end: ``checkpoint`` then costs one context-variable lookup.

Examples
--------
>>> deadline = Deadline(30.0)
>>> with deadline.applied():
...     checkpoint()  # well within 30 s: nothing happens
>>> deadline.cancel("the client left")
>>> with deadline.applied():
...     checkpoint()
Traceback (most recent call last):
...
ccn_gis.budget.DeadlineExceeded: stopped: the client left
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ccn_gis.errors import CcnGisError


class DeadlineExceeded(CcnGisError, TimeoutError):
    """A computation ran past its deadline or was cancelled; nothing it made is kept."""


class Deadline:
    """A point in time after which a computation stops, or an earlier cancellation."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self._cancelled = threading.Event()
        self._reason = ""

    def cancel(self, reason: str) -> None:
        """Stop the computation at its next checkpoint, saying ``reason``."""
        self._reason = reason
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelled.is_set()

    def check(self) -> None:
        """Raise :class:`DeadlineExceeded` if the time is up or the work was cancelled."""
        if self._cancelled.is_set():
            raise DeadlineExceeded(f"stopped: {self._reason}")
        if time.monotonic() > self.expires:
            raise DeadlineExceeded(f"stopped after {self.seconds:g} s, the longest a "
                                   "computation may take here")

    @contextmanager
    def applied(self) -> Iterator[Deadline]:
        """Make this the deadline that :func:`checkpoint` checks in the current context."""
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)


_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "ccn_gis_deadline", default=None)


def checkpoint() -> None:
    """Raise :class:`DeadlineExceeded` if the current computation's deadline has passed."""
    deadline = _CURRENT.get()
    if deadline is not None:
        deadline.check()
