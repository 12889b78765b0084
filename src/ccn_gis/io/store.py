"""The storage interface: what every place that holds the layers must offer.

Two implementations are planned, chosen by settings: a GeoPackage file
(:class:`ccn_gis.io.gpkg.GeoPackageStore`, the default) and a PostGIS schema
(its own issue). Both hand over layers *as stored*; checking and normalising
them is the domain's job (:mod:`ccn_gis.validation`, :mod:`ccn_gis.dataset`).
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

    def layer_names(self) -> tuple[str, ...]:
        """Return the names of every layer and table in the store."""
        ...

    def read_layer(self, name: str) -> RawLayer:
        """Return the layer ``name`` as stored; raise ``LayerNotFoundError`` if absent."""
        ...

    def read_settings(self) -> dict[str, str | None]:
        """Return the ``key → value`` rows of the settings table (empty when absent)."""
        ...
