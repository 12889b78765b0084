"""The download formats: their vocabulary, what a client needs to know, and the names.

:class:`ExportFormat` closes the set of formats and :data:`FORMATS` says, for each, its
media type, file extension, titles and whether a VN-2000 plane system may be asked for.
A download is named ``<basename>_<layer>[_<wgs84|vn2000>].<ext>``
(:func:`export_filename`, :func:`export_crs_label`); a Shapefile's fields take names of
at most 10 characters (:func:`shapefile_field_names`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pyproj import CRS

from ccn_gis.crs import DEFAULT_AREA_CRS, WGS84, resolve_crs
from ccn_gis.errors import UnknownValueError


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

_CRS_ALIASES = {"wgs84": "EPSG:4326"}
_NAMES = {
    ExportFormat.GEOJSON: "GeoJSON",
    ExportFormat.GPKG: "GeoPackage",
    ExportFormat.SHAPEFILE: "Shapefile",
    ExportFormat.KML: "KML",
    ExportFormat.CSV: "CSV",
}


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
    parts = [slug(basename, default="ccn"), slug(layer, default="layer")]
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
    target = resolve_export_crs(crs, area)
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


def resolve_export_crs(crs: Any, area: CRS | None) -> CRS:
    """Return the system a download is written in: ``crs``, or for the label ``vn2000`` the
    layer's own VN-2000 system (``area``), else :data:`~ccn_gis.crs.DEFAULT_AREA_CRS`.

    Examples
    --------
    >>> resolve_export_crs("wgs84", None).to_epsg()
    4326
    >>> resolve_export_crs("vn2000", resolve_crs("EPSG:9210")).to_epsg()
    9210
    """
    text = crs.strip().lower() if isinstance(crs, str) else None
    if text == "vn2000":
        return area if area is not None and _is_vn2000(area) else resolve_crs(DEFAULT_AREA_CRS)
    return resolve_crs(_CRS_ALIASES.get(text or "", crs))


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


def slug(text: str, *, default: str) -> str:
    """Return ``text`` as a lower-case ASCII name for files, or ``default`` when none is left.

    Examples
    --------
    >>> slug("Thái Bình", default="ccn")
    'thai_binh'
    >>> slug("Đông Hưng", default="ccn"), slug("…", default="ccn")
    ('dong_hung', 'ccn')
    """
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    return name or default


def _is_vn2000(crs: CRS) -> bool:
    """Whether ``crs`` is based on the VN-2000 datum (EPSG:4756 or a .prj naming it)."""
    datum = crs.datum.name if crs.datum is not None else ""
    key = re.sub(r"[^a-z0-9]", "", datum.lower())
    return "vietnam2000" in key or "vn2000" in key
