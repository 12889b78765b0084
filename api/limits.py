"""Bounded heavy work: how much runs at once, what is kept, and where downloads wait.

A server open to an office network must stay responsive when many people (or one
script) ask for expensive answers at once. Three tools bound the work:

- :class:`Limiter` admits at most *n* jobs of one kind at once (downloads, first-time
  computations, tiles, scenario checks); a request beyond that waits at most a few
  seconds, then gets :class:`Busy` — 503 with ``Retry-After``.
- :class:`SingleFlight` computes an answer once for every request that asks for it at
  the same time, and keeps the answers in a bounded LRU (by count and, optionally, by
  bytes): plain GETs for thousands of distinct dates cannot exhaust memory.
- :class:`DownloadFolders` keeps the files written for downloads in one place,
  ``<tempdir>/ccn-gis-downloads-<uid>/<pid>/``, and removes the leftovers of servers
  that were killed when a new one starts.

The numbers are :class:`Limits`, read from ``CCN_GIS_*`` environment variables once, by
:func:`ccn_gis_api.create_app`, which puts them on ``app.state.limits``.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextvars
import functools
import logging
import os
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

import anyio
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.concurrency import run_in_threadpool

K = TypeVar("K")
V = TypeVar("V")
log = logging.getLogger(__name__)

MIB = 1 << 20


class Limits(BaseSettings):
    """How much heavy work the web API does at once and how much it keeps.

    Read from the environment with the prefix ``CCN_GIS_`` (``CCN_GIS_DOWNLOAD_CONCURRENCY=8``)
    when :func:`ccn_gis_api.create_app` builds the app, never at import; the app keeps
    them on ``app.state.limits``.

    Parameters
    ----------
    download_concurrency
        Downloads prepared or sent at once (``CCN_GIS_DOWNLOAD_CONCURRENCY``); one more
        gets 503. A slot is held until the whole file has been sent or the client left.
    compute_concurrency
        First-time computations at once: figures (``/stats``) for a date not asked
        before, land-use tables (``CCN_GIS_COMPUTE_CONCURRENCY``).
    compute_wait_s
        How long a computation waits for a free slot before 503
        (``CCN_GIS_COMPUTE_WAIT_S``): the web map asks for three figures at once.
    tile_concurrency
        Map tiles (vector and land-use) rendered at once (``CCN_GIS_TILE_CONCURRENCY``).
    tile_wait_s
        How long a tile waits for a free slot before 503 (``CCN_GIS_TILE_WAIT_S``): a map
        asks for dozens of tiles at once and they queue.
    scenario_concurrency
        Scenario checks at once (``CCN_GIS_SCENARIO_CONCURRENCY``).
    scenario_deadline_s
        Seconds a scenario check may run (``CCN_GIS_SCENARIO_DEADLINE_S``).
    scenario_body_bytes
        The largest scenario a client may post, in bytes (``CCN_GIS_SCENARIO_BODY_BYTES``).
    retry_after_s
        The ``Retry-After`` of a 503, in seconds (``CCN_GIS_RETRY_AFTER_S``).
    stats_cache_entries, stats_cache_bytes
        ``/stats`` answers kept, at most this many and this many bytes in all
        (``CCN_GIS_STATS_CACHE_ENTRIES``, ``CCN_GIS_STATS_CACHE_BYTES``).
    figures_cache_entries
        Cluster tables (one per distinct date, the work behind the figures) kept
        (``CCN_GIS_FIGURES_CACHE_ENTRIES``).
    tile_cache_bytes
        Bytes of encoded tiles kept, for each of the vector and the land-use tiles
        (``CCN_GIS_TILE_CACHE_BYTES``).
    connections
        Connections ``ccn-gis serve`` handles at once (``CCN_GIS_CONNECTIONS``); one more
        gets 503 from the server itself.
    keep_alive_s
        Seconds an idle connection is kept open (``CCN_GIS_KEEP_ALIVE_S``).
    shutdown_s
        Seconds ``ccn-gis serve`` lets running requests finish when asked to stop
        (SIGTERM, Ctrl+C) before it cancels them (``CCN_GIS_SHUTDOWN_S``).
    download_dir
        Where written downloads wait to be sent (``CCN_GIS_DOWNLOAD_DIR``); default
        ``<tempdir>/ccn-gis-downloads-<uid>``. Each server uses a subfolder named by its
        process id and removes, when it starts, the subfolders of servers no longer
        running.
    """

    model_config = SettingsConfigDict(env_prefix="CCN_GIS_", frozen=True, extra="ignore")

    download_concurrency: int = Field(default=4, ge=1)
    compute_concurrency: int = Field(default=2, ge=1)
    compute_wait_s: float = Field(default=10.0, ge=0)
    tile_concurrency: int = Field(default=4, ge=1)
    tile_wait_s: float = Field(default=30.0, ge=0)
    scenario_concurrency: int = Field(default=2, ge=1)
    scenario_deadline_s: float = Field(default=20.0, gt=0)
    scenario_body_bytes: int = Field(default=1_000_000, ge=1)
    retry_after_s: int = Field(default=5, ge=1)
    stats_cache_entries: int = Field(default=1024, ge=0)
    stats_cache_bytes: int = Field(default=16 * MIB, ge=0)
    figures_cache_entries: int = Field(default=64, ge=0)
    tile_cache_bytes: int = Field(default=64 * MIB, ge=0)
    connections: int = Field(default=512, ge=1)
    keep_alive_s: float = Field(default=5.0, gt=0)
    shutdown_s: float = Field(default=5.0, ge=0)
    download_dir: Path | None = None

    @property
    def max_body_bytes(self) -> int:
        """The largest request body accepted: :attr:`scenario_body_bytes`."""
        return self.scenario_body_bytes


# ---------------------------------------------------------------------------- Limiter
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
    >>> limiter = Limiter("downloads", 4)
    >>> async def download():  # doctest: +SKIP
    ...     async with limiter:
    ...         ...
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


# ------------------------------------------------------------------------ SingleFlight
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
    >>> bodies: SingleFlight[str, bytes] = SingleFlight(256, max_weight=16 << 20)
    >>> body = await bodies.get("2020-12-31", compute, limiter=limiter)  # doctest: +SKIP
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


# --------------------------------------------------------------------- DownloadFolders
LOCK_FILE = ".lock"
"""Locked (``flock``) by the server whose folder holds it, as long as it runs: the lock
goes with the process, even killed with ``kill -9``."""


def default_download_root() -> Path:
    """``<tempdir>/ccn-gis-downloads-<uid>``: one folder per user of the machine."""
    uid = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(tempfile.gettempdir()) / f"ccn-gis-downloads-{uid}"


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (unknown → True: nothing is removed on a guess)."""
    if os.name != "posix":
        return True  # no signal 0 to ask with: keep the folder
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, run by someone else
        return True
    return True


def _lock_is_free(folder: Path) -> bool | None:
    """Whether nobody holds the lock of ``folder`` (None: no lock file, or no locks here)."""
    try:
        import fcntl
    except ImportError:
        return None
    try:
        handle = (folder / LOCK_FILE).open("rb")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


class DownloadFolders:
    """The folder where this process writes downloads, one subfolder per download.

    The root (default :func:`default_download_root`) holds one subfolder per server
    process, named by its process id and locked (``flock``) while the process lives. At
    start the subfolders of processes that are gone — a server killed with ``kill -9``
    leaves its files behind — are removed; at exit the process removes its own.

    Use :meth:`for_process`: one instance per root and process.
    """

    _instances: dict[tuple[Path, int], DownloadFolders] = {}
    _instances_lock = threading.Lock()

    def __init__(self, root: Path | None = None) -> None:
        self.root = self._usable_root(root)
        self.folder = self.root / str(os.getpid())
        if self.folder.exists():  # a dead process had the same id
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(mode=0o700)
        self._lock_handle = self._lock(self.folder)
        self.removed = self.sweep()
        """The leftover subfolders removed at start."""
        atexit.register(self.close)

    @classmethod
    def for_process(cls, root: Path | None = None) -> DownloadFolders:
        """The folders of this process under ``root`` (default :func:`default_download_root`)."""
        key = (Path(root) if root is not None else default_download_root(), os.getpid())
        with cls._instances_lock:
            if key not in cls._instances:
                cls._instances[key] = cls(root)
            return cls._instances[key]

    @staticmethod
    def _usable_root(root: Path | None) -> Path:
        """``root`` (made if need be), or the default one when it is a real folder of this
        user — in a shared temporary folder another user could have made it, or made it a
        link — else a fresh private folder. Subfolders are private (0700) either way."""
        if root is not None:
            root = Path(root)
            root.mkdir(parents=True, exist_ok=True)
            return root
        root = default_download_root()
        try:
            root.mkdir(mode=0o700, exist_ok=True)
            info = os.lstat(root)
            own = not hasattr(os, "getuid") or info.st_uid == os.getuid()
            if root.is_symlink() or not root.is_dir() or not own:
                raise PermissionError(f"{root} is not a folder of this user")
            return root
        except OSError as err:
            fresh = Path(tempfile.mkdtemp(prefix="ccn-gis-downloads-"))
            log.warning("downloads: cannot use %s (%s); using %s", root, err, fresh)
            return fresh

    @staticmethod
    def _lock(folder: Path) -> Any:
        """Lock ``folder`` for the life of this process (None where there are no locks).

        The lock file gets its name only once locked: a sweep never sees it unlocked.
        """
        try:
            import fcntl
        except ImportError:
            return None
        unnamed = folder / f"{LOCK_FILE}.{threading.get_ident()}"
        handle = unnamed.open("wb")
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.replace(unnamed, folder / LOCK_FILE)
        return handle

    def sweep(self) -> list[Path]:
        """Remove the subfolders of server processes that are no longer running.

        A subfolder goes when its lock file is not locked (its server is gone, even if its
        process id now names another program, or a zombie) or, without a lock file (a
        system without ``flock``), when no process has its id.
        """
        removed: list[Path] = []
        try:
            children = list(self.root.iterdir())
        except OSError:
            return removed
        for child in children:
            if not child.name.isdigit() or child == self.folder or not child.is_dir():
                continue  # not a server's folder: never remove what is not ours
            free = _lock_is_free(child)
            if free is False:
                continue  # its server holds the lock: it runs
            if free or not _pid_alive(int(child.name)):
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child)
        if removed:
            log.warning("downloads: removed %d leftover folder(s) of stopped servers in %s",
                        len(removed), self.root)
        return removed

    def new(self) -> Path:
        """A new empty subfolder for one download; the caller removes it."""
        self.folder.mkdir(mode=0o700, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="download-", dir=self.folder))

    def downloads(self) -> list[Path]:
        """The download subfolders that exist now."""
        return sorted(p for p in self.folder.glob("download-*") if p.is_dir())

    def close(self) -> None:
        """Remove this process's folder (at exit)."""
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None
        shutil.rmtree(self.folder, ignore_errors=True)
