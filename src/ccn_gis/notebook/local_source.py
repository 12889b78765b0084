"""The data of a layers file, read and computed by the library as the command line does.

The GeoPackage is loaded and checked once per revision
(:func:`ccn_gis.io.load_dataset`); layers are :func:`ccn_gis.publish.layer_view`
transformed to WGS84, figures :func:`ccn_gis.figures.figures_json`, land use
:func:`ccn_gis.io.landuse.landuse_table` and scenarios
:func:`ccn_gis.io.scenarios.check_scenario_file`, the figures of ``ccn-gis stats``,
``ccn-gis landuse`` and ``ccn-gis scenario check``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from ccn_gis.crs import WGS84, transform_geometries
from ccn_gis.dataset import Dataset
from ccn_gis.figures import figures_json
from ccn_gis.io import load_dataset, open_store
from ccn_gis.io.landuse import default_raster_path, landuse_table
from ccn_gis.io.raster import LandUseRaster
from ccn_gis.io.scenario_file import load_yaml
from ccn_gis.io.scenarios import check_scenario_file, read_province_scenario
from ccn_gis.io.sqlite_file import file_revision
from ccn_gis.language import Lang
from ccn_gis.notebook.raster import LandUseImage, landuse_raster_path, render_landuse
from ccn_gis.notebook.scenarios import scenario_id
from ccn_gis.notebook.source import (
    CLASS_COLUMNS,
    LandUseSource,
    NotFoundError,
    QueryError,
    Scope,
)
from ccn_gis.projection import project
from ccn_gis.publish import COLLECTIONS, layer_view
from ccn_gis.scenario import Scenario
from ccn_gis.scenario_check import CheckedScenario, cluster_changes, cluster_findings
from ccn_gis.settings import AppSettings


class LocalSource:
    """The GeoPackage ``layers`` (default ``$CCN_GIS_LAYERS``, else ``layers/thai_binh.gpkg``)."""

    def __init__(self, layers: str | Path | None = None) -> None:
        self.layers = layers

    @cached_property
    def dataset(self) -> Dataset:
        """The checked layers, read once per revision of the file (its store's)."""
        path = Path(self.layers if self.layers is not None else AppSettings().layers).resolve()
        if not path.is_file():
            return load_dataset(path)  # raises the library's DataSourceError
        return _load_cached(str(path), file_revision(path))

    def layer(self, name: str, /, *, where: Mapping[str, Any],
              page_size: int) -> gpd.GeoDataFrame:
        """Return :func:`ccn_gis.publish.layer_view` of ``name`` filtered by ``where``, in WGS84."""
        dataset = self.dataset
        try:
            view = layer_view(dataset, name)
        except KeyError as err:
            raise NotFoundError(
                f"no layer {name!r}; layers: {', '.join(COLLECTIONS)}") from err
        for key, value in where.items():
            if key not in view.columns:
                raise QueryError(
                    f"{name} has no field {key!r}; fields: {', '.join(view.columns)}")
            view = view[(view[key] == value).to_numpy()]
        view = view.reset_index(drop=True)
        attributes = pd.DataFrame(view.drop(columns="geometry", errors="ignore"))
        if "geometry" in view.columns:
            geoms = np.asarray(view.geometry.array, dtype=object)
            lonlat = transform_geometries(geoms, dataset.settings.area_crs, WGS84)
        else:
            lonlat = np.full(len(view), None, dtype=object)
        return gpd.GeoDataFrame(attributes, geometry=gpd.GeoSeries(lonlat, crs=WGS84))

    def figures(self, *, as_of: dt.date | None, scope: Scope) -> Any:
        """Return :func:`ccn_gis.figures.figures_json` of the layers."""
        return figures_json(self.dataset, as_of=as_of, by=scope)

    def cluster_figures(self, cluster_id: str, /) -> dict[str, Any]:
        """Return the figures of cluster ``cluster_id`` among those of every cluster."""
        for item in self.figures(as_of=None, scope="cluster"):
            if item["cluster_id"] == cluster_id:
                return cast(dict[str, Any], item)
        raise NotFoundError(f"no cluster {cluster_id!r} in the plan")

    def landuse(self, zones: str, /, *, source: LandUseSource,
                raster: str | Path | None) -> pd.DataFrame:
        """Return :func:`ccn_gis.io.landuse.landuse_table` over the raster or the plan."""
        dataset = self.dataset
        if source == "plan":
            return landuse_table(dataset, zones=zones, store=open_store(dataset.source))
        return landuse_table(dataset, zones=zones, raster=landuse_raster_path(dataset, raster))

    def landuse_classes(self, *, raster: str | Path | None) -> pd.DataFrame:
        """Return the class table beside the raster; empty when the province has none."""
        dataset = self.dataset
        if raster is None and default_raster_path(dataset) is None:
            rows = []
        else:
            opened = LandUseRaster.open(landuse_raster_path(dataset, raster))
            rows = [c.__dict__ for c in opened.table.classes]
        return pd.DataFrame(rows, columns=list(CLASS_COLUMNS))

    def landuse_picture(self, *, raster: str | Path | None) -> LandUseImage:
        """Return the raster rendered as one image (:meth:`landuse_image`)."""
        return self.landuse_image(raster=raster)

    def landuse_image(self, *, raster: str | Path | None, max_size: int = 2048,
                      alpha: int = 200) -> LandUseImage:
        """Return :func:`ccn_gis.notebook.raster.render_landuse` of the province's raster."""
        return render_landuse(landuse_raster_path(self.dataset, raster), max_size=max_size,
                              alpha=alpha)

    def scenario_list(self, *, folder: str | Path) -> pd.DataFrame:
        """Return the ``*.yaml`` files of ``folder`` with their ``name:`` (not checked)."""
        rows = []
        for path in sorted(Path(folder).glob("*.y*ml")):
            document, _ = load_yaml(path.read_text(encoding="utf-8"), source=str(path))
            name = document.get("name") if isinstance(document, dict) else None
            rows.append({"id": scenario_id(path), "name": name, "source": str(path)})
        return pd.DataFrame(rows, columns=["id", "name", "source"])

    def scenario_result(self, scenario: str | Path, /, *, lang: Lang) -> dict[str, Any]:
        """Return the scenario file checked as ``ccn-gis scenario check`` checks it.

        The province's rule settings, land use from its raster, else its
        ``landuse_plan`` layer.
        """
        dataset = self.dataset
        return _scenario_json(check_scenario_file(dataset, Path(scenario),
                                                  open_store(dataset.source), lang=lang))

    def scenario_clusters(self, scenario: str | Path, /, *,
                          result: Mapping[str, Any]) -> gpd.GeoDataFrame:
        """Return the plan at the horizon (:func:`ccn_gis.projection.project`), in WGS84.

        ``change``, ``change_year`` (:func:`ccn_gis.scenario_check.cluster_changes`) and
        ``findings`` (:func:`ccn_gis.scenario_check.cluster_findings` of ``result``) as the
        API's ``/scenarios/{id}/clusters`` gives them.
        """
        dataset = self.dataset
        checked = CheckedScenario.from_json(self._scenario(scenario), result)
        plan = project(dataset, checked.scenario).plan
        ids = [str(i) for i in plan.index]
        changes = cluster_changes(checked.scenario.changes)
        found = cluster_findings(checked.findings)
        attributes = pd.DataFrame({
            "cluster_id": ids, "name": plan["name"].tolist(),
            "admin_code": plan["admin_code"].tolist(), "kind": plan["kind"].tolist(),
            "change": [changes[i].kind.value if i in changes else None for i in ids],
            "change_year": [changes[i].year if i in changes else None for i in ids],
            "findings": [[r.value for r in found[i].rules] if i in found else [] for i in ids],
        })
        geoms = transform_geometries(np.asarray(plan["geometry"].tolist(), dtype=object),
                                     dataset.settings.area_crs, WGS84)
        return gpd.GeoDataFrame(attributes, geometry=gpd.GeoSeries(geoms, crs=WGS84))

    def _scenario(self, scenario: str | Path) -> Scenario:
        return read_province_scenario(self.dataset, Path(scenario))


def _scenario_json(checked: CheckedScenario) -> dict[str, Any]:
    """The library's scenario check as the command line prints it and the API sends it.

    Plain JSON values (no NaN), so a checked file and a server's answer compare equal.
    The one place the notebooks turn a check into its JSON.
    """
    return cast(dict[str, Any], json.loads(json.dumps(checked.to_json(), allow_nan=False)))


@lru_cache(maxsize=4)
def _load_cached(path: str, revision: str) -> Dataset:
    return load_dataset(path)
