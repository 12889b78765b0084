"""The layers as users see them: stored fields plus the attributes they expect computed.

Every interface that hands out features (the web API, downloads, notebooks) takes
them from :func:`layer_view`, so a cluster's area or occupancy is the same number
everywhere and always comes from geometry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccn_gis.dataset import Dataset
from ccn_gis.figures import cluster_table
from ccn_gis.model import LandUse
from ccn_gis.occupancy import rates


@dataclass(frozen=True)
class Collection:
    """A published layer: its name, id field, titles and the field its dates filter on."""

    name: str
    id_field: str
    title_vi: str
    title_en: str
    has_geometry: bool
    date_field: str | None


COLLECTIONS: dict[str, Collection] = {
    c.name: c
    for c in (
        Collection("admin_units", "code", "Đơn vị hành chính", "Administrative units", True,
                   "valid_from"),
        Collection("clusters", "cluster_id", "Cụm công nghiệp", "Industrial clusters", True,
                   "operating_since"),
        Collection("approved_extents", "extent_id", "Phạm vi được phê duyệt", "Approved extents",
                   True, "decided_on"),
        Collection("parcels", "parcel_id", "Lô đất", "Land parcels", True, "leased_on"),
        Collection("promotion_activities", "activity_id", "Hoạt động khuyến công",
                   "Industrial promotion activities", True, None),
        Collection("projects", "project_id", "Dự án đầu tư", "Investment projects", False,
                   "registered_on"),
    )
}

STAGES = ("planned", "established", "detailed_plan", "operating")
"""A cluster's furthest stage, in order: what the maps colour clusters by."""

LEASE_STATUSES = ("leased", "vacant", "not_for_lease")
"""A parcel's lease status: industrial and leased, industrial and free, or other land."""


def layer_view(
    dataset: Dataset, name: str, /, *, as_of: dt.date | None = None
) -> pd.DataFrame:
    """Return layer ``name`` with its computed attributes, geometries in the area CRS.

    - every polygon layer: ``area_ha`` from geometry;
    - ``clusters``: ``stage`` (furthest of :data:`STAGES`), ``established``,
      ``detailed_plan``, ``operating`` (booleans), ``established_ha``,
      ``detailed_plan_ha``, ``industrial_ha``, ``leased_ha``, ``occupancy`` and
      ``projects`` as of ``as_of``;
    - ``parcels``: ``lease_status`` (one of :data:`LEASE_STATUSES`);
    - ``approved_extents``: ``extent_id``, the stored feature id.

    Raises
    ------
    KeyError
        When ``name`` is not a published layer.
    """
    if name not in COLLECTIONS:
        raise KeyError(name)
    frame = getattr(dataset, name).copy()
    if name == "clusters":
        frame = _with_cluster_figures(frame, dataset, as_of)
    elif name == "parcels":
        industrial = frame["land_use"] == LandUse.INDUSTRIAL.value
        leased = industrial & frame["project_id"].notna()
        if as_of is not None:
            leased &= frame["leased_on"].isna() | (frame["leased_on"] <= pd.Timestamp(as_of))
        frame["lease_status"] = np.select([leased, industrial], ["leased", "vacant"],
                                          "not_for_lease")
    elif name == "approved_extents":
        frame.insert(0, "extent_id", frame.index.astype(str))
    if "geometry" in frame.columns:  # the geometry column last, as desktop GIS shows it
        frame = frame[[c for c in frame.columns if c != "geometry"] + ["geometry"]]
    return frame


def _with_cluster_figures(
    frame: pd.DataFrame, dataset: Dataset, as_of: dt.date | None
) -> pd.DataFrame:
    table = cluster_table(dataset, as_of=as_of).reindex(frame["cluster_id"].to_numpy())
    established = table["established"].to_numpy() > 0
    detailed = table["detailed_plan"].to_numpy() > 0
    operating = table["operating"].to_numpy() > 0
    frame["stage"] = np.select([operating, detailed, established],
                               ["operating", "detailed_plan", "established"], "planned")
    frame["established"] = established
    frame["detailed_plan"] = detailed
    frame["operating"] = operating
    frame["established_ha"] = table["established_ha"].to_numpy()
    frame["detailed_plan_ha"] = table["detailed_plan_ha"].to_numpy()
    frame["industrial_ha"] = table["industrial_ha"].to_numpy()
    frame["leased_ha"] = table["leased_ha"].to_numpy()
    frame["occupancy"] = rates(table["leased_ha"].to_numpy(), table["industrial_ha"].to_numpy())
    frame["projects"] = table["projects"].to_numpy().astype(int)
    return frame


def id_field(name: str) -> str:
    """Return the field that identifies a feature of collection ``name``."""
    return COLLECTIONS[name].id_field

