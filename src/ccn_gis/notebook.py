"""What the notebooks read and how they draw it: one place for both.

A notebook reads every layer and figure through these functions, so it runs the same
way against a running ``ccn-gis serve`` (``api_url``: GeoJSON pages and ``/stats``,
fetched as any client would) and, without a server, against the layers file through
the library (``layers``). Layers come back as GeoDataFrames in WGS84 with the same
columns either way: the stored fields and the computed ones of
:func:`ccn_gis.publish.layer_view`, dates as datetimes, the geometry last.

Only the standard library (``urllib``) and geopandas are used for HTTP; this module
imports neither FastAPI nor leafmap. The colours and Vietnamese labels of the maps
(:data:`STAGE_STYLES`, :data:`LEASE_STYLES`, :data:`EXTENT_STYLES`) and the figures
tables (:func:`figures_table`, :func:`scoped_table`) are defined here too.

Land use (:func:`read_landuse`, :func:`read_landuse_classes`) is read the same two ways:
``/landuse`` and ``/landuse/classes`` of the API, or the province's raster and plan
through :func:`ccn_gis.io.landuse.landuse_table`. :func:`add_landuse` puts the raster on
a map: the app's tiles, or without a server one PNG rendered here with rasterio.

Scenarios for the 2030 plan (:func:`read_scenario_result`, :func:`read_scenario_clusters`)
come from ``/scenarios/{id}`` and ``/scenarios/{id}/clusters``, or from a scenario file
checked through the library as ``ccn-gis scenario check`` does it; the tables and series
of the comparison (:func:`findings_table`, :func:`scenario_years`,
:func:`scenario_comparison`…) are computed from that JSON, the same either way.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely.geometry
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.transform import array_bounds
from rasterio.warp import calculate_default_transform, reproject
from rasterio.warp import transform as warp_transform

from ccn_gis.crs import WGS84, transform_geometries
from ccn_gis.dataset import Dataset
from ccn_gis.errors import CcnGisError, DataSourceError
from ccn_gis.figures import figures_json
from ccn_gis.io import load_dataset, open_store
from ccn_gis.io.landuse import default_raster_path, land_use_measure, landuse_table
from ccn_gis.io.raster import LandUseRaster
from ccn_gis.io.scenario_file import load_yaml, read_scenario
from ccn_gis.landuse import LandUseError
from ccn_gis.model import LAYERS, FieldType
from ccn_gis.occupancy import rates
from ccn_gis.projection import project
from ccn_gis.publish import COLLECTIONS, layer_view
from ccn_gis.report import (
    LABELS,
    SHORT_HEADERS,
    format_date,
    format_number,
    format_rate,
    label,
)
from ccn_gis.scenario import Scenario
from ccn_gis.scenario_check import check_scenario
from ccn_gis.scenario_report import TEXT as SCENARIO_TEXT
from ccn_gis.settings import AppSettings, Lang, rule_settings

WEB_MERCATOR = "EPSG:3857"
TILE_MAX_ZOOM = 20
"""The deepest zoom of the API's land-use tiles; the map enlarges them beyond."""

PAGE_SIZE = 10_000
"""Features per request: the API's maximum ``limit``."""

TIMEOUT_S = 60.0


class NotFoundError(CcnGisError, KeyError):
    """No such layer, feature or cluster (an HTTP 404 from the API)."""

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0]) if self.args else ""


class QueryError(CcnGisError, ValueError):
    """A request the API refuses (HTTP 400): an unknown field, a malformed value."""


# ---------------------------------------------------------------------- styles


@dataclass(frozen=True)
class Style:
    """How one category is drawn: its Vietnamese label and its colour."""

    label: str
    colour: str

    def leaflet(self, *, fill_opacity: float = 0.6, weight: float = 1.0) -> dict[str, Any]:
        """Return the Leaflet path style (``leafmap.Map.add_gdf(style=…)``)."""
        return {"color": self.colour, "weight": weight, "fillColor": self.colour,
                "fillOpacity": fill_opacity}


STAGE_STYLES: dict[str, Style] = {
    "planned": Style("Trong quy hoạch, chưa thành lập", "#bdbdbd"),
    "established": Style("Đã thành lập", "#fdae61"),
    "detailed_plan": Style("Đã quy hoạch chi tiết", "#4a90d9"),
    "operating": Style("Đã đi vào hoạt động", "#1a9850"),
}
"""A cluster's ``stage`` (:data:`ccn_gis.publish.STAGES`, in order) on maps."""

LEASE_STYLES: dict[str, Style] = {
    "leased": Style("Đã cho thuê", "#d73027"),
    "vacant": Style("Đất công nghiệp còn trống", "#fee08b"),
    "not_for_lease": Style("Không cho thuê (hạ tầng, cây xanh, mặt nước…)", "#d9d9d9"),
}
"""A parcel's ``lease_status`` (:data:`ccn_gis.publish.LEASE_STATUSES`) on maps."""

EXTENT_STYLES: dict[str, Style] = {
    "establishment": Style("Thành lập", "#fdae61"),
    "detailed_plan": Style("Quy hoạch chi tiết", "#4a90d9"),
}
"""An approved extent's ``stage`` on maps."""

OUTLINE = Style("Đơn vị hành chính", "#444444")
"""Administrative units: outlines only."""

PROJECT_COLUMNS: dict[str, str] = {
    "project_id": "Mã dự án",
    "name": "Tên dự án",
    "investor": "Nhà đầu tư",
    "sector": "Ngành nghề",
    "registered_on": "Ngày đăng ký",
    "status": "Tình trạng",
    "registered_capital_bn_vnd": "Vốn đăng ký (tỷ đồng)",
    "implemented_capital_bn_vnd": "Vốn thực hiện (tỷ đồng)",
    "registered_workers": "Lao động đăng ký",
    "workers": "Lao động",
}
"""The columns of the projects table and their Vietnamese headers."""


def legend(styles: Mapping[str, Style], /) -> dict[str, str]:
    """Return ``{label: colour}``, the ``legend_dict`` of ``leafmap.Map.add_legend``.

    Examples
    --------
    >>> legend(LEASE_STYLES)["Đã cho thuê"]
    '#d73027'
    """
    return {style.label: style.colour for style in styles.values()}


def add_by_category(
    map_: Any, frame: gpd.GeoDataFrame, /, *, column: str, styles: Mapping[str, Style],
    title: str, fill_opacity: float = 0.6, weight: float = 1.0,
    legend_position: str = "bottomright",
) -> list[str]:
    """Add ``frame`` to a leafmap map as one layer per value of ``column``, with a legend.

    Each layer is named ``"{title} – {label}"`` and drawn in its style's colour, in
    the order of ``styles``, so each category can be switched on and off; empty
    categories are left out. ``map_`` is a ``leafmap.Map`` (this module does not
    import leafmap). Returns the names of the layers added.

    Raises
    ------
    ValueError
        When ``column`` holds a value that ``styles`` does not draw.
    """
    unknown = sorted(set(frame[column].dropna().astype(str)) - set(styles))
    if unknown:
        raise ValueError(f"{column}: no style for {', '.join(unknown)}; styles: "
                         f"{', '.join(styles)}")
    names = []
    for value, style in styles.items():
        part = frame[(frame[column] == value).to_numpy()]
        if len(part):
            name = f"{title} – {style.label}"
            map_.add_gdf(part, layer_name=name,
                         style=style.leaflet(fill_opacity=fill_opacity, weight=weight))
            names.append(name)
    if names:
        map_.add_legend(title=title, legend_dict=legend(styles), position=legend_position)
    return names


# ---------------------------------------------------------------------- layers


def read_layer(
    name: str, /, *, api_url: str | None = None, layers: str | Path | None = None,
    where: Mapping[str, Any] | None = None, page_size: int = PAGE_SIZE,
) -> gpd.GeoDataFrame:
    """Return layer ``name`` with its computed attributes, in WGS84 (EPSG:4326).

    With ``api_url`` the features come from ``{api_url}/collections/{name}/items``,
    page after page following the ``next`` links; otherwise from the GeoPackage
    ``layers`` (default ``$CCN_GIS_LAYERS``, else ``layers/thai_binh.gpkg``) through
    :func:`ccn_gis.publish.layer_view`. ``where`` keeps the features whose fields
    equal the values given (``{"cluster_id": "TB-06"}``), like the API's field
    filters. A table (``projects``) has an empty geometry column.

    Raises
    ------
    NotFoundError
        When ``name`` is not a published layer.
    QueryError
        When ``where`` names a field the layer does not have.
    DataSourceError
        When the API cannot be reached or the file cannot be read.

    Examples
    --------
    >>> parcels = read_layer("parcels", layers="layers/thai_binh.gpkg",
    ...                      where={"cluster_id": "TB-06"})  # doctest: +SKIP
    >>> parcels["lease_status"].value_counts()  # doctest: +SKIP
    """
    where = dict(where or {})
    if api_url:
        frame = _features_frame(_read_features(api_url, name, where, page_size), api_url, name)
    else:
        frame = _view_frame(_dataset(layers), name, where)
    for field in LAYERS[name].fields if name in LAYERS else ():
        if field.type is FieldType.DATE and field.name in frame.columns:
            frame[field.name] = pd.to_datetime(frame[field.name])
    return frame


def _view_frame(dataset: Dataset, name: str, where: Mapping[str, Any]) -> gpd.GeoDataFrame:
    try:
        view = layer_view(dataset, name)
    except KeyError as err:
        raise NotFoundError(
            f"no layer {name!r}; layers: {', '.join(COLLECTIONS)}") from err
    for key, value in where.items():
        if key not in view.columns:
            raise QueryError(f"{name} has no field {key!r}; fields: {', '.join(view.columns)}")
        view = view[(view[key] == value).to_numpy()]
    view = view.reset_index(drop=True)
    attributes = pd.DataFrame(view.drop(columns="geometry", errors="ignore"))
    if "geometry" in view.columns:
        geoms = np.asarray(view.geometry.array, dtype=object)
        lonlat = transform_geometries(geoms, dataset.settings.area_crs, WGS84)
    else:
        lonlat = np.full(len(view), None, dtype=object)
    return gpd.GeoDataFrame(attributes, geometry=gpd.GeoSeries(lonlat, crs=WGS84))


def _read_features(
    api_url: str, name: str, where: Mapping[str, Any], page_size: int
) -> list[dict[str, Any]]:
    params = {"limit": page_size, **{k: _query_value(v) for k, v in where.items()}}
    url: str | None = _api(api_url, f"/collections/{urllib.parse.quote(name)}/items", **params)
    features: list[dict[str, Any]] = []
    matched = None
    while url:
        page = _get_json(url)
        features += page["features"]
        matched = page.get("numberMatched", matched)
        url = next((link["href"] for link in page.get("links", [])
                    if link.get("rel") == "next"), None)
    if matched is not None and len(features) != matched:
        raise DataSourceError(
            f"{api_url}: {name} announced {matched} features but {len(features)} arrived; "
            "the layers may have changed while reading, read again")
    return features


def _features_frame(
    features: list[dict[str, Any]], api_url: str, name: str
) -> gpd.GeoDataFrame:
    if features:
        columns = list(features[0]["properties"])
    else:  # nothing matched: learn the columns from any feature of the layer
        any_feature = _get_json(
            _api(api_url, f"/collections/{urllib.parse.quote(name)}/items", limit=1))
        columns = [c for f in any_feature["features"][:1] for c in f["properties"]]
    attributes = pd.DataFrame.from_records([f["properties"] for f in features],
                                           columns=columns)
    geoms = [shapely.geometry.shape(f["geometry"]) if f.get("geometry") else None
             for f in features]
    return gpd.GeoDataFrame(attributes, geometry=gpd.GeoSeries(geoms, crs=WGS84))


# --------------------------------------------------------------------- figures

By = Literal["admin", "cluster"]


def read_figures(
    *, api_url: str | None = None, layers: str | Path | None = None,
    as_of: dt.date | None = None,
) -> dict[str, Any]:
    """Return the province's figures as of ``as_of``: the JSON of ``ccn-gis stats --json``.

    From ``{api_url}/stats`` with ``api_url``, else computed from ``layers``.

    Examples
    --------
    >>> read_figures(layers="layers/thai_binh.gpkg")["planned"]["count"]  # doctest: +SKIP
    66
    """
    if api_url:
        return dict(_get_json(_stats_url(api_url, as_of, "province")))
    return cast(dict[str, Any], figures_json(_dataset(layers), as_of=as_of, by="province"))


def read_figures_by(
    by: By, /, *, api_url: str | None = None, layers: str | Path | None = None,
    as_of: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Return the figures per administrative unit (``"admin"``) or per cluster.

    The JSON of ``ccn-gis stats --by admin|cluster --json``: one object per unit or
    cluster, with its code and name.
    """
    if by not in ("admin", "cluster"):
        raise QueryError(f"by={by!r}: use 'admin' or 'cluster'")
    if api_url:
        return list(_get_json(_stats_url(api_url, as_of, by)))
    return cast(list[dict[str, Any]], figures_json(_dataset(layers), as_of=as_of, by=by))


def read_cluster_figures(
    cluster_id: str, /, *, api_url: str | None = None, layers: str | Path | None = None,
) -> dict[str, Any]:
    """Return one cluster's figures (all records counted).

    From the feature ``{api_url}/collections/clusters/items/{cluster_id}`` (its
    ``properties.figures``) with ``api_url``, else computed from ``layers``.

    Raises
    ------
    NotFoundError
        When the plan has no cluster ``cluster_id``.
    """
    if api_url:
        path = f"/collections/clusters/items/{urllib.parse.quote(cluster_id)}"
        return dict(_get_json(_api(api_url, path))["properties"]["figures"])
    for item in read_figures_by("cluster", layers=layers):
        if item["cluster_id"] == cluster_id:
            return item
    raise NotFoundError(f"no cluster {cluster_id!r} in the plan")


def read_timeline(
    dates: Iterable[dt.date], /, *, api_url: str | None = None,
    layers: str | Path | None = None,
) -> pd.DataFrame:
    """Return the province's main figures as of each date, one row per date.

    Columns: ``established``, ``detailed_plan``, ``operating`` (counts) and their
    ``…_ha``, ``industrial_ha``, ``leased_ha``, ``occupancy`` (a fraction, NaN when
    there is no industrial land yet) and ``projects``.

    Examples
    --------
    >>> years = [dt.date(y, 12, 31) for y in range(2012, 2025)]
    >>> read_timeline(years, layers="layers/thai_binh.gpkg")["occupancy"]  # doctest: +SKIP
    """
    rows = []
    for day in dates:
        f = read_figures(api_url=api_url, layers=layers, as_of=day)
        row: dict[str, Any] = {"as_of": pd.Timestamp(day)}
        for stage in ("established", "detailed_plan", "operating"):
            row[stage] = f[stage]["count"]
            row[f"{stage}_ha"] = f[stage]["area_ha"]
        row["industrial_ha"] = f["industrial_ha"]
        row["leased_ha"] = f["leased_ha"]
        row["occupancy"] = np.nan if f["occupancy"] is None else f["occupancy"]
        row["projects"] = f["projects"]["count"]
        rows.append(row)
    return pd.DataFrame(rows).set_index("as_of")


# ---------------------------------------------------------------------- tables

_SHORT = SHORT_HEADERS["vi"]


def figures_table(figures: Mapping[str, Any], /) -> pd.DataFrame:
    """Return one scope's figures as the table of ``ccn-gis stats``, in Vietnamese.

    ``figures`` is the JSON of the province, a unit or a cluster (:func:`read_figures`,
    :func:`read_cluster_figures`). The index is the figure's label; the columns
    *Số lượng* and *Giá trị* hold text in Vietnamese number format.

    Examples
    --------
    >>> table = figures_table(read_figures(layers="layers/thai_binh.gpkg"))  # doctest: +SKIP
    >>> table.loc["CCN trong quy hoạch"].tolist()  # doctest: +SKIP
    ['66', '4.177,97']
    """
    def n(value: float | None, decimals: int = 2) -> str:
        return format_number(value, decimals)

    rows = [
        (label(k), str(figures[k]["count"]), n(figures[k]["area_ha"]))
        for k in ("planned", "established", "detailed_plan", "operating")
    ]
    rows += [
        (label("industrial_ha"), "", n(figures["industrial_ha"])),
        (label("leased_ha"), "", n(figures["leased_ha"])),
        (label("occupancy"), "", format_rate(figures["occupancy"])),
        (label("recovered_industrial_ha"), "", n(figures["recovered_industrial_ha"])),
        (label("occupancy_recovered"), "", format_rate(figures["occupancy_recovered"])),
    ]
    p = figures["projects"]
    rows += [(label("projects"), n(p["count"], 0), "")]
    rows += [(f"– {label(s).strip()}", n(c, 0), "") for s, c in p["by_status"].items()]
    rows += [
        (label("registered_capital"), "", n(p["registered_capital_bn_vnd"], 0)),
        (label("implemented_capital"), "", n(p["implemented_capital_bn_vnd"], 0)),
        (label("capital_realisation"), "", format_rate(p["capital_realisation"])),
        (label("registered_workers"), "", n(p["registered_workers"], 0)),
        (label("workers"), "", n(p["workers"], 0)),
    ]
    table = pd.DataFrame(rows, columns=[label("figure"), label("count"), label("value")])
    return table.set_index(label("figure"))


def scoped_table(items: Sequence[Mapping[str, Any]], /) -> pd.DataFrame:
    """Return one row per unit or cluster (:func:`read_figures_by`), in Vietnamese.

    The columns of ``ccn-gis stats --by admin|cluster``: code, name, planned area,
    established, detailed and operating clusters, industrial and leased land,
    occupancy and projects, as text in Vietnamese number format.
    """
    rows = []
    for item in items:
        rows.append({
            label("code"): item.get("cluster_id", item.get("admin_code")),
            label("name"): item["name"],
            _SHORT["planned_ha"]: format_number(item["planned"]["area_ha"]),
            _SHORT["established"]: str(item["established"]["count"]),
            _SHORT["established_ha"]: format_number(item["established"]["area_ha"]),
            _SHORT["detailed_plan"]: str(item["detailed_plan"]["count"]),
            _SHORT["detailed_plan_ha"]: format_number(item["detailed_plan"]["area_ha"]),
            _SHORT["operating"]: str(item["operating"]["count"]),
            _SHORT["industrial_ha"]: format_number(item["industrial_ha"]),
            _SHORT["leased_ha"]: format_number(item["leased_ha"]),
            _SHORT["occupancy"]: format_rate(item["occupancy"]),
            _SHORT["projects"]: format_number(item["projects"]["count"], 0),
        })
    columns = [label("code"), label("name"), *_SHORT.values()]
    return pd.DataFrame(rows, columns=columns).set_index(label("code"))


def projects_table(projects: pd.DataFrame, /) -> pd.DataFrame:
    """Return projects (:func:`read_layer` ``"projects"``) with Vietnamese headers and values.

    The columns of :data:`PROJECT_COLUMNS`, indexed by project id; the status in
    words, dates as ``31/12/2024`` and numbers in Vietnamese format.
    """
    table = pd.DataFrame(projects[list(PROJECT_COLUMNS)])
    table["status"] = [label(s).strip() if s in LABELS else s for s in table["status"]]
    table["registered_on"] = [None if pd.isna(d) else format_date(d.date())
                              for d in table["registered_on"]]
    for column, decimals in (("registered_capital_bn_vnd", 1),
                             ("implemented_capital_bn_vnd", 1),
                             ("registered_workers", 0), ("workers", 0)):
        table[column] = [None if pd.isna(v) else format_number(float(v), decimals)
                         for v in table[column]]
    return table.rename(columns=PROJECT_COLUMNS).set_index(PROJECT_COLUMNS["project_id"])


# -------------------------------------------------------------------- land use

LANDUSE_LAYER = "Sử dụng đất hiện trạng"
"""The name of the land-use layer on maps (:func:`add_landuse`)."""

LANDUSE_COLUMNS = ("zone_id", "class_code", "area_ha", "share")
CLASS_COLUMNS = ("value", "code", "name_vi", "name_en", "colour")

UNCOVERED_LABEL = label("uncovered")
"""The column of :func:`landuse_pivot` for land that no land-use data covers
(``class_code`` ``None``: outside the raster or plan, or on nodata cells)."""

UNCOVERED_COLOUR = "#ffffff"
UNKNOWN_COLOUR = "#999999"  # a code of the plan that the raster's class table lacks

RICE_CODES = ("LUC", "LUK")
"""Rice land: specialised rice land and other rice land."""

TOTAL = "Tổng"

LandUseSource = Literal["raster", "plan"]


def read_landuse(
    zones: str = "clusters", *, api_url: str | None = None,
    layers: str | Path | None = None, source: LandUseSource = "raster",
    raster: str | Path | None = None,
) -> pd.DataFrame:
    """Return the hectares of each land-use class in each zone, one row per zone and class.

    ``zones`` is ``clusters``, ``approved_extents`` or ``parcels``; ``source`` is the
    land-use raster or the vector plan (layer ``landuse_plan``). With ``api_url`` the
    rows come from ``{api_url}/landuse?zones=…&source=…`` (the server's raster);
    otherwise from ``layers`` through :func:`ccn_gis.io.landuse.landuse_table`, with
    the raster ``raster`` (default: the province's, beside the layers), as
    ``ccn-gis landuse --zones … [--plan-layer landuse_plan]`` computes them.

    Columns ``zone_id``, ``class_code`` (``None`` for the part that no land-use data
    covers), ``area_ha``, ``share`` (of the zone).

    Raises
    ------
    NotFoundError
        When the province has no raster (or no plan) on the server.
    ccn_gis.landuse.LandUseError
        When the file mode finds no raster or plan, or a malformed one.

    Examples
    --------
    >>> rows = read_landuse("clusters", layers="layers/thai_binh.gpkg")  # doctest: +SKIP
    >>> rows.groupby("class_code")["area_ha"].sum()["LUC"]  # doctest: +SKIP
    1328.25...
    """
    if source not in ("raster", "plan"):
        raise QueryError(f"source={source!r}: use 'raster' or 'plan'")
    if api_url:
        rows = _get_json(_api(api_url, "/landuse", zones=zones, source=source))
        frame = pd.DataFrame(rows, columns=list(LANDUSE_COLUMNS))
        frame["class_code"] = frame["class_code"].astype(object)
        frame["area_ha"] = frame["area_ha"].astype("float64")
        frame["share"] = frame["share"].astype("float64")
        return frame
    dataset = _dataset(layers)
    if source == "plan":
        return landuse_table(dataset, zones=zones, store=open_store(dataset.source))
    return landuse_table(dataset, zones=zones, raster=_landuse_raster(dataset, raster))


def read_landuse_classes(
    *, api_url: str | None = None, layers: str | Path | None = None,
    raster: str | Path | None = None,
) -> pd.DataFrame:
    """Return the land-use classes, the legend: ``value, code, name_vi, name_en, colour``.

    From ``{api_url}/landuse/classes``, else the class table beside the raster
    (``<raster>.classes.csv``), in its order. Empty when the province has no raster.
    """
    if api_url:
        rows = _get_json(_api(api_url, "/landuse/classes"))
    else:
        dataset = _dataset(layers)
        if raster is None and default_raster_path(dataset) is None:
            rows = []
        else:
            opened = LandUseRaster.open(_landuse_raster(dataset, raster))
            rows = [c.__dict__ for c in opened.table.classes]
    return pd.DataFrame(rows, columns=list(CLASS_COLUMNS))


def landuse_colours(classes: pd.DataFrame, /) -> dict[str, str]:
    """Return ``{code: colour}`` of the class table, and white for :data:`UNCOVERED_LABEL`."""
    return {**dict(zip(classes["code"], classes["colour"], strict=True)),
            UNCOVERED_LABEL: UNCOVERED_COLOUR}


def landuse_labels(classes: pd.DataFrame, /) -> dict[str, str]:
    """Return ``{code: "LUC – Đất chuyên trồng lúa"}``: a class as legends name it."""
    return {**{c: f"{c} – {n}" for c, n in zip(classes["code"], classes["name_vi"], strict=True)},
            UNCOVERED_LABEL: UNCOVERED_LABEL}


def landuse_legend(classes: pd.DataFrame, /) -> dict[str, str]:
    """Return ``{"LUC – Đất chuyên trồng lúa": colour, …}``, a ``leafmap`` ``legend_dict``.

    Examples
    --------
    >>> classes = pd.DataFrame({"value": [1], "code": ["LUC"], "name_vi": ["Đất chuyên trồng lúa"],
    ...                         "name_en": ["Rice"], "colour": ["#ffff64"]})
    >>> landuse_legend(classes)
    {'LUC – Đất chuyên trồng lúa': '#ffff64'}
    """
    labels = landuse_labels(classes)
    return {labels[code]: colour for code, colour in zip(classes["code"], classes["colour"],
                                                          strict=True)}


@dataclass(frozen=True)
class LandUseImage:
    """The land-use raster as one PNG in Web Mercator, for a map's image overlay."""

    url: str
    """``data:image/png;base64,…``: the map needs neither a file nor a server."""
    bounds: tuple[tuple[float, float], tuple[float, float]]
    """``((south, west), (north, east))`` in degrees, as Leaflet takes them."""
    width: int
    height: int


def landuse_image(
    *, layers: str | Path | None = None, raster: str | Path | None = None,
    max_size: int = 2048, alpha: int = 200,
) -> LandUseImage:
    """Render the land-use raster as a PNG in the class table's colours, in Web Mercator.

    The raster is reprojected (nearest neighbour, like the API's tiles) to EPSG:3857,
    the projection of the map, and scaled down so that its longer side has at most
    ``max_size`` pixels. Nodata and cells of no class are transparent; the classes
    are drawn with opacity ``alpha`` (0–255), so what lies under them shows through.
    """
    path = _landuse_raster(_dataset(layers), raster)
    table = LandUseRaster.open(path).table
    with rasterio.open(path) as src:
        transform, width, height = calculate_default_transform(
            src.crs, WEB_MERCATOR, src.width, src.height, *src.bounds)
        scale = max(width, height) / max_size
        if scale > 1:
            width, height = max(1, round(width / scale)), max(1, round(height / scale))
            transform, width, height = calculate_default_transform(
                src.crs, WEB_MERCATOR, src.width, src.height, *src.bounds,
                dst_width=width, dst_height=height)
        values = {c.value for c in table.classes}
        fill = int(src.nodata) if src.nodata is not None else _unused(values)
        data = np.full((height, width), fill, dtype=src.dtypes[0])
        reproject(source=rasterio.band(src, 1), destination=data, dst_transform=transform,
                  dst_crs=WEB_MERCATOR, resampling=Resampling.nearest, src_nodata=src.nodata,
                  dst_nodata=fill)
    rgba = np.zeros((4, height, width), dtype=np.uint8)
    for c in table.classes:
        if c.value == fill:
            continue
        cells = data == c.value
        for band, level in enumerate((*_rgb(c.colour), alpha)):
            rgba[band][cells] = level
    west, south, east, north = array_bounds(height, width, transform)
    lons, lats = warp_transform(WEB_MERCATOR, WGS84, [west, east], [south, north])
    png = _png(rgba)
    return LandUseImage(f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}",
                        ((lats[0], lons[0]), (lats[1], lons[1])), width, height)


def add_landuse(
    map_: Any, classes: pd.DataFrame, /, *, api_url: str | None = None,
    layers: str | Path | None = None, raster: str | Path | None = None,
    name: str = LANDUSE_LAYER, title: str = "Loại đất", legend_position: str = "bottomright",
) -> str:
    """Add the land-use raster to a leafmap map as layer ``name``, with the classes' legend.

    With ``api_url`` the layer is the app's XYZ tiles
    (``{api_url}/landuse/tiles/{z}/{x}/{y}.png``), loaded by the browser. Without, the
    raster of ``layers`` (or ``raster``) is drawn by :func:`landuse_image` into one PNG
    held by the map itself (an ``ipyleaflet.ImageOverlay`` with a ``data:`` URL): it
    needs neither localtileserver nor a network. ``classes`` is
    :func:`read_landuse_classes`. Returns the layer's name.
    """
    if api_url:
        url = f"{api_url.rstrip('/')}/landuse/tiles/{{z}}/{{x}}/{{y}}.png"
        map_.add_tile_layer(url=url, name=name, attribution="ccn-gis",
                            max_native_zoom=TILE_MAX_ZOOM)
    else:
        import ipyleaflet  # leafmap's map library; imported only here

        image = landuse_image(layers=layers, raster=raster)
        map_.add(ipyleaflet.ImageOverlay(url=image.url, bounds=image.bounds, name=name))
    map_.add_legend(title=title, legend_dict=landuse_legend(classes), position=legend_position)
    return name


def landuse_pivot(rows: pd.DataFrame, classes: pd.DataFrame, /) -> pd.DataFrame:
    """Return hectares as one row per zone and one column per class code (:func:`read_landuse`).

    Columns in the class table's order, only the classes present, then codes that the
    table lacks, then :data:`UNCOVERED_LABEL` when some land has no land-use data; 0
    where a zone has none of a class. The rows of a zone add up to its area.
    """
    frame = rows.assign(class_code=rows["class_code"].where(rows["class_code"].notna(),
                                                            UNCOVERED_LABEL))
    pivot = frame.pivot_table(index="zone_id", columns="class_code", values="area_ha",
                              aggfunc="sum", fill_value=0.0, sort=False)
    pivot = pivot.reindex(pd.unique(rows["zone_id"]))
    known = [c for c in classes["code"] if c in pivot.columns]
    others = sorted(set(pivot.columns) - {*known, UNCOVERED_LABEL})
    uncovered = [UNCOVERED_LABEL] if UNCOVERED_LABEL in pivot.columns else []
    pivot = pivot[[*known, *others, *uncovered]].astype("float64")
    pivot.index.name = label("code")
    pivot.columns.name = label("landuse_class")
    return pivot


def rice_ha(pivot: pd.DataFrame, /) -> pd.Series:
    """Return each zone's rice land (:data:`RICE_CODES`) in hectares, from :func:`landuse_pivot`."""
    return pivot[[c for c in RICE_CODES if c in pivot.columns]].sum(axis=1)


def rice_land(
    pivot: pd.DataFrame, clusters: pd.DataFrame, /, *, stages: Sequence[str] = ("planned",),
) -> pd.DataFrame:
    """Return the rice land (LUC, LUK) in the clusters whose ``stage`` is in ``stages``.

    The default asks the planners' question: how much rice land do the clusters that
    are only planned (not established) hold? One row per such cluster, most rice first.
    """
    ids = clusters.loc[clusters["stage"].isin(stages).to_numpy(), "cluster_id"]
    rice = pivot.reindex(index=pd.Index(ids, name=pivot.index.name), columns=list(RICE_CODES),
                         fill_value=0.0)
    order = rice.sum(axis=1).sort_values(ascending=False, kind="stable").index
    return rice.loc[order]


def landuse_totals(pivot: pd.DataFrame, classes: pd.DataFrame, /) -> pd.DataFrame:
    """Return the hectares of each class in all zones together, in Vietnamese.

    One row per column of :func:`landuse_pivot` (its code, name, hectares, share of
    all zones), then the total.
    """
    names = dict(zip(classes["code"], classes["name_vi"], strict=True))
    sums = pivot.sum(axis=0)
    total = float(sums.sum())
    rows = [(code, names.get(code, ""), format_number(float(ha)),
             format_rate(float(ha) / total if total else None)) for code, ha in sums.items()]
    rows.append((TOTAL, "", format_number(total), format_rate(1.0 if total else None)))
    columns = [label("code"), label("landuse_class"), label("area"), label("share")]
    return pd.DataFrame(rows, columns=columns).set_index(label("code"))


def landuse_comparison(
    current: pd.DataFrame, planned: pd.DataFrame, /, *, codes: Sequence[str] = ("SKN", "LUC"),
) -> pd.DataFrame:
    """Return, per zone and code, the hectares now (raster) and in the plan, and the change.

    ``current`` and ``planned`` are :func:`landuse_pivot` of the raster and of the plan.
    Columns: for each code, *Hiện trạng*, *Quy hoạch* and *Thay đổi* (plan − now).
    """
    zones = current.index.union(planned.index, sort=False)
    parts = {}
    for code in codes:
        now = current.reindex(index=zones, columns=[code], fill_value=0.0)[code]
        plan = planned.reindex(index=zones, columns=[code], fill_value=0.0)[code]
        parts[(code, "Hiện trạng")] = now
        parts[(code, "Quy hoạch")] = plan
        parts[(code, "Thay đổi")] = plan - now
    frame = pd.DataFrame(parts, index=zones)
    frame.index.name = current.index.name
    return frame


def hectares_table(
    frame: pd.DataFrame, /, *, names: Mapping[str, str] | pd.Series | None = None,
    total_column: bool = True, total_row: bool = False, decimals: int = 2,
) -> pd.DataFrame:
    """Return hectares as text in Vietnamese number format (``1.328,25``; ``–`` for none).

    ``frame`` is :func:`landuse_pivot`, :func:`rice_land` or
    :func:`landuse_comparison`. ``names`` (``{zone_id: name}``) adds a *Tên* column
    first; ``total_column`` a *Tổng* column (each row's sum), ``total_row`` a *Tổng*
    row (each column's sum).
    """
    numbers = frame.copy()
    if total_row:
        numbers.loc[TOTAL] = numbers.sum(axis=0)
    if total_column:
        key: Any = (TOTAL,) + ("",) * (numbers.columns.nlevels - 1)
        numbers[key if numbers.columns.nlevels > 1 else TOTAL] = numbers.sum(axis=1)
    table = numbers.map(lambda v: "–" if v == 0 else format_number(float(v), decimals))
    if names is not None:
        lookup = dict(names)
        key = (label("name"),) + ("",) * (table.columns.nlevels - 1)
        table.insert(0, key if table.columns.nlevels > 1 else label("name"),
                     [lookup.get(i, "") for i in table.index])
    return table


def _landuse_raster(dataset: Dataset, raster: str | Path | None) -> Path:
    path = Path(raster) if raster else default_raster_path(dataset)
    if path is None:
        raise LandUseError(
            f"{dataset.source}: no land-use raster; give raster=PATH, set landuse_raster in "
            "the province settings, or use source='plan'")
    return path


def _unused(values: set[int]) -> int:
    return next(v for v in range(256) if v not in values) if len(values) < 256 else -1


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _png(rgba: np.ndarray) -> bytes:
    _, height, width = rgba.shape
    with warnings.catch_warnings(), MemoryFile() as memory:  # a PNG has no georeference
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with memory.open(driver="PNG", width=width, height=height, count=4,
                         dtype="uint8") as dst:
            dst.write(rgba)
        return bytes(memory.read())


# ------------------------------------------------------------------- scenarios

SCENARIO_STYLES: dict[str, Style] = {
    "planned": Style("Trong quy hoạch, chưa thành lập", "#bdbdbd"),
    "established": Style("Đã thành lập từ trước", "#fdae61"),
    "expanded": Style("Mở rộng trong kịch bản", "#a6611a"),
    "newly_established": Style("Thành lập trong kịch bản", "#1a9850"),
    "added": Style("Cụm mới bổ sung vào quy hoạch", "#7b3294"),
    "removed": Style("Đưa ra khỏi quy hoạch", "#252525"),
}
"""A cluster's ``status`` at a scenario's horizon (:func:`read_scenario_clusters`) on maps."""

FINDING_STYLES: dict[str, Style] = {
    "error": Style("Có lỗi (vi phạm quy định)", "#e31a1c"),
    "warning": Style("Chỉ có cảnh báo", "#ff7f00"),
}
"""The outline of a cluster with findings: red for an error, orange for warnings only."""

SCENARIO_COLOURS = ("#4a90d9", "#d73027", "#1a9850", "#984ea3", "#ff7f00", "#a65628")
"""The colours of the scenarios in charts, in the order they are compared."""

SEVERITY_LABELS = {"error": "Lỗi", "warning": "Cảnh báo"}

RULE_LABELS: dict[str, str] = {
    "AREA_MAX": "Diện tích tối đa",
    "AREA_MIN": "Diện tích tối thiểu",
    "NEW_CLUSTER_GATE": "Điều kiện thành lập cụm mới",
    "EXPANSION_GATE": "Điều kiện mở rộng cụm",
    "SERVICES_SHARE": "Tỷ lệ đất dịch vụ",
    "OVERLAP": "Chồng lấn ranh giới",
    "OUTSIDE_PROVINCE": "Nằm ngoài địa giới",
    "PLAN_TOTAL": "Tổng diện tích quy hoạch",
    "PROTECTED_LAND": "Đất cần bảo vệ",
}
"""The rules of :mod:`ccn_gis.rules` in Vietnamese, in their order there."""

RATE_RULES = frozenset({"NEW_CLUSTER_GATE", "EXPANSION_GATE", "SERVICES_SHARE"})
"""Rules whose value and limit are fractions (occupancy, share); the others are hectares."""

FINDING_COLUMNS: dict[str, str] = {
    "rule": "Quy tắc",
    "severity": "Mức độ",
    "cluster_id": "Cụm",
    "year": "Năm",
    "value": "Giá trị",
    "limit": "Ngưỡng",
    "message": "Nội dung",
    "basis": "Căn cứ",
}
"""The columns of :func:`findings_table` and their Vietnamese headers."""

HORIZON_COLUMNS = ("in_plan", "established", "plan_ha", "established_ha", "industrial_ha",
                   "leased_ha", "occupancy")
CHANGE_PRIORITY = ("establish", "expand", "remove", "add")
"""When the scenario changes a cluster more than once, ``change`` names the last of these."""
SCENARIO_CLUSTER_COLUMNS = ("cluster_id", "name", "admin_code", "kind", *HORIZON_COLUMNS,
                            "change", "change_year", "findings", "severity", "status", "errors",
                            "warnings")
"""The columns of :func:`read_scenario_clusters`, before any other property and the geometry."""

PROVINCE = "Toàn tỉnh"


def scenario_id(scenario: str | Path, /) -> str:
    """Return the API's id of a scenario: the name of its file without ``.yaml``.

    Examples
    --------
    >>> scenario_id("../scenarios/fast_growth.yaml")
    'fast_growth'
    >>> scenario_id("fast_growth")
    'fast_growth'
    """
    path = Path(scenario)
    return path.stem if path.suffix.lower() in (".yaml", ".yml") else str(scenario)


def read_scenario_list(
    *, api_url: str | None = None, folder: str | Path = "scenarios",
) -> pd.DataFrame:
    """Return the scenarios on offer: ``id``, ``name``, ``source``.

    From ``{api_url}/scenarios`` with ``api_url`` (with ``current``, the plan as it
    stands, and the server's other columns), else the ``*.yaml`` files of ``folder``
    (their ``name:``; the files are not checked here).
    """
    if api_url:
        rows = list(_get_json(_api(api_url, "/scenarios")))
        frame = pd.DataFrame(rows)
        return frame.reindex(columns=["id", "name", "source",
                                      *[c for c in frame.columns
                                        if c not in ("id", "name", "source")]])
    rows = []
    for path in sorted(Path(folder).glob("*.y*ml")):
        document, _ = load_yaml(path.read_text(encoding="utf-8"), source=str(path))
        name = document.get("name") if isinstance(document, dict) else None
        rows.append({"id": scenario_id(path), "name": name, "source": str(path)})
    return pd.DataFrame(rows, columns=["id", "name", "source"])


def read_scenario_result(
    scenario: str | Path, /, *, api_url: str | None = None, layers: str | Path | None = None,
    lang: Lang = "vi",
) -> dict[str, Any]:
    """Return a checked scenario: the JSON of ``ccn-gis scenario check --json``.

    With ``api_url``, from ``{api_url}/scenarios/{id}?lang=…`` (``scenario`` is the id, or
    a file name whose stem is the id). Otherwise ``scenario`` is a YAML file, read and
    checked against ``layers`` as the command line does it (the province's rule
    settings, land use from its raster, else its ``landuse_plan`` layer). Keys:
    ``findings``, ``years`` (per cluster and year), ``units``, ``answers``, …

    Raises
    ------
    NotFoundError
        When the server has no such scenario (or answers 404 on ``/scenarios``).
    ccn_gis.scenario.ScenarioError
        When the file is missing or malformed (naming its line).
    """
    if api_url:
        path = f"/scenarios/{urllib.parse.quote(scenario_id(scenario))}"
        return dict(_get_json(_api(api_url, path, lang=lang)))
    dataset = _dataset(layers)
    checked = check_scenario(dataset, _read_scenario_file(dataset, scenario),
                             land_use_under=land_use_measure(dataset, open_store(dataset.source)),
                             lang=lang)
    # as the command line prints it: plain JSON values, the same as the API's
    return cast(dict[str, Any], json.loads(json.dumps(checked, allow_nan=False)))


def read_scenario_clusters(
    scenario: str | Path, /, *, api_url: str | None = None, layers: str | Path | None = None,
    result: Mapping[str, Any] | None = None,
) -> gpd.GeoDataFrame:
    """Return every cluster a scenario ever has, at its horizon, in WGS84 (EPSG:4326).

    With ``api_url`` the features come from
    ``{api_url}/scenarios/{id}/clusters?removed=true``; otherwise the scenario file is
    projected against ``layers`` (:func:`ccn_gis.projection.project`) and each
    cluster's plan geometry at the horizon (expansions included) transformed from the
    province's area CRS. ``result`` is :func:`read_scenario_result` of the same
    scenario (read when not given). Clusters the scenario removes are included
    (``in_plan`` false, ``status`` ``removed``).

    Columns :data:`SCENARIO_CLUSTER_COLUMNS`: the cluster's name, unit and kind; its
    figures at the horizon (:data:`HORIZON_COLUMNS`); ``change`` (what the scenario
    does to it: ``establish``, ``expand``, ``add``, ``remove`` — the last of
    :data:`CHANGE_PRIORITY` when several — or ``None``) and ``change_year``;
    ``findings`` (the rules it breaks or nears, each once) and ``severity``
    (``"error"``, ``"warning"`` or ``None``: the outline of :data:`FINDING_STYLES`);
    its ``status`` at the horizon (a key of :data:`SCENARIO_STYLES`) and the number
    of its ``errors`` and ``warnings``. The figures, ``severity``, ``status`` and the
    counts are computed from ``result`` either way; then come any other property the
    API gives, and the geometry.
    """
    if result is None:
        result = read_scenario_result(scenario, api_url=api_url, layers=layers)
    if api_url:
        path = f"/scenarios/{urllib.parse.quote(scenario_id(scenario))}/clusters"
        features = _get_json(_api(api_url, path, removed="true"))["features"]
        attributes = pd.DataFrame.from_records(
            [{"cluster_id": f.get("id"), **(f.get("properties") or {})} for f in features])
        geoms: Any = [shapely.geometry.shape(f["geometry"]) if f.get("geometry") else None
                      for f in features]
    else:
        dataset = _dataset(layers)
        plan = project(dataset, _read_scenario_file(dataset, scenario)).plan
        ids = [str(i) for i in plan.index]
        changes: dict[str, tuple[str, int | None]] = {}
        for kind in CHANGE_PRIORITY:
            for change in result["changes"]:
                if change["kind"] == kind:
                    changes[change["cluster_id"]] = (kind, change["year"])
        rules: dict[str, list[str]] = {}
        for f in result["findings"]:
            if f["cluster_id"] is not None and f["rule"] not in rules.get(f["cluster_id"], []):
                rules.setdefault(f["cluster_id"], []).append(f["rule"])
        attributes = pd.DataFrame({
            "cluster_id": ids, "name": plan["name"].tolist(),
            "admin_code": plan["admin_code"].tolist(), "kind": plan["kind"].tolist(),
            "change": [changes.get(i, (None, None))[0] for i in ids],
            "change_year": [changes.get(i, (None, None))[1] for i in ids],
            "findings": [rules.get(i, []) for i in ids],
        })
        geoms = transform_geometries(np.asarray(plan["geometry"].tolist(), dtype=object),
                                     dataset.settings.area_crs, WGS84)
    derived = scenario_status(result).reindex(attributes["cluster_id"])
    given = attributes.drop(columns=[c for c in derived.columns if c in attributes.columns])
    frame = given.reset_index(drop=True).join(derived.reset_index(drop=True))
    first = list(SCENARIO_CLUSTER_COLUMNS)
    frame = frame.reindex(columns=[*first, *[c for c in frame.columns if c not in first]])
    frame["change_year"] = pd.array(frame["change_year"].tolist(), dtype="Int64")
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=WGS84))


def scenario_status(result: Mapping[str, Any], /) -> pd.DataFrame:
    """Return each cluster's figures and status at the horizon, indexed by ``cluster_id``.

    Columns :data:`HORIZON_COLUMNS` (from ``result["years"]``); ``severity``, the worst
    of its findings (``"error"``, ``"warning"``, ``None``: none); ``status``:
    ``removed`` (out of the plan at the horizon), ``added`` (a new cluster),
    ``newly_established`` (established during the scenario), ``expanded``,
    ``established`` (before the base year) or ``planned``; and the number of its
    ``errors`` and ``warnings``.
    """
    years = pd.DataFrame(result["years"])
    base = years[years["year"] == result["base_year"]].set_index("cluster_id")
    last = years[years["year"] == result["horizon"]].set_index("cluster_id")
    kinds: dict[str, set[str]] = {}
    for change in result["changes"]:
        kinds.setdefault(change["cluster_id"], set()).add(change["kind"])
    status = []
    for cid, row in last.iterrows():
        done = kinds.get(str(cid), set())
        if not row["in_plan"]:
            status.append("removed")
        elif "add" in done:
            status.append("added")
        elif row["established"] and not base.at[cid, "established"]:
            status.append("newly_established")
        elif "expand" in done:
            status.append("expanded")
        else:
            status.append("established" if row["established"] else "planned")
    frame = pd.DataFrame(last[list(HORIZON_COLUMNS)])
    frame["occupancy"] = frame["occupancy"].astype("float64")
    findings = pd.DataFrame(result["findings"], columns=["cluster_id", "severity"])
    counts = findings.groupby(["cluster_id", "severity"]).size()
    errors = [int(counts.get((c, "error"), 0)) for c in frame.index]
    warnings_ = [int(counts.get((c, "warning"), 0)) for c in frame.index]
    frame["severity"] = ["error" if e else "warning" if w else None
                         for e, w in zip(errors, warnings_, strict=True)]
    frame["status"] = status
    frame["errors"] = errors
    frame["warnings"] = warnings_
    frame.index.name = "cluster_id"
    return frame


def add_scenario_clusters(
    map_: Any, clusters: gpd.GeoDataFrame, /, *, title: str = "Trạng thái",
    findings_title: str = "Phát hiện", fill_opacity: float = 0.5,
) -> list[str]:
    """Add a scenario's clusters (:func:`read_scenario_clusters`) to a leafmap map.

    One layer per ``status`` in the colours of :data:`SCENARIO_STYLES`, then the outlines
    of the clusters with findings (:data:`FINDING_STYLES`: red for an error, orange for
    warnings only) on top, each with its legend. Returns the names of the layers added.
    """
    shown = gpd.GeoDataFrame(clusters[["cluster_id", "name", "change", "status", "severity",
                                       "errors", "warnings", "geometry"]].copy())
    shown["findings"] = [", ".join(f) for f in clusters["findings"]]
    names = add_by_category(map_, shown, column="status", styles=SCENARIO_STYLES, title=title,
                            fill_opacity=fill_opacity)
    names += add_by_category(map_, shown[shown["severity"].notna().to_numpy()], column="severity",
                             styles=FINDING_STYLES, title=findings_title, fill_opacity=0.0,
                             weight=3.0, legend_position="bottomleft")
    return names


def findings_table(result: Mapping[str, Any], /) -> pd.DataFrame:
    """Return a scenario's findings in Vietnamese, one row each, in the order of the check.

    The columns of :data:`FINDING_COLUMNS`: the rule (its id), the severity in words,
    the cluster (``–`` for the whole province), the year, the measured value and the
    limit (rates as ``30,3 %``, areas as ``85,12 ha``), the message in Vietnamese and
    the legal basis.
    """
    rows = []
    for f in result["findings"]:
        rows.append({
            "rule": f["rule"], "severity": SEVERITY_LABELS.get(f["severity"], f["severity"]),
            "cluster_id": f["cluster_id"] or "–", "year": f["year"],
            "value": _finding_value(f["value"], f["rule"]),
            "limit": _finding_value(f["limit"], f["rule"]),
            "message": f.get("message_vi", f["message"]), "basis": f["basis"],
        })
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS)).rename(columns=FINDING_COLUMNS)


def findings_by_rule(results: Sequence[Mapping[str, Any]], /) -> pd.DataFrame:
    """Return the number of findings of each rule, one column per scenario, and the total.

    The rows are the rules found in any of the scenarios, in the order of
    :data:`RULE_LABELS`, indexed by rule id with their Vietnamese name and severity.
    """
    counts = [pd.Series([f["rule"] for f in r["findings"]], dtype=object).value_counts()
              for r in results]
    severity = {f["rule"]: f["severity"] for r in results for f in r["findings"]}
    found = [r for r in RULE_LABELS if r in severity]
    found += sorted(set(severity) - set(found))
    frame = pd.DataFrame({
        "Tên quy tắc": [RULE_LABELS.get(r, "") for r in found],
        "Mức độ": [SEVERITY_LABELS.get(severity[r], severity[r]) for r in found],
        **{r["scenario"]: [int(c.get(rule, 0)) for rule in found]
           for r, c in zip(results, counts, strict=True)},
    }, index=pd.Index(found, name="Quy tắc"))
    frame.loc[TOTAL] = ["", "", *[len(r["findings"]) for r in results]]
    return frame


def scenario_years(result: Mapping[str, Any], /) -> pd.DataFrame:
    """Return the province year by year, base year to horizon, one row per year.

    Sums over the clusters in the plan that year: ``plan_ha``, ``established`` (count),
    ``established_ha``, ``industrial_ha``, ``leased_ha``, and ``occupancy``
    (leased ÷ industrial land, NaN without industrial land) — at the horizon the
    figures of ``ccn-gis scenario compare``.
    """
    rows = pd.DataFrame(result["years"])
    rows = rows[rows["in_plan"].astype(bool)]
    by_year = rows.groupby("year")
    frame = pd.DataFrame({
        "plan_ha": by_year["plan_ha"].sum(),
        "established": by_year["established"].sum().astype("int64"),
        "established_ha": by_year["established_ha"].sum(),
        "industrial_ha": by_year["industrial_ha"].sum(),
        "leased_ha": by_year["leased_ha"].sum(),
    })
    frame = frame.reindex(range(result["base_year"], result["horizon"] + 1))
    frame["occupancy"] = rates(frame["leased_ha"], frame["industrial_ha"])
    frame.index.name = "year"
    return frame


def demand_supply(result: Mapping[str, Any], /) -> pd.DataFrame:
    """Return industrial land demand and supply by the horizon, per unit and the province.

    Indexed by unit code (:data:`PROVINCE` last): ``name``, ``demand_ha`` (what the
    absorption rates would lease), ``supply_ha`` (unleased industrial land at the base
    plus new industrial land), ``balance_ha`` (supply − demand).
    """
    answers = result["answers"]
    names = {g["admin_code"]: g["name"] for g in answers["gate_opens"]}
    rows = [{"unit": d["admin_code"] or PROVINCE,
             "name": names.get(d["admin_code"], "") if d["admin_code"] else "",
             "demand_ha": d["demand_ha"], "supply_ha": d["supply_ha"],
             "balance_ha": d["balance_ha"]} for d in answers["demand_supply"]]
    return pd.DataFrame(rows).set_index("unit")


def scenario_comparison(
    results: Sequence[Mapping[str, Any]], /, *, lang: Lang = "vi",
) -> pd.DataFrame:
    """Return scenarios side by side, the table of ``ccn-gis scenario compare``.

    One column per scenario (its name), one row per figure: errors, warnings, the plan's
    area, the established clusters and the occupancy at the horizon, the rice land
    converted, and supply minus demand of industrial land; text in the number format of
    ``lang``.
    """
    t = SCENARIO_TEXT[lang]
    horizon = results[0]["horizon"]

    def n(value: float | None, decimals: int = 2) -> str:
        return format_number(value, decimals, lang=lang)

    columns: dict[str, list[str]] = {}
    for r in results:
        last = scenario_years(r).loc[r["horizon"]]
        occupancy = None if pd.isna(last["occupancy"]) else float(last["occupancy"])
        province = next(d for d in r["answers"]["demand_supply"] if d["admin_code"] is None)
        columns[r["scenario"]] = [
            str(sum(f["severity"] == "error" for f in r["findings"])),
            str(sum(f["severity"] == "warning" for f in r["findings"])),
            n(float(last["plan_ha"])), n(float(last["established"]), 0),
            format_rate(occupancy, lang=lang), n(r["answers"]["rice_converted_ha"]),
            n(province["balance_ha"]),
        ]
    index = [t["errors"], t["warnings"], t["plan_ha"].format(horizon=horizon),
             t["established"].format(horizon=horizon), t["occupancy"].format(horizon=horizon),
             t["rice_short"], t["balance_short"]]
    return pd.DataFrame(columns, index=pd.Index(index, name=t["metric"]))


def _finding_value(value: float | None, rule: str) -> str:
    if value is None:
        return "–"
    return format_rate(value) if rule in RATE_RULES else f"{format_number(value)} ha"


def _read_scenario_file(dataset: Dataset, scenario: str | Path) -> Scenario:
    return read_scenario(Path(scenario), dataset, defaults=rule_settings(dataset.settings))


# ------------------------------------------------------------------------- I/O


def _dataset(layers: str | Path | None) -> Dataset:
    """The checked layers of ``layers``, read once per file version."""
    path = Path(layers if layers is not None else AppSettings().layers).resolve()
    try:
        version = path.stat().st_mtime_ns
    except OSError:
        return load_dataset(path)  # raises the library's DataSourceError
    return _load_cached(str(path), version)


@lru_cache(maxsize=4)
def _load_cached(path: str, version: int) -> Dataset:
    return load_dataset(path)


def _query_value(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _api(api_url: str, path: str, **params: Any) -> str:
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    return f"{api_url.rstrip('/')}{path}{'?' + query if query else ''}"


def _stats_url(api_url: str, as_of: dt.date | None, by: str) -> str:
    return _api(api_url, "/stats", as_of=as_of.isoformat() if as_of else None, by=by)


def _get_json(url: str) -> Any:
    request = urllib.request.Request(
        url, headers={"Accept": "application/geo+json, application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        message = f"{url}: HTTP {err.code} {_problem(err)}"
        if err.code == 404:
            raise NotFoundError(message) from err
        if err.code == 400:
            raise QueryError(message) from err
        raise DataSourceError(message) from err
    except urllib.error.URLError as err:
        raise DataSourceError(
            f"{url}: {err.reason}; is `ccn-gis serve` running at that address?") from err


def _problem(err: urllib.error.HTTPError) -> str:
    """The API's explanation of an error (OGC exception ``description``), else the body."""
    body = err.read().decode("utf-8", errors="replace")
    try:
        return str(json.loads(body).get("description", body))
    except (ValueError, AttributeError):
        return body[:500]
