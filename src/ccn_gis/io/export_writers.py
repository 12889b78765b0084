"""One writer per download format: GDAL (through pyogrio) writes the rows into a folder.

Each writer takes the rows (:data:`~ccn_gis.io.export_rows.Rows`), an empty folder and
a :class:`WriteSpec`, and returns the path of the file to hand over (:data:`WRITERS`).
A GeoPackage carries the layer's QGIS default style (``layer_styles`` table) so that it
opens coloured; a Shapefile is zipped with its ``.shx``, ``.dbf``, ``.prj`` and ``.cpg``.
"""

from __future__ import annotations

import datetime as dt
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyogrio

from ccn_gis import styles
from ccn_gis.io.export_formats import ExportFormat
from ccn_gis.io.export_rows import Rows
from ccn_gis.publish import COLLECTIONS

GEOMETRY_COLUMN = "geom"
"""The geometry column of a written GeoPackage (GDAL's default, named explicitly)."""

_GPKG_VERSION = "1.2"  # read without warnings by GDAL 3.x, QGIS 3.x and ArcGIS
_STYLE_TABLE = "layer_styles"
_SHAPEFILE_PARTS = ("shp", "shx", "dbf", "prj", "cpg")


@dataclass(frozen=True)
class WriteSpec:
    """What every writer needs beside the rows: the layer, its file name and geometry.

    ``name`` is the layer's name made safe for files; ``geometry_type`` (a GDAL name
    such as ``MultiPolygon``) and ``crs_wkt`` are None for a table without geometry.
    """

    layer: str
    name: str
    geometry_type: str | None
    crs_wkt: str | None

    def geometry_args(self) -> dict[str, Any]:
        """The geometry arguments of :func:`pyogrio.write_arrow` (none for a table)."""
        if self.geometry_type is None:
            return {}
        return {
            "geometry_name": "geometry",
            "geometry_type": self.geometry_type,
            "crs": self.crs_wkt,
        }


def read_style(layer: str, /) -> str | None:
    """Return the QGIS style (QML) of ``layer``, or None when there is none.

    Its category labels are the catalogue's, in Vietnamese (:func:`ccn_gis.styles.qml`).

    Examples
    --------
    >>> "Đang hoạt động" in read_style("clusters")
    True
    """
    return styles.qml(layer)


def _write_geojson(table: Rows, tmp: Path, spec: WriteSpec) -> Path:
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


def _write_gpkg(table: Rows, tmp: Path, spec: WriteSpec) -> Path:
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


def _write_shapefile(table: Rows, tmp: Path, spec: WriteSpec) -> Path:
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


def _write_kml(table: Rows, tmp: Path, spec: WriteSpec) -> Path:
    """Write placemarks named by ``name``, else by the layer's id (kept in ExtendedData)."""
    path = tmp / f"{spec.name}.kml"  # write_export has added a Name column if needed
    pyogrio.write_arrow(table, path, layer=spec.layer, driver="KML", **spec.geometry_args())
    return path


def _write_csv(table: Rows, tmp: Path, spec: WriteSpec) -> Path:
    path = tmp / f"{spec.name}.csv"
    options = {"WRITE_BOM": "YES", "LINEFORMAT": "CRLF"}
    if spec.geometry_type is not None:
        options["GEOMETRY"] = "AS_WKT"
    pyogrio.write_arrow(
        table, path, layer=spec.name, driver="CSV", layer_options=options, **spec.geometry_args()
    )
    return path


WRITERS: dict[ExportFormat, Callable[[Rows, Path, WriteSpec], Path]] = {
    ExportFormat.GEOJSON: _write_geojson,
    ExportFormat.GPKG: _write_gpkg,
    ExportFormat.SHAPEFILE: _write_shapefile,
    ExportFormat.KML: _write_kml,
    ExportFormat.CSV: _write_csv,
}
"""The writer of each format."""
