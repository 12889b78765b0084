"""Land use over HTTP: zonal hectares, the class legend and map tiles of the raster.

Tiles are rendered from the province's GeoTIFF by the app itself (nearest neighbour,
Web Mercator, internal overviews at low zooms), so the map needs no tile server and no
internet. Rendered tiles and computed tables are kept in bounded caches
(:class:`~ccn_gis_api.limits.SingleFlight`); a table not kept yet is computed under the
app's limit on computations, a tile under its limit on tiles.
"""

from __future__ import annotations

import threading
import warnings
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.transform import from_bounds as transform_from_bounds
from rasterio.warp import reproject, transform_bounds
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccn_gis.dataset import Dataset
from ccn_gis.io.landuse import default_raster_path, landuse_table
from ccn_gis.io.raster import LandUseRaster
from ccn_gis.io.store import LayerStore
from ccn_gis.landuse import to_records
from ccn_gis_api.limits import SingleFlight
from ccn_gis_api.models import Problem

TILE = 256
WEB_MERCATOR_HALF = 20037508.342789244
MAX_ZOOM = 20
ALPHA = 200  # slightly transparent, so that clusters and boundaries show through
CACHED_TILES = 10_000
CACHE_BYTES = 32 << 20
TILE_OVERHEAD = 128  # bytes a kept tile weighs besides its PNG
Source = Literal["raster", "plan"]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "A parameter is malformed; the message says why"},
    404: {"model": Problem, "description": "The province has no such land-use data"},
}


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Return ``(west, south, east, north)`` of an XYZ tile in EPSG:3857 metres."""
    size = 2 * WEB_MERCATOR_HALF / 2**z
    west = -WEB_MERCATOR_HALF + x * size
    north = WEB_MERCATOR_HALF - y * size
    return west, north - size, west + size, north


class TileRenderer:
    """Renders coloured PNG tiles of a land-use raster; one dataset, guarded by a lock.

    Nothing is kept here: the routes keep rendered tiles in a bounded cache.
    """

    def __init__(self, raster: LandUseRaster) -> None:
        self.raster = raster
        self._lock = threading.Lock()
        self._src = rasterio.open(raster.path)
        self._bounds_3857 = transform_bounds(self._src.crs, "EPSG:3857", *self._src.bounds)
        palette = np.zeros((256, 4), dtype=np.uint8)
        for c in raster.table.classes:
            if 0 <= c.value < 256:
                rgb = [int(c.colour[i:i + 2], 16) for i in (1, 3, 5)]
                palette[c.value] = [*rgb, ALPHA]
        self._nodata = int(raster.nodata) if raster.nodata is not None else 0
        palette[self._nodata] = 0
        self._palette = palette

    def render(self, z: int, x: int, y: int) -> bytes:
        """The PNG of tile ``z/x/y`` (XYZ, Web Mercator); transparent outside the raster."""
        west, south, east, north = tile_bounds(z, x, y)
        vw, vs, ve, vn = self._bounds_3857
        if east <= vw or west >= ve or north <= vs or south >= vn:
            return self._empty()
        data = np.full((TILE, TILE), self._nodata, dtype=np.uint8)
        with self._lock:  # GDAL's warper reads only the source blocks the tile needs
            reproject(
                source=rasterio.band(self._src, 1), destination=data,
                dst_transform=transform_from_bounds(west, south, east, north, TILE, TILE),
                dst_crs="EPSG:3857", resampling=Resampling.nearest,
                src_nodata=self._nodata, dst_nodata=self._nodata,
            )
        return self._png(self._palette[data])

    @lru_cache(maxsize=1)  # noqa: B019 - one renderer per app
    def _empty(self) -> bytes:
        return self._png(np.zeros((TILE, TILE, 4), dtype=np.uint8))

    @staticmethod
    def _png(rgba: np.ndarray) -> bytes:
        with warnings.catch_warnings(), MemoryFile() as memory:  # a PNG tile has no georeference
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with memory.open(driver="PNG", width=TILE, height=TILE, count=4,
                             dtype="uint8") as dst:
                dst.write(np.moveaxis(rgba, 2, 0))
            return bytes(memory.read())


class LandUse:
    """The land use of one revision of the layers, as served: the raster and its
    renderer, whether a vector plan exists, and the caches of tables and tiles.

    Build one with :meth:`from_dataset`. ``by_cluster`` holds each cluster's land-use
    rows, shown on its feature page (empty without a raster or a plan).
    """

    def __init__(self, dataset: Dataset, store: LayerStore, *,
                 cache_bytes: int = CACHE_BYTES) -> None:
        self._dataset, self._store = dataset, store
        self.raster_path = default_raster_path(dataset)
        self.raster = LandUseRaster.open(self.raster_path) if self.raster_path else None
        self.renderer = TileRenderer(self.raster) if self.raster else None
        self.has_plan = "landuse_plan" in store.layer_names()
        # few keys (3 kinds of zones × 2 sources): the count bounds the tables kept
        self.tables: SingleFlight[tuple[str, str], list[dict[str, Any]]] = SingleFlight(6)
        self.pngs: SingleFlight[tuple[int, int, int], bytes] = SingleFlight(
            CACHED_TILES, max_weight=cache_bytes, weigh=lambda png: len(png) + TILE_OVERHEAD)
        self.by_cluster: dict[str, list[dict[str, Any]]] = {}

    @classmethod
    def from_dataset(cls, dataset: Dataset, store: LayerStore, *,
                     cache_bytes: int = CACHE_BYTES) -> LandUse:
        """The land use of ``dataset`` (read from ``store``), with each cluster's rows
        computed now (from the raster when there is one, else the plan)."""
        landuse = cls(dataset, store, cache_bytes=cache_bytes)
        if landuse.raster is None and not landuse.has_plan:
            return landuse
        source = "raster" if landuse.raster else "plan"
        initial = landuse.rows("clusters", source)
        landuse.tables.put(("clusters", source), initial)
        for row in initial:
            landuse.by_cluster.setdefault(row["zone_id"], []).append(
                {k: row[k] for k in ("class_code", "area_ha", "share")})
        return landuse

    @property
    def caches(self) -> dict[str, SingleFlight[Any, Any]]:
        """The caches by name, as the app lists them."""
        return {"landuse_tables": self.tables, "landuse_tiles": self.pngs}

    def source(self, asked: Source | None) -> Source:
        """The source to measure: ``asked``, else the raster when there is one.

        Raises
        ------
        HTTPException
            404 when the province has no such source.
        """
        chosen: Source = asked or ("raster" if self.raster else "plan")
        if chosen == "raster" and self.raster is None:
            raise StarletteHTTPException(
                404, "this province has no land-use raster; try source=plan")
        if chosen == "plan" and not self.has_plan:
            raise StarletteHTTPException(404, "this province has no landuse_plan layer")
        return chosen

    def rows(self, zones: str, source: str) -> list[dict[str, Any]]:
        """The hectares of each class in every zone of kind ``zones``, as JSON rows."""
        table = landuse_table(self._dataset, zones=zones,
                              raster=self.raster_path if self.raster else None,
                              store=self._store if source == "plan" else None)
        return to_records(table)
