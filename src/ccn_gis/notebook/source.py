"""Where a notebook's data comes from: one protocol, a running server or the layers file.

A :class:`Source` answers every question a notebook asks of the data — a layer, the
figures, land use, a checked scenario — in one shape whichever it is:
:class:`~ccn_gis.notebook.api_source.ApiSource` asks a running ``ccn-gis serve`` as any
client would, :class:`~ccn_gis.notebook.local_source.LocalSource` asks the library on a
GeoPackage. :func:`ccn_gis.notebook.readers.source_for` picks one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import geopandas as gpd
import pandas as pd

from ccn_gis.errors import CcnGisError
from ccn_gis.language import Lang
from ccn_gis.notebook.raster import LandUseImage

PAGE_SIZE = 10_000
"""Features per request: the API's maximum ``limit``."""

TILE_MAX_ZOOM = 20
"""The deepest zoom of the API's land-use tiles; the map enlarges them beyond."""

LANDUSE_COLUMNS = ("zone_id", "class_code", "area_ha", "share")
"""The columns of :func:`~ccn_gis.notebook.read_landuse`: hectares per zone and class."""

CLASS_COLUMNS = ("value", "code", "name_vi", "name_en", "colour")
"""The columns of the land-use class table, :func:`~ccn_gis.notebook.read_landuse_classes`."""

Scope = Literal["province", "admin", "cluster"]
"""Whose figures: the province's, one object per administrative unit, or per cluster."""

LandUseSource = Literal["raster", "plan"]
"""Land use today (the raster) or in the plan (the vector layer ``landuse_plan``)."""


class NotFoundError(CcnGisError, KeyError):
    """No such layer, feature or cluster (an HTTP 404 from the API)."""

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0]) if self.args else ""


class QueryError(CcnGisError, ValueError):
    """A request the API refuses (HTTP 400): an unknown field, a malformed value."""


@dataclass(frozen=True)
class LandUseTiles:
    """The land-use raster as the app's XYZ map tiles, loaded by the browser."""

    url: str
    """``{api_url}/landuse/tiles/{z}/{x}/{y}.png``."""
    max_native_zoom: int = TILE_MAX_ZOOM


class Source(Protocol):
    """What a notebook reads: layers, figures, land use and scenarios, from one place.

    Layers come back in WGS84 with the published columns (stored and computed), before
    dates are parsed; figures and scenario checks as the JSON of the command line and
    the API.
    """

    def layer(self, name: str, /, *, where: Mapping[str, Any],
              page_size: int) -> gpd.GeoDataFrame:
        """Return published layer ``name``, the features whose fields equal ``where``."""
        ...

    def figures(self, *, as_of: dt.date | None, scope: Scope) -> Any:
        """Return the figures of ``scope`` as of ``as_of``: the JSON of ``ccn-gis stats``."""
        ...

    def cluster_figures(self, cluster_id: str, /) -> dict[str, Any]:
        """Return one cluster's figures (all records counted)."""
        ...

    def landuse(self, zones: str, /, *, source: LandUseSource,
                raster: str | Path | None) -> pd.DataFrame:
        """Return hectares per zone and land-use class (:data:`LANDUSE_COLUMNS`)."""
        ...

    def landuse_classes(self, *, raster: str | Path | None) -> pd.DataFrame:
        """Return the land-use class table (:data:`CLASS_COLUMNS`)."""
        ...

    def landuse_picture(self, *, raster: str | Path | None) -> LandUseTiles | LandUseImage:
        """Return how a map draws the land-use raster: the app's tiles, or one image."""
        ...

    def scenario_list(self, *, folder: str | Path) -> pd.DataFrame:
        """Return the scenarios on offer: ``id``, ``name``, ``source``."""
        ...

    def scenario_result(self, scenario: str | Path, /, *, lang: Lang) -> dict[str, Any]:
        """Return a checked scenario: the JSON of ``ccn-gis scenario check --json``."""
        ...

    def scenario_clusters(self, scenario: str | Path, /, *,
                          result: Mapping[str, Any]) -> gpd.GeoDataFrame:
        """Return every cluster of a scenario at its horizon, in WGS84, with what it does.

        The columns ``cluster_id``, ``name``, ``admin_code``, ``kind``, ``change``,
        ``change_year`` and ``findings`` (and any other the source gives), the geometry
        last; the status at the horizon is added from ``result`` by the reader.
        """
        ...
