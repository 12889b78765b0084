"""Where land-use figures get their inputs: the raster beside the layers, the plan layer, zones.

``landuse_table`` is what the command line and the web API call.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError
from pyogrio.errors import DataSourceError as _PyogrioSourceError

from ccn_gis.crs import transform_geometries
from ccn_gis.dataset import Dataset
from ccn_gis.io.raster import LandUseRaster, raster_class_areas
from ccn_gis.io.store import LayerStore
from ccn_gis.landuse import LandUseError, overlay_classes
from ccn_gis.model import LAYERS, SETTINGS_TABLE
from ccn_gis.publish import COLLECTIONS, layer_view

ZONE_LAYERS = ("clusters", "approved_extents", "parcels")
PLAN_LAYER = "landuse_plan"
_ID_FIELDS = ("zone_id", "id", "cluster_id", "parcel_id", "code", "name")
_POLYGONS = (3, 6)  # shapely's type ids of Polygon and MultiPolygon
_CHOICES = "use clusters, approved_extents or parcels, or a vector file of polygons"
_READ_ERRORS = (_PyogrioSourceError, DataLayerError, OSError, ValueError, RuntimeError,
                shapely.errors.GEOSException)


def default_raster_path(dataset: Dataset) -> Path | None:
    """The raster the province's settings name, else ``<layers>_landuse.tif`` if it exists."""
    source = Path(dataset.source)
    if dataset.settings.landuse_raster:
        return source.parent / dataset.settings.landuse_raster
    beside = source.with_name(f"{source.stem}_landuse.tif")
    return beside if beside.is_file() else None


def _kind(geometry_type: str | None) -> str:
    """What a layer of this GDAL geometry type holds, in words ("points", "polygons"…)."""
    if geometry_type is None:
        return "no geometry (it is a table)"
    lowered = geometry_type.lower()
    for word, kind in (("point", "points"), ("line", "lines"), ("polygon", "polygons")):
        if word in lowered:
            return kind
    return f"geometries of type {geometry_type}"


def _polygon_problem(geoms: np.ndarray, where: Callable[[int], str]) -> str | None:
    """Why some of ``geoms`` cannot be zones (the first such and how many), else None."""
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    type_ids = shapely.get_type_id(geoms)
    wrong = ~missing & ~np.isin(type_ids, _POLYGONS)
    invalid = ~missing & ~wrong & ~shapely.is_valid(geoms)
    for mask, say in (
        (missing, lambda i: "has no geometry (or an empty one)"),
        (wrong, lambda i: f"is a {getattr(geoms[i], 'geom_type', 'geometry')}, not a "
                          "polygon; zones need polygons"),
        (invalid, lambda i: f"is not a valid polygon ({shapely.is_valid_reason(geoms[i])}); "
                            "repair it in QGIS (Vector ▸ Geometry Tools ▸ Fix Geometries)"),
    ):
        if mask.any():
            first = int(np.flatnonzero(mask)[0])
            return f"{where(first)} {say(first)}; {int(mask.sum())} such feature(s)"
    return None


def _zone_layer(path: Path) -> tuple[str, str | None]:
    """The layer of a zones file: its only layer, or its only layer of polygons."""
    try:
        with warnings.catch_warnings():  # GDAL's notes on odd files: the checks below speak
            warnings.simplefilter("ignore")
            listed = [(str(n), None if t is None else str(t))
                      for n, t in pyogrio.list_layers(path)]
    except _READ_ERRORS as err:
        raise LandUseError(f"{path}: not a readable vector file ({err}); open it in QGIS to "
                           "check, or export the zones again as GeoPackage or GeoJSON") from err
    if not listed:
        raise LandUseError(f"{path}: the file has no layers; export the zones into it")
    if len(listed) == 1:
        return listed[0]
    polygons = [layer for layer in listed if _kind(layer[1]) == "polygons"]
    if len(polygons) == 1:
        return polygons[0]
    raise LandUseError(
        f"{path}: the file has {len(listed)} layers ({', '.join(n for n, _ in listed)}), "
        f"{len(polygons)} of them of polygons; zones are read from a file with one layer "
        "of polygons: export the zones layer alone (QGIS: Export ▸ Save Features As…)")


def read_zones(dataset: Dataset, zones: str | Path) -> tuple[list[str], np.ndarray]:
    """Return zone ids and polygons in the area CRS: a layer of the dataset or a vector file.

    A file may be any format GDAL reads (GeoPackage, GeoJSON, Shapefile…) with one layer
    of polygons (or one such layer among tables and other geometries), and must declare
    its CRS; its ids come from the first of ``zone_id``, ``id``, ``cluster_id``,
    ``parcel_id``, ``code``, ``name``, else the feature number.

    Raises
    ------
    LandUseError
        Naming the layer or file, and the feature, that cannot be zones: a layer without
        polygons, a missing, empty or unreadable file, no CRS, points or lines, invalid
        polygons.
    """
    name = str(zones)
    if name in ZONE_LAYERS:
        view = layer_view(dataset, name)
        ids = view[COLLECTIONS[name].id_field].astype(str).tolist()
        return ids, np.asarray(view.geometry.array, dtype=object)
    if name in LAYERS or name in (SETTINGS_TABLE, PLAN_LAYER):
        spec = LAYERS.get(name)
        holds = _kind(spec.geometry if spec else None if name == SETTINGS_TABLE else "polygon")
        raise LandUseError(f"--zones {name}: the layer {name!r} holds {holds}, and it is not "
                           f"one of the zone layers; {_CHOICES}")
    path = Path(zones)
    if path.is_dir():
        raise LandUseError(f"--zones {zones}: this is a folder; {_CHOICES} (GeoPackage, "
                           "GeoJSON, Shapefile…)")
    if not path.is_file():
        raise LandUseError(f"--zones {zones}: no layer or file of that name; {_CHOICES}")
    if path.stat().st_size == 0:
        raise LandUseError(f"{path}: the file is empty (0 bytes); export the zones again")
    layer, geometry_type = _zone_layer(path)
    where = f"{path}, layer {layer!r}"
    if _kind(geometry_type) != "polygons" and geometry_type not in ("Unknown", "Geometry"):
        raise LandUseError(f"{where}: the layer holds {_kind(geometry_type)}, and zones need "
                           "polygons; give a layer of polygons")
    try:
        with warnings.catch_warnings():  # GDAL's notes on odd files: the checks below speak
            warnings.simplefilter("ignore")
            frame = pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)
    except _READ_ERRORS as err:
        raise LandUseError(f"{where}: cannot be read ({err}); open it in QGIS to check, or "
                           "export the zones again as GeoPackage or GeoJSON") from err
    if not isinstance(frame, gpd.GeoDataFrame):
        raise LandUseError(f"{where}: the layer has no geometry; zones need polygons")
    if frame.empty:
        raise LandUseError(f"{where}: the layer has no features; draw the zones first")
    if frame.crs is None:
        raise LandUseError(f"{where}: the zones have no coordinate reference system; set it "
                           "(QGIS: Layer Properties ▸ Source ▸ Assigned CRS) and export again")
    geoms = np.asarray(frame.geometry.array, dtype=object)
    fids = frame.index
    problem = _polygon_problem(geoms, lambda i: f"{where}: feature fid {fids[i]}")
    if problem:
        raise LandUseError(problem)
    field = next((f for f in _ID_FIELDS if f in frame.columns), None)
    ids = (frame[field].astype(str).tolist() if field else [str(i) for i in range(len(frame))])
    moved = transform_geometries(geoms, frame.crs, dataset.settings.area_crs)
    bounds = shapely.bounds(moved)
    outside = ~np.isfinite(bounds).all(axis=1)
    if outside.any():
        first = int(np.flatnonzero(outside)[0])
        raise LandUseError(f"{where}: feature fid {fids[first]} cannot be placed in the "
                           f"province's system {dataset.settings.area_crs} (its coordinates do "
                           f"not fit the zones' CRS {frame.crs.to_string()}); check the CRS")
    return ids, moved


def read_plan(store: LayerStore, dataset: Dataset) -> tuple[list[str], np.ndarray]:
    """Return the codes and polygons (area CRS) of the ``landuse_plan`` layer, checked."""
    if PLAN_LAYER not in store.layer_names():
        raise LandUseError(f"{store.source}: no layer {PLAN_LAYER!r}; add the vector land-use "
                           "plan with a field 'code' (LUC, SKN, …), or use --raster")
    layer = store.read_layer(PLAN_LAYER)
    if layer.geometry_type is None or not isinstance(layer.frame, gpd.GeoDataFrame):
        raise LandUseError(f"{PLAN_LAYER}: the layer has no geometry; the land-use plan is a "
                           "layer of polygons with a field 'code'")
    if layer.crs is None:
        raise LandUseError(f"{PLAN_LAYER}: the layer has no coordinate reference system")
    if "code" not in layer.frame.columns:
        raise LandUseError(f"{PLAN_LAYER}: the field 'code' is missing")
    geoms = np.asarray(layer.frame.geometry.array, dtype=object)
    fids = layer.frame.index
    problem = _polygon_problem(
        geoms, lambda i: f"{PLAN_LAYER}: feature fid {fids[i]}, field geometry:")
    if problem:
        raise LandUseError(problem)
    codes = layer.frame["code"].astype(str).tolist()
    return codes, transform_geometries(geoms, layer.crs, dataset.settings.area_crs)


def landuse_table(
    dataset: Dataset,
    /,
    *,
    zones: str | Path,
    raster: str | Path | None = None,
    store: LayerStore | None = None,
) -> pd.DataFrame:
    """Hectares of each land-use class in each zone, from the raster or (with ``store``) the plan.

    Raises
    ------
    LandUseError
        When the inputs are missing or malformed.
    """
    ids, geoms = read_zones(dataset, zones)
    if store is not None:
        codes, plan = read_plan(store, dataset)
        return overlay_classes(ids, geoms, codes, plan)
    path = Path(raster) if raster else default_raster_path(dataset)
    if path is None:
        raise LandUseError(
            f"{dataset.source}: no land-use raster; give --raster PATH, set landuse_raster "
            "in the province settings, or use the vector plan (--plan-layer landuse_plan)")
    return raster_class_areas(LandUseRaster.open(path), geoms, zone_ids=ids,
                              area_crs=dataset.settings.area_crs)


def land_use_measure(
    dataset: Dataset, store: LayerStore | None = None
) -> Callable[[list[object]], pd.DataFrame] | None:
    """A function giving land use under geometries: from the raster, else the plan layer.

    ``None`` when the province has neither.
    """
    path = default_raster_path(dataset)
    if path is not None:
        raster = LandUseRaster.open(path)

        def from_raster(geoms: list[object]) -> pd.DataFrame:
            return raster_class_areas(raster, np.asarray(geoms, dtype=object),
                                      zone_ids=[str(i) for i in range(len(geoms))],
                                      area_crs=dataset.settings.area_crs)

        return from_raster
    if store is not None and PLAN_LAYER in store.layer_names():
        codes, plan = read_plan(store, dataset)

        def from_plan(geoms: list[object]) -> pd.DataFrame:
            return overlay_classes([str(i) for i in range(len(geoms))],
                                   np.asarray(geoms, dtype=object), codes, plan)

        return from_plan
    return None
