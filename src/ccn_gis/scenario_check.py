"""A scenario checked: its projection, findings and the answers planners ask for.

:func:`check_scenario` returns a :class:`CheckedScenario`: the findings, the projection
per cluster and year (:class:`ClusterYear`), per unit and year with the new-cluster gate
(:class:`UnitYear`), and the :class:`Answers` — the year each unit's gate opens, the
earliest legal establishment year of every planned cluster, the rice land converted by
the horizon, and demand against supply of industrial land. Its
:meth:`~CheckedScenario.to_json` is the JSON of ``ccn-gis scenario check --json`` and
``/scenarios``. What the scenario does to each cluster, and which rules each breaks, are
:func:`cluster_changes` and :func:`cluster_findings`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import pandas as pd

from ccn_gis.dataset import Dataset
from ccn_gis.projection import Projection, project, unit_table
from ccn_gis.rules import Finding, Rule, Severity, check_rules, gate_state
from ccn_gis.scenario import Change, ChangeKind, Scenario
from ccn_gis.settings import Lang

RICE = ("LUC", "LUK")

TELLING_CHANGES = (ChangeKind.ADD, ChangeKind.REMOVE, ChangeKind.EXPAND, ChangeKind.ESTABLISH)
"""The kinds of change, the most telling first: a cluster changed more than once is shown
with the first of these it has (:func:`cluster_changes`)."""

LandUseUnder = Callable[[list[object]], pd.DataFrame]
"""Given geometries in the area CRS, rows ``zone_id`` (position as text), ``class_code``,
``area_ha``: the land use under each."""


@dataclass(frozen=True)
class ClusterYear:
    """One cluster at the end of one year of the projection.

    Out of the plan that year (``in_plan`` false), its areas are 0 and its occupancy
    ``None``; ``rate_ha_per_year`` is the absorption rate it leases at.
    """

    year: int
    cluster_id: str
    admin_code: str
    in_plan: bool
    established: bool
    plan_ha: float
    established_ha: float
    industrial_ha: float
    leased_ha: float
    occupancy: float | None
    rate_ha_per_year: float


@dataclass(frozen=True)
class UnitYear:
    """One unit at the end of one year: its established clusters, their industrial land,
    the average occupancy the new-cluster gate looks at, and whether the gate is open."""

    year: int
    admin_code: str
    clusters: int
    industrial_ha: float
    leased_ha: float
    unleased_ha: float
    average_occupancy: float | None
    gate_open: bool


@dataclass(frozen=True)
class GateOpening:
    """The first year a unit may establish a new cluster (``None``: not by the horizon)."""

    admin_code: str
    name: str
    year: int | None


@dataclass(frozen=True)
class EarliestEstablishment:
    """A planned (not yet established) or added cluster: the earliest year the gate of its
    unit allows it to be established (``None``: not by the horizon), and the year the
    scenario establishes it (``None``: it does not)."""

    cluster_id: str
    admin_code: str | None
    earliest_year: int | None
    scenario_year: int | None


@dataclass(frozen=True)
class LandBalance:
    """Industrial land to the horizon of a unit, or of the province (``admin_code`` None):
    what the absorption rates would lease (demand) against the unleased land at the base
    plus the new industrial land (supply)."""

    admin_code: str | None
    demand_ha: float
    supply_ha: float
    balance_ha: float


@dataclass(frozen=True)
class Answers:
    """What planners ask of a scenario: gate years, earliest establishment, rice land
    converted (``None`` without land-use data), demand against supply per unit and for
    the province (the last)."""

    gate_opens: tuple[GateOpening, ...]
    earliest_establishment: tuple[EarliestEstablishment, ...]
    rice_converted_ha: float | None
    demand_supply: tuple[LandBalance, ...]

    @property
    def province_balance(self) -> LandBalance:
        """The province's demand and supply (the row without a unit)."""
        return next(d for d in self.demand_supply if d.admin_code is None)

    def to_json(self) -> dict[str, Any]:
        """The ``answers`` of :meth:`CheckedScenario.to_json`."""
        return {
            "gate_opens": [asdict(g) for g in self.gate_opens],
            "earliest_establishment": [asdict(e) for e in self.earliest_establishment],
            "rice_converted_ha": self.rice_converted_ha,
            "demand_supply": [asdict(d) for d in self.demand_supply],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Answers:
        """The answers read back from their :meth:`to_json`."""
        return cls(tuple(GateOpening(**g) for g in data["gate_opens"]),
                   tuple(EarliestEstablishment(**e) for e in data["earliest_establishment"]),
                   data["rice_converted_ha"],
                   tuple(LandBalance(**d) for d in data["demand_supply"]))


@dataclass(frozen=True)
class CheckedScenario:
    """A scenario projected, its rules checked and the planners' questions answered.

    ``findings`` are ordered by year, rule and cluster; ``years`` has one row per
    cluster and year from the base year to the horizon, ``units`` one per unit and year
    with established clusters. ``lang`` is the language of the findings' ``message`` in
    the JSON.
    """

    scenario: Scenario
    findings: tuple[Finding, ...]
    years: tuple[ClusterYear, ...]
    units: tuple[UnitYear, ...]
    answers: Answers
    lang: Lang = "vi"

    def count(self, severity: Severity) -> int:
        """How many findings have ``severity``."""
        return sum(f.severity is severity for f in self.findings)

    def at_horizon(self) -> list[ClusterYear]:
        """The clusters in the plan at the horizon."""
        horizon = self.scenario.horizon
        return [r for r in self.years if r.year == horizon and r.in_plan]

    def with_source(self, source: str) -> CheckedScenario:
        """The same check, its scenario shown as coming from ``source``."""
        return replace(self, scenario=replace(self.scenario, source=source))

    def to_json(self) -> dict[str, Any]:
        """The JSON of ``ccn-gis scenario check --json`` and ``/scenarios/{id}``.

        ``scenario`` (the name), ``source``, ``base_year``, ``horizon``, ``rules``,
        ``absorption``, ``changes``, ``findings``, ``years``, ``units``, ``answers``;
        plain JSON values, ``None`` for what has no value.
        """
        scenario = self.scenario
        return {
            "scenario": scenario.name,
            "source": scenario.source,
            "base_year": scenario.base_year,
            "horizon": scenario.horizon,
            "rules": {k: (list(v) if isinstance(v, tuple) else v)
                      for k, v in scenario.rules.__dict__.items()},
            "absorption": {"method": scenario.absorption.method,
                           "years": scenario.absorption.years,
                           "rates": dict(scenario.absorption.rates)},
            "changes": [{"kind": c.kind.value, "cluster_id": c.cluster_id, "year": c.year}
                        for c in scenario.changes],
            "findings": [f.to_dict(self.lang) for f in self.findings],
            "years": [asdict(r) for r in self.years],
            "units": [asdict(u) for u in self.units],
            "answers": self.answers.to_json(),
        }

    @classmethod
    def from_json(cls, scenario: Scenario, data: Mapping[str, Any], /, *,
                  lang: Lang = "vi") -> CheckedScenario:
        """The check of ``scenario`` read back from its :meth:`to_json` (as a server keeps
        it), in ``lang``."""
        return cls(scenario, tuple(Finding.from_dict(f) for f in data["findings"]),
                   tuple(ClusterYear(**r) for r in data["years"]),
                   tuple(UnitYear(**u) for u in data["units"]),
                   Answers.from_json(data["answers"]), lang)


@dataclass(frozen=True)
class ClusterFindings:
    """What a cluster's findings say: the rules it breaks (in the order first found) and the
    worst severity among them."""

    rules: tuple[Rule, ...]
    severity: Severity


def cluster_changes(changes: Iterable[Change], /) -> dict[str, Change]:
    """Return the change that tells what a scenario does to each cluster it changes.

    The most telling kind wins (:data:`TELLING_CHANGES`: add, remove, expand, establish);
    of several changes of that kind, the last. Clusters the scenario leaves alone are not
    keys.

    Examples
    --------
    >>> changes = cluster_changes([Change(ChangeKind.ESTABLISH, "CCN01", 2026),
    ...                            Change(ChangeKind.EXPAND, "CCN01", 2028),
    ...                            Change(ChangeKind.ESTABLISH, "CCN02", 2027)])
    >>> {cid: (c.kind.value, c.year) for cid, c in changes.items()}
    {'CCN01': ('expand', 2028), 'CCN02': ('establish', 2027)}
    """
    rank = {kind: i for i, kind in enumerate(TELLING_CHANGES)}
    told: dict[str, Change] = {}
    for change in changes:
        shown = told.get(change.cluster_id)
        if shown is None or rank[change.kind] <= rank[shown.kind]:
            told[change.cluster_id] = change
    return told


def cluster_findings(findings: Iterable[Finding], /) -> dict[str, ClusterFindings]:
    """Return, for each cluster with findings, the rules it breaks and the worst severity.

    Findings of the whole province (no ``cluster_id``) belong to no cluster.

    Examples
    --------
    >>> def finding(rule, severity, cid):
    ...     return Finding(rule, severity, cid, 2026, None, None, "", "", "")
    >>> found = cluster_findings([finding(Rule.EXPANSION_GATE, Severity.WARNING, "CCN01"),
    ...                           finding(Rule.AREA_MAX, Severity.ERROR, "CCN01"),
    ...                           finding(Rule.EXPANSION_GATE, Severity.WARNING, "CCN01"),
    ...                           finding(Rule.PLAN_TOTAL, Severity.ERROR, None)])
    >>> [r.value for r in found["CCN01"].rules], found["CCN01"].severity.value
    (['EXPANSION_GATE', 'AREA_MAX'], 'error')
    >>> list(found)
    ['CCN01']
    """
    rules: dict[str, list[Rule]] = {}
    worst: dict[str, Severity] = {}
    for f in findings:
        if f.cluster_id is None:
            continue
        broken = rules.setdefault(f.cluster_id, [])
        if f.rule not in broken:
            broken.append(f.rule)
        if worst.get(f.cluster_id) is not Severity.ERROR:
            worst[f.cluster_id] = f.severity
    return {cid: ClusterFindings(tuple(r), worst[cid]) for cid, r in rules.items()}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as plain values: numpy scalars as Python ones, NaN as None."""
    return [
        {k: (None if isinstance(v, float) and pd.isna(v) else
             (v.item() if hasattr(v, "item") else v)) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def check_scenario(
    dataset: Dataset,
    scenario: Scenario,
    /,
    *,
    land_use_under: LandUseUnder | None = None,
    lang: Lang = "vi",
) -> CheckedScenario:
    """Project ``scenario``, check its rules and answer the planners' questions.

    ``land_use_under`` measures land use under geometries (from the land-use raster or
    plan); without it, PROTECTED_LAND is not checked and the rice land converted is
    ``None``. ``lang`` is the language of the findings' ``message``.

    Examples
    --------
    >>> from ccn_gis.io import load_dataset
    >>> from ccn_gis.scenario import build_scenario
    >>> dataset = load_dataset("layers/thai_binh.gpkg")
    >>> checked = check_scenario(dataset, build_scenario(None, dataset))
    >>> checked.scenario.base_year, checked.scenario.horizon, len(checked.findings)
    (2024, 2030, 0)
    >>> round(checked.answers.province_balance.balance_ha, 2)
    472.69
    >>> list(checked.to_json())[:4]
    ['scenario', 'source', 'base_year', 'horizon']
    """
    projection = project(dataset, scenario)
    protected = None
    if land_use_under is not None:
        classes = set(scenario.rules.protected_classes)

        def protected(geoms: list[object]) -> list[float]:
            rows = land_use_under(geoms)
            rows = rows[rows["class_code"].isin(classes)]
            sums = rows.groupby("zone_id")["area_ha"].sum()
            return [float(sums.get(str(i), 0.0)) for i in range(len(geoms))]

    findings = check_rules(dataset, projection, protected_ha=protected)
    units = unit_table(projection, mean=scenario.rules.gate_mean)
    return CheckedScenario(
        scenario,
        tuple(findings),
        tuple(ClusterYear(**r) for r in _records(projection.clusters)),
        tuple(UnitYear(**r) for r in _records(
            units.assign(gate_open=_gate_column(units, scenario)))),
        _answers(dataset, projection, units, land_use_under),
        lang,
    )


def _gate_column(units: pd.DataFrame, scenario: Scenario) -> list[bool]:
    indexed = units.set_index(["year", "admin_code"])
    return [gate_state(indexed, u, int(y), scenario.rules).is_open
            for y, u in zip(units["year"], units["admin_code"], strict=True)]


def _answers(
    dataset: Dataset, projection: Projection, units: pd.DataFrame,
    land_use_under: LandUseUnder | None,
) -> Answers:
    scenario = projection.scenario
    indexed = units.set_index(["year", "admin_code"])
    years = range(scenario.base_year + 1, scenario.horizon + 1)
    unit_codes = sorted(set(projection.plan["admin_code"]))
    names = dataset.admin_units.drop_duplicates("code").set_index("code")["name"].to_dict()
    gate_opens = tuple(
        GateOpening(unit, names.get(unit, ""), next(
            (y for y in years if gate_state(indexed, unit, y - 1, scenario.rules).is_open),
            None))
        for unit in unit_codes)
    opens: dict[str | None, int | None] = {g.admin_code: g.year for g in gate_opens}
    base_rows = projection.clusters[projection.clusters["year"] == scenario.base_year]
    planned = base_rows[base_rows["in_plan"] & ~base_rows["established"]]
    scheduled = {c.cluster_id: c.year for c in scenario.changes
                 if c.kind in (ChangeKind.ESTABLISH, ChangeKind.ADD)}
    earliest = tuple(
        EarliestEstablishment(cid, unit, opens.get(unit), scheduled.get(cid))
        for cid, unit in zip(planned["cluster_id"], planned["admin_code"], strict=True)
    ) + tuple(
        EarliestEstablishment(c.cluster_id, c.attributes.get("admin_code"),
                              opens.get(c.attributes.get("admin_code")), c.year)
        for c in scenario.changes if c.kind is ChangeKind.ADD
    )
    rice = None
    if land_use_under is not None:
        land = [n for n in projection.new_land if n.year <= scenario.horizon]
        if land:
            rows = land_use_under([n.geometry for n in land])
            rice = float(rows.loc[rows["class_code"].isin(RICE), "area_ha"].sum())
        else:
            rice = 0.0
    span = scenario.horizon - scenario.base_year
    first = projection.clusters[projection.clusters["year"] == scenario.base_year]
    demand_supply = []
    for unit in unit_codes + [None]:
        rows = first if unit is None else first[first["admin_code"] == unit]
        established = rows[rows["established"]]
        new = [n for n in projection.new_land if n.leasable_from <= scenario.horizon and (
            unit is None or projection.plan.at[n.cluster_id, "admin_code"] == unit)]
        demand_rows = projection.clusters[(projection.clusters["year"] == scenario.horizon)]
        if unit is not None:
            demand_rows = demand_rows[demand_rows["admin_code"] == unit]
        demand = float((demand_rows.loc[demand_rows["established"], "rate_ha_per_year"]
                        * span).sum())
        supply = float((established["industrial_ha"] - established["leased_ha"]).sum()
                       + sum(n.industrial_ha for n in new))
        demand_supply.append(LandBalance(unit, demand, supply, supply - demand))
    return Answers(gate_opens, earliest, rice, tuple(demand_supply))
