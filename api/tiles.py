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

from dataclasses import dataclass
from typing import Any

import mapbox_vector_tile
import numpy as np
import pandas as pd
import shapely

from ccn_gis.crs import WGS84, transform_geometries, transformer
from ccn_gis_api.catalog import ServedCollection, json_columns
from ccn_gis_api.landuse import tile_bounds
from ccn_gis_api.models import Problem

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
"""The attributes a tile carries besides the feature id: what the web map styles by.

Both ``stage`` fields keep their published names but are two vocabularies: a cluster's is
its stage (:class:`ccn_gis.model.ClusterStage`), an approved extent's the approval that
it carries (:class:`ccn_gis.model.Approval`)."""
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
    features_per_tile: int = FEATURES_PER_TILE  # what ``min_zoom`` was worked out for

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
            bbox=collection.bbox, features_per_tile=features_per_tile,
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


def json_type(column: pd.Series) -> str:
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
