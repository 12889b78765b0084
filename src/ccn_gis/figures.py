"""The derived figures of DATA_MODEL.md, for the province, per unit and per cluster.

Everything is computed from geometry and records as of a date: an extent counts
from its ``decided_on``, a cluster operates from ``operating_since``, a parcel
exists from its cluster's first detailed-plan decision and is leased from its
``leased_on``, a project counts from its ``registered_on``. ``as_of=None`` counts
every record, whatever its date.

The work is done once per cluster (:func:`cluster_table`); the province's and the
units' figures are sums of the clusters', so the three levels always agree.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely

from ccn_gis.dataset import Dataset
from ccn_gis.model import LandUse, Programme, ProjectStatus, Stage
from ccn_gis.occupancy import rate


@dataclass(frozen=True)
class StageFigure:
    """How many clusters reached a stage and their area in hectares."""

    count: int
    area_ha: float


@dataclass(frozen=True)
class ProjectFigures:
    """Investment projects: counts, capital (billion VND) and workers."""

    count: int
    by_status: dict[str, int]
    registered_capital_bn_vnd: float
    implemented_capital_bn_vnd: float
    capital_realisation: float | None
    registered_workers: int
    workers: int


@dataclass(frozen=True)
class ProgrammeFigures:
    """Industrial promotion (khuyến công) of one programme."""

    activities: int
    participants: int
    facilities: int
    budget_mil_vnd: float


@dataclass(frozen=True)
class Figures:
    """Every derived figure of one scope (the province, a unit or a cluster).

    Rates are fractions (0.413), ``None`` when their denominator is zero; areas are
    unrounded hectares. ``promotion`` is ``None`` for a cluster: promotion
    activities belong to administrative units.
    """

    planned: StageFigure
    established: StageFigure
    detailed_plan: StageFigure
    operating: StageFigure
    industrial_ha: float
    leased_ha: float
    occupancy: float | None
    recovered_industrial_ha: float
    occupancy_recovered: float | None
    projects: ProjectFigures
    promotion: dict[str, ProgrammeFigures] | None

    def to_dict(self) -> dict:
        """Return the figures with the keys of DATA_MODEL.md, ready for JSON."""
        return _plain(self)


def _plain(value: Any) -> Any:
    """Dataclasses as dicts, all the way down (``asdict`` without its deep copies)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class ScopedFigures:
    """Figures of one administrative unit or one cluster, with what names it."""

    key: str  # "admin_code" or "cluster_id"
    code: str
    name: str
    figures: Figures
    admin_code: str | None = None

    def to_dict(self) -> dict:
        """Return ``{admin_code|cluster_id, name, …figures}`` for JSON."""
        head: dict = {self.key: self.code, "name": self.name}
        if self.key == "cluster_id":
            head["admin_code"] = self.admin_code
        return head | self.figures.to_dict()


@dataclass(frozen=True)
class ProvinceFigures:
    """The province's figures as of a date, with what names them: its name, the date
    (``None``: every record) and the area CRS the hectares are measured in."""

    province: str
    as_of: dt.date | None
    area_crs: str
    figures: Figures

    def to_dict(self) -> dict:
        """Return ``{province, as_of, area_crs, …figures}`` for JSON, the date as ISO text."""
        head = {
            "province": self.province,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "area_crs": self.area_crs,
        }
        return head | self.figures.to_dict()


_SUMS = (
    "planned_ha", "established", "established_ha", "detailed_plan", "detailed_plan_ha",
    "operating", "operating_ha", "industrial_ha", "leased_ha", "recovered_industrial_ha",
    "leased_recovered_ha", "projects", "registered_capital_bn_vnd",
    "implemented_capital_bn_vnd", "registered_workers", "workers",
    *(f"status_{s.value}" for s in ProjectStatus),
)


def _cutoff(as_of: dt.date | None) -> pd.Timestamp | None:
    """The end of ``as_of`` as a timestamp; a year pandas cannot hold (before 1678, after
    2261) becomes the earliest or latest timestamp, which gives the same figures."""
    if as_of is None:
        return None
    if as_of < pd.Timestamp.min.date():
        return pd.Timestamp.min
    if as_of > pd.Timestamp.max.date():
        return pd.Timestamp.max
    return pd.Timestamp(as_of)


def _on_or_before(dates: pd.Series, cutoff: pd.Timestamp | None) -> pd.Series:
    """Whether each dated record counts by ``cutoff``; undated records always count."""
    if cutoff is None:
        return pd.Series(True, index=dates.index)
    return dates.isna() | (dates <= cutoff)


def _union_area_by_cluster(extents: pd.DataFrame) -> pd.Series:
    """Area (ha) of the union of each cluster's extents; overlaps count once."""
    if extents.empty:
        return pd.Series(dtype="float64")
    sizes = extents.groupby("cluster_id")["area_ha"].agg(["size", "sum"])
    areas = sizes["sum"].astype("float64")
    for cid in sizes.index[sizes["size"] > 1]:
        geoms = np.asarray(extents.geometry[extents["cluster_id"] == cid].array, dtype=object)
        areas[cid] = shapely.area(shapely.union_all(geoms)) / 10_000.0
    return areas


def cluster_table(dataset: Dataset, /, *, as_of: dt.date | None = None) -> pd.DataFrame:
    """Return one row per planned cluster with every additive quantity as of ``as_of``.

    The columns are counts (0/1 per cluster for stages), hectares and sums; the
    province's and the units' figures are sums of these rows.

    Examples
    --------
    >>> from ccn_gis.io import load_dataset
    >>> dataset = load_dataset("layers/thai_binh.gpkg")
    >>> table = cluster_table(dataset, as_of=dt.date(2020, 12, 31))
    >>> round(float(table.loc["TB-01", "established_ha"]), 2)
    13.57
    """
    return cluster_tables(dataset).get(dataset, as_of).copy()


CLUSTER_TABLES_KEPT = 64
"""Cluster tables kept per dataset, besides the one of every record (``as_of=None``)."""
_EVENT_DATES = (("approved_extents", "decided_on"), ("clusters", "operating_since"),
                ("parcels", "leased_on"), ("projects", "registered_on"))
"""Every date :func:`_cluster_table` compares the cut-off with."""


class ClusterTables:
    """The cluster tables of one dataset, computed once per distinct table and kept in a
    bounded LRU.

    A dataset never changes (a new revision of the store is a new dataset), so a table
    is kept; but a server asked for thousands of dates must not keep thousands of
    tables: at most :attr:`maxsize` are kept (the least recently used go first), besides
    the table of every record, always kept.

    Two dates between which no record is dated give the same table: a date is first
    brought back to the latest record date on or before it (:meth:`key`), so that
    ``1901-01-01`` and ``1950-06-30`` share one table, as do every date after the
    newest record. Threads asking for the same table at once compute it once.
    """

    def __init__(self, maxsize: int = CLUSTER_TABLES_KEPT) -> None:
        self.maxsize = maxsize
        self.computations = 0
        """Tables computed so far."""
        self._lock = threading.Lock()
        self._tables: OrderedDict[Any, pd.DataFrame] = OrderedDict()
        self._computing: dict[Any, threading.Lock] = {}
        self._events: np.ndarray | None = None
        self._comparable = True

    def __len__(self) -> int:
        """Tables kept, the table of every record included."""
        return len(self._tables)

    def key(self, dataset: Dataset, as_of: dt.date | None) -> Any:
        """What identifies the table of ``as_of``: the latest record date on or before it
        (``"before"`` when there is none), ``None`` for every record."""
        if as_of is None:
            return None
        if self._events is None:
            self._events = self._event_dates(dataset)
        if not self._comparable:
            return as_of
        day = np.datetime64(as_of, "D")  # days: no overflow for any year from 1 to 9999
        position = int(np.searchsorted(self._events, day, side="right"))
        return "before" if position == 0 else self._events[position - 1].astype(dt.date)

    def _event_dates(self, dataset: Dataset) -> np.ndarray:
        parts = []
        for layer, column in _EVENT_DATES:
            values = getattr(dataset, layer)[column]
            if not pd.api.types.is_datetime64_any_dtype(values) or values.dt.tz is not None:
                self._comparable = False  # not plain dates: every day is a table of its own
                return np.empty(0, dtype="datetime64[D]")
            present = values.dropna()
            if (present != present.dt.normalize()).any():
                self._comparable = False  # times of day: likewise
                return np.empty(0, dtype="datetime64[D]")
            if len(present):
                parts.append(present.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]"))
        return np.unique(np.concatenate(parts)) if parts else np.empty(0, "datetime64[D]")

    def get(self, dataset: Dataset, as_of: dt.date | None) -> pd.DataFrame:
        """The table of ``as_of`` (not a copy: do not change it)."""
        key = self.key(dataset, as_of)
        with self._lock:
            if key in self._tables:
                self._tables.move_to_end(key)
                return self._tables[key]
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:  # one computation per table; the others wait for it
            with self._lock:
                if key in self._tables:
                    return self._tables[key]
            try:
                table = _cluster_table(dataset, as_of)
            finally:
                with self._lock:
                    self._computing.pop(key, None)
            with self._lock:
                self.computations += 1
                self._tables[key] = table
                dated = [k for k in self._tables if k is not None]
                for old in dated[:max(len(dated) - self.maxsize, 0)]:
                    del self._tables[old]
            return table


def cluster_tables(dataset: Dataset) -> ClusterTables:
    """The cluster tables of ``dataset`` (kept in ``dataset.derived``)."""
    tables = dataset.derived.get("cluster_tables")
    if tables is None:
        tables = dataset.derived.setdefault("cluster_tables", ClusterTables())
    return tables  # type: ignore[no-any-return]


def _cluster_table(dataset: Dataset, as_of: dt.date | None) -> pd.DataFrame:
    cutoff = _cutoff(as_of)
    clusters = dataset.clusters
    table = pd.DataFrame(index=pd.Index(clusters["cluster_id"], name="cluster_id"))
    table["name"] = clusters["name"].to_numpy()
    table["admin_code"] = clusters["admin_code"].to_numpy()
    table["planned_ha"] = clusters["area_ha"].to_numpy()

    extents = dataset.approved_extents
    decided = extents[_on_or_before(extents["decided_on"], cutoff).to_numpy()]
    stages = ((Stage.ESTABLISHMENT, "established"), (Stage.DETAILED_PLAN, "detailed_plan"))
    for stage, key in stages:
        of_stage = decided[decided["stage"] == stage.value]
        area = _union_area_by_cluster(of_stage).reindex(table.index)
        table[key] = area.notna().astype(int)
        table[f"{key}_ha"] = area.fillna(0.0)

    operating = clusters["operating_since"].notna().to_numpy()
    if cutoff is not None:
        operating = operating & (clusters["operating_since"] <= cutoff).to_numpy()
    table["operating"] = operating.astype(int)
    table["operating_ha"] = np.where(operating, table["established_ha"], 0.0)

    first_detail = (
        decided[decided["stage"] == Stage.DETAILED_PLAN.value].groupby("cluster_id")["decided_on"]
        .min()
    )
    parcels = dataset.parcels
    exists = parcels["cluster_id"].isin(first_detail.index).to_numpy()
    industrial = exists & (parcels["land_use"] == LandUse.INDUSTRIAL.value).to_numpy()
    leased = industrial & parcels["project_id"].notna().to_numpy()
    leased &= _on_or_before(parcels["leased_on"], cutoff).to_numpy()
    recovered = industrial & parcels["recovered"].to_numpy(dtype=bool)
    area = parcels["area_ha"].to_numpy()
    by_cluster = pd.DataFrame(
        {
            "cluster_id": parcels["cluster_id"].to_numpy(),
            "industrial_ha": np.where(industrial, area, 0.0),
            "leased_ha": np.where(leased, area, 0.0),
            "recovered_industrial_ha": np.where(recovered, area, 0.0),
            "leased_recovered_ha": np.where(leased & recovered, area, 0.0),
        }
    ).groupby("cluster_id").sum()
    table = table.join(by_cluster.reindex(table.index).fillna(0.0))

    projects = dataset.projects
    counted = projects[_on_or_before(projects["registered_on"], cutoff).to_numpy()]
    sums = counted.groupby("cluster_id").agg(
        projects=("project_id", "size"),
        registered_capital_bn_vnd=("registered_capital_bn_vnd", "sum"),
        implemented_capital_bn_vnd=("implemented_capital_bn_vnd", "sum"),
        registered_workers=("registered_workers", "sum"),
        workers=("workers", "sum"),
    )
    statuses = pd.crosstab(counted["cluster_id"], counted["status"]).reindex(
        columns=ProjectStatus.values(), fill_value=0
    )
    statuses.columns = [f"status_{s}" for s in statuses.columns]
    table = table.join(sums.join(statuses).reindex(table.index).fillna(0))
    return table


def promotion_table(dataset: Dataset, /, *, as_of: dt.date | None = None) -> pd.DataFrame:
    """Return promotion sums by ``admin_code`` and ``programme`` for years up to ``as_of``."""
    activities = dataset.promotion_activities
    if as_of is not None:
        activities = activities[(activities["year"] <= as_of.year).to_numpy()]
    return activities.groupby(["admin_code", "programme"]).agg(
        activities=("activity_id", "size"),
        participants=("participants", "sum"),
        facilities=("facilities", "sum"),
        budget_mil_vnd=("budget_mil_vnd", "sum"),
    )


def _figures(sums: Mapping[str, Any],
             promotion: Mapping[str, Mapping[str, float]] | None) -> Figures:
    """The figures from the sums of cluster rows, and promotion sums by programme."""
    s = {k: float(sums.get(k, 0.0)) for k in _SUMS}
    return Figures(
        planned=StageFigure(int(sums.get("planned", 0)), s["planned_ha"]),
        established=StageFigure(int(s["established"]), s["established_ha"]),
        detailed_plan=StageFigure(int(s["detailed_plan"]), s["detailed_plan_ha"]),
        operating=StageFigure(int(s["operating"]), s["operating_ha"]),
        industrial_ha=s["industrial_ha"],
        leased_ha=s["leased_ha"],
        occupancy=rate(s["leased_ha"], s["industrial_ha"]),
        recovered_industrial_ha=s["recovered_industrial_ha"],
        occupancy_recovered=rate(s["leased_recovered_ha"], s["recovered_industrial_ha"]),
        projects=ProjectFigures(
            count=int(s["projects"]),
            by_status={st.value: int(s[f"status_{st.value}"]) for st in ProjectStatus},
            registered_capital_bn_vnd=s["registered_capital_bn_vnd"],
            implemented_capital_bn_vnd=s["implemented_capital_bn_vnd"],
            capital_realisation=rate(
                s["implemented_capital_bn_vnd"], s["registered_capital_bn_vnd"]
            ),
            registered_workers=int(round(s["registered_workers"])),
            workers=int(round(s["workers"])),
        ),
        promotion=None if promotion is None else _programmes(promotion),
    )


def _programmes(sums: Mapping[str, Mapping[str, float]]) -> dict[str, ProgrammeFigures]:
    result = {}
    for programme in Programme.values():
        row = sums.get(programme)
        result[programme] = ProgrammeFigures(
            activities=int(row["activities"]) if row is not None else 0,
            participants=int(round(row["participants"])) if row is not None else 0,
            facilities=int(round(row["facilities"])) if row is not None else 0,
            budget_mil_vnd=float(row["budget_mil_vnd"]) if row is not None else 0.0,
        )
    return result


def province_figures(dataset: Dataset, /, *, as_of: dt.date | None = None) -> Figures:
    """Return the province's figures as of ``as_of``.

    Examples
    --------
    >>> from ccn_gis.io import load_dataset
    >>> f = province_figures(load_dataset("layers/thai_binh.gpkg"))
    >>> f.planned.count, round(f.planned.area_ha, 2)
    (66, 4177.97)
    """
    table = cluster_table(dataset, as_of=as_of)
    sums = table[list(_SUMS)].sum()
    sums["planned"] = len(table)
    promotion = promotion_table(dataset, as_of=as_of)
    by_programme = promotion.groupby(level="programme").sum() if len(promotion) else promotion
    return _figures(sums, by_programme.to_dict(orient="index"))


def figures_by_admin(
    dataset: Dataset, /, *, as_of: dt.date | None = None
) -> list[ScopedFigures]:
    """Return the figures of every unit named by a cluster or a promotion activity.

    Units are those of the clusters' ``admin_code`` (the plan's unit) and of the
    promotion activities, ordered by code.
    """
    table = cluster_table(dataset, as_of=as_of)
    promotion = promotion_table(dataset, as_of=as_of)
    names = dataset.admin_units.drop_duplicates("code").set_index("code")["name"]
    grouped = table.groupby("admin_code")[list(_SUMS)].sum()
    grouped["planned"] = table.groupby("admin_code").size()
    sums_by_code = grouped.to_dict(orient="index")
    by_unit: dict[str, dict[str, Mapping[str, float]]] = {}
    for (code, programme), row in promotion.to_dict(orient="index").items():
        by_unit.setdefault(code, {})[programme] = row
    codes = sorted(set(table["admin_code"]) | set(promotion.index.get_level_values(0)))
    return [
        ScopedFigures("admin_code", code, str(names.get(code, "")),
                      _figures(sums_by_code.get(code, {}), by_unit.get(code, {})))
        for code in codes
    ]


def figures_by_cluster(
    dataset: Dataset, /, *, as_of: dt.date | None = None
) -> list[ScopedFigures]:
    """Return the figures of every cluster of the plan, in the layer's order."""
    table = cluster_table(dataset, as_of=as_of)
    rows = table[list(_SUMS)].astype(float).to_dict(orient="records")
    return [
        ScopedFigures("cluster_id", str(cid), str(name), _figures(row | {"planned": 1}, None),
                      admin_code=str(unit))
        for cid, name, unit, row in zip(table.index, table["name"], table["admin_code"], rows,
                                        strict=True)
    ]


By = Literal["province", "admin", "cluster"]


def figures_json(
    dataset: Dataset, /, *, as_of: dt.date | None = None, by: By = "province"
) -> dict[str, Any] | list[dict[str, Any]]:
    """Return the figures as the JSON of ``ccn-gis stats --json`` and ``/stats``.

    For the province one object that adds ``province``, ``as_of`` and ``area_crs`` to
    the figures (:class:`ProvinceFigures`); per unit or cluster a list of objects, each
    with its code and name (:class:`ScopedFigures`).

    Examples
    --------
    >>> from ccn_gis.io import load_dataset
    >>> figures_json(load_dataset("layers/thai_binh.gpkg"), by="province")["planned"]
    {'count': 66, 'area_ha': 4177.96...}
    """
    if by == "province":
        return ProvinceFigures(dataset.settings.province_name, as_of, dataset.settings.area_crs,
                               province_figures(dataset, as_of=as_of)).to_dict()
    scoped = figures_by_admin if by == "admin" else figures_by_cluster
    return [item.to_dict() for item in scoped(dataset, as_of=as_of)]
