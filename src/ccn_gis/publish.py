"""The layers as users see them: stored fields plus the attributes they expect computed.

Every interface that hands out features (the web API, downloads, notebooks) takes
them from :func:`layer_view`, so a cluster's area or occupancy is the same number
everywhere and always comes from geometry. The vocabularies of the computed attributes,
:class:`~ccn_gis.model.ClusterStage` and :class:`~ccn_gis.model.LeaseStatus`, live in
:mod:`ccn_gis.model`; this module re-exports them, and their values as :data:`STAGES`
and :data:`LEASE_STATUSES`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccn_gis.dataset import Dataset
from ccn_gis.figures import cluster_table
from ccn_gis.model import ClusterStage, LandUse, LeaseStatus
from ccn_gis.occupancy import rates
from ccn_gis.texts import text


@dataclass(frozen=True)
class Collection:
    """A published layer: its name, id field, titles and the field its dates filter on.

    Its titles are the catalogue's ``collection.<name>`` (:mod:`ccn_gis.texts`).

    Examples
    --------
    >>> COLLECTIONS["parcels"].title_en
    'Land parcels'
    """

    name: str
    id_field: str
    has_geometry: bool
    date_field: str | None

    @property
    def title_vi(self) -> str:
        """The layer's Vietnamese title."""
        return text(f"collection.{self.name}", "vi")

    @property
    def title_en(self) -> str:
        """The layer's English title."""
        return text(f"collection.{self.name}", "en")


COLLECTIONS: dict[str, Collection] = {
    c.name: c
    for c in (
        Collection("admin_units", "code", True, "valid_from"),
        Collection("clusters", "cluster_id", True, "operating_since"),
        Collection("approved_extents", "extent_id", True, "decided_on"),
        Collection("parcels", "parcel_id", True, "leased_on"),
        Collection("promotion_activities", "activity_id", True, None),
        Collection("projects", "project_id", False, "registered_on"),
    )
}


STAGES: tuple[str, ...] = ClusterStage.values()
"""The values of :class:`~ccn_gis.model.ClusterStage`, in order."""

LEASE_STATUSES: tuple[str, ...] = LeaseStatus.values()
"""The values of :class:`~ccn_gis.model.LeaseStatus`, in order."""


def layer_view(
    dataset: Dataset, name: str, /, *, as_of: dt.date | None = None
) -> pd.DataFrame:
    """Return layer ``name`` with its computed attributes, geometries in the area CRS.

    - every polygon layer: ``area_ha`` from geometry;
    - ``clusters``: ``stage`` (a :class:`ClusterStage`), ``established``,
      ``detailed_plan``, ``operating`` (booleans), ``established_ha``,
      ``detailed_plan_ha``, ``industrial_ha``, ``leased_ha``, ``occupancy`` and
      ``projects`` as of ``as_of``;
    - ``parcels``: ``lease_status`` (a :class:`LeaseStatus`);
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
        frame["lease_status"] = np.select(
            [leased, industrial], [LeaseStatus.LEASED.value, LeaseStatus.VACANT.value],
            LeaseStatus.NOT_FOR_LEASE.value)
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
    frame["stage"] = np.select(  # the cluster's stage, furthest first
        [operating, detailed, established],
        [ClusterStage.OPERATING.value, ClusterStage.DETAILED_PLAN.value,
         ClusterStage.ESTABLISHED.value], ClusterStage.PLANNED.value)
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

