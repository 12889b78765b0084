"""A scenario checked: its projection, findings and the answers planners ask for.

``check_scenario`` returns the JSON of ``ccn-gis scenario check`` and ``/scenarios``:
``findings``, ``years`` (the projection per cluster), ``units`` (per unit, with the
new-cluster gate), and ``answers`` — the earliest legal establishment year of every
planned cluster, the year each unit's gate opens, the rice land converted by the
horizon, and demand against supply of industrial land.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from ccn_gis.dataset import Dataset
from ccn_gis.projection import Projection, project, unit_table
from ccn_gis.rules import check_rules, gate_state
from ccn_gis.scenario import ChangeKind, Scenario
from ccn_gis.settings import Lang

RICE = ("LUC", "LUK")

LandUseUnder = Callable[[list[object]], pd.DataFrame]
"""Given geometries in the area CRS, rows ``zone_id`` (position as text), ``class_code``,
``area_ha``: the land use under each."""


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
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
) -> dict[str, Any]:
    """Project ``scenario``, check its rules and answer the planners' questions.

    ``land_use_under`` measures land use under geometries (from the land-use raster or
    plan); without it, PROTECTED_LAND is not checked and the rice land converted is
    ``None``.
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
        "findings": [f.to_dict(lang) for f in findings],
        "years": _records(projection.clusters),
        "units": _records(units.assign(gate_open=_gate_column(units, scenario))),
        "answers": _answers(dataset, projection, units, land_use_under),
    }


def _gate_column(units: pd.DataFrame, scenario: Scenario) -> list[bool]:
    indexed = units.set_index(["year", "admin_code"])
    return [gate_state(indexed, u, int(y), scenario.rules)["open"]
            for y, u in zip(units["year"], units["admin_code"], strict=True)]


def _answers(
    dataset: Dataset, projection: Projection, units: pd.DataFrame,
    land_use_under: LandUseUnder | None,
) -> dict[str, Any]:
    scenario = projection.scenario
    indexed = units.set_index(["year", "admin_code"])
    years = range(scenario.base_year + 1, scenario.horizon + 1)
    unit_codes = sorted(set(projection.plan["admin_code"]))
    names = dataset.admin_units.drop_duplicates("code").set_index("code")["name"].to_dict()
    gate_opens = []
    for unit in unit_codes:
        opened = next((y for y in years
                       if gate_state(indexed, unit, y - 1, scenario.rules)["open"]), None)
        gate_opens.append({"admin_code": unit, "name": names.get(unit, ""), "year": opened})
    opens = {g["admin_code"]: g["year"] for g in gate_opens}
    base_rows = projection.clusters[projection.clusters["year"] == scenario.base_year]
    planned = base_rows[base_rows["in_plan"] & ~base_rows["established"]]
    scheduled = {c.cluster_id: c.year for c in scenario.changes
                 if c.kind in (ChangeKind.ESTABLISH, ChangeKind.ADD)}
    earliest = [
        {"cluster_id": cid, "admin_code": unit, "earliest_year": opens.get(unit),
         "scenario_year": scheduled.get(cid)}
        for cid, unit in zip(planned["cluster_id"], planned["admin_code"], strict=True)
    ] + [
        {"cluster_id": c.cluster_id, "admin_code": c.attributes.get("admin_code"),
         "earliest_year": opens.get(c.attributes.get("admin_code")), "scenario_year": c.year}
        for c in scenario.changes if c.kind is ChangeKind.ADD
    ]
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
        demand_supply.append({"admin_code": unit, "demand_ha": demand, "supply_ha": supply,
                              "balance_ha": supply - demand})
    return {
        "gate_opens": gate_opens,
        "earliest_establishment": earliest,
        "rice_converted_ha": rice,
        "demand_supply": demand_supply,
    }
