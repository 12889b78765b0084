"""The rows of a download as GDAL takes them: typed Arrow attributes, geometry as WKB.

:func:`arrow_table` gives every attribute the Arrow type GDAL maps to the right field
(dates as DATE, or as ISO text where GDAL would write ``YYYY/MM/DD``; booleans as 1/0
for dBASE). :func:`with_geometry` adds the geometries, reprojected and encoded
:data:`CHUNK_ROWS` rows at a time as an Arrow stream, so that a layer of 500,000
parcels never exists twice in memory. GeoPackage and Shapefile want one geometry type
per layer: :func:`layer_geometry_type` chooses it, and single parts are promoted to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from pyproj import CRS

from ccn_gis.crs import transform_geometries

Rows: TypeAlias = pa.Table | pa.RecordBatchReader
"""What the writers hand to GDAL: a whole table, or a stream of batches."""

CHUNK_ROWS = 50_000
"""Rows reprojected and encoded at a time while a file is written."""

_EMPTY_GEOMETRY_TYPES = {
    "admin_units": "MultiPolygon",
    "clusters": "MultiPolygon",
    "approved_extents": "MultiPolygon",
    "parcels": "MultiPolygon",
    "promotion_activities": "Point",
    "landuse_plan": "MultiPolygon",
}
"""The layer type written when a frame holds no geometry to infer it from (empty)."""

_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
}
"""Layer types kept as they are (shapely type id → GDAL name); polygons become multi."""
_PROMOTIONS = {
    0: (4, "MultiPoint", shapely.MultiPoint),
    1: (5, "MultiLineString", shapely.MultiLineString),
    3: (6, "MultiPolygon", shapely.MultiPolygon),
}
"""Single-part type id → its multi-part type id, GDAL name and shapely class."""


def arrow_table(
    frame: pd.DataFrame, /, *, dates_as_text: bool, booleans_as_integers: bool
) -> pa.Table:
    """Return ``frame`` as an Arrow table whose types GDAL maps to the right fields.

    Dates (datetimes at midnight) become Arrow dates, which GDAL writes as DATE fields;
    ``dates_as_text`` writes them as ``YYYY-MM-DD`` text instead (CSV, KML), because
    GDAL would write ``YYYY/MM/DD`` there. ``booleans_as_integers`` writes 1/0 instead
    of dBASE logical fields, which older GDAL and ArcGIS read as one-letter text.

    Examples
    --------
    >>> frame = pd.DataFrame({"leased_on": pd.to_datetime(["2021-03-01", None]),
    ...                       "recovered": [True, False]})
    >>> table = arrow_table(frame, dates_as_text=True, booleans_as_integers=True)
    >>> table.column("leased_on").to_pylist(), table.column("recovered").to_pylist()
    (['2021-03-01', None], [1, 0])
    """
    columns = {}
    for column in frame.columns:
        array = _arrow_column(frame[column], dates_as_text=dates_as_text)
        if booleans_as_integers and pa.types.is_boolean(array.type):
            array = array.cast(pa.int32())
        columns[str(column)] = array
    if not columns:  # geometry only: keep the row count
        return pa.table({"_": pa.nulls(len(frame))}).drop_columns(["_"])
    return pa.table(columns)


def with_geometry(
    table: pa.Table, geoms: np.ndarray, source: Any, target: CRS, promote: int | None
) -> pa.RecordBatchReader:
    """The attribute table with its geometry as WKB, made :data:`CHUNK_ROWS` at a time.

    Each chunk of ``geoms`` is reprojected from ``source`` to ``target`` and, when
    ``promote`` is a single-part type id (from :func:`layer_geometry_type`), its single
    parts are wrapped in their multi-part class.
    """
    schema = table.schema.append(pa.field("geometry", pa.binary()))

    def batches() -> Iterator[pa.RecordBatch]:
        for start in range(0, max(len(geoms), 1), CHUNK_ROWS):
            part = transform_geometries(geoms[start:start + CHUNK_ROWS], source, target)
            if promote is not None:
                part = _promoted(part, promote)
            attributes = [_one_array(column) for column in table.slice(start, CHUNK_ROWS).columns]
            wkb = pa.array(shapely.to_wkb(part), pa.binary())
            yield pa.RecordBatch.from_arrays([*attributes, wkb], schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def layer_geometry_type(geoms: np.ndarray, layer: str) -> tuple[str, int | None]:
    """Return the layer's geometry type and the type id of the single parts to promote
    to it (a key of :data:`_PROMOTIONS`), or None.

    GeoPackage and Shapefile want one type per layer: polygons and multipolygons make a
    MultiPolygon layer, likewise lines and points mixed with their multi-part kind.

    Examples
    --------
    >>> from shapely import MultiPolygon, box
    >>> layer_geometry_type(np.array([box(0, 0, 1, 1), MultiPolygon([box(2, 0, 3, 1)])]),
    ...                     "parcels")
    ('MultiPolygon', 3)
    >>> layer_geometry_type(np.array([], dtype=object), "promotion_activities")
    ('Point', None)
    """
    types = shapely.get_type_id(geoms)
    kinds = set(types[~shapely.is_empty(geoms) & (types >= 0)].tolist())
    if not kinds:
        return _EMPTY_GEOMETRY_TYPES.get(layer, "Unknown"), None
    if len(kinds) == 1 and kinds <= set(_TYPE_NAMES):
        return _TYPE_NAMES[kinds.pop()], None
    for single, (multi, name, _) in _PROMOTIONS.items():
        if kinds <= {single, multi}:
            return name, single
    return "Unknown", None


def _arrow_column(series: pd.Series, *, dates_as_text: bool) -> pa.Array:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return _datetime_column(series, dates_as_text=dates_as_text)
    try:
        array = pa.Array.from_pandas(series)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed Python objects: write their text
        array = pa.array([None if pd.isna(v) else str(v) for v in series], pa.string())
    if pa.types.is_null(array.type):
        return array.cast(pa.string())
    if dates_as_text and pa.types.is_date(array.type):
        return array.cast(pa.string())
    return array


def _datetime_column(series: pd.Series, *, dates_as_text: bool) -> pa.Array:
    present = series.dropna()
    is_date = series.dt.tz is None and bool((present == present.dt.normalize()).all())
    if is_date:
        days: list[dt.date | None] = [None if pd.isna(v) else v.date() for v in series]
        if dates_as_text:
            return pa.array([None if d is None else d.isoformat() for d in days], pa.string())
        return pa.array(days, pa.date32())
    if dates_as_text:
        return pa.array([None if pd.isna(v) else v.isoformat() for v in series], pa.string())
    return pa.Array.from_pandas(series)


def _one_array(column: pa.ChunkedArray) -> pa.Array:
    return pa.concat_arrays(column.chunks) if column.num_chunks else pa.array([], column.type)


def _promoted(geoms: np.ndarray, single: int) -> np.ndarray:
    """Parts of type id ``single`` wrapped in their multi-part class; the rest as they are."""
    cls = _PROMOTIONS[single][2]
    promoted = np.array(geoms, dtype=object)
    for i in np.flatnonzero(shapely.get_type_id(geoms) == single):
        promoted[i] = cls([geoms[i]])
    return promoted
