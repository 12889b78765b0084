"""The data of a running ``ccn-gis serve``, fetched as any client fetches it.

GeoJSON pages of ``/collections/{layer}/items`` (following the ``next`` links),
``/stats``, ``/landuse`` and ``/scenarios``; only the standard library (``urllib``) and
geopandas, neither FastAPI nor leafmap. An HTTP 404 is a :class:`NotFoundError`, a 400 a
:class:`QueryError`, anything else (and an unreachable server) a
:class:`~ccn_gis.errors.DataSourceError`.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely.geometry

from ccn_gis.crs import WGS84
from ccn_gis.errors import DataSourceError
from ccn_gis.language import Lang
from ccn_gis.notebook.scenarios import scenario_id
from ccn_gis.notebook.source import (
    CLASS_COLUMNS,
    LANDUSE_COLUMNS,
    LandUseSource,
    LandUseTiles,
    NotFoundError,
    QueryError,
    Scope,
)

TIMEOUT_S = 60.0


class ApiSource:
    """A running ``ccn-gis serve`` at ``api_url`` (e.g. ``http://127.0.0.1:8000``)."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url

    def layer(self, name: str, /, *, where: Mapping[str, Any],
              page_size: int) -> gpd.GeoDataFrame:
        """Return layer ``name`` from ``/collections/{name}/items``, page after page."""
        params = {"limit": page_size, **{k: _query_value(v) for k, v in where.items()}}
        url: str | None = self._url(f"/collections/{urllib.parse.quote(name)}/items", **params)
        features: list[dict[str, Any]] = []
        matched = None
        while url:
            page = get_json(url)
            features += page["features"]
            matched = page.get("numberMatched", matched)
            url = next((link["href"] for link in page.get("links", [])
                        if link.get("rel") == "next"), None)
        if matched is not None and len(features) != matched:
            raise DataSourceError(
                f"{self.api_url}: {name} announced {matched} features but {len(features)} "
                "arrived; the layers may have changed while reading, read again")
        if features:
            columns = list(features[0]["properties"])
        else:  # nothing matched: learn the columns from any feature of the layer
            any_feature = get_json(
                self._url(f"/collections/{urllib.parse.quote(name)}/items", limit=1))
            columns = [c for f in any_feature["features"][:1] for c in f["properties"]]
        attributes = pd.DataFrame.from_records([f["properties"] for f in features],
                                               columns=columns)
        return gpd.GeoDataFrame(attributes, geometry=_geometries(features))

    def figures(self, *, as_of: dt.date | None, scope: Scope) -> Any:
        """Return ``/stats?by=…&as_of=…``."""
        return get_json(self._url("/stats", as_of=as_of.isoformat() if as_of else None,
                                  by=scope))

    def cluster_figures(self, cluster_id: str, /) -> dict[str, Any]:
        """Return ``properties.figures`` of ``/collections/clusters/items/{cluster_id}``."""
        path = f"/collections/clusters/items/{urllib.parse.quote(cluster_id)}"
        return dict(get_json(self._url(path))["properties"]["figures"])

    def landuse(self, zones: str, /, *, source: LandUseSource,
                raster: str | Path | None) -> pd.DataFrame:
        """Return ``/landuse?zones=…&source=…``, computed with the server's raster.

        ``raster`` is not used: a server reads no file a client names.
        """
        rows = get_json(self._url("/landuse", zones=zones, source=source))
        frame = pd.DataFrame(rows, columns=list(LANDUSE_COLUMNS))
        frame["class_code"] = frame["class_code"].astype(object)
        frame["area_ha"] = frame["area_ha"].astype("float64")
        frame["share"] = frame["share"].astype("float64")
        return frame

    def landuse_classes(self, *, raster: str | Path | None) -> pd.DataFrame:
        """Return ``/landuse/classes`` (``raster`` is not used)."""
        return pd.DataFrame(get_json(self._url("/landuse/classes")), columns=list(CLASS_COLUMNS))

    def landuse_picture(self, *, raster: str | Path | None) -> LandUseTiles:
        """Return the app's land-use tiles, ``/landuse/tiles/{z}/{x}/{y}.png``."""
        return LandUseTiles(f"{self.api_url.rstrip('/')}/landuse/tiles/{{z}}/{{x}}/{{y}}.png")

    def scenario_list(self, *, folder: str | Path) -> pd.DataFrame:
        """Return ``/scenarios``: ``id``, ``name``, ``source`` first (``folder`` is not used)."""
        frame = pd.DataFrame(list(get_json(self._url("/scenarios"))))
        return frame.reindex(columns=["id", "name", "source",
                                      *[c for c in frame.columns
                                        if c not in ("id", "name", "source")]])

    def scenario_result(self, scenario: str | Path, /, *, lang: Lang) -> dict[str, Any]:
        """Return ``/scenarios/{id}?lang=…``; a file name stands for its id."""
        path = f"/scenarios/{urllib.parse.quote(scenario_id(scenario))}"
        return dict(get_json(self._url(path, lang=lang)))

    def scenario_clusters(self, scenario: str | Path, /, *,
                          result: Mapping[str, Any]) -> gpd.GeoDataFrame:
        """Return ``/scenarios/{id}/clusters?removed=true``, removed clusters included."""
        path = f"/scenarios/{urllib.parse.quote(scenario_id(scenario))}/clusters"
        features = get_json(self._url(path, removed="true"))["features"]
        attributes = pd.DataFrame.from_records(
            [{"cluster_id": f.get("id"), **(f.get("properties") or {})} for f in features])
        return gpd.GeoDataFrame(attributes, geometry=_geometries(features))

    def _url(self, path: str, /, **params: Any) -> str:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.api_url.rstrip('/')}{path}{'?' + query if query else ''}"


def get_json(url: str, /) -> Any:
    """Return the JSON at ``url``; an HTTP error raised as the notebook's error for it."""
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


def _geometries(features: list[dict[str, Any]]) -> gpd.GeoSeries:
    return gpd.GeoSeries([shapely.geometry.shape(f["geometry"]) if f.get("geometry") else None
                          for f in features], crs=WGS84)


def _query_value(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _problem(err: urllib.error.HTTPError) -> str:
    """The API's explanation of an error (OGC exception ``description``), else the body."""
    body = err.read().decode("utf-8", errors="replace")
    try:
        return str(json.loads(body).get("description", body))
    except (ValueError, AttributeError):
        return body[:500]
