"""Scenarios on the tiny province: each rule's smallest trigger and the case that just passes,
projections against hand-computed absorption, and malformed scenario files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import at, tiny_layers, write_layers
from ccn_gis import load_dataset
from ccn_gis.crs import transform_geometries
from ccn_gis.io import open_store
from ccn_gis.io.scenario_file import read_scenario
from ccn_gis.io.scenarios import check_scenario_file, check_scenario_files, read_province_scenario
from ccn_gis.landuse import overlay_classes
from ccn_gis.projection import project
from ccn_gis.rules import Finding, Rule, Severity
from ccn_gis.scenario import Change, ChangeKind, ScenarioError, build_scenario
from ccn_gis.scenario_check import (
    CheckedScenario,
    ClusterFindings,
    ClusterYear,
    check_scenario,
    cluster_changes,
    cluster_findings,
)
from ccn_gis.scenario_report import comparison_report, scenario_report
from ccn_gis.settings import rule_settings

HA = 10_000.0
BASE = 2022  # the tiny province's newest record: P7 leased on 2022-01-01


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scenario")
    path = write_layers(folder / "tiny.gpkg", tiny_layers(), settings={"plan_total_ha": "62.2"})
    return load_dataset(path)


def lonlat(geom) -> dict:
    """A geometry drawn in metres around the tiny province's origin, as GeoJSON (WGS84)."""
    moved = transform_geometries(np.array([at(geom)]), "EPSG:9209", "EPSG:4326")[0]
    return json.loads(shapely.to_geojson(moved))


def run(tiny, tmp_path, document: dict, **kwargs) -> CheckedScenario:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    scenario = read_scenario(path, tiny, defaults=rule_settings(tiny.settings))
    return check_scenario(tiny, scenario, **kwargs)


def findings(result: CheckedScenario, rule: str) -> list[Finding]:
    return [f for f in result.findings if f.rule is Rule(rule)]


def scenario(*changes: dict, rules: dict | None = None, **extra) -> dict:
    return {"name": "test", "horizon": 2030, "changes": list(changes), "rules": rules or {},
            **extra}


# ------------------------------------------------------------------------------- area rules
@pytest.mark.parametrize("extra_ha, broken", [(55.00, False), (55.01, True)])
def test_area_max_after_expansion(tiny, tmp_path, extra_ha, broken):
    # C3 (400 m x 500 m = 20 ha) is established, then grows eastwards by `extra_ha`
    width = extra_ha * HA / 500
    grow = shapely.box(3400, 0, 3400 + width, 500)
    result = run(tiny, tmp_path, scenario({"establish": "C3", "year": 2023},
                                          {"expand": "C3", "year": 2025, "geometry": lonlat(grow)},
                                          rules={"plan_total_ha": 1000}))
    found = findings(result, "AREA_MAX")
    assert bool(found) is broken
    if broken:
        assert found[0].cluster_id == "C3" and found[0].year == 2025
        assert found[0].value == pytest.approx(75.01) and found[0].limit == 75
        assert "75,01 ha" in found[0].message_vi and found[0].basis


@pytest.mark.parametrize("kind, area, broken", [
    ("general", 10.00, False), ("general", 9.99, True),
    ("craft_village", 5.00, False), ("craft_village", 4.99, True),
])
def test_area_min(tiny, tmp_path, kind, area, broken):
    new = shapely.box(3000, 550, 3000 + area * HA / 400, 950)  # 400 m tall, in D2
    result = run(tiny, tmp_path, scenario(
        {"add": {"cluster_id": "C9", "name": "CCN Chín", "admin_code": "D2", "kind": kind},
         "year": 2024, "geometry": lonlat(new)}, rules={"plan_total_ha": 1000}))
    found = findings(result, "AREA_MIN")
    assert bool(found) is broken
    if broken:
        assert found[0].cluster_id == "C9" and found[0].value == pytest.approx(area)


# ------------------------------------------------------------------------------------ gates
# Unit D1 at the end of 2022: C1 leases 4 of 9 ha (0.444), C2 4.5 of 4.5 ha (1.0):
MEAN = (4 / 9 + 1.0) / 2
AREA_WEIGHTED = 8.5 / 13.5
UNLEASED = 9 - 4 + 0.0


@pytest.mark.parametrize("rules, closed", [
    ({"gate_occupancy": round(MEAN, 2) + 0.01, "gate_unleased_ha": UNLEASED - 0.01}, True),
    ({"gate_occupancy": round(MEAN, 2) + 0.01, "gate_unleased_ha": UNLEASED}, False),
    ({"gate_occupancy": round(MEAN, 2) - 0.01, "gate_unleased_ha": 0}, False),
    ({"gate_occupancy": 0.65, "gate_unleased_ha": 0, "gate_mean": "area_weighted"}, True),
    ({"gate_occupancy": 0.65, "gate_unleased_ha": 0, "gate_mean": "mean"}, False),
])
def test_new_cluster_gate(tiny, tmp_path, rules, closed):
    new = shapely.box(1000, 500, 1500, 900)  # 20 ha in D1
    result = run(tiny, tmp_path, scenario(
        {"add": {"cluster_id": "C9", "name": "CCN Chín", "admin_code": "D1"}, "year": 2023,
         "geometry": lonlat(new)}, rules={**rules, "plan_total_ha": 1000}))
    found = findings(result, "NEW_CLUSTER_GATE")
    assert bool(found) is closed
    if closed:
        expected = AREA_WEIGHTED if rules.get("gate_mean") == "area_weighted" else MEAN
        assert found[0].value == pytest.approx(expected, rel=1e-6)
        assert found[0].year == 2023 and found[0].cluster_id == "C9"


def test_a_unit_without_clusters_is_open(tiny, tmp_path):
    result = run(tiny, tmp_path, scenario({"establish": "C3", "year": 2023},
                                          rules={"gate_occupancy": 0.99, "gate_unleased_ha": 0}))
    assert not findings(result, "NEW_CLUSTER_GATE")


@pytest.mark.parametrize("cluster, threshold, broken", [
    ("C1", 0.44, False),  # C1 leases 4/9 = 0.444 and has its infrastructure
    ("C1", 0.45, True),
    ("C2", 0.60, True),  # C2 is full but its infrastructure is not complete
])
def test_expansion_gate(tiny, tmp_path, cluster, threshold, broken):
    grow = shapely.box(-200, 0, 0, 100) if cluster == "C1" else shapely.box(1000, 300, 1100, 400)
    result = run(tiny, tmp_path, scenario(
        {"expand": cluster, "year": 2023, "geometry": lonlat(grow)},
        rules={"expansion_occupancy": threshold, "plan_total_ha": 1000}))
    found = findings(result, "EXPANSION_GATE")
    assert bool(found) is broken
    if broken and cluster == "C2":
        assert "infrastructure" in found[0].message_en


@pytest.mark.parametrize("limit, broken", [(0.05, False), (0.04, True)])
def test_services_share(tmp_path, limit, broken):
    layers = tiny_layers()
    layers["parcels"].loc[layers["parcels"]["parcel_id"] == "P5", "land_use"] = "services"
    dataset = load_dataset(write_layers(tmp_path / "svc.gpkg", layers))
    result = run(dataset, tmp_path, scenario(rules={"services_share_max": limit}))
    found = findings(result, "SERVICES_SHARE")
    assert bool(found) is broken
    if broken:
        assert found[0].value == pytest.approx(1.0 / 24.2, rel=1e-6)


@pytest.mark.parametrize("shift, broken", [(0.0, False), (-0.04, False), (-0.20, True)])
def test_overlap(tiny, tmp_path, shift, broken):
    # east of C3: touching its edge (x = 3400), 4 cm over (within tolerance), or 20 cm over
    new = shapely.box(3400 + shift, 0, 3900, 500)
    result = run(tiny, tmp_path, scenario(
        {"add": {"cluster_id": "C9", "name": "CCN Chín", "admin_code": "D2"}, "year": 2024,
         "geometry": lonlat(new)}, rules={"plan_total_ha": 1000}))
    assert bool(findings(result, "OVERLAP")) is broken


@pytest.mark.parametrize("east, broken", [(4000.0, False), (4010.0, True)])
def test_outside_province(tiny, tmp_path, east, broken):
    new = shapely.box(3500, 0, east, 400)  # the province ends at x = 4000
    result = run(tiny, tmp_path, scenario(
        {"add": {"cluster_id": "C9", "name": "CCN Chín", "admin_code": "D2"}, "year": 2024,
         "geometry": lonlat(new)}, rules={"plan_total_ha": 1000}))
    found = findings(result, "OUTSIDE_PROVINCE")
    assert bool(found) is broken
    if broken:
        assert found[0].value == pytest.approx(10 * 400 / HA, abs=0.01)


@pytest.mark.parametrize("total, broken", [(62.2, False), (62.19, True)])
def test_plan_total(tiny, tmp_path, total, broken):
    result = run(tiny, tmp_path, scenario(rules={"plan_total_ha": total}))
    found = findings(result, "PLAN_TOTAL")
    assert bool(found) is broken
    if broken:
        assert found[0].value == pytest.approx(62.2) and found[0].year == BASE


@pytest.mark.parametrize("threshold, broken", [(10.0, False), (9.99, True)])
def test_protected_land(tiny, tmp_path, threshold, broken):
    # a land-use plan: rice (LUC) on the western 200 m of C3, residential (ONT) on the rest
    plan = np.array([at(shapely.box(3000, 0, 3200, 500)), at(shapely.box(3200, 0, 3400, 500))])

    def land_use_under(geoms):
        return overlay_classes([str(i) for i in range(len(geoms))],
                               np.asarray(geoms, dtype=object), ["LUC", "ONT"], plan)

    result = run(tiny, tmp_path, scenario({"establish": "C3", "year": 2023},
                                          rules={"protected_warn_ha": threshold}),
                 land_use_under=land_use_under)
    found = findings(result, "PROTECTED_LAND")
    assert bool(found) is broken
    assert result.answers.rice_converted_ha == pytest.approx(200 * 500 / HA)
    if broken:
        assert found[0].severity is Severity.WARNING and found[0].value == pytest.approx(10.0)


# ------------------------------------------------------------------------------ projection
def rows(result: CheckedScenario, cluster: str) -> dict[int, ClusterYear]:
    return {r.year: r for r in result.years if r.cluster_id == cluster}


def test_historical_absorption(tiny, tmp_path):
    result = run(tiny, tmp_path, scenario(absorption={"method": "historical", "years": 5}))
    c1 = rows(result, "C1")
    # C1 leased P2 (2 ha) in 2021 within 2018–2022: 0.4 ha a year, from 4 of 9 ha
    assert c1[BASE].leased_ha == pytest.approx(4.0)
    for year in range(2023, 2031):
        assert c1[year].leased_ha == pytest.approx(min(9.0, 4.0 + 0.4 * (year - BASE)))
    assert c1[2030].occupancy == pytest.approx(7.2 / 9)
    assert rows(result, "C2")[2030].leased_ha == pytest.approx(4.5)  # already full


def test_given_rates_and_new_land(tiny, tmp_path):
    result = run(tiny, tmp_path, scenario(
        {"establish": "C3", "year": 2023},
        absorption={"rate_ha_per_year": {"C1": 1.0, "default": 2.0}},
        rules={"lease_lag_years": 2, "industrial_share": 0.5}))
    c1, c3 = rows(result, "C1"), rows(result, "C3")
    assert [c1[y].leased_ha for y in range(2023, 2029)] == pytest.approx([5, 6, 7, 8, 9, 9])
    # C3's 20 ha are established in 2023 and leasable from 2025 at half industrial: 10 ha
    assert [c3[y].industrial_ha for y in (2023, 2024, 2025)] == pytest.approx([0, 0, 10])
    assert [c3[y].leased_ha for y in range(2025, 2031)] == pytest.approx([2, 4, 6, 8, 10, 10])
    assert c3[2023].established and not c3[BASE].established
    assert result.answers.province_balance.supply_ha == pytest.approx((9 - 4) + 0 + 10)


def test_gate_years_and_earliest_establishment(tiny, tmp_path):
    result = run(tiny, tmp_path, scenario(rules={"gate_occupancy": 0.75, "gate_unleased_ha": 3}))
    # D1: mean occupancy 0.722 in 2022, C1 +0.4 ha a year: 4.8/9 → mean 0.767 at the end of 2024
    gates = {g.admin_code: g.year for g in result.answers.gate_opens}
    assert gates == {"D1": 2025, "D2": 2023}
    earliest = {e.cluster_id: e.earliest_year for e in result.answers.earliest_establishment}
    assert earliest == {"C3": 2023}


def test_removing_a_cluster(tiny, tmp_path):
    result = run(tiny, tmp_path, scenario({"remove": "C3"}))
    assert not any(r.in_plan for r in result.years if r.cluster_id == "C3")
    projection = project(tiny, read_scenario(None, tiny))
    assert projection.clusters.groupby("year")["plan_ha"].sum().iloc[0] == pytest.approx(62.2)


# ------------------------------------------------------------------------ the typed result
KEYS = ["scenario", "source", "base_year", "horizon", "rules", "absorption", "changes",
        "findings", "years", "units", "answers"]


def test_the_json_is_plain_and_reads_back(tiny, tmp_path):
    result = run(tiny, tmp_path, scenario(
        {"establish": "C3", "year": 2023},
        {"add": {"cluster_id": "C9", "name": "CCN Chín", "admin_code": "D2"}, "year": 2024,
         "geometry": lonlat(shapely.box(3300, 0, 3900, 500))},  # over C3: an overlap
        {"remove": "C2"}, rules={"plan_total_ha": 10}), lang="en")
    data = result.to_json()
    assert list(data) == KEYS
    assert json.loads(json.dumps(data, allow_nan=False)) == data  # plain JSON values
    assert CheckedScenario.from_json(result.scenario, data, lang="en") == result
    assert {f.rule for f in result.findings} >= {Rule.OVERLAP, Rule.PLAN_TOTAL}
    assert [f["message"] for f in data["findings"]] == [f.message_en for f in result.findings]
    assert list(data["years"][0]) == [f for f in ClusterYear.__dataclass_fields__]
    assert data["answers"]["demand_supply"][-1]["admin_code"] is None
    assert data["answers"]["rice_converted_ha"] is None  # no land-use data
    assert result.count(Severity.ERROR) == sum(f["severity"] == "error" for f in data["findings"])
    assert result.with_source("elsewhere").to_json() == {**data, "source": "elsewhere"}


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(establish=st.sampled_from([None, 2023, 2026, 2030]),
       remove=st.sampled_from([None, "C1", "C2", "C3"]),
       gate=st.floats(min_value=0, max_value=1), lag=st.integers(min_value=0, max_value=4),
       mean=st.sampled_from(["mean", "area_weighted"]), lang=st.sampled_from(["vi", "en"]))
def test_any_check_reads_back_from_its_json(tiny, establish, remove, gate, lag, mean, lang):
    changes = ([{"establish": "C3", "year": establish}] if establish else []) + (
        [{"remove": remove}] if remove else [])
    document = scenario(*changes, rules={"gate_occupancy": gate, "lease_lag_years": lag,
                                         "gate_mean": mean})
    checked = check_scenario(tiny, build_scenario(document, tiny), lang=lang)
    data = json.loads(json.dumps(checked.to_json(), allow_nan=False))
    assert CheckedScenario.from_json(checked.scenario, data, lang=lang) == checked
    assert len(checked.years) == 3 * (2030 - BASE + 1)  # every cluster, every year
    assert [g.admin_code for g in checked.answers.gate_opens] == ["D1", "D2"]


def test_the_reports_read_the_typed_result(tiny, tmp_path):
    plan = run(tiny, tmp_path, scenario())
    grown = run(tiny, tmp_path, scenario({"establish": "C3", "year": 2023}, name="grown"))
    text = scenario_report(grown, lang="en")
    assert text.startswith("Scenario: grown (base year 2022, horizon 2030)")
    assert "not measured (no land-use map)" in text
    table = comparison_report([plan, grown], lang="en").splitlines()
    assert table[0].split() == ["Figure", "test", "grown"]
    established = next(line for line in table if line.startswith("Clusters established"))
    assert established.split()[-2:] == ["2", "3"]  # C1 and C2; then C3 too


# -------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("text, words", [
    ("name: x\nchanges:\n  - {establish: C9, year: 2024}\n", "line 3: changes[0].establish: "
     "unknown cluster 'C9'"),
    ("name: x\ncolour: red\n", "line 2: unknown key 'colour'"),
    ("name: x\nchanges:\n  - {establish: C3, year: 2031}\n", "line 3: changes[0].year: 2031 is "
     "outside the plan (2023–2030)"),
    ("name: x\nchanges:\n  - {establish: C3, year: 2020}\n", "outside the plan"),
    ("name: x\nchanges:\n  - {establish: C3}\n", "establish needs a year"),
    ("name: x\nchanges:\n  - {expand: C1, year: 2024}\n", "expand needs a geometry"),
    ("name: x\nchanges:\n  - {expand: C1, year: 2024, geometry: {type: Polygon, coordinates: "
     "[[[106.3, 20.4], [106.31, 20.41], [106.31, 20.4], [106.3, 20.41], [106.3, 20.4]]]}}\n",
     "line 3: changes[0].geometry: invalid geometry (Self-intersection"),
    ("name: x\nchanges:\n  - {expand: C1, year: 2024, geometry: {type: Polygon, coordinates: "
     "[[[587000, 2262000], [587100, 2262000], [587100, 2262100], [587000, 2262000]]]}}\n",
     "not longitude/latitude"),
    ("name: x\nrules: {area_max_ha: big}\n", "rules.area_max_ha: 'big' is not a valid value"),
    ("name: x\nrules: {area_maximum: 80}\n", "unknown rule setting"),
    ("name: x\nchanges:\n  - {establish: C3, year: 2024, geometry: {}}\n",
     "changes[0].geometry: unknown key for establish"),
    ("name: [unclosed\n", "not valid YAML"),
    ("name: x\nabsorption: {rate_ha_per_year: {C9: 1}}\n", "unknown cluster 'C9'"),
    ("name: x\nchanges:\n  - {add: {cluster_id: C1, name: y, admin_code: D1}, year: 2024,"
     " geometry: {type: Polygon, coordinates: [[[106.3, 20.4], [106.31, 20.4], [106.31, 20.41],"
     " [106.3, 20.4]]]}}\n", "C1 already exists"),
])
def test_malformed_scenarios(tiny, tmp_path, text, words):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_scenario(path, tiny)
    assert words in str(info.value) and str(path) in str(info.value)


@pytest.mark.slow
def test_cli_reports_the_line_without_traceback(tiny, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nchanges:\n  - {establish: C9, year: 2024}\n", encoding="utf-8")
    cli = subprocess.run([sys.executable, "-m", "ccn_gis.cli", "scenario", "check", str(path),
                          "--layers", tiny.source], capture_output=True, text=True, check=False)
    assert cli.returncode == 1 and "line 3" in cli.stderr and "Traceback" not in cli.stderr
    assert cli.stdout == ""  # no partial result


# ------------------------------------------------------- what a scenario does to a cluster
CHANGES = st.builds(Change, st.sampled_from(list(ChangeKind)), st.sampled_from(["C1", "C2"]),
                    st.one_of(st.none(), st.integers(min_value=2023, max_value=2030)))


@given(st.lists(CHANGES, max_size=6))
def test_the_most_telling_change_wins(changes):
    expected: dict[str, Change] = {}
    for kind in (ChangeKind.ESTABLISH, ChangeKind.EXPAND, ChangeKind.REMOVE, ChangeKind.ADD):
        for c in changes:  # a later kind, and of one kind a later change, overrides
            if c.kind is kind:
                expected[c.cluster_id] = c
    assert cluster_changes(changes) == expected
    assert all(c is expected[c.cluster_id] for c in cluster_changes(changes).values())


FINDINGS = st.builds(Finding, st.sampled_from(list(Rule)), st.sampled_from(list(Severity)),
                     st.sampled_from([None, "C1", "C2"]), st.just(2025), st.none(), st.none(),
                     st.just(""), st.just(""), st.just(""))


@given(st.lists(FINDINGS, max_size=8))
def test_a_clusters_findings_are_its_rules_and_the_worst_severity(found):
    by_cluster = cluster_findings(found)
    assert set(by_cluster) == {f.cluster_id for f in found} - {None}
    for cid, summary in by_cluster.items():
        own = [f for f in found if f.cluster_id == cid]
        assert summary.rules == tuple(dict.fromkeys(f.rule for f in own))
        worst = Severity.ERROR if any(f.severity is Severity.ERROR for f in own) else (
            Severity.WARNING)
        assert summary.severity is worst


def test_cluster_findings_of_a_check(tiny, tmp_path):
    result = run(tiny, tmp_path, scenario(
        {"add": {"cluster_id": "C9", "name": "CCN Chín", "admin_code": "D2"}, "year": 2024,
         "geometry": lonlat(shapely.box(3300, 0, 3900, 500))}, rules={"plan_total_ha": 10}))
    assert {f.rule for f in result.findings} == {Rule.OVERLAP, Rule.PLAN_TOTAL}
    # the overlap is the planned cluster's; PLAN_TOTAL is the province's
    assert cluster_findings(result.findings) == {
        "C3": ClusterFindings((Rule.OVERLAP,), Severity.ERROR)}
    assert cluster_changes(result.scenario.changes)["C9"].kind is ChangeKind.ADD


# ------------------------------------------------------------------ a scenario file checked
def test_a_file_is_checked_as_the_command_line_checks_it(tiny, tmp_path):
    path = tmp_path / "grown.yaml"
    path.write_text(yaml.safe_dump(scenario({"establish": "C3", "year": 2023}, name="grown")),
                    encoding="utf-8")
    defaults = rule_settings(tiny.settings)
    assert read_province_scenario(tiny, path) == read_scenario(path, tiny, defaults=defaults)
    store = open_store(tiny.source)
    expected = check_scenario(tiny, read_scenario(path, tiny, defaults=defaults), lang="en")
    assert check_scenario_file(tiny, path, store, lang="en") == expected
    plan = check_scenario(tiny, read_scenario(None, tiny, defaults=defaults))
    assert check_scenario_files(tiny, [None, path], store) == [plan, check_scenario(
        tiny, read_scenario(path, tiny, defaults=defaults))]


# ----------------------------------------------------------------- the example scenarios
ROOT = Path(__file__).resolve().parents[1]


def cli_check(name: str) -> dict:
    run_ = subprocess.run([sys.executable, "-m", "ccn_gis.cli", "scenario", "check",
                           str(ROOT / "scenarios" / name), "--json", "--layers",
                           str(ROOT / "layers" / "thai_binh.gpkg")],
                          capture_output=True, text=True, check=True)
    return json.loads(run_.stdout)


def test_fast_growth_findings():
    result = cli_check("fast_growth.yaml")
    got = {(f["rule"], f["cluster_id"]) for f in result["findings"] if f["severity"] == "error"}
    assert got == {("AREA_MAX", "TB-08"), ("EXPANSION_GATE", "TB-08"),
                   ("NEW_CLUSTER_GATE", "TB-55"), ("NEW_CLUSTER_GATE", "TB-58"),
                   ("OVERLAP", "TB-67"), ("OUTSIDE_PROVINCE", "TB-68"), ("PLAN_TOTAL", None)}
    for f in result["findings"]:
        assert f["basis"] and f["message_vi"] and f["message_en"] and f["year"] >= 2025
    area_max = next(f for f in result["findings"] if f["rule"] == "AREA_MAX")
    # independently: TB-08's plan plus the expansion in the file, in EPSG:9209
    dataset = load_dataset(ROOT / "layers" / "thai_binh.gpkg")
    document = yaml.safe_load((ROOT / "scenarios" / "fast_growth.yaml").read_text("utf-8"))
    grow = next(c for c in document["changes"] if c.get("expand") == "TB-08")["geometry"]
    grown = transform_geometries(np.array([shapely.geometry.shape(grow)]), "EPSG:4326",
                                 "EPSG:9209")[0]
    plan = dataset.clusters.set_index("cluster_id").geometry["TB-08"]
    assert area_max["value"] == pytest.approx(shapely.union_all([plan, grown]).area / HA,
                                              abs=0.01)


def test_plan_as_approved_breaks_no_rule():
    result = cli_check("plan_as_approved.yaml")
    assert [f for f in result["findings"] if f["severity"] == "error"] == []
    assert {f["rule"] for f in result["findings"]} <= {"PROTECTED_LAND"}
    assert result["answers"]["rice_converted_ha"] > 100
