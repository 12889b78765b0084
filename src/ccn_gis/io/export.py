"""Downloads: one published layer as GeoJSON, GeoPackage, Shapefile, KML or CSV.

:func:`export_layer` takes a frame from :func:`ccn_gis.publish.layer_view` and returns
the bytes of a file that GDAL, QGIS, ArcGIS, Google Earth and Excel open as they are:

- GeoJSON and KML are always WGS84 longitude/latitude (RFC 7946, OGC KML);
- GeoPackage, zipped Shapefile and CSV are in WGS84 or in a VN-2000 plane system
  (the province's area CRS, EPSG:9209 for Thái Bình), reprojected with the national
  7-parameter shift by :func:`ccn_gis.crs.transform_geometries`;
- a GeoPackage carries a QGIS default style (``layer_styles`` table) so that it opens
  coloured; a Shapefile's field names are shortened through :data:`SHAPEFILE_FIELD_NAMES`.

Every file is written by GDAL (through pyogrio) inside a temporary directory that is
removed before the function returns; nothing is written anywhere else.
:func:`write_export` writes the file into a folder of the caller's instead (the web API
streams it from there). Geometries are reprojected and encoded :data:`CHUNK_ROWS` rows
at a time and handed to GDAL as an Arrow stream, so a layer of 500,000 parcels never
exists twice in memory.
``docs/downloads.md`` describes the formats for users.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely
from pyproj import CRS

from ccn_gis.crs import DEFAULT_AREA_CRS, WGS84, resolve_crs, transform_geometries
from ccn_gis.errors import CrsError, UnknownValueError
from ccn_gis.publish import COLLECTIONS


class ExportFormat(str, Enum):
    """The download formats (a closed vocabulary)."""

    GEOJSON = "geojson"
    GPKG = "gpkg"
    SHAPEFILE = "shp"
    KML = "kml"
    CSV = "csv"

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """Return the valid values, in declaration order."""
        return tuple(m.value for m in cls)

    @classmethod
    def parse(cls, value: ExportFormat | str) -> ExportFormat:
        """Return the format for ``value`` (case-insensitive) or raise an error.

        Raises
        ------
        UnknownValueError
            When ``value`` is not a format; the message lists the valid ones.

        Examples
        --------
        >>> ExportFormat.parse("GPKG")
        <ExportFormat.GPKG: 'gpkg'>
        """
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError as err:
            raise UnknownValueError(
                f"{value!r} is not a download format; valid values: {', '.join(cls.values())}"
            ) from err


@dataclass(frozen=True)
class FormatInfo:
    """What a client needs to know about a download format."""

    media_type: str
    extension: str
    title_vi: str
    title_en: str
    crs_choice: bool
    """Whether a VN-2000 plane system may be asked for (otherwise always WGS84)."""


FORMATS: dict[ExportFormat, FormatInfo] = {
    ExportFormat.GEOJSON: FormatInfo(
        "application/geo+json", "geojson", "GeoJSON", "GeoJSON", False
    ),
    ExportFormat.GPKG: FormatInfo(
        "application/geopackage+sqlite3", "gpkg", "GeoPackage", "GeoPackage", True
    ),
    ExportFormat.SHAPEFILE: FormatInfo(
        "application/x-shapefile+zip", "shp.zip", "Shapefile (nén ZIP)", "Shapefile (zipped)", True
    ),
    ExportFormat.KML: FormatInfo(
        "application/vnd.google-earth.kml+xml",
        "kml",
        "KML (Google Earth)",
        "KML (Google Earth)",
        False,
    ),
    ExportFormat.CSV: FormatInfo(
        "text/csv", "csv", "CSV (Excel, hình học dạng WKT)", "CSV (Excel, geometry as WKT)", True
    ),
}

EXPORT_CRSS: dict[str, str] = {"EPSG:4326": "wgs84", DEFAULT_AREA_CRS: "vn2000"}
"""The systems offered by default and their filename labels. Any VN-2000 plane system
(for another province its own TM-3 zone, EPSG:9205–9218) and the layer's own CRS are
accepted too; see :func:`export_crs_label`."""

SHAPEFILE_FIELD_NAMES: dict[str, str] = {
    "parent_code": "parent_cd",
    "operating_since": "oper_since",
    "infrastructure_complete": "infra_done",
    "established": "establ",
    "detailed_plan": "detail_pl",
    "established_ha": "establ_ha",
    "detailed_plan_ha": "detail_ha",
    "industrial_ha": "indust_ha",
    "lease_status": "lease_stat",
    "registered_on": "reg_date",
    "registered_capital_bn_vnd": "reg_cap_bn",
    "implemented_capital_bn_vnd": "imp_cap_bn",
    "registered_workers": "reg_worker",
    "activity_id": "activ_id",
    "participants": "particip",
    "budget_mil_vnd": "budget_mil",
}
"""Shapefile (dBASE) field names are at most 10 characters: the short name of every
published field that is longer. Other long names are cut by :func:`shapefile_field_names`."""

SHAPEFILE_NAME_LENGTH = 10


@dataclass(frozen=True)
class Export:
    """A file to hand to the user: its name, media type and bytes."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class ExportFile:
    """A file written by :func:`write_export`: its name for the user, media type and path."""

    filename: str
    media_type: str
    path: Path


CHUNK_ROWS = 50_000
"""Rows reprojected and encoded at a time while a file is written."""


GEOMETRY_COLUMN = "geom"
"""The geometry column of a written GeoPackage (GDAL's default, named explicitly)."""

_GPKG_VERSION = "1.2"  # read without warnings by GDAL 3.x, QGIS 3.x and ArcGIS
_STYLE_TABLE = "layer_styles"
_SHAPEFILE_PARTS = ("shp", "shx", "dbf", "prj", "cpg")
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
_CRS_ALIASES = {"wgs84": "EPSG:4326"}
_NAMES = {
    ExportFormat.GEOJSON: "GeoJSON",
    ExportFormat.GPKG: "GeoPackage",
    ExportFormat.SHAPEFILE: "Shapefile",
    ExportFormat.KML: "KML",
    ExportFormat.CSV: "CSV",
}


def export_layer(
    frame: pd.DataFrame,
    /,
    *,
    layer: str,
    fmt: ExportFormat | str,
    crs: str = "EPSG:4326",
    basename: str = "ccn",
) -> Export:
    """Write ``frame`` as a download in format ``fmt`` and return its bytes.

    Parameters
    ----------
    frame
        A layer from :func:`ccn_gis.publish.layer_view`: a GeoDataFrame with a CRS, or a
        plain DataFrame for a table without geometry (``projects``). May be empty.
    layer
        The layer's name, used inside the file, in the filename and to pick the style.
    fmt
        One of :class:`ExportFormat` (or its value, e.g. ``"gpkg"``).
    crs
        ``"EPSG:4326"`` (WGS84) or a VN-2000 plane system such as ``"EPSG:9209"``; the
        labels ``"wgs84"`` and ``"vn2000"`` (the layer's VN-2000 CRS) work too. GeoJSON
        and KML only accept WGS84.
    basename
        The start of the filename, e.g. the province (``"Thái Bình"`` → ``thai_binh``).

    Returns
    -------
    Export
        ``<basename>_<layer>_<wgs84|vn2000>.<ext>``; GeoJSON, KML and tables without
        geometry have no CRS part.

    Raises
    ------
    UnknownValueError
        For an unknown format, a CRS the format does not offer, or KML of a table
        without geometry; the message lists the valid values.
    CrsError
        When the frame has geometry but no CRS, or ``crs`` is not a CRS at all.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> clusters = gpd.GeoDataFrame(
    ...     {"cluster_id": ["TB-01"], "name": ["CCN Phong Phú"], "stage": ["operating"]},
    ...     geometry=[box(587000, 2262000, 587500, 2262400)], crs="EPSG:9209")
    >>> out = export_layer(clusters, layer="clusters", fmt="gpkg", crs="EPSG:9209",
    ...                    basename="Thái Bình")
    >>> out.filename, out.media_type
    ('thai_binh_clusters_vn2000.gpkg', 'application/geopackage+sqlite3')
    """
    with tempfile.TemporaryDirectory(prefix="ccn-gis-export-") as tmp:
        written = write_export(frame, Path(tmp), layer=layer, fmt=fmt, crs=crs,
                               basename=basename)
        return Export(written.filename, written.media_type, written.path.read_bytes())


def write_export(
    frame: pd.DataFrame,
    folder: Path,
    /,
    *,
    layer: str,
    fmt: ExportFormat | str,
    crs: str = "EPSG:4326",
    basename: str = "ccn",
) -> ExportFile:
    """Write ``frame`` as a download into ``folder`` (which must be empty) and return it.

    The parameters, file and errors are those of :func:`export_layer`; the caller removes
    ``folder`` when the file has been sent.
    """
    fmt = ExportFormat.parse(fmt)
    info = FORMATS[fmt]
    geometry = _geometry(frame)
    if geometry is None and fmt is ExportFormat.KML:
        valid = ", ".join(f.value for f in ExportFormat if f is not ExportFormat.KML)
        raise UnknownValueError(
            f"layer {layer!r} has no geometry and KML needs one; valid formats for it: {valid}"
        )
    source_crs = None
    if geometry is not None:
        if geometry.crs is None:
            raise CrsError(
                f"layer {layer!r} has no coordinate reference system; "
                "set the layer's CRS in QGIS before exporting it"
            )
        source_crs = resolve_crs(geometry.crs)
    label = export_crs_label(crs, fmt=fmt, area_crs=source_crs)
    target = _resolve_export_crs(crs, source_crs)
    name = _slug(layer, default="layer")
    filename = export_filename(layer, fmt, basename=basename,
                               crs_label=label if geometry is not None else None)

    attributes = frame.drop(columns=[geometry.name]) if geometry is not None else frame
    attributes = attributes.reset_index(drop=True)
    if fmt is ExportFormat.SHAPEFILE:
        attributes = attributes.rename(columns=shapefile_field_names(attributes.columns))
    table = _arrow_table(
        attributes,
        dates_as_text=fmt in (ExportFormat.CSV, ExportFormat.KML),
        booleans_as_integers=fmt is ExportFormat.SHAPEFILE,
    )
    if fmt is ExportFormat.KML and "name" not in table.column_names:
        ids = table.column(_id_field(table, layer)).cast(pa.string())
        table = table.add_column(0, "Name", ids)  # GDAL's default name field
    geometry_type = None
    rows: pa.Table | pa.RecordBatchReader = table
    if geometry is not None:
        geoms = np.asarray(geometry.to_numpy(), dtype=object)
        geometry_type, promote = _layer_geometry_type(geoms, layer)
        rows = _with_geometry(table, geoms, source_crs, target, promote)

    spec = _Spec(
        layer=layer,
        name=name,
        geometry_type=geometry_type,
        crs_wkt=target.to_wkt() if geometry is not None else None,
    )
    return ExportFile(filename, info.media_type, _WRITERS[fmt](rows, folder, spec))


def _with_geometry(
    table: pa.Table, geoms: np.ndarray, source: Any, target: CRS, promote: int | None
) -> pa.RecordBatchReader:
    """The attribute table with its geometry as WKB, made :data:`CHUNK_ROWS` at a time."""
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


def export_filename(
    layer: str, fmt: ExportFormat | str, /, *, basename: str, crs_label: str | None = None
) -> str:
    """Return the file name of a download: ``<basename>_<layer>[_<wgs84|vn2000>].<ext>``.

    The system's label is left out for formats that are always WGS84 and for tables.

    Examples
    --------
    >>> export_filename("clusters", "gpkg", basename="Thái Bình", crs_label="vn2000")
    'thai_binh_clusters_vn2000.gpkg'
    """
    info = FORMATS[ExportFormat.parse(fmt)]
    parts = [_slug(basename, default="ccn"), _slug(layer, default="layer")]
    if crs_label and info.crs_choice:
        parts.append(crs_label)
    return f"{'_'.join(parts)}.{info.extension}"


def export_crs_label(crs: str, /, *, fmt: ExportFormat | str, area_crs: Any = None) -> str:
    """Return the filename label (``wgs84`` or ``vn2000``) of ``crs`` for format ``fmt``.

    Raises :class:`UnknownValueError` when ``fmt`` does not offer ``crs``, so an
    interface can check a request before doing any work.

    Parameters
    ----------
    crs
        The requested system (``"EPSG:4326"``, ``"EPSG:9209"``, ``"wgs84"``, ``"vn2000"``).
    fmt
        The download format.
    area_crs
        The layer's own (area) CRS. It is accepted as the plane-system option even when
        it is not VN-2000; its label is then ``epsg<code>`` (or ``local``).

    Examples
    --------
    >>> export_crs_label("EPSG:9209", fmt="gpkg")
    'vn2000'
    >>> export_crs_label("EPSG:4326", fmt="geojson")
    'wgs84'
    """
    fmt = ExportFormat.parse(fmt)
    area = resolve_crs(area_crs) if area_crs is not None else None
    target = _resolve_export_crs(crs, area)
    if target.equals(WGS84, ignore_axis_order=True):
        return "wgs84"
    title = _NAMES[fmt]
    if not FORMATS[fmt].crs_choice:
        raise UnknownValueError(
            f"{title} is always WGS84 (EPSG:4326), so {crs!r} cannot be used; "
            "valid values: EPSG:4326 (download a GeoPackage, Shapefile or CSV for VN-2000)"
        )
    if target.is_projected and _is_vn2000(target):
        return "vn2000"
    if area is not None and area.is_projected and target == area:
        code = area.to_epsg()
        return f"epsg{code}" if code is not None else "local"
    own = f", the layer's own {area.to_string()}" if area is not None and area.is_projected else ""
    raise UnknownValueError(
        f"{crs!r} is not offered for {title} downloads; valid values: EPSG:4326 (WGS84), "
        f"a VN-2000 plane system such as {DEFAULT_AREA_CRS} (TM-3 zones EPSG:9205–EPSG:9218)"
        f"{own}"
    )


def shapefile_field_names(columns: Iterable[str], /) -> dict[str, str]:
    """Return the Shapefile field name of every column, unique and at most 10 characters.

    Names in :data:`SHAPEFILE_FIELD_NAMES` take their short form; other long names are
    cut to 10 characters, and a clash (dBASE ignores case) ends in ``_1``, ``_2``, …

    Examples
    --------
    >>> shapefile_field_names(["cluster_id", "lease_status", "a_very_long_name"])
    {'cluster_id': 'cluster_id', 'lease_status': 'lease_stat', 'a_very_long_name': 'a_very_lon'}
    """
    names: dict[str, str] = {}
    used: set[str] = set()
    for column in columns:
        short = SHAPEFILE_FIELD_NAMES.get(column, column[:SHAPEFILE_NAME_LENGTH])
        candidate, n = short, 0
        while candidate.lower() in used:
            n += 1
            suffix = f"_{n}"
            candidate = short[: SHAPEFILE_NAME_LENGTH - len(suffix)] + suffix
        used.add(candidate.lower())
        names[column] = candidate
    return names


def read_style(layer: str, /) -> str | None:
    """Return the QGIS style (QML) shipped for ``layer``, or None when there is none.

    Examples
    --------
    >>> "Đang hoạt động" in read_style("clusters")
    True
    """
    resource = resources.files("ccn_gis.styles").joinpath(f"{layer}.qml")
    if not resource.is_file():
        return None
    return resource.read_text(encoding="utf-8")


# -- preparing the data ---------------------------------------------------------------


def _geometry(frame: pd.DataFrame) -> Any:
    """Return the frame's active geometry column, or None for a plain table."""
    try:
        return frame.geometry  # a GeoDataFrame with an active geometry column
    except AttributeError:
        return None


def _resolve_export_crs(crs: Any, area: CRS | None) -> CRS:
    text = crs.strip().lower() if isinstance(crs, str) else None
    if text == "vn2000":
        return area if area is not None and _is_vn2000(area) else resolve_crs(DEFAULT_AREA_CRS)
    return resolve_crs(_CRS_ALIASES.get(text or "", crs))


def _is_vn2000(crs: CRS) -> bool:
    """Whether ``crs`` is based on the VN-2000 datum (EPSG:4756 or a .prj naming it)."""
    datum = crs.datum.name if crs.datum is not None else ""
    key = re.sub(r"[^a-z0-9]", "", datum.lower())
    return "vietnam2000" in key or "vn2000" in key


def _slug(text: str, *, default: str) -> str:
    """Return ``text`` as a lower-case ASCII name for files ("Thái Bình" → thai_binh)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    return slug or default


def _arrow_table(
    frame: pd.DataFrame, *, dates_as_text: bool, booleans_as_integers: bool
) -> pa.Table:
    """Return ``frame`` as an Arrow table whose types GDAL maps to the right fields.

    Dates (datetimes at midnight) become Arrow dates, which GDAL writes as DATE fields;
    ``dates_as_text`` writes them as ``YYYY-MM-DD`` text instead (CSV, KML), because
    GDAL would write ``YYYY/MM/DD`` there. ``booleans_as_integers`` writes 1/0 instead
    of dBASE logical fields, which older GDAL and ArcGIS read as one-letter text.
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


def _layer_geometry_type(geoms: np.ndarray, layer: str) -> tuple[str, int | None]:
    """Return the layer's geometry type and the type id of the single parts to promote
    to it (a key of :data:`_PROMOTIONS`), or None.

    GeoPackage and Shapefile want one type per layer: polygons and multipolygons make a
    MultiPolygon layer, likewise lines and points mixed with their multi-part kind.
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


def _promoted(geoms: np.ndarray, single: int) -> np.ndarray:
    """Parts of type id ``single`` wrapped in their multi-part class; the rest as they are."""
    cls = _PROMOTIONS[single][2]
    promoted = np.array(geoms, dtype=object)
    for i in np.flatnonzero(shapely.get_type_id(geoms) == single):
        promoted[i] = cls([geoms[i]])
    return promoted


# -- writing --------------------------------------------------------------------------


_Rows: TypeAlias = pa.Table | pa.RecordBatchReader
"""What the writers hand to GDAL: a whole table, or a stream of batches."""


@dataclass(frozen=True)
class _Spec:
    """What every writer needs beside the table."""

    layer: str
    name: str
    geometry_type: str | None
    crs_wkt: str | None

    def geometry_args(self) -> dict[str, Any]:
        if self.geometry_type is None:
            return {}
        return {
            "geometry_name": "geometry",
            "geometry_type": self.geometry_type,
            "crs": self.crs_wkt,
        }


def _write_geojson(table: _Rows, tmp: Path, spec: _Spec) -> Path:
    path = tmp / f"{spec.name}.geojson"
    with warnings.catch_warnings():  # a table has no SRS, and RFC 7946 needs none
        warnings.filterwarnings("ignore", "No SRS set on layer", RuntimeWarning)
        pyogrio.write_arrow(
            table,
            path,
            layer=spec.layer,
            driver="GeoJSON",
            layer_options={"RFC7946": "YES"},
            **spec.geometry_args(),
        )
    return path


def _write_gpkg(table: _Rows, tmp: Path, spec: _Spec) -> Path:
    path = tmp / f"{spec.name}.gpkg"
    options = {"GEOMETRY_NAME": GEOMETRY_COLUMN}
    collection = COLLECTIONS.get(spec.layer)
    if collection is not None:
        options |= {"IDENTIFIER": collection.title_vi, "DESCRIPTION": collection.title_en}
    pyogrio.write_arrow(
        table,
        path,
        layer=spec.layer,
        driver="GPKG",
        dataset_options={"VERSION": _GPKG_VERSION},
        layer_options=options,
        **spec.geometry_args(),
    )
    style = read_style(spec.layer) if spec.geometry_type is not None else None
    if style is not None:
        _write_style(path, layer=spec.layer, qml=style)
    return path


def _write_style(path: Path, *, layer: str, qml: str) -> None:
    """Add QGIS's ``layer_styles`` table holding ``qml`` as the layer's default style.

    The table has the columns and types QGIS creates (``QgsOgrUtils::saveStyle``); QGIS
    loads the row with ``useAsDefault`` of the layer's table and geometry column.
    """
    row = {
        "f_table_catalog": pa.array([""]),
        "f_table_schema": pa.array([""]),
        "f_table_name": pa.array([layer]),
        "f_geometry_column": pa.array([GEOMETRY_COLUMN]),
        "styleName": pa.array([layer]),
        "styleQML": pa.array([qml]),
        "styleSLD": pa.array([""]),
        "useAsDefault": pa.array([True]),
        "description": pa.array(["ccn-gis"]),
        "owner": pa.array([""]),
        "ui": pa.array([None], pa.string()),
        "update_time": pa.array(
            [dt.datetime.now(dt.timezone.utc).replace(microsecond=0)], pa.timestamp("s", tz="UTC")
        ),
    }
    pyogrio.write_arrow(
        pa.table(row), path, layer=_STYLE_TABLE, driver="GPKG", layer_options={"FID": "id"}
    )


def _write_shapefile(table: _Rows, tmp: Path, spec: _Spec) -> Path:
    folder = tmp / "shp"
    folder.mkdir()
    suffix = "shp" if spec.geometry_type is not None else "dbf"
    pyogrio.write_arrow(
        table,
        folder / f"{spec.name}.{suffix}",
        layer=spec.name,
        driver="ESRI Shapefile",
        layer_options={"ENCODING": "UTF-8"},
        **spec.geometry_args(),
    )
    archive = tmp / f"{spec.name}.shp.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for part in _SHAPEFILE_PARTS:
            file = folder / f"{spec.name}.{part}"
            if file.exists():
                zipped.write(file, arcname=file.name)
    return archive


def _write_kml(table: _Rows, tmp: Path, spec: _Spec) -> Path:
    """Write placemarks named by ``name``, else by the layer's id (kept in ExtendedData)."""
    path = tmp / f"{spec.name}.kml"  # write_export has added a Name column if needed
    pyogrio.write_arrow(table, path, layer=spec.layer, driver="KML", **spec.geometry_args())
    return path


def _id_field(table: pa.Table, layer: str) -> str:
    """Return the layer's id field, else its first attribute."""
    collection = COLLECTIONS.get(layer)
    if collection is not None and collection.id_field in table.column_names:
        return collection.id_field
    return table.column_names[0]


def _write_csv(table: _Rows, tmp: Path, spec: _Spec) -> Path:
    path = tmp / f"{spec.name}.csv"
    options = {"WRITE_BOM": "YES", "LINEFORMAT": "CRLF"}
    if spec.geometry_type is not None:
        options["GEOMETRY"] = "AS_WKT"
    pyogrio.write_arrow(
        table, path, layer=spec.name, driver="CSV", layer_options=options, **spec.geometry_args()
    )
    return path


_WRITERS: dict[ExportFormat, Callable[[_Rows, Path, _Spec], Path]] = {
    ExportFormat.GEOJSON: _write_geojson,
    ExportFormat.GPKG: _write_gpkg,
    ExportFormat.SHAPEFILE: _write_shapefile,
    ExportFormat.KML: _write_kml,
    ExportFormat.CSV: _write_csv,
}
