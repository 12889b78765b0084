"""What the web API serves: one :class:`Snapshot` per revision of the store.

A :class:`Snapshot` is everything built from one revision of the layers: the dataset,
the prebuilt collections and tile layers, the clusters' figures, the land-use tables,
the example scenarios read against it, and the caches of answers computed from them.
Nothing in it changes, so nothing in it needs invalidating: a new revision gets a new
snapshot, and the old one (with its caches) goes when the last request using it has
finished.

:class:`Service` holds the current snapshot and what outlives revisions (settings,
limits, limiters, the scenario runner, the download folder). On each request it
compares the store's latest revision with the snapshot's (three ``stat`` calls and a
28-byte read); when another program (QGIS) or ccn-gis has written the file, it reads the
new revision in the background while the old one is still served, and swaps once it is
checked. A revision that cannot be served (being written, or with errors) is reported
once in the log and not retried until the file changes again; the previous snapshot
stays.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccn_gis.dataset import Dataset
from ccn_gis.errors import CcnGisError
from ccn_gis.figures import cluster_tables, figures_by_cluster
from ccn_gis.io import load_dataset, open_store
from ccn_gis.io.register import record_outside
from ccn_gis.io.store import LayerStore
from ccn_gis.problems import Problem
from ccn_gis.settings import AppSettings
from ccn_gis_api.catalog import Catalog
from ccn_gis_api.landuse import LandUse
from ccn_gis_api.limits import DownloadFolders, Limiter, Limits, SingleFlight
from ccn_gis_api.scenario_runner import ScenarioRunner
from ccn_gis_api.scenarios import ScenarioBook, scenarios_dir
from ccn_gis_api.tiles import CACHED_TILES, TILE_OVERHEAD, TiledLayer

log = logging.getLogger("ccn_gis.serve")
LOGGED_PROBLEMS = 20
"""Errors of a revision that cannot be served listed in the log (``validate`` lists all)."""


@dataclass(frozen=True)
class Snapshot:
    """Everything served from one revision of the store, and the caches of its answers.

    Build one with :meth:`Service.read` (or :meth:`build` from a dataset already read).
    """

    revision: str
    store: LayerStore
    dataset: Dataset
    catalog: Catalog
    tiles: dict[str, TiledLayer]
    cluster_figures: dict[str, dict[str, Any]]
    landuse: LandUse
    scenarios: ScenarioBook
    caches: dict[str, SingleFlight[Any, Any]] = field(repr=False)

    @property
    def province(self) -> str:
        """The province's name (its setting, else the file's name)."""
        return self.dataset.settings.province_name or _stem(self.store.source)

    @classmethod
    def build(cls, store: LayerStore, dataset: Dataset, limits: Limits,
              scenarios: Path | None = None) -> Snapshot:
        """Prepare every collection, tile layer and figure of ``dataset``, read from
        ``store``, the example scenarios of the folder ``scenarios``, and empty caches
        bounded by ``limits``."""
        cluster_tables(dataset).maxsize = limits.figures_cache_entries
        catalog = Catalog.from_dataset(dataset)
        caches: dict[str, SingleFlight[Any, Any]] = {
            "stats": SingleFlight(limits.stats_cache_entries,
                                  max_weight=limits.stats_cache_bytes),
            "tiles": SingleFlight(CACHED_TILES, max_weight=limits.tile_cache_bytes,
                                  weigh=lambda body: len(body) + TILE_OVERHEAD),
            "cluster_tables": cluster_tables(dataset),
        }
        landuse = LandUse.from_dataset(dataset, store, cache_bytes=limits.tile_cache_bytes)
        caches.update(landuse.caches)
        return cls(
            revision=dataset.revision, store=store, dataset=dataset, catalog=catalog,
            tiles={name: TiledLayer.from_collection(c)
                   for name, c in catalog.collections.items() if c.geometries is not None},
            cluster_figures={f.code: f.to_dict() for f in figures_by_cluster(dataset)},
            landuse=landuse, scenarios=ScenarioBook(dataset, store, scenarios),
            caches=caches)


class Service:
    """The layers named by ``settings`` as served, revision after revision.

    Parameters
    ----------
    settings
        Where the layers are, and how to serve them.
    limits
        How much heavy work runs at once and how much is kept.

    Raises
    ------
    ValidationError, DataSourceError
        When the layers cannot be served at start; later revisions that cannot be served
        are logged and the previous one stays.
    """

    def __init__(self, settings: AppSettings, limits: Limits) -> None:
        self.settings = settings
        self.limits = limits
        retry = limits.retry_after_s
        self.limiters = {
            "downloads": Limiter("downloads", limits.download_concurrency,
                                 retry_after=retry),
            "computations": Limiter("computations", limits.compute_concurrency,
                                    retry_after=retry, wait=limits.compute_wait_s),
            "tiles": Limiter("tiles", limits.tile_concurrency, retry_after=retry,
                             wait=limits.tile_wait_s),
        }
        self.scenario_runner = ScenarioRunner(limits)
        self.scenario_folder = scenarios_dir(settings.layers)
        self._current = self.read()
        self.folders = DownloadFolders.for_process(limits.download_dir)
        self._lock = threading.Lock()
        self._reading_lock = threading.Lock()  # one revision read at a time
        self._reading: str | None = None  # the revision being read in the background
        self._refused: str | None = None  # the latest revision that could not be served
        self.refused_problems: tuple[Problem, ...] = ()
        """Why the latest revision of the file is not served (empty when it is)."""
        self._written: set[str] = set()  # revisions ccn-gis itself made
        self._writes = 0  # writes of ccn-gis under way: a revision seen meanwhile is theirs
        self._swapped: list[Any] = []  # called with each new snapshot

    @property
    def basename(self) -> str:
        """The stem of downloads' file names: the layers file's."""
        return _stem(self.settings.layers)

    def read(self) -> Snapshot:
        """Read, check and prepare the store's latest revision."""
        store = open_store(self.settings.layers)
        return Snapshot.build(store, load_dataset(store), self.limits, self.scenario_folder)

    def on_swap(self, action: Any) -> None:
        """Call ``action(snapshot)`` whenever a new revision starts being served."""
        self._swapped.append(action)

    def snapshot(self) -> Snapshot:
        """The snapshot to answer a request from: the latest revision read.

        When the store has changed since, its new revision is read in the background
        (one at a time) and served from the first request after it is ready.
        """
        current = self._current
        try:
            latest = current.store.latest_revision()
        except OSError:  # the file is being replaced: keep serving what was read
            return current
        if latest == current.revision or latest in (self._reading, self._refused):
            return current
        with self._lock:
            if self._reading is None:
                self._reading = latest
                threading.Thread(target=self._read_in_background, args=(latest,),
                                 name="ccn-gis-read-revision", daemon=True).start()
        return current

    @property
    def refused(self) -> str | None:
        """The file's latest revision when it cannot be served (None when it is)."""
        return self._refused

    def wrote(self, revision: str) -> None:
        """Say that ccn-gis made ``revision`` (a write through the API): not an outside
        change."""
        self._written.add(revision)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Around a write of ccn-gis: a new revision seen meanwhile is not an outside
        change (an outside change in that moment is taken for ours: it is served, not
        recorded)."""
        with self._lock:
            self._writes += 1
        try:
            yield
        finally:
            with self._lock:
                self._writes -= 1

    def refresh(self) -> Snapshot:
        """Read the store's latest revision now and serve it, unless it is served already
        (after a write of ccn-gis: the next request sees it)."""
        with self._reading_lock:
            current = self._current
            if current.store.latest_revision() == current.revision:
                return current
            snapshot = self.read()
            self._serve(snapshot)
            return snapshot

    def _serve(self, snapshot: Snapshot) -> None:
        previous = self._current
        if snapshot.revision not in self._written and not self._writes:
            snapshot = self._record_outside(previous, snapshot)
        self._written.clear()  # what ccn-gis wrote up to now is served (or superseded)
        self._current = snapshot
        self._refused = None
        self.refused_problems = ()
        for action in self._swapped:
            action(snapshot)
        log.info("%s: now serving revision %s", self.settings.layers, snapshot.revision)

    def _record_outside(self, previous: Snapshot, snapshot: Snapshot) -> Snapshot:
        """Record in the history which layers another program changed; the snapshot,
        whose revision now includes that record."""
        counts = {name: (len(before.ids), len(after.ids))
                  for name, after in snapshot.catalog.collections.items()
                  if (before := previous.catalog.collections.get(name)) is not None
                  and _digest(before) != _digest(after)}
        if not counts:
            return snapshot
        try:
            _, revision = record_outside(self.settings.layers, counts)
        except CcnGisError as err:  # QGIS holds the lock, a read-only folder…: say so
            log.warning("%s: another program changed %s; the history could not record it "
                        "(%s)", self.settings.layers, ", ".join(counts), err)
            return snapshot
        log.info("%s: another program changed %s", self.settings.layers, ", ".join(counts))
        return dataclasses.replace(snapshot, revision=revision)

    def _read_in_background(self, latest: str) -> None:
        try:
            with self._reading_lock:
                if self._current.revision == latest:  # read meanwhile (a refresh)
                    return
                snapshot = self.read()
                self._serve(snapshot)
        except CcnGisError as err:
            errors = [p for p in getattr(err, "problems", ()) if p.is_error]
            listed = "".join(f"\n- {p}" for p in errors[:LOGGED_PROBLEMS])
            more = f"\n… and {len(errors) - LOGGED_PROBLEMS} more" \
                if len(errors) > LOGGED_PROBLEMS else ""
            log.warning("%s changed but cannot be served yet; still serving the revision "
                        "read before: %s%s%s", self.settings.layers, err, listed, more)
            self._refused = latest
            self.refused_problems = tuple(errors) or (
                Problem(str(self.settings.layers), None, None, str(err)),)
        except Exception:  # pragma: no cover - a bug: keep serving, say so
            log.exception("reading the new revision of %s failed", self.settings.layers)
            self._refused = latest
        finally:
            with self._lock:
                self._reading = None


def _digest(collection: Any) -> bytes:
    """A hash of a collection's features as served: equal when nothing changed."""
    digest = hashlib.blake2b(digest_size=16)
    for feature in collection.features:
        digest.update(feature)
    return digest.digest()


def _stem(location: Any) -> str:
    return Path(str(location)).stem
