"""The sample province reproduces the table Thái Bình published (shared/seed/BRIEF.md,
typed once in ``sample_figures``), by computation from its geometry and records."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import sample_figures as published
from ccn_gis import figures_by_admin, figures_by_cluster, load_dataset, province_figures

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"


@pytest.fixture(scope="module")
def sample(sample_dataset):
    return sample_dataset


@pytest.fixture(scope="module")
def figures(sample):
    return province_figures(sample)


def test_clusters_and_areas(figures):
    assert figures.planned.count == published.CLUSTERS
    assert figures.planned.area_ha == pytest.approx(published.PLANNED_HA, abs=0.005)
    assert figures.established.count == published.ESTABLISHED
    assert figures.established.area_ha == pytest.approx(published.ESTABLISHED_HA, abs=0.005)
    assert figures.detailed_plan.count == published.DETAILED_PLAN
    assert figures.detailed_plan.area_ha == pytest.approx(published.DETAILED_PLAN_HA, abs=0.005)
    assert figures.operating.count == published.OPERATING


def test_occupancy(figures):
    assert round(figures.occupancy, 3) == published.OCCUPANCY
    assert round(figures.occupancy_recovered, 3) == published.OCCUPANCY_RECOVERED


def test_projects(figures):
    p = figures.projects
    assert p.count == published.PROJECTS
    assert p.by_status == published.PROJECTS_BY_STATUS
    assert round(p.registered_capital_bn_vnd, 6) == published.REGISTERED_CAPITAL_BN_VND
    assert round(p.implemented_capital_bn_vnd, 6) == published.IMPLEMENTED_CAPITAL_BN_VND
    assert round(p.capital_realisation, 3) == published.CAPITAL_REALISATION
    assert (p.registered_workers, p.workers) == (published.REGISTERED_WORKERS, published.WORKERS)


def test_promotion(figures):
    promo = figures.promotion
    for programme, participants in published.PROMOTION_PARTICIPANTS.items():
        assert promo[programme].participants == participants, programme
    for programme, facilities in published.PROMOTION_FACILITIES.items():
        assert promo[programme].facilities == facilities, programme


def test_settings_and_plan_total(sample, figures):
    assert sample.settings.province_name == "Thái Bình"
    assert sample.settings.area_crs == "EPSG:9209"
    assert figures.planned.area_ha <= sample.settings.plan_total_ha + 0.005


def test_history_for_as_of_questions(sample):
    years = range(2010, 2026)
    series = [province_figures(sample, as_of=dt.date(y, 12, 31)) for y in years]
    established = [f.established.count for f in series]
    leased = [f.leased_ha for f in series]
    assert established == sorted(established)
    assert established[0] < established[-1] == published.ESTABLISHED
    assert leased == sorted(leased) and leased[0] < leased[-1]
    assert 0 < series[years.index(2015)].established.count < published.ESTABLISHED


def test_levels_agree(sample, figures):
    units = figures_by_admin(sample)
    clusters = figures_by_cluster(sample)
    assert len(units) == 8 and len(clusters) == published.CLUSTERS
    for key in ("industrial_ha", "leased_ha"):
        assert sum(getattr(u.figures, key) for u in units) == pytest.approx(getattr(figures, key))
        assert sum(getattr(c.figures, key) for c in clusters) == pytest.approx(
            getattr(figures, key))
    kinds = sample.clusters.set_index("cluster_id")["kind"]
    for c in clusters:  # 10–75 ha; craft-village clusters may be as small as 5 ha
        smallest = 5 if kinds[c.code] == "craft_village" else 10
        assert smallest <= round(c.figures.planned.area_ha, 2) <= 75, c.code


def test_clusters_lie_in_the_real_outline(sample):
    outline = ROOT / "layers" / "source" / "thai_binh_region.geojson"
    region = gpd.read_file(outline)
    province = region[region["role"] == "target"].to_crs(sample.settings.area_crs)
    assert shapely.covered_by(sample.clusters.geometry.array, province.geometry.iloc[0]).all()


@pytest.mark.slow
def test_generator_is_deterministic(tmp_path, sample):
    out = tmp_path / "again.gpkg"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_sample.py"), "--out", str(out)],
                   check=True, capture_output=True)
    again = load_dataset(out)
    for name in ("clusters", "approved_extents", "parcels", "projects", "promotion_activities",
                 "admin_units"):
        ours, theirs = getattr(sample, name), getattr(again, name)
        pd.testing.assert_frame_equal(
            pd.DataFrame(ours.drop(columns="geometry", errors="ignore")),
            pd.DataFrame(theirs.drop(columns="geometry", errors="ignore")))
        if "geometry" in ours:
            assert shapely.equals_exact(ours.geometry.array, theirs.geometry.array, 1e-6).all()
