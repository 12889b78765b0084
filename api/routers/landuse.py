"""Land use over HTTP: zonal hectares, the class legend and the raster's map tiles
(:class:`ccn_gis_api.landuse.LandUse` holds them per revision)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccn_gis_api.auth import reader
from ccn_gis_api.dependencies import Current, Served
from ccn_gis_api.landuse import MAX_ZOOM, PROBLEMS, Source
from ccn_gis_api.middleware import TILE_CACHE
from ccn_gis_api.models import LandUseClassInfo, LandUseRow

router = APIRouter(tags=["Land use"], dependencies=[Depends(reader)])  # CCN_GIS_PUBLIC_READ


@router.get("/landuse", operation_id="getLandUse", response_model=list[LandUseRow],
            summary="Hectares of each land-use class in every zone", responses=PROBLEMS)
async def landuse(
    current: Current, served: Served,
    zones: Annotated[Literal["clusters", "approved_extents", "parcels"], Query(
        description="the zones")] = "clusters",
    source: Annotated[Source | None, Query(
        description="raster (default when the province has one) or the vector plan")] = None,
) -> Any:
    """One row per zone and class: hectares and share of the zone."""
    land = current.landuse
    chosen = land.source(source)
    rows = await land.tables.get((zones, chosen), lambda: land.rows(zones, chosen),
                                 limiter=served.limiters["computations"])
    return JSONResponse(rows)


@router.get("/landuse/classes", operation_id="getLandUseClasses",
            response_model=list[LandUseClassInfo],
            summary="The land-use classes with their names and colours (the legend)")
def classes(current: Current) -> Any:
    """The raster's classes (none without a raster)."""
    raster = current.landuse.raster
    if raster is None:
        return JSONResponse([])
    return JSONResponse([c.__dict__ for c in raster.table.classes])


@router.get("/landuse/tiles/{z}/{x}/{y}.png", operation_id="getLandUseTile",
            summary="A map tile (XYZ, Web Mercator) of the land-use raster",
            response_class=Response,
            responses={200: {"content": {"image/png": {}}}, **PROBLEMS})
async def tile(
    current: Current, served: Served,
    z: Annotated[int, PathParam(ge=0, le=MAX_ZOOM)],
    x: Annotated[int, PathParam(ge=0)],
    y: Annotated[int, PathParam(ge=0)],
) -> Response:
    """The tile, rendered once per revision (at most so many at once) and kept."""
    renderer = current.landuse.renderer
    if renderer is None:
        raise StarletteHTTPException(404, "this province has no land-use raster")
    if x >= 2**z or y >= 2**z:
        raise StarletteHTTPException(
            404, f"no tile {z}/{x}/{y}: at zoom {z}, x and y run from 0 to {2**z - 1}")
    png = await current.landuse.pngs.get((z, x, y), lambda: renderer.render(z, x, y),
                                         limiter=served.limiters["tiles"])
    return Response(png, media_type="image/png", headers={"Cache-Control": TILE_CACHE})
