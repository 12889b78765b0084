"""Baseline: the figures of ``stats`` the straightforward geopandas way.

``python stats_geopandas.py GPKG OUT.json [ENGINE]``: every layer with
``geopandas.read_file(engine="fiona")`` (ENGINE, default fiona), ``to_crs`` to the area
CRS, ``dissolve`` for the union of each cluster's extents, ``sjoin`` (a point of each
parcel within the clusters) to check that the parcels lie in their clusters, ``groupby``
for the sums per cluster, unit and province.
No validation beyond that check. Writes the province's figures and the per-unit and
per-cluster tables to OUT.json, for comparison with ccn-gis.
"""

from __future__ import annotations

import json
import sys

from _common import Phases, report, run


def main(argv: list[str]) -> None:
    gpkg, out = argv[:2]
    engine = argv[2] if len(argv) > 2 else "fiona"
    phases = Phases()
    with phases("import"):
        import geopandas as gpd
        import pandas as pd
    with phases("read_file"):
        settings = gpd.read_file(gpkg, layer="ccn_settings", engine=engine)
        layers = {name: gpd.read_file(gpkg, layer=name, engine=engine)
                  for name in ("admin_units", "clusters", "approved_extents", "parcels",
                               "projects", "promotion_activities")}
    crs = dict(zip(settings["key"], settings["value"], strict=True)).get("area_crs", "EPSG:9209")
    with phases("to_crs"):
        for name in ("admin_units", "clusters", "approved_extents", "parcels"):
            layers[name] = layers[name].to_crs(crs)
    clusters, extents = layers["clusters"], layers["approved_extents"]
    parcels, projects = layers["parcels"], layers["projects"]
    promotion = layers["promotion_activities"]
    with phases("dissolve_extents"):
        table = clusters[["cluster_id", "admin_code", "operating_since"]].set_index("cluster_id")
        table["planned_ha"] = clusters.set_index("cluster_id").area / 10_000
        for stage, column in (("establishment", "established"),
                              ("detailed_plan", "detailed_plan")):
            union = extents[extents["stage"] == stage].dissolve("cluster_id")
            table[f"{column}_ha"] = (union.area / 10_000).reindex(table.index).fillna(0.0)
            table[column] = table.index.isin(union.index).astype(int)
        table["operating"] = table["operating_since"].notna().astype(int)
        table["operating_ha"] = table["established_ha"].where(table["operating"] == 1, 0.0)
    with phases("sjoin_parcels"):
        points = parcels[["parcel_id", "cluster_id"]].set_geometry(
            parcels.representative_point(), crs=parcels.crs)
        joined = gpd.sjoin(points, clusters[["cluster_id", "geometry"]], how="left",
                           predicate="within")
        misplaced = int((joined["cluster_id_left"] != joined["cluster_id_right"]).sum())
    with phases("groupby"):
        parcels["area_ha"] = parcels.area / 10_000
        exists = parcels["cluster_id"].isin(table.index[table["detailed_plan"] == 1])
        industrial = exists & (parcels["land_use"] == "industrial")
        leased = industrial & parcels["project_id"].notna()
        recovered = industrial & parcels["recovered"].astype(bool)
        sums = pd.DataFrame({
            "cluster_id": parcels["cluster_id"],
            "industrial_ha": parcels["area_ha"].where(industrial, 0.0),
            "leased_ha": parcels["area_ha"].where(leased, 0.0),
            "recovered_industrial_ha": parcels["area_ha"].where(recovered, 0.0),
            "leased_recovered_ha": parcels["area_ha"].where(leased & recovered, 0.0),
        }).groupby("cluster_id").sum()
        table = table.join(sums).fillna({c: 0.0 for c in sums.columns})
        by_project = projects.groupby("cluster_id").agg(
            projects=("project_id", "size"),
            registered_capital_bn_vnd=("registered_capital_bn_vnd", "sum"),
            implemented_capital_bn_vnd=("implemented_capital_bn_vnd", "sum"),
            registered_workers=("registered_workers", "sum"), workers=("workers", "sum"))
        table = table.join(by_project).fillna({c: 0 for c in by_project.columns})
        numeric = table.drop(columns=["admin_code", "operating_since"])
        units = numeric.groupby(table["admin_code"]).sum()
        units["planned"] = table.groupby("admin_code").size()
        province = numeric.sum()
        province["planned"] = len(table)
        programmes = promotion.groupby(["admin_code", "programme"])[
            ["participants", "facilities", "budget_mil_vnd"]].sum()
        province_promotion = programmes.groupby(level="programme").sum()
    figures = {
        "planned": {"count": int(province["planned"]), "area_ha": float(province["planned_ha"])},
        "established": {"count": int(province["established"]),
                        "area_ha": float(province["established_ha"])},
        "detailed_plan": {"count": int(province["detailed_plan"]),
                          "area_ha": float(province["detailed_plan_ha"])},
        "operating": {"count": int(province["operating"]),
                      "area_ha": float(province["operating_ha"])},
        "industrial_ha": float(province["industrial_ha"]),
        "leased_ha": float(province["leased_ha"]),
        "recovered_industrial_ha": float(province["recovered_industrial_ha"]),
        "projects": {"count": int(province["projects"])},
    }
    with phases("write_json"):
        with open(out, "w", encoding="utf-8") as f:
            json.dump({"province": figures, "admin": units.reset_index().to_dict("records"),
                       "cluster": table.reset_index().astype({"operating_since": str})
                       .to_dict("records"),
                       "promotion": province_promotion.reset_index().to_dict("records")},
                      f, ensure_ascii=False, default=str)
    report(phases, engine=engine, province=figures, units=len(units), clusters=len(table),
           misplaced_parcels=misplaced)


if __name__ == "__main__":
    run(main, sys.argv[1:])
