"""What a notebook reads: layers, figures, land use and scenarios, from a server or the file.

Each function takes ``api_url`` (a running ``ccn-gis serve``) or ``layers`` (the
GeoPackage, read through the library), picks its :class:`~ccn_gis.notebook.source.Source`
once with :func:`source_for` and asks it; what comes back has the same shape either way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ccn_gis.language import Lang
from ccn_gis.model import LAYERS, FieldType
from ccn_gis.notebook.api_source import ApiSource
from ccn_gis.notebook.local_source import LocalSource
from ccn_gis.notebook.raster import LandUseImage
from ccn_gis.notebook.scenarios import SCENARIO_CLUSTER_COLUMNS, scenario_status
from ccn_gis.notebook.source import PAGE_SIZE, LandUseSource, QueryError, Source

By = Literal["admin", "cluster"]


def source_for(*, api_url: str | None = None, layers: str | Path | None = None) -> Source:
    """Return where to read: the server at ``api_url`` if given, else the file ``layers``.

    Examples
    --------
    >>> type(source_for(api_url="http://127.0.0.1:8000")).__name__
    'ApiSource'
    >>> type(source_for(layers="layers/thai_binh.gpkg")).__name__
    'LocalSource'
    """
    return ApiSource(api_url) if api_url else LocalSource(layers)


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
    source = source_for(api_url=api_url, layers=layers)
    frame = source.layer(name, where=dict(where or {}), page_size=page_size)
    for field in LAYERS[name].fields if name in LAYERS else ():
        if field.type is FieldType.DATE and field.name in frame.columns:
            frame[field.name] = pd.to_datetime(frame[field.name])
    return frame


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
    return dict(source_for(api_url=api_url, layers=layers).figures(as_of=as_of,
                                                                   scope="province"))


def read_figures_by(
    by: By, /, *, api_url: str | None = None, layers: str | Path | None = None,
    as_of: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Return the figures per administrative unit (``"admin"``) or per cluster.

    The JSON of ``ccn-gis stats --by admin|cluster --json``: one object per unit or
    cluster, with its code and name.

    Raises
    ------
    QueryError
        When ``by`` is neither ``"admin"`` nor ``"cluster"``.
    """
    if by not in ("admin", "cluster"):
        raise QueryError(f"by={by!r}: use 'admin' or 'cluster'")
    return list(source_for(api_url=api_url, layers=layers).figures(as_of=as_of, scope=by))


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
    return source_for(api_url=api_url, layers=layers).cluster_figures(cluster_id)


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
    source = source_for(api_url=api_url, layers=layers)
    rows = []
    for day in dates:
        f = source.figures(as_of=day, scope="province")
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
    return source_for(api_url=api_url, layers=layers).landuse(zones, source=source,
                                                              raster=raster)


def read_landuse_classes(
    *, api_url: str | None = None, layers: str | Path | None = None,
    raster: str | Path | None = None,
) -> pd.DataFrame:
    """Return the land-use classes, the legend: ``value, code, name_vi, name_en, colour``.

    From ``{api_url}/landuse/classes``, else the class table beside the raster
    (``<raster>.classes.csv``), in its order. Empty when the province has no raster.
    """
    return source_for(api_url=api_url, layers=layers).landuse_classes(raster=raster)


def landuse_image(
    *, layers: str | Path | None = None, raster: str | Path | None = None,
    max_size: int = 2048, alpha: int = 200,
) -> LandUseImage:
    """Render the land-use raster as a PNG in the class table's colours, in Web Mercator.

    The raster of ``layers`` (or ``raster``) is reprojected (nearest neighbour, like the
    API's tiles) to EPSG:3857, the projection of the map, and scaled down so that its
    longer side has at most ``max_size`` pixels. Nodata and cells of no class are
    transparent; the classes are drawn with opacity ``alpha`` (0–255), so what lies
    under them shows through.
    """
    return LocalSource(layers).landuse_image(raster=raster, max_size=max_size, alpha=alpha)


def read_scenario_list(
    *, api_url: str | None = None, folder: str | Path = "scenarios",
) -> pd.DataFrame:
    """Return the scenarios on offer: ``id``, ``name``, ``source``.

    From ``{api_url}/scenarios`` with ``api_url`` (with ``current``, the plan as it
    stands, and the server's other columns), else the ``*.yaml`` files of ``folder``
    (their ``name:``; the files are not checked here).
    """
    return source_for(api_url=api_url).scenario_list(folder=folder)


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
    return source_for(api_url=api_url, layers=layers).scenario_result(scenario, lang=lang)


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
    source = source_for(api_url=api_url, layers=layers)
    if result is None:
        result = source.scenario_result(scenario, lang="vi")
    clusters = source.scenario_clusters(scenario, result=result)
    attributes = pd.DataFrame(clusters.drop(columns="geometry"))
    derived = scenario_status(result).reindex(attributes["cluster_id"])
    given = attributes.drop(columns=[c for c in derived.columns if c in attributes.columns])
    frame = given.reset_index(drop=True).join(derived.reset_index(drop=True))
    first = list(SCENARIO_CLUSTER_COLUMNS)
    frame = frame.reindex(columns=[*first, *[c for c in frame.columns if c not in first]])
    frame["change_year"] = pd.array(frame["change_year"].tolist(), dtype="Int64")
    return gpd.GeoDataFrame(frame, geometry=clusters.geometry.reset_index(drop=True))
