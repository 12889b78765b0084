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
streams it from there). Geometries are reprojected and encoded
:data:`~ccn_gis.io.export_rows.CHUNK_ROWS` rows at a time and handed to GDAL as an Arrow
stream, so a layer of 500,000 parcels never exists twice in memory.
``docs/downloads.md`` describes the formats for users.

The parts live beside this module: the formats and the names of files and fields in
:mod:`ccn_gis.io.export_formats`, the rows as GDAL takes them in
:mod:`ccn_gis.io.export_rows`, one writer per format in :mod:`ccn_gis.io.export_writers`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ccn_gis.crs import resolve_crs
from ccn_gis.errors import CrsError, UnknownValueError
from ccn_gis.io.export_formats import (
    EXPORT_CRSS,
    FORMATS,
    SHAPEFILE_FIELD_NAMES,
    SHAPEFILE_NAME_LENGTH,
    ExportFormat,
    FormatInfo,
    export_crs_label,
    export_filename,
    resolve_export_crs,
    shapefile_field_names,
    slug,
)
from ccn_gis.io.export_rows import Rows, arrow_table, layer_geometry_type, with_geometry
from ccn_gis.io.export_writers import GEOMETRY_COLUMN, WRITERS, WriteSpec, read_style
from ccn_gis.publish import COLLECTIONS

__all__ = [
    "EXPORT_CRSS",
    "FORMATS",
    "GEOMETRY_COLUMN",
    "SHAPEFILE_FIELD_NAMES",
    "SHAPEFILE_NAME_LENGTH",
    "Export",
    "ExportFile",
    "ExportFormat",
    "FormatInfo",
    "export_crs_label",
    "export_filename",
    "export_layer",
    "read_style",
    "shapefile_field_names",
    "write_export",
]


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
    target = resolve_export_crs(crs, source_crs)
    name = slug(layer, default="layer")
    filename = export_filename(layer, fmt, basename=basename,
                               crs_label=label if geometry is not None else None)

    attributes = frame.drop(columns=[geometry.name]) if geometry is not None else frame
    attributes = attributes.reset_index(drop=True)
    if fmt is ExportFormat.SHAPEFILE:
        attributes = attributes.rename(columns=shapefile_field_names(attributes.columns))
    table = arrow_table(
        attributes,
        dates_as_text=fmt in (ExportFormat.CSV, ExportFormat.KML),
        booleans_as_integers=fmt is ExportFormat.SHAPEFILE,
    )
    if fmt is ExportFormat.KML and "name" not in table.column_names:
        ids = table.column(_id_field(table, layer)).cast(pa.string())
        table = table.add_column(0, "Name", ids)  # GDAL's default name field
    geometry_type = None
    rows: Rows = table
    if geometry is not None:
        geoms = np.asarray(geometry.to_numpy(), dtype=object)
        geometry_type, promote = layer_geometry_type(geoms, layer)
        rows = with_geometry(table, geoms, source_crs, target, promote)

    spec = WriteSpec(
        layer=layer,
        name=name,
        geometry_type=geometry_type,
        crs_wkt=target.to_wkt() if geometry is not None else None,
    )
    return ExportFile(filename, info.media_type, WRITERS[fmt](rows, folder, spec))


def _geometry(frame: pd.DataFrame) -> Any:
    """Return the frame's active geometry column, or None for a plain table."""
    try:
        return frame.geometry  # a GeoDataFrame with an active geometry column
    except AttributeError:
        return None


def _id_field(table: pa.Table, layer: str) -> str:
    """Return the layer's id field, else its first attribute (a KML placemark's name)."""
    collection = COLLECTIONS.get(layer)
    if collection is not None and collection.id_field in table.column_names:
        return collection.id_field
    return table.column_names[0]
