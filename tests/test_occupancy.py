"""Occupancy has one formula (``ccn_gis.occupancy``) and one answer for a cluster without
industrial land — no value, never 0 — in every channel that carries it: the figures (in
the library and ``/stats``), the published layer (its frame, items and a feature, which
the map's popups read, and its download), and the scenario projection. Reporting 0 there
fails a test in each channel, whether the scalar or the column formula says it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from builders import tiny_dataset
from ccn_gis.figures import figures_by_admin, figures_by_cluster, figures_json
from ccn_gis.occupancy import rate, rates
from ccn_gis.projection import project
from ccn_gis.publish import layer_view
from ccn_gis.scenario import build_scenario
from ccn_gis.settings import AppSettings
from ccn_gis_api import create_app

SAMPLE = Path(__file__).resolve().parents[1] / "layers" / "thai_binh.gpkg"
HECTARES = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@given(leased=HECTARES, industrial=HECTARES)
def test_a_rate_lies_in_0_1_or_has_no_value(leased, industrial):
    leased = min(leased, industrial)  # leased land is part of the industrial land
    value = rate(leased, industrial)
    if industrial > 0:
        assert value is not None and 0 <= value <= 1
    else:
        assert value is None
    column = rates([leased], [industrial])[0]
    assert (math.isnan(column) and value is None) or column == value


@pytest.mark.parametrize("whole", [0.0, -1.0, float("nan")])
def test_no_whole_no_rate(whole):
    assert rate(1.0, whole) is None
    assert np.isnan(rates([1.0], [whole])[0])


def test_the_tiny_planned_cluster_has_no_rate_at_any_level():
    """C3 is planned only, in a unit (D2) of its own: no industrial land, no rate."""
    tiny = tiny_dataset()
    assert {c.code: c.figures.occupancy for c in figures_by_cluster(tiny)}["C3"] is None
    assert {u.code: u.figures.occupancy for u in figures_by_admin(tiny)}["D2"] is None
    view = layer_view(tiny, "clusters").set_index("cluster_id")
    assert np.isnan(view.at["C3", "occupancy"]) and view.at["C2", "occupancy"] == 1.0


@pytest.fixture(scope="module")
def dataset(sample_dataset):
    return sample_dataset


@pytest.fixture(scope="module")
def bare(dataset):
    """The sample's clusters without industrial land (planned ones), and one with some."""
    view = layer_view(dataset, "clusters")
    without = list(view.loc[view["industrial_ha"] == 0, "cluster_id"])
    with_land = view.loc[view["industrial_ha"] > 0, "cluster_id"].iloc[0]
    assert without, "the sample has planned clusters without industrial land"
    return without, with_land


def test_the_published_layer_gives_no_value(dataset, bare):
    without, with_land = bare
    view = layer_view(dataset, "clusters").set_index("cluster_id")
    assert view.loc[without, "occupancy"].isna().all()
    assert 0 < view.at[with_land, "occupancy"] <= 1


def test_the_figures_give_no_value(dataset, bare):
    without, with_land = bare
    by_cluster = {f["cluster_id"]: f for f in figures_json(dataset, by="cluster")}
    assert all(by_cluster[c]["occupancy"] is None for c in without)
    assert 0 < by_cluster[with_land]["occupancy"] <= 1


def test_the_scenario_projection_gives_no_value(dataset, bare):
    without, _ = bare
    rows = project(dataset, build_scenario(None, dataset)).clusters
    assert rows.loc[rows["cluster_id"].isin(without), "occupancy"].isna().all()


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(AppSettings(layers=SAMPLE)))


def test_items_and_features_give_null(client, bare):
    without, with_land = bare
    items = client.get("/collections/clusters/items", params={"limit": 1000}).json()
    occupancy = {f["id"]: f["properties"]["occupancy"] for f in items["features"]}
    assert all(occupancy[c] is None for c in without)
    assert 0 < occupancy[with_land] <= 1
    one = client.get(f"/collections/clusters/items/{without[0]}").json()["properties"]
    assert one["occupancy"] is None and one["figures"]["occupancy"] is None


def test_stats_give_null(client, bare):
    without, with_land = bare
    by_cluster = {f["cluster_id"]: f for f in client.get("/stats", params={"by": "cluster"})
                  .json()}
    assert all(by_cluster[c]["occupancy"] is None for c in without)
    assert 0 < by_cluster[with_land]["occupancy"] <= 1


def test_the_download_gives_null(client, bare):
    without, with_land = bare
    response = client.get("/collections/clusters/download", params={"format": "geojson"})
    assert response.status_code == 200, response.text
    occupancy = {f["properties"]["cluster_id"]: f["properties"]["occupancy"]
                 for f in response.json()["features"]}
    assert all(occupancy[c] is None for c in without)
    assert 0 < occupancy[with_land] <= 1
