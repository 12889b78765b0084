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
from typing import Annotated, Any, Literal

import numpy as np
import rasterio
from fastapi import FastAPI, Query
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
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
from ccn_gis_api.etag import TILE_CACHE
from ccn_gis_api.limits import Limiter, SingleFlight
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


def install_landuse_routes(
    app: FastAPI, dataset: Dataset, store: LayerStore, *,
    limiter: Limiter | None = None, tile_limiter: Limiter | None = None,
    cache_bytes: int = CACHE_BYTES, caches: dict[str, SingleFlight[Any, Any]] | None = None,
) -> dict[str, list]:
    """Add the land-use routes; return each cluster's land-use rows for its feature page.

    Parameters
    ----------
    limiter
        Admits the computation of a land-use table not kept yet (default: 2 at once).
    tile_limiter
        Admits the rendering of a tile not kept yet (default: 4 at once, others wait 30 s).
    cache_bytes
        Bytes of rendered tiles kept at most.
    caches
        Where to register the caches (``landuse_tables``, ``landuse_tiles``), if anywhere.
    """
    raster_path = default_raster_path(dataset)
    raster = LandUseRaster.open(raster_path) if raster_path else None
    renderer = TileRenderer(raster) if raster else None
    has_plan = "landuse_plan" in store.layer_names()
    limiter = limiter or Limiter("computations", 2, wait=10.0)
    tile_limiter = tile_limiter or Limiter("tiles", 4, wait=30.0)
    # few keys (3 kinds of zones × 2 sources): the count bounds the tables kept
    tables: SingleFlight[tuple[str, str], list[dict[str, Any]]] = SingleFlight(6)
    pngs: SingleFlight[tuple[int, int, int], bytes] = SingleFlight(
        CACHED_TILES, max_weight=cache_bytes, weigh=lambda png: len(png) + TILE_OVERHEAD)
    if caches is not None:
        caches.update({"landuse_tables": tables, "landuse_tiles": pngs})

    def rows(zones: str, source: str) -> list[dict[str, Any]]:
        table = landuse_table(dataset, zones=zones, raster=raster_path if raster else None,
                              store=store if source == "plan" else None)
        return to_records(table)

    @app.get("/landuse", operation_id="getLandUse", tags=["Land use"],
             summary="Hectares of each land-use class in every zone",
             responses=PROBLEMS)
    async def landuse(
        zones: Annotated[Literal["clusters", "approved_extents", "parcels"], Query(
            description="the zones")] = "clusters",
        source: Annotated[Source | None, Query(
            description="raster (default when the province has one) or the vector plan")] = None,
    ) -> Any:
        chosen = source or ("raster" if raster else "plan")
        if chosen == "raster" and raster is None:
            raise StarletteHTTPException(
                404, "this province has no land-use raster; try source=plan")
        if chosen == "plan" and not has_plan:
            raise StarletteHTTPException(404, "this province has no landuse_plan layer")
        return JSONResponse(await tables.get((zones, chosen), lambda: rows(zones, chosen),
                                             limiter=limiter))

    @app.get("/landuse/classes", operation_id="getLandUseClasses", tags=["Land use"],
             summary="The land-use classes with their names and colours (the legend)")
    def classes() -> Any:
        if raster is None:
            return JSONResponse([])
        return JSONResponse([c.__dict__ for c in raster.table.classes])

    @app.get("/landuse/tiles/{z}/{x}/{y}.png", operation_id="getLandUseTile",
             tags=["Land use"], summary="A map tile (XYZ, Web Mercator) of the land-use raster",
             responses={200: {"content": {"image/png": {}}}, **PROBLEMS})
    async def tile(
        z: Annotated[int, PathParam(ge=0, le=MAX_ZOOM)],
        x: Annotated[int, PathParam(ge=0)],
        y: Annotated[int, PathParam(ge=0)],
    ) -> Response:
        if renderer is None:
            raise StarletteHTTPException(404, "this province has no land-use raster")
        if x >= 2**z or y >= 2**z:
            raise StarletteHTTPException(
                404, f"no tile {z}/{x}/{y}: at zoom {z}, x and y run from 0 to {2**z - 1}")
        render = renderer.render
        png = await pngs.get((z, x, y), lambda: render(z, x, y), limiter=tile_limiter)
        return Response(png, media_type="image/png", headers={"Cache-Control": TILE_CACHE})

    if raster is None and not has_plan:
        return {}
    by_cluster: dict[str, list] = {}
    source = "raster" if raster else "plan"
    initial = rows("clusters", source)
    tables.put(("clusters", source), initial)
    for row in initial:
        by_cluster.setdefault(row["zone_id"], []).append(
            {k: row[k] for k in ("class_code", "area_ha", "share")})
    return by_cluster

