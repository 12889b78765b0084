"""The served collections: every feature's GeoJSON built once, then filtered and joined per request.

Serialising features through dicts on every request costs about 20 ms per 1,000
features; here each feature's bytes are made once at start-up (``shapely.to_geojson``
+ orjson) and a page is a join of byte strings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pandas as pd
import shapely
from pyproj import Transformer

from ccn_gis.crs import WGS84, resolve_crs, transform_geometries, transformer
from ccn_gis.dataset import Dataset
from ccn_gis.publish import COLLECTIONS, Collection, layer_view

COORDINATE_DECIMALS = 7  # about 1 cm: RFC 7946 advises no more


def json_value(value: Any) -> Any:
    """A stored value as JSON wants it: dates as YYYY-MM-DD, missing values as null."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if value is pd.NA:
        return None
    return value


def json_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every column as JSON values, converted a whole column at a time:
    dates as ``YYYY-MM-DD``, missing values as ``None``, numpy scalars as Python ones."""
    out = {}
    for name, column in frame.items():
        present = column.notna().to_numpy()
        if pd.api.types.is_datetime64_any_dtype(column):
            values = column.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
        elif pd.api.types.is_float_dtype(column):
            values = column.to_numpy(dtype="float64").astype(object)
        else:  # text, booleans, integers (orjson writes numpy scalars)
            values = column.to_numpy(dtype=object, na_value=None)
        values = values.copy()
        values[~present] = None
        out[name] = values
    return pd.DataFrame(out, index=frame.index, dtype=object)


def rfc7946_geometries(geoms: np.ndarray, src_crs: Any) -> np.ndarray:
    """Reproject to WGS84, orient outer rings counter-clockwise, round to 7 decimals."""
    lonlat = transform_geometries(geoms, src_crs, WGS84)
    lonlat = shapely.orient_polygons(lonlat, exterior_cw=False)
    return shapely.transform(lonlat, lambda xy: np.round(xy, COORDINATE_DECIMALS))


def with_properties(feature: bytes, members: bytes, tail: bytes) -> bytes:
    """A feature's GeoJSON bytes with ``members`` (``"key":value`` pairs, comma-separated,
    or empty) added at the end of its properties and ``tail`` at the end of the feature.

    The bytes are joined, not parsed: a feature made by :func:`build_collection` ends
    with its properties object.

    Examples
    --------
    >>> with_properties(b'{"type":"Feature","properties":{"a":1}}', b'"b":2', b'"links":[]')
    b'{"type":"Feature","properties":{"a":1,"b":2},"links":[]}'
    >>> with_properties(b'{"type":"Feature","properties":{}}', b'"b":2', b'"links":[]')
    b'{"type":"Feature","properties":{"b":2},"links":[]}'
    """
    if not feature.endswith(b"}}"):
        raise ValueError("not a feature that ends with its properties")
    head = feature[:-2]
    comma = b"," if members and not head.endswith(b"{") else b""
    return head + comma + members + b"}" + (b"," + tail if tail else b"") + b"}"


CHUNK = 50_000  # features made into GeoJSON at a time: the WGS84 copies never pile up


@dataclass
class ServedCollection:
    """One collection ready to serve: its rows, feature bytes and spatial index.

    Geometries stay in the area CRS, shared with the dataset: a second, WGS84 copy of
    500,000 parcels would cost about 500 MB. Their WGS84 GeoJSON is made once, in
    chunks, into ``features``; boxes given in other CRSs are reprojected to the index's
    CRS instead (:meth:`query_box`).
    """

    info: Collection
    frame: pd.DataFrame  # attributes only, positional rows
    ids: np.ndarray  # feature ids as text
    geometries: np.ndarray | None  # in ``crs``, the dataset's area CRS
    crs: str | None
    features: list[bytes]
    tree: shapely.STRtree | None
    bbox: tuple[float, float, float, float] | None  # WGS84
    interval: tuple[str | None, str | None] | None
    position: pd.Index  # feature id → position
    fids: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    """The stored feature id (GeoPackage fid) at each position."""
    _boxes: dict[str, _BoxFrame] = field(default_factory=dict)  # by the CRS of the boxes

    @property
    def name(self) -> str:
        return self.info.name

    def position_of(self, feature_id: str) -> int | None:
        """The position of feature ``feature_id``, or None when there is none."""
        found = self.position.get_indexer([feature_id])[0]
        return int(found) if found >= 0 else None

    def properties(self, position: int) -> dict[str, Any]:
        """The properties of the feature at ``position``, as its GeoJSON carries them."""
        return orjson.loads(self.features[position])["properties"]  # type: ignore[no-any-return]

    def query_box(self, bounds: tuple[float, float, float, float], crs: Any = WGS84
                  ) -> np.ndarray:
        """Positions, in layer order, of the features whose geometry meets the box
        ``(west, south, east, north)`` given in ``crs``.

        The box is cut to the layer's extent (so that a world-sized box stays
        projectable), its edges densified and reprojected to the area CRS, where the
        index answers exactly.
        """
        if self.tree is None or self.geometries is None or not len(self.geometries):
            return np.empty(0, dtype=np.intp)
        frame = self._box_frame(crs)
        west, south, east, north = bounds
        e_west, e_south, e_east, e_north = frame.extent
        west, south = max(west, e_west), max(south, e_south)
        east, north = min(east, e_east), min(north, e_north)
        if west > east or south > north:
            return np.empty(0, dtype=np.intp)
        box = shapely.segmentize(shapely.box(west, south, east, north), frame.step)
        area_box = shapely.transform(
            box, lambda xy: np.column_stack(frame.to_area.transform(xy[:, 0], xy[:, 1])))
        return np.sort(self.tree.query(area_box, predicate="intersects"))

    def _box_frame(self, crs: Any) -> _BoxFrame:
        """What answering boxes given in ``crs`` needs, worked out once per CRS:
        resolving a CRS costs more than a query."""
        key = str(crs)
        if key not in self._boxes:
            assert self.geometries is not None
            outline = shapely.box(*shapely.total_bounds(self.geometries))
            outline = shapely.segmentize(outline, max(outline.length / 4 / EDGE_POINTS, 1.0))
            west, south, east, north = shapely.total_bounds(
                transform_geometries(np.array([outline]), self.crs, crs))
            margin = 0.01 * max(east - west, north - south, 1e-9)
            self._boxes[key] = _BoxFrame(
                to_area=transformer(crs, self.crs),
                step=EDGE_DEGREES if resolve_crs(crs).is_geographic else EDGE_METRES,
                extent=(west - margin, south - margin, east + margin, north + margin))
        return self._boxes[key]


@dataclass(frozen=True)
class _BoxFrame:
    """Boxes given in one CRS: how to reproject them to the area CRS, the longest edge
    reprojected as a straight line, and the layer's extent in that CRS (1 % margin)."""

    to_area: Transformer
    step: float
    extent: tuple[float, float, float, float]


EDGE_DEGREES = 0.005
EDGE_METRES = 500.0
"""A box's edges are cut into pieces this long before it is reprojected: a straight piece
of 0.005° (about 550 m) bends by less than 3 mm in a VN-2000 TM-3 plane."""
EDGE_POINTS = 64  # points per edge of the layer's outline reprojected to another CRS


def build_collection(dataset: Dataset, name: str) -> ServedCollection:
    """Prepare collection ``name`` of ``dataset`` for serving."""
    info = COLLECTIONS[name]
    view = layer_view(dataset, name)
    fids = np.asarray(view.index, dtype=np.int64)
    view = view.reset_index(drop=True)
    geometries = None
    if "geometry" in view.columns:
        geometries = np.asarray(view.geometry.array, dtype=object)
        attributes = pd.DataFrame(view.drop(columns="geometry"))
    else:
        attributes = pd.DataFrame(view)
    del view
    ids = attributes[info.id_field].astype(str).to_numpy()
    area_crs = dataset.settings.area_crs
    features: list[bytes] = []
    bounds = []
    for start in range(0, len(attributes), CHUNK):
        rows = slice(start, start + CHUNK)
        columns = json_columns(attributes.iloc[rows])
        keys = list(columns.columns)
        records = [dict(zip(keys, row, strict=True))
                   for row in zip(*(columns[k].tolist() for k in keys), strict=True)]
        geojson: list[str] | np.ndarray = ["null"] * len(records)
        if geometries is not None:
            lonlat = rfc7946_geometries(geometries[rows], area_crs)
            geojson = shapely.to_geojson(lonlat)
            bounds.append(shapely.total_bounds(lonlat))
        features.extend(
            b'{"type":"Feature","id":' + orjson.dumps(fid) + b',"geometry":'
            + (g.encode() if isinstance(g, str) else b"null") + b',"properties":'
            + orjson.dumps(props, option=orjson.OPT_SERIALIZE_NUMPY) + b"}"
            for fid, g, props in zip(ids[rows], geojson, records, strict=True)
        )
    tree = shapely.STRtree(geometries) if geometries is not None else None
    bbox = None
    if bounds:
        edges = np.array(bounds)
        bbox = (float(np.nanmin(edges[:, 0])), float(np.nanmin(edges[:, 1])),
                float(np.nanmax(edges[:, 2])), float(np.nanmax(edges[:, 3])))
        if any(np.isnan(bbox)):
            bbox = None
    interval = None
    if info.date_field and info.date_field in attributes.columns:
        dates = attributes[info.date_field].dropna()
        interval = (
            (dates.min().date().isoformat(), dates.max().date().isoformat())
            if len(dates) else (None, None)
        )
    return ServedCollection(
        info=info, frame=attributes, ids=ids, geometries=geometries,
        crs=area_crs if geometries is not None else None, features=features,
        tree=tree, bbox=bbox, interval=interval, position=pd.Index(ids), fids=fids,
    )


@dataclass
class Catalog:
    """Everything the API serves, built once from a dataset."""

    dataset: Dataset
    collections: dict[str, ServedCollection]

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> Catalog:
        """Build every collection of ``dataset``."""
        return cls(dataset, {name: build_collection(dataset, name) for name in COLLECTIONS})
