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
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely.geometry

from ccn_gis.crs import WGS84, transform_geometries
from ccn_gis.dataset import Dataset
from ccn_gis.errors import CcnGisError, DataSourceError
from ccn_gis.figures import figures_json
from ccn_gis.io import load_dataset
from ccn_gis.model import LAYERS, FieldType
from ccn_gis.publish import COLLECTIONS, layer_view
from ccn_gis.report import (
    LABELS,
    SHORT_HEADERS,
    format_date,
    format_number,
    format_rate,
    label,
)
from ccn_gis.settings import AppSettings

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
