"""The storage interface: what every place that holds the layers must offer.

Two implementations are planned, chosen by settings: a GeoPackage file
(:class:`ccn_gis.io.gpkg.GeoPackageStore`, the default) and a PostGIS schema
(its own issue). Both hand over layers *as stored*; checking and normalising
them is the domain's job (:mod:`ccn_gis.validation`, :mod:`ccn_gis.dataset`).

The register changes while it is served (edits through ccn-gis, QGIS writing the
file), so a store says which **revision** of the data it reads. A revision is an opaque
text, equal for equal states of the storage and different after any write by any
program: for a GeoPackage the identity of the file, its ``-wal`` and ``-journal``
(inode, size, time) and SQLite's change counter; for PostGIS it will be the last entry
of the register's history with the tables' change counts. Everything computed from a
store (a :class:`~ccn_gis.dataset.Dataset` and its figures, the server's prebuilt
responses, caches and ETags) is keyed by the revision it was read at, and a reader
compares ``latest_revision()`` with it to know when to read again. Writing stores
(history, change sets: the register's own issue) extend this protocol: a write returns
the revision it made.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ccn_gis.stored import RawLayer


@runtime_checkable
class LayerStore(Protocol):
    """Read access to a province's layers and settings."""

    @property
    def source(self) -> str:
        """A human-readable name of where the layers live (a path, a DSN)."""
        ...

    @property
    def revision(self) -> str:
        """The revision of the data this store object reads (taken when it was opened)."""
        ...

    def latest_revision(self) -> str:
        """The revision the storage holds now: cheap enough to ask on every request."""
        ...

    def layer_names(self) -> tuple[str, ...]:
        """Return the names of every layer and table in the store."""
        ...

    def read_layer(self, name: str) -> RawLayer:
        """Return the layer ``name`` as stored; raise ``LayerNotFoundError`` if absent."""
        ...

    def read_settings(self) -> dict[str, str | None]:
        """Return the ``key → value`` rows of the settings table (empty when absent)."""
        ...
