"""Where land-use figures get their inputs: the raster beside the layers, the plan layer, zones.

``landuse_table`` is what the command line and the web API call.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataSourceError as _PyogrioSourceError

from ccn_gis.crs import transform_geometries
from ccn_gis.dataset import Dataset
from ccn_gis.io.raster import LandUseRaster, raster_class_areas
from ccn_gis.io.store import LayerStore
from ccn_gis.landuse import LandUseError, overlay_classes
from ccn_gis.publish import COLLECTIONS, layer_view

ZONE_LAYERS = ("clusters", "approved_extents", "parcels")
PLAN_LAYER = "landuse_plan"
_ID_FIELDS = ("zone_id", "id", "cluster_id", "parcel_id", "code", "name")


def default_raster_path(dataset: Dataset) -> Path | None:
    """The raster the province's settings name, else ``<layers>_landuse.tif`` if it exists."""
    source = Path(dataset.source)
    if dataset.settings.landuse_raster:
        return source.parent / dataset.settings.landuse_raster
    beside = source.with_name(f"{source.stem}_landuse.tif")
    return beside if beside.is_file() else None


def read_zones(dataset: Dataset, zones: str | Path) -> tuple[list[str], np.ndarray]:
    """Return zone ids and polygons in the area CRS: a layer of the dataset or a vector file.

    A file may be any format GDAL reads (GeoPackage, GeoJSON, Shapefile…) and must declare
    its CRS; its ids come from the first of ``zone_id``, ``id``, ``cluster_id``,
    ``parcel_id``, ``code``, ``name``, else the feature number.
    """
    if str(zones) in ZONE_LAYERS:
        view = layer_view(dataset, str(zones))
        ids = view[COLLECTIONS[str(zones)].id_field].astype(str).tolist()
        return ids, np.asarray(view.geometry.array, dtype=object)
    path = Path(zones)
    if not path.is_file():
        raise LandUseError(
            f"--zones {zones}: give clusters, approved_extents, parcels or a vector file; "
            f"no file {path}")
    try:
        frame = pyogrio.read_dataframe(path)
    except (_PyogrioSourceError, OSError) as err:
        raise LandUseError(f"{path}: not a readable vector file ({err})") from err
    if frame.crs is None:
        raise LandUseError(f"{path}: the zones have no coordinate reference system; set it")
    geoms = np.asarray(frame.geometry.array, dtype=object)
    bad = ~shapely.is_valid(geoms) | shapely.is_empty(geoms) | ~np.isin(
        shapely.get_type_id(geoms), [3, 6])
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise LandUseError(
            f"{path}: feature {first} is not a valid polygon "
            f"({shapely.is_valid_reason(geoms[first])}); {int(bad.sum())} such feature(s)")
    field = next((f for f in _ID_FIELDS if f in frame.columns), None)
    ids = (frame[field].astype(str).tolist() if field else [str(i) for i in range(len(frame))])
    return ids, transform_geometries(geoms, frame.crs, dataset.settings.area_crs)


def read_plan(store: LayerStore, dataset: Dataset) -> tuple[list[str], np.ndarray]:
    """Return the codes and polygons (area CRS) of the ``landuse_plan`` layer, checked."""
    if PLAN_LAYER not in store.layer_names():
        raise LandUseError(f"{store.source}: no layer {PLAN_LAYER!r}; add the vector land-use "
                           "plan with a field 'code' (LUC, SKN, …), or use --raster")
    layer = store.read_layer(PLAN_LAYER)
    if layer.crs is None:
        raise LandUseError(f"{PLAN_LAYER}: the layer has no coordinate reference system")
    if "code" not in layer.frame.columns:
        raise LandUseError(f"{PLAN_LAYER}: the field 'code' is missing")
    geoms = np.asarray(layer.frame.geometry.array, dtype=object)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        fid = layer.frame.index[np.flatnonzero(invalid)[0]]
        raise LandUseError(f"{PLAN_LAYER}: feature fid {fid}, field geometry: invalid "
                           f"({shapely.is_valid_reason(geoms[invalid][0])}); repair it")
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
