"""OGC API – Tiles: each layer's vector tilesets and its Mapbox vector tiles
(:mod:`ccn_gis_api.tiles` cuts them), and the land-use raster's PNG tiles
(:mod:`ccn_gis_api.landuse` renders them)."""

from __future__ import annotations

import gzip
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccn_gis_api.auth import reader
from ccn_gis_api.dependencies import Current, Served
from ccn_gis_api.middleware import REVALIDATE
from ccn_gis_api.models import TileSet, TileSets
from ccn_gis_api.query import CRS84, BadRequest
from ccn_gis_api.service import Snapshot
from ccn_gis_api.tiles import (
    MAX_ZOOM,
    MVT,
    PROBLEMS,
    TMS_ID,
    TMS_URI,
    WEB_MERCATOR,
    TiledLayer,
    encode_tile,
    json_type,
    tile_matrix_limits,
)

router = APIRouter(tags=["Tiles"], dependencies=[Depends(reader)])  # CCN_GIS_PUBLIC_READ

TiledId = Annotated[str, Path(description="A layer with geometry, e.g. parcels")]


async def tiled_layer(collection_id: TiledId, current: Current) -> TiledLayer:
    """The tiled layer named in the path; 404 when there is none or it has no geometry."""
    if collection_id not in current.catalog.collections:
        raise StarletteHTTPException(
            404, f"no collection {collection_id!r}; collections: "
            f"{', '.join(current.catalog.collections)}")
    if collection_id not in current.tiles:
        raise StarletteHTTPException(
            404, f"collection {collection_id!r} has no geometry: it has no tiles; its "
            f"features are at /collections/{collection_id}/items")
    return current.tiles[collection_id]


def _links(request: Request, current: Snapshot, layer: TiledLayer) -> list[dict[str, Any]]:
    base = str(request.base_url).rstrip("/") + f"/collections/{layer.name}"
    title = current.catalog.collections[layer.name].info.title_vi
    return [
        {"href": f"{base}/tiles/{TMS_ID}", "rel": "self", "type": "application/json",
         "title": f"{title} — vector tiles ({TMS_ID})"},
        {"href": f"{base}/tiles/{TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}",
         "rel": "item", "type": MVT, "templated": True,
         "title": f"{title} — Mapbox vector tile"},
        {"href": TMS_URI, "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
         "type": "application/json", "title": TMS_ID},
        {"href": base, "rel": "collection", "type": "application/json", "title": title},
    ]


def _summary(request: Request, current: Snapshot, layer: TiledLayer) -> dict[str, Any]:
    title = current.catalog.collections[layer.name].info.title_vi
    return {"title": f"{title} — vector tiles", "dataType": "vector", "crs": WEB_MERCATOR,
            "tileMatrixSetURI": TMS_URI, "links": _links(request, current, layer)}


@router.get("/collections/{collection_id}/tiles", response_model=TileSets,
            response_model_exclude_none=True, operation_id="getCollectionTileSets",
            summary="The vector tilesets of a layer", responses=PROBLEMS)
async def tilesets(request: Request, current: Current, collection_id: TiledId) -> Any:
    """The layer's one tileset (WebMercatorQuad)."""
    layer = await tiled_layer(collection_id, current)
    self_url = str(request.base_url).rstrip("/") + f"/collections/{layer.name}/tiles"
    return {"links": [{"href": self_url, "rel": "self", "type": "application/json"}],
            "tilesets": [_summary(request, current, layer)]}


@router.get(f"/collections/{{collection_id}}/tiles/{TMS_ID}", response_model=TileSet,
            response_model_exclude_none=True, operation_id="getCollectionTileSet",
            summary="A layer's vector tileset: zooms, extent, attributes", responses=PROBLEMS)
async def tileset(request: Request, current: Current, collection_id: TiledId) -> Any:
    """The tileset's zooms, extent, tile limits and the attributes its tiles carry."""
    layer = await tiled_layer(collection_id, current)
    body = _summary(request, current, layer)
    body["layers"] = [{
        "id": layer.name, "dataType": "vector",
        "geometryDimension": layer.dimension,
        "minTileMatrix": str(layer.min_zoom), "maxTileMatrix": str(MAX_ZOOM),
        "propertiesSchema": {"type": "object", "properties": {
            f: {"type": "string" if f == layer.id_field else json_type(layer.frame[f])}
            for f in layer.fields}},
    }]
    if layer.bbox is not None:
        body["boundingBox"] = {"lowerLeft": list(layer.bbox[:2]),
                               "upperRight": list(layer.bbox[2:]), "crs": CRS84}
        body["tileMatrixSetLimits"] = [tile_matrix_limits(layer.bbox, z)
                                       for z in range(layer.min_zoom, MAX_ZOOM + 1)]
    return body


@router.get(
    f"/collections/{{collection_id}}/tiles/{TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}",
    operation_id="getCollectionVectorTile",
    summary="One Mapbox vector tile of a layer (z/y/x, Web Mercator)",
    description="One MVT layer named after the collection, extent 4096; feature ids are "
    "positions in the collection, properties the feature id and the attributes the map "
    "styles by. An empty tile is 204 No Content. QGIS: Vector Tiles ▸ New Generic "
    "Connection, URL `…/tiles/WebMercatorQuad/{z}/{y}/{x}`.",
    response_class=Response,
    responses={200: {"content": {MVT: {}}, "description": "The tile"},
               204: {"description": "An empty tile: no feature touches it"}, **PROBLEMS},
)
async def tile(
    request: Request, current: Current, served: Served, collection_id: TiledId,
    tileMatrix: Annotated[int, Path(  # noqa: N803 - OGC API – Tiles names
        ge=0, le=MAX_ZOOM, description=f"Zoom level z, 0 to {MAX_ZOOM}")],
    tileRow: Annotated[int, Path(ge=0, description="Row y, 0 at the north")],  # noqa: N803
    tileCol: Annotated[int, Path(ge=0, description="Column x, 0 at 180° W")],  # noqa: N803
) -> Response:
    """The tile, encoded once per revision (at most so many at once) and kept."""
    layer = await tiled_layer(collection_id, current)
    z, y, x = tileMatrix, tileRow, tileCol
    last = 2**z - 1
    if x > last or y > last:
        raise BadRequest(f"no tile {z}/{y}/{x} (tileMatrix/tileRow/tileCol): at zoom {z} "
                         f"rows and columns run from 0 to {last}")
    if z < layer.min_zoom:
        raise StarletteHTTPException(
            404, f"{layer.name} is tiled from zoom {layer.min_zoom} on (below it a tile "
            f"would hold more than {layer.features_per_tile:,} features); see "
            f"/collections/{layer.name}/tiles/{TMS_ID}")
    body = await current.caches["tiles"].get(
        (layer.name, z, x, y), lambda: encode_tile(layer, z, x, y),
        limiter=served.limiters["tiles"])
    headers = {"Cache-Control": REVALIDATE, "Vary": "Accept-Encoding"}  # edits change it
    if not body:
        return Response(status_code=204, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", "") and len(body) > 1024:
        body = gzip.compress(body, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=MVT, headers=headers)
