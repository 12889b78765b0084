"""Mapbox vector tiles of every layer with geometry (OGC API – Tiles, WebMercatorQuad).

A map cannot draw 500,000 parcels sent as GeoJSON; it can draw the few hundred that a
tile holds. ``GET /collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}`` answers one
Mapbox Vector Tile (MVT 2.1): one layer named after the collection, extent 4096,
geometries clipped to the tile plus a buffer of 64 units and rounded to the grid.
Features are picked with the collection's STRtree (in the area CRS, see
:meth:`ServedCollection.query_box`), reprojected to Web Mercator in one vectorised call,
clipped, quantised and oriented with shapely's array functions; only the protobuf writing
(``mapbox_vector_tile``) goes feature by feature.
Encoded tiles are kept in an LRU cache bounded in bytes (:class:`SingleFlight`: a tile
asked for by several maps at once is encoded once), and at most a few tiles are encoded at
once (a :class:`Limiter` that queues the others).

- A feature's MVT id is its position in the collection; its properties are its id (under
  the layer's id field) and the few attributes the web map styles and labels by
  (:data:`TILE_FIELDS`). The rest is one ``/items/{id}`` request away.
- An empty tile is ``204 No Content`` (an empty body is also a valid empty MVT).
- **Minimum zoom**: each layer is tiled from the lowest zoom at which no tile holds more
  than :data:`FEATURES_PER_TILE` features (counted by each feature's bounding-box centre,
  computed once at start-up). Below it a tile is a 404 that says from which zoom the
  layer is tiled; the tileset metadata gives the same zoom (``minTileMatrix``).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Annotated, Any

import mapbox_vector_tile
import numpy as np
import pandas as pd
import shapely
from fastapi import FastAPI, Path, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccn_gis.crs import WGS84, transform_geometries, transformer
from ccn_gis_api.catalog import Catalog, ServedCollection, json_columns
from ccn_gis_api.etag import TILE_CACHE
from ccn_gis_api.landuse import tile_bounds
from ccn_gis_api.limits import Limiter, SingleFlight
from ccn_gis_api.models import Problem, TileSet, TileSets
from ccn_gis_api.query import CRS84, BadRequest

MVT = "application/vnd.mapbox-vector-tile"
TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
WEB_MERCATOR = "http://www.opengis.net/def/crs/EPSG/0/3857"
EXTENT = 4096
"""Grid units across a tile."""
BUFFER = 64
"""Grid units kept around a tile (4 pixels of a 256-pixel tile): outlines do not stop at
the tile's edge."""
MAX_ZOOM = 22
FEATURES_PER_TILE = 5_000
"""A layer is tiled from the zoom at which no tile holds more features than this."""
CACHED_TILES = 10_000
"""Encoded tiles kept at most (and at most ``cache_bytes`` bytes of them)."""
CACHE_BYTES = 64 << 20
TILE_OVERHEAD = 128
"""Bytes a kept tile weighs besides its body: empty tiles count too."""
TILE_FIELDS: dict[str, tuple[str, ...]] = {
    "admin_units": ("name", "level", "parent_code", "valid_from", "valid_to"),
    "clusters": ("name", "admin_code", "stage"),
    "approved_extents": ("cluster_id", "stage", "decided_on"),
    "parcels": ("cluster_id", "land_use", "lease_status", "project_id", "leased_on"),
    "promotion_activities": ("year", "programme", "admin_code", "cluster_id"),
}
"""The attributes a tile carries besides the feature id: what the web map styles by."""
PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The tile's zoom, row or column is out of range"},
    404: {"model": Problem, "description": "No such collection, the collection has no "
          "geometry, or the zoom is below the layer's minimum"},
}
_POLYGONAL = (3, 6)  # shapely type ids of Polygon and MultiPolygon


@dataclass(frozen=True)
class TiledLayer:
    """A collection ready to cut into tiles: its geometries (area CRS), index and attributes."""

    name: str
    id_field: str
    collection: ServedCollection
    geometries: np.ndarray  # in the area CRS
    crs: Any
    ids: np.ndarray  # feature ids as text
    frame: pd.DataFrame  # the collection's attributes, positional rows
    fields: tuple[str, ...]  # the id field, then the attributes a tile carries
    dimension: int | None  # 0 points, 1 lines, 2 polygons, None mixed or empty
    min_zoom: int
    bbox: tuple[float, float, float, float] | None

    @classmethod
    def from_collection(cls, collection: ServedCollection, /, *,
                        features_per_tile: int = FEATURES_PER_TILE) -> TiledLayer:
        """Prepare ``collection`` (which must have geometries) for tiling."""
        if collection.geometries is None or collection.tree is None:
            raise ValueError(f"collection {collection.name} has no geometry")
        id_field = collection.info.id_field
        wanted = TILE_FIELDS.get(collection.name, ("name",))
        fields = (id_field, *(f for f in wanted if f in collection.frame.columns and f != id_field))
        geometries = collection.geometries
        dimensions = set(shapely.get_dimensions(geometries[~shapely.is_empty(geometries)]))
        bounds = shapely.bounds(geometries)
        present = ~np.isnan(bounds).any(axis=1)
        lon, lat = transformer(collection.crs, WGS84).transform(
            (bounds[present, 0] + bounds[present, 2]) / 2,
            (bounds[present, 1] + bounds[present, 3]) / 2)
        return cls(
            name=collection.name, id_field=id_field, collection=collection,
            geometries=geometries, crs=collection.crs, ids=collection.ids,
            frame=collection.frame, fields=fields,
            dimension=int(dimensions.pop()) if len(dimensions) == 1 else None,
            min_zoom=min_zoom(np.asarray(lon), np.asarray(lat),
                              features_per_tile=features_per_tile),
            bbox=collection.bbox,
        )


def mercator_fraction(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Web Mercator position as fractions of the world, ``x`` east and ``y`` south of 0."""
    lat = np.clip(lat, -85.05112878, 85.05112878)
    x = (np.asarray(lon) + 180.0) / 360.0
    y = 0.5 - np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) / (2 * np.pi)
    return np.clip(x, 0.0, 1.0 - 1e-12), np.clip(y, 0.0, 1.0 - 1e-12)


def min_zoom(lon: np.ndarray, lat: np.ndarray, /, *,
             features_per_tile: int = FEATURES_PER_TILE) -> int:
    """The lowest zoom at which no tile holds more than ``features_per_tile`` features.

    A feature counts in the tile of its bounding box's centre (``lon``, ``lat``); the
    count of the fullest tile only falls as the zoom grows, so the zoom is found by
    bisection.

    Examples
    --------
    >>> min_zoom(np.full(3, 106.4), np.full(3, 20.5), features_per_tile=2)
    22
    >>> min_zoom(np.full(3, 106.4), np.full(3, 20.5), features_per_tile=3)
    0
    """
    if not len(lon):
        return 0
    x, y = mercator_fraction(lon, lat)
    col = (x * 2**MAX_ZOOM).astype(np.int64)
    row = (y * 2**MAX_ZOOM).astype(np.int64)

    def fullest(z: int) -> int:
        shift = MAX_ZOOM - z
        keys = ((col >> shift) << z) | (row >> shift)
        return int(np.unique(keys, return_counts=True)[1].max())

    low, high = 0, MAX_ZOOM
    while low < high:  # the lowest z with fullest(z) <= features_per_tile (MAX_ZOOM at worst)
        middle = (low + high) // 2
        if fullest(middle) <= features_per_tile:
            high = middle
        else:
            low = middle + 1
    return low


def encode_tile(layer: TiledLayer, z: int, x: int, y: int) -> bytes:
    """The MVT of tile ``z/x/y`` (XYZ, row 0 at the north); ``b""`` when it is empty."""
    west, south, east, north = tile_bounds(z, x, y)
    scale = EXTENT / (east - west)
    margin = BUFFER / scale
    box = (west - margin, south - margin, east + margin, north + margin)
    candidates = layer.collection.query_box(box, "EPSG:3857")
    if not len(candidates):
        return b""
    metres = transform_geometries(layer.geometries[candidates], layer.crs, "EPSG:3857")
    inside = shapely.intersects(metres, shapely.box(*box))
    positions, metres = candidates[inside], metres[inside]
    clipped = shapely.clip_by_rect(metres, *box)
    grid = shapely.transform(  # tile grid units, y down, rounded: the quantisation
        clipped, lambda xy: np.round((xy - (west, north)) * (scale, -scale)))
    if layer.dimension == 2:
        grid = _polygons_only(grid)
        grid = shapely.orient_polygons(grid, exterior_cw=False)  # clockwise on screen (y down)
        keep = shapely.area(grid) > 0
    else:
        keep = ~shapely.is_empty(grid)
    positions, grid = positions[keep], grid[keep]
    if not len(positions):
        return b""
    # attributes of the tile's features only: as JSON wants them, dates as text
    values = json_columns(layer.frame.iloc[positions][list(layer.fields[1:])])
    columns = [layer.ids[positions], *(values[f].to_numpy(dtype=object) for f in layer.fields[1:])]
    features = []
    for i, (position, geometry) in enumerate(zip(positions.tolist(), grid, strict=True)):
        properties = {}
        for field, column in zip(layer.fields, columns, strict=True):
            value = column[i]
            if value is not None:
                properties[field] = value.item() if isinstance(value, np.generic) else value
        features.append({"geometry": geometry, "id": position, "properties": properties})
    return bytes(mapbox_vector_tile.encode(
        {"name": layer.name, "features": features},
        default_options={"extents": EXTENT, "y_coord_down": True, "check_winding_order": False},
    ))


def _polygons_only(geometries: np.ndarray) -> np.ndarray:
    """Keep the polygons of the rare mixed collections that clipping can leave."""
    out = geometries.copy()
    for i in np.flatnonzero(shapely.get_type_id(geometries) == 7):
        parts = shapely.get_parts(geometries[i])
        out[i] = shapely.multipolygons(
            shapely.get_parts(parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)]))
    return out


def _json_type(column: pd.Series) -> str:
    """The JSON type of a column's values in a tile."""
    if pd.api.types.is_bool_dtype(column):
        return "boolean"
    if pd.api.types.is_integer_dtype(column):
        return "integer"
    return "number" if pd.api.types.is_float_dtype(column) else "string"  # dates as text


def tile_matrix_limits(bbox: tuple[float, float, float, float], z: int) -> dict[str, Any]:
    """The rows and columns of zoom ``z`` that cover ``bbox`` (WGS84 west, south, east, north)."""
    x, y = mercator_fraction(np.array([bbox[0], bbox[2]]), np.array([bbox[3], bbox[1]]))
    cols, rows = (x * 2**z).astype(int), (y * 2**z).astype(int)
    return {"tileMatrix": str(z), "minTileRow": int(rows[0]), "maxTileRow": int(rows[1]),
            "minTileCol": int(cols[0]), "maxTileCol": int(cols[1])}


def install_tile_routes(app: FastAPI, catalog: Catalog, /, *,
                        features_per_tile: int = FEATURES_PER_TILE,
                        limiter: Limiter | None = None,
                        cache: SingleFlight[tuple[str, int, int, int], bytes] | None = None,
                        ) -> dict[str, TiledLayer]:
    """Add the vector-tile routes for every collection with geometry; return its layers.

    Parameters
    ----------
    limiter
        Admits the encoding of a tile not kept (default: 4 at once, others wait 30 s).
    cache
        Keeps the encoded tiles (default: :data:`CACHED_TILES`, :data:`CACHE_BYTES`).
    """
    layers = {name: TiledLayer.from_collection(c, features_per_tile=features_per_tile)
              for name, c in catalog.collections.items() if c.geometries is not None}
    limiter = limiter or Limiter("tiles", 4, wait=30.0)
    tiles: SingleFlight[tuple[str, int, int, int], bytes] = SingleFlight(
        CACHED_TILES, max_weight=CACHE_BYTES, weigh=lambda body: len(body) + TILE_OVERHEAD)
    if cache is not None:  # not `cache or …`: an empty cache has no length
        tiles = cache

    def layer_or_404(collection_id: str) -> TiledLayer:
        if collection_id not in catalog.collections:
            raise StarletteHTTPException(
                404, f"no collection {collection_id!r}; collections: "
                f"{', '.join(catalog.collections)}")
        if collection_id not in layers:
            raise StarletteHTTPException(
                404, f"collection {collection_id!r} has no geometry: it has no tiles; its "
                f"features are at /collections/{collection_id}/items")
        return layers[collection_id]

    def links(request: Request, layer: TiledLayer) -> list[dict[str, Any]]:
        base = str(request.base_url).rstrip("/") + f"/collections/{layer.name}"
        title = catalog.collections[layer.name].info.title_vi
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

    def summary(request: Request, layer: TiledLayer) -> dict[str, Any]:
        title = catalog.collections[layer.name].info.title_vi
        return {"title": f"{title} — vector tiles", "dataType": "vector", "crs": WEB_MERCATOR,
                "tileMatrixSetURI": TMS_URI, "links": links(request, layer)}

    @app.get("/collections/{collection_id}/tiles", response_model=TileSets,
             response_model_exclude_none=True, operation_id="getCollectionTileSets",
             tags=["Tiles"], summary="The vector tilesets of a layer", responses=PROBLEMS)
    def tilesets(request: Request, collection_id: Annotated[str, Path(
            description="A layer with geometry, e.g. parcels")]) -> Any:
        layer = layer_or_404(collection_id)
        self_url = str(request.base_url).rstrip("/") + f"/collections/{layer.name}/tiles"
        return {"links": [{"href": self_url, "rel": "self", "type": "application/json"}],
                "tilesets": [summary(request, layer)]}

    @app.get(f"/collections/{{collection_id}}/tiles/{TMS_ID}", response_model=TileSet,
             response_model_exclude_none=True, operation_id="getCollectionTileSet",
             tags=["Tiles"], summary="A layer's vector tileset: zooms, extent, attributes",
             responses=PROBLEMS)
    def tileset(request: Request, collection_id: Annotated[str, Path(
            description="A layer with geometry, e.g. parcels")]) -> Any:
        layer = layer_or_404(collection_id)
        body = summary(request, layer)
        body["layers"] = [{
            "id": layer.name, "dataType": "vector",
            "geometryDimension": layer.dimension,
            "minTileMatrix": str(layer.min_zoom), "maxTileMatrix": str(MAX_ZOOM),
            "propertiesSchema": {"type": "object", "properties": {
                f: {"type": "string" if f == layer.id_field else _json_type(layer.frame[f])}
                for f in layer.fields}},
        }]
        if layer.bbox is not None:
            body["boundingBox"] = {"lowerLeft": list(layer.bbox[:2]),
                                   "upperRight": list(layer.bbox[2:]), "crs": CRS84}
            body["tileMatrixSetLimits"] = [tile_matrix_limits(layer.bbox, z)
                                           for z in range(layer.min_zoom, MAX_ZOOM + 1)]
        return body

    @app.get(
        f"/collections/{{collection_id}}/tiles/{TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}",
        operation_id="getCollectionVectorTile", tags=["Tiles"],
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
        request: Request,
        collection_id: Annotated[str, Path(description="A layer with geometry, e.g. parcels")],
        tileMatrix: Annotated[int, Path(  # noqa: N803 - OGC API – Tiles names
            ge=0, le=MAX_ZOOM, description=f"Zoom level z, 0 to {MAX_ZOOM}")],
        tileRow: Annotated[int, Path(ge=0, description="Row y, 0 at the north")],  # noqa: N803
        tileCol: Annotated[int, Path(ge=0, description="Column x, 0 at 180° W")],  # noqa: N803
    ) -> Response:
        layer = layer_or_404(collection_id)
        z, y, x = tileMatrix, tileRow, tileCol
        last = 2**z - 1
        if x > last or y > last:
            raise BadRequest(f"no tile {z}/{y}/{x} (tileMatrix/tileRow/tileCol): at zoom {z} "
                             f"rows and columns run from 0 to {last}")
        if z < layer.min_zoom:
            raise StarletteHTTPException(
                404, f"{layer.name} is tiled from zoom {layer.min_zoom} on (below it a tile "
                f"would hold more than {features_per_tile:,} features); see "
                f"/collections/{layer.name}/tiles/{TMS_ID}")
        body = await tiles.get((layer.name, z, x, y), lambda: encode_tile(layer, z, x, y),
                               limiter=limiter)  # the layers never change while the app runs
        headers = {"Cache-Control": TILE_CACHE, "Vary": "Accept-Encoding"}
        if not body:
            return Response(status_code=204, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", "") and len(body) > 1024:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=MVT, headers=headers)

    return layers
