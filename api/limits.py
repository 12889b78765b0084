"""Bounded heavy work: how much runs at once, what is kept, and where downloads wait.

A server open to an office network must stay responsive when many people (or one
script) ask for expensive answers at once. Three tools bound the work, each in a module
of its own and importable from here:

- :class:`Limiter` (:mod:`ccn_gis_api.limiter`) admits at most *n* jobs of one kind at
  once (downloads, first-time computations, tiles, scenario checks); a request beyond
  that waits at most a few seconds, then gets :class:`Busy` — 503 with ``Retry-After``.
- :class:`SingleFlight` (:mod:`ccn_gis_api.single_flight`) computes an answer once for
  every request that asks for it at the same time, and keeps the answers in a bounded
  LRU (by count and, optionally, by bytes): plain GETs for thousands of distinct dates
  cannot exhaust memory.
- :class:`DownloadFolders` (:mod:`ccn_gis_api.download_folders`) keeps the files written
  for downloads in one place, ``<tempdir>/ccn-gis-downloads-<uid>/<pid>/``, and removes
  the leftovers of servers that were killed when a new one starts.

The numbers are :class:`Limits`, read from ``CCN_GIS_*`` environment variables once, by
:func:`ccn_gis_api.create_app`, which puts them on ``app.state.limits``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ccn_gis_api.download_folders import DownloadFolders, default_download_root
from ccn_gis_api.limiter import Busy, Limiter, Slot
from ccn_gis_api.single_flight import SingleFlight

__all__ = ["MIB", "Busy", "DownloadFolders", "Limiter", "Limits", "SingleFlight", "Slot",
           "default_download_root"]

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
    edit_body_bytes
        The largest feature or change set a client may write, in bytes
        (``CCN_GIS_EDIT_BODY_BYTES``).
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
    edit_body_bytes: int = Field(default=5_000_000, ge=1)
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
        """The largest request body accepted: a scenario's or an edit's."""
        return max(self.scenario_body_bytes, self.edit_body_bytes)
