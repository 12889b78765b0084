"""Projection of a scenario year by year to its horizon.

From the state at the end of the base year (the newest records of the data), every year
applies the scenario's changes, makes new land leasable after a lag, and leases
industrial land at each cluster's absorption rate. Everything a rule needs — before and
after each change — is in the :class:`Projection`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from ccn_gis.budget import checkpoint
from ccn_gis.dataset import Dataset
from ccn_gis.figures import cluster_table
from ccn_gis.model import LandUse, Stage
from ccn_gis.occupancy import occupancy
from ccn_gis.scenario import ChangeKind, Scenario

HA = 10_000.0


@dataclass(frozen=True)
class NewLand:
    """Land a change adds to a cluster's established extent, and when it becomes leasable."""

    cluster_id: str
    year: int
    geometry: object  # area CRS
    area_ha: float
    leasable_from: int
    industrial_ha: float


@dataclass(frozen=True)
class Projection:
    """A scenario projected: per cluster and year, and the plan's geometries.

    ``clusters`` has one row per cluster and year from the base year to the horizon:
    ``in_plan``, ``established``, ``plan_ha``, ``established_ha``, ``industrial_ha``,
    ``leased_ha``, ``occupancy``, ``rate_ha_per_year``. ``plan`` holds every cluster
    the scenario ever has (with ``name``, ``admin_code``, ``kind``,
    ``infrastructure_complete``, ``geometry`` at the horizon).
    """

    scenario: Scenario
    clusters: pd.DataFrame
    plan: pd.DataFrame
    new_land: tuple[NewLand, ...]
    established_geometry: dict[str, object]  # at the horizon


def historical_rates(dataset: Dataset, /, *, base_year: int, years: int) -> pd.Series:
    """Leased hectares per year of each cluster over the ``years`` years up to ``base_year``.

    Examples
    --------
    >>> from ccn_gis.io import load_dataset
    >>> dataset = load_dataset("layers/thai_binh.gpkg")
    >>> round(float(historical_rates(dataset, base_year=2024, years=5)["TB-06"]), 2)
    2.8
    """
    parcels = dataset.parcels
    leased = parcels[(parcels["land_use"] == LandUse.INDUSTRIAL.value)
                     & parcels["project_id"].notna() & parcels["leased_on"].notna()]
    year = leased["leased_on"].dt.year
    window = leased[(year > base_year - years) & (year <= base_year)]
    rates = window.groupby("cluster_id")["area_ha"].sum() / years
    return rates.reindex(dataset.clusters["cluster_id"]).fillna(0.0)


def _absorption(dataset: Dataset, scenario: Scenario, ids: list[str]) -> dict[str, float]:
    history = historical_rates(dataset, base_year=scenario.base_year,
                               years=scenario.absorption.years or 5)
    positive = history[history > 0]
    fallback = float(positive.mean()) if len(positive) else 0.0
    given = scenario.absorption.rates
    rates = {}
    for cid in ids:
        if cid in given:
            rates[cid] = float(given[cid])
        elif "default" in given:
            rates[cid] = float(given["default"])
        elif cid in history.index and history[cid] > 0:
            rates[cid] = float(history[cid])
        else:  # a new cluster has no history: the mean of the clusters that lease
            rates[cid] = fallback if _is_new(dataset, cid) else 0.0
    return rates


def _is_new(dataset: Dataset, cid: str) -> bool:
    extents = dataset.approved_extents
    return not (extents["cluster_id"] == cid).any()


def project(dataset: Dataset, scenario: Scenario, /) -> Projection:
    """Project ``scenario`` from its base year to its horizon."""
    base_end = dt.date(scenario.base_year, 12, 31)
    table = cluster_table(dataset, as_of=base_end)
    clusters = dataset.clusters.set_index("cluster_id")
    plan = pd.DataFrame({
        "name": clusters["name"], "admin_code": clusters["admin_code"],
        "kind": clusters["kind"], "infrastructure_complete": clusters["infrastructure_complete"],
        "geometry": clusters.geometry, "added_in": None, "removed_in": None,
    })
    extents = dataset.approved_extents
    established = extents[(extents["stage"] == Stage.ESTABLISHMENT.value)
                          & (extents["decided_on"] <= pd.Timestamp(base_end))]
    est_geom: dict[str, object] = {
        cid: shapely.union_all(np.asarray(group.geometry.array, dtype=object))
        for cid, group in established.groupby("cluster_id")
    }
    added = [c for c in scenario.changes if c.kind is ChangeKind.ADD]
    if added:  # one concatenation: a row at a time would copy the plan for every addition
        plan = pd.concat([plan, pd.DataFrame([{
            "name": c.attributes["name"], "admin_code": c.attributes["admin_code"],
            "kind": c.attributes["kind"], "infrastructure_complete": False,
            "geometry": c.geometry, "added_in": c.year, "removed_in": None,
        } for c in added], index=pd.Index([c.cluster_id for c in added]),
            columns=plan.columns, dtype=object)])
    for change in scenario.changes:  # a removal names a cluster already there or added
        if change.kind is ChangeKind.REMOVE:
            plan.loc[change.cluster_id, "removed_in"] = change.year or scenario.base_year
    ids = list(plan.index)
    rates = _absorption(dataset, scenario, ids)
    industrial = table["industrial_ha"].reindex(ids).fillna(0.0).to_dict()
    leased = table["leased_ha"].reindex(ids).fillna(0.0).to_dict()
    geometry = plan["geometry"].to_dict()
    new_land: list[NewLand] = []
    gains: dict[tuple[str, int], float] = {}  # industrial land by cluster and leasable year
    rows = []
    lag, share = scenario.rules.lease_lag_years, scenario.rules.industrial_share
    for year in range(scenario.base_year, scenario.horizon + 1):
        checkpoint()
        for change in (c for c in scenario.changes if c.year == year):
            cid = change.cluster_id
            if change.kind is ChangeKind.REMOVE:
                continue
            before = est_geom.get(cid)
            if change.kind is ChangeKind.ESTABLISH:
                added = geometry[cid]
            else:
                added = change.geometry
                geometry[cid] = shapely.union_all([geometry[cid], added]) if change.kind is \
                    ChangeKind.EXPAND else added
            after = added if before is None else shapely.union_all([before, added])
            fresh = added if before is None else shapely.difference(added, before)
            area = shapely.area(fresh) / HA
            est_geom[cid] = after
            if area > 0:
                land = NewLand(cid, year, fresh, area, year + lag, area * share)
                new_land.append(land)
                key = (cid, land.leasable_from)
                gains[key] = gains.get(key, 0) + land.industrial_ha
        checkpoint()
        for cid in ids:
            removed = plan.at[cid, "removed_in"]
            added_in = plan.at[cid, "added_in"]
            in_plan = (removed is None or pd.isna(removed) or year < removed) and (
                added_in is None or pd.isna(added_in) or year >= added_in)
            gained = gains.get((cid, year), 0)
            if year > scenario.base_year:
                industrial[cid] += gained
                if in_plan and cid in est_geom:
                    leased[cid] = min(industrial[cid], leased[cid] + rates[cid])
            ind, lea = industrial[cid], leased[cid]
            rows.append({
                "year": year, "cluster_id": cid, "admin_code": plan.at[cid, "admin_code"],
                "in_plan": bool(in_plan), "established": bool(in_plan and cid in est_geom),
                "plan_ha": shapely.area(geometry[cid]) / HA if in_plan else 0.0,
                "established_ha": shapely.area(est_geom[cid]) / HA
                if in_plan and cid in est_geom else 0.0,
                "industrial_ha": ind if in_plan else 0.0, "leased_ha": lea if in_plan else 0.0,
                "occupancy": occupancy(lea, ind) if in_plan else None,
                "rate_ha_per_year": rates[cid],
            })
    plan["geometry"] = pd.Series(geometry)
    return Projection(scenario, pd.DataFrame(rows), plan, tuple(new_land), est_geom)


def unit_table(projection: Projection, /, *, mean: str = "mean") -> pd.DataFrame:
    """Per unit and year: established clusters, industrial, leased and unleased land and the
    average occupancy the new-cluster gate looks at (``mean`` of rates or ``area_weighted``)."""
    rows = projection.clusters[projection.clusters["established"]]
    records = []
    for (year, unit), group in rows.groupby(["year", "admin_code"]):
        rated = group[group["industrial_ha"] > 0]
        if mean == "area_weighted":
            average = rated["leased_ha"].sum() / rated["industrial_ha"].sum() if len(rated) \
                else None
        else:
            average = float(rated["occupancy"].astype(float).mean()) if len(rated) else None
        records.append({
            "year": int(year), "admin_code": unit, "clusters": int(len(group)),
            "industrial_ha": float(group["industrial_ha"].sum()),
            "leased_ha": float(group["leased_ha"].sum()),
            "unleased_ha": float((group["industrial_ha"] - group["leased_ha"]).sum()),
            "average_occupancy": average,
        })
    return pd.DataFrame.from_records(records, columns=[
        "year", "admin_code", "clusters", "industrial_ha", "leased_ha", "unleased_ha",
        "average_occupancy"])
