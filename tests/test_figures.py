"""Every derived figure on the tiny province, worked out by hand from the boxes in builders.py."""

from __future__ import annotations

import datetime as dt

import pytest

from builders import tiny_dataset
from ccn_gis import figures_by_admin, figures_by_cluster, province_figures

HA = 10_000.0  # m² per hectare

# Areas by hand, from the box sizes in builders.py.
C1_PLAN = (500 * 500 - 100 * 80) / HA  # a polygon with a hole
C2_PLAN = 2 * 300 * 300 / HA  # a multipolygon
C3_PLAN = 400 * 500 / HA
C1_ESTABLISHED = 500 * 500 / HA  # union of two 300 x 500 extents overlapping by 100 x 500
C1_ESTABLISHED_2016 = 300 * 500 / HA  # before the expansion decision of 2019
C1_DETAILED = 300 * 400 / HA
C2_DETAILED = 300 * 300 / HA
P1 = P2 = P3 = 100 * 200 / HA
P4 = 150 * 200 / HA
P7 = 300 * 150 / HA


MIXED_CRS = {"admin_units": "EPSG:4326", "parcels": "EPSG:4326",
             "approved_extents": "EPSG:32648"}


@pytest.fixture(scope="module", params=["area-crs", "mixed-crs"])
def dataset(request):
    """The tiny province, built in memory, in its area CRS or spread over three CRSs."""
    return tiny_dataset(crs=MIXED_CRS if request.param == "mixed-crs" else None)


def test_stage_counts_and_areas(dataset):
    f = province_figures(dataset)
    assert f.planned.count == 3
    assert f.planned.area_ha == pytest.approx(C1_PLAN + C2_PLAN + C3_PLAN, abs=1e-6)
    assert f.established.count == 2
    assert f.established.area_ha == pytest.approx(C1_ESTABLISHED + C2_PLAN, abs=1e-6)
    assert f.detailed_plan.count == 2
    assert f.detailed_plan.area_ha == pytest.approx(C1_DETAILED + C2_DETAILED, abs=1e-6)
    assert f.operating.count == 1
    assert f.operating.area_ha == pytest.approx(C1_ESTABLISHED, abs=1e-6)


def test_land_and_occupancy(dataset):
    f = province_figures(dataset)
    industrial = P1 + P2 + P3 + P4 + P7
    leased = P1 + P2 + P7
    recovered = P1 + P2 + P3
    assert f.industrial_ha == pytest.approx(industrial, abs=1e-6)
    assert f.leased_ha == pytest.approx(leased, abs=1e-6)
    assert f.occupancy == pytest.approx(leased / industrial)
    assert f.recovered_industrial_ha == pytest.approx(recovered, abs=1e-6)
    assert f.occupancy_recovered == pytest.approx((P1 + P2) / recovered)


def test_projects_and_promotion(dataset):
    p = province_figures(dataset).projects
    assert p.count == 4
    assert p.by_status == {"producing": 1, "under_construction": 1, "not_started": 1,
                           "stopped": 1}
    assert p.registered_capital_bn_vnd == pytest.approx(100 + 50 + 30 + 20)
    assert p.implemented_capital_bn_vnd == pytest.approx(80 + 10 + 0 + 20)
    assert p.capital_realisation == pytest.approx(110 / 200)
    assert (p.registered_workers, p.workers) == (200 + 100 + 100 + 50, 150)
    promotion = province_figures(dataset).promotion
    assert promotion["sewing_training"].participants == 100 + 50
    assert promotion["sewing_training"].activities == 2
    assert promotion["machinery_support"].facilities == 3
    assert promotion["demo_model"].facilities == 0


def test_as_of_excludes_later_decisions_leases_and_projects(dataset):
    f = province_figures(dataset, as_of=dt.date(2016, 12, 31))
    assert f.established.count == 1  # C2 was established in 2018
    assert f.established.area_ha == pytest.approx(C1_ESTABLISHED_2016, abs=1e-6)
    assert f.detailed_plan.area_ha == pytest.approx(C1_DETAILED, abs=1e-6)
    assert f.operating.count == 0  # C1 operates from 2017
    # only C1's parcels exist (its detailed plan is of 2016); only P1 is leased by then
    assert f.industrial_ha == pytest.approx(P1 + P2 + P3 + P4, abs=1e-6)
    assert f.leased_ha == pytest.approx(P1, abs=1e-6)
    assert f.occupancy_recovered == pytest.approx(P1 / (P1 + P2 + P3))
    assert f.projects.count == 2  # PR4 (2014) and PR1 (2016)
    assert f.projects.registered_capital_bn_vnd == pytest.approx(100 + 20)
    assert f.promotion["sewing_training"].participants == 100  # the 2020 course comes later


def test_as_of_on_the_decision_day_counts_it(dataset):
    before = province_figures(dataset, as_of=dt.date(2019, 5, 31))
    on_the_day = province_figures(dataset, as_of=dt.date(2019, 6, 1))
    assert before.established.area_ha == pytest.approx(C1_ESTABLISHED_2016 + C2_PLAN, abs=1e-6)
    assert on_the_day.established.area_ha == pytest.approx(C1_ESTABLISHED + C2_PLAN, abs=1e-6)


def test_by_admin_sums_its_clusters(dataset):
    by_code = {s.code: s for s in figures_by_admin(dataset)}
    assert set(by_code) == {"D1", "D2"}
    d1, d2 = by_code["D1"].figures, by_code["D2"].figures
    assert by_code["D1"].name == "Huyện Một"
    assert d1.planned.count == 2 and d2.planned.count == 1
    assert d1.planned.area_ha == pytest.approx(C1_PLAN + C2_PLAN, abs=1e-6)
    assert d2.planned.area_ha == pytest.approx(C3_PLAN, abs=1e-6)
    assert d2.occupancy is None  # no industrial land: no rate, not 0
    assert d1.promotion["sewing_training"].participants == 100
    assert d2.promotion["machinery_support"].facilities == 3


def test_by_cluster(dataset):
    by_id = {s.code: s.figures for s in figures_by_cluster(dataset)}
    assert list(by_id) == ["C1", "C2", "C3"]
    assert by_id["C1"].occupancy == pytest.approx((P1 + P2) / (P1 + P2 + P3 + P4))
    assert by_id["C2"].occupancy == pytest.approx(1.0)
    assert by_id["C1"].projects.count == 3
    assert by_id["C3"].established.count == 0
    assert by_id["C1"].promotion is None


def test_json_keys_follow_the_data_model(dataset):
    data = province_figures(dataset).to_dict()
    assert {"planned", "established", "detailed_plan", "operating", "industrial_ha",
            "leased_ha", "occupancy", "recovered_industrial_ha", "occupancy_recovered",
            "projects", "promotion"} <= set(data)
    assert set(data["planned"]) == {"count", "area_ha"}
    assert {"count", "by_status", "registered_capital_bn_vnd", "implemented_capital_bn_vnd",
            "capital_realisation", "registered_workers", "workers"} == set(data["projects"])
    cluster = figures_by_cluster(dataset)[0].to_dict()
    assert cluster["cluster_id"] == "C1" and cluster["admin_code"] == "D1"
