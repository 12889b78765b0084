"""Properties that hold for any geometry, any number and any date (hypothesis).

Everything is built in memory: geometries in the tiny province's plane system
(EPSG:9209, metres from an origin inside Thái Bình, see ``builders``), points inside
Viet Nam, and a dataset from :func:`builders.tiny_layers` with random decision dates.
"""

from __future__ import annotations

import datetime as dt
import math
from itertools import pairwise

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyproj import CRS
from shapely import Polygon, box

from builders import AREA_CRS, C3, at, tiny_dataset, tiny_layers
from ccn_gis.crs import area_ha, transform_geometries
from ccn_gis.figures import figures_by_admin, province_figures
from ccn_gis.occupancy import occupancy, rate, rates

VN2000_ZONES = tuple(f"EPSG:{code}" for code in range(9205, 9219))
"""The VN-2000 TM-3 plane systems of the provinces (EPSG:9205–9218)."""
VIETNAM = (102.14, 8.33, 109.53, 23.4)
"""Viet Nam onshore, (west, south, east, north) in degrees (EPSG's area of use)."""
ROUND_TRIP_M = 0.002
"""How far a point may come back from WGS84 → VN-2000 → WGS84: PROJ's shift is 2D, so
the ellipsoidal height the shift gives is dropped on the way and the way back starts
from height 0; that leaves up to 1.4 mm (measured on 50,000 points across Viet Nam)."""
MEKONG_BLOCKS = (104.24, 9.35, 107.11, 11.04)
"""The area of EPSG:5194, a regional VN-2000 shift (Mekong delta blocks DBSCL 02 and 03)
0.8 m away from the national one, which PROJ would choose inside it, point by point."""
MEKONG_ZONES = ("EPSG:9207", "EPSG:9208", "EPSG:9209", "EPSG:9210")


# -- the area of the parts is the area of the whole -----------------------------------


@st.composite
def clusters(draw) -> Polygon:
    """A cluster drawn around a point of the tiny province: a star-shaped polygon (its
    vertices at increasing angles around the centre), sometimes with a pond cut out."""
    n = draw(st.integers(3, 12))
    angles = sorted(draw(st.lists(st.floats(0, 2 * math.pi, exclude_max=True),
                                  min_size=n, max_size=n, unique=True)))
    assume(all(b - a > 1e-3 for a, b in pairwise(angles)))
    radii = draw(st.lists(st.floats(50, 2_000), min_size=n, max_size=n))
    cx, cy = draw(st.floats(0, 5_000)), draw(st.floats(0, 5_000))
    ring = [(cx + r * math.cos(a), cy + r * math.sin(a))
            for a, r in zip(angles, radii, strict=True)]
    pond = draw(st.none() | st.floats(0.1, 0.8))
    holes = [] if pond is None else [[(cx + (x - cx) * pond, cy + (y - cy) * pond)
                                      for x, y in ring]]
    polygon = at(Polygon(ring, holes))
    assume(polygon.is_valid and polygon.area > 1.0)
    return polygon


@settings(max_examples=60, deadline=None)
@given(clusters(), st.integers(1, 25), st.floats(0, 1), st.floats(0, 1))
def test_parcels_cut_by_a_grid_add_up_to_the_cluster(cluster, across, dx, dy):
    """Cutting a cluster into parcels along a grid (any cell size, any offset) loses and
    adds no land: the parcels' areas add up to the cluster's, to 1e-6."""
    west, south, east, north = cluster.bounds
    cell = max(east - west, north - south) / across
    x0, y0 = west - dx * cell, south - dy * cell
    cells = [box(x, y, x + cell, y + cell)
             for x in np.arange(x0, east, cell) for y in np.arange(y0, north, cell)]
    parcels = shapely.intersection(cluster, np.array(cells, dtype=object))
    parcels = parcels[~shapely.is_empty(parcels)]
    whole = area_ha(np.array([cluster]))[0]
    assert area_ha(parcels).sum() == pytest.approx(whole, rel=1e-6)


# -- reprojecting there and back returns the input ------------------------------------


def _metres_apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in metres between WGS84 points close to each other (a local flat Earth)."""
    lat = np.radians(shapely.get_y(a))
    east = (shapely.get_x(b) - shapely.get_x(a)) * 111_320.0 * np.cos(lat)
    north = (shapely.get_y(b) - shapely.get_y(a)) * 110_574.0
    return np.hypot(east, north)


points_in_vietnam = st.tuples(st.floats(VIETNAM[0], VIETNAM[2]),
                              st.floats(VIETNAM[1], VIETNAM[3]))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(VN2000_ZONES), st.lists(points_in_vietnam, min_size=1, max_size=20))
def test_there_and_back_returns_the_point(zone, lonlats):
    """WGS84 → a VN-2000 TM-3 zone → WGS84, and the zone → WGS84 → the zone, bring every
    point back to within :data:`ROUND_TRIP_M`."""
    points = shapely.points(np.array(lonlats))
    plane = transform_geometries(points, "EPSG:4326", zone)
    back = transform_geometries(plane, zone, "EPSG:4326")
    assert _metres_apart(points, back).max() < ROUND_TRIP_M
    again = transform_geometries(back, "EPSG:4326", zone)
    assert shapely.distance(plane, again).max() < ROUND_TRIP_M


@pytest.mark.parametrize("zone", MEKONG_ZONES)
def test_round_trip_near_the_mekong_blocks(zone):
    """A point 200 m inside the edge of the blocks comes back (PROJ left to choose took
    the regional shift one way and the national one the other: 0.8 m off)."""
    point = shapely.points(np.array([(105.5, 11.042)]))
    back = transform_geometries(transform_geometries(point, "EPSG:4326", zone), zone,
                                "EPSG:4326")
    assert _metres_apart(point, back).max() < ROUND_TRIP_M


NATIONAL_TOWGS84 = ("-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,"
                    "0.00427372,0.252906278")
"""The national shift as DATA_MODEL.md gives it (``+towgs84``), typed here, not imported."""


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(MEKONG_ZONES),
       st.lists(st.tuples(st.floats(MEKONG_BLOCKS[0], MEKONG_BLOCKS[2]),
                          st.floats(MEKONG_BLOCKS[1], MEKONG_BLOCKS[3])),
                min_size=1, max_size=20))
def test_the_national_shift_is_used_in_the_mekong_delta_too(zone, lonlats):
    """Inside the Mekong blocks, as everywhere, WGS84 → VN-2000 is the national 7-parameter
    shift of DATA_MODEL.md (to 1 mm), not PROJ's regional one."""
    tm3 = CRS.from_user_input(zone).to_dict()
    with_shift = CRS.from_proj4(
        f"+proj=tmerc +lat_0=0 +lon_0={tm3['lon_0']} +k=0.9999 +x_0=500000 +y_0=0 "
        f"+ellps=WGS84 +towgs84={NATIONAL_TOWGS84} +units=m +no_defs")
    points = shapely.points(np.array(lonlats))
    expected = transform_geometries(points, "EPSG:4326", with_shift)
    assert shapely.distance(transform_geometries(points, "EPSG:4326", zone),
                            expected).max() < 0.001


# -- occupancy is a share, or has no value ---------------------------------------------


hectares = st.floats(0, 1e7, allow_subnormal=True)


@settings(max_examples=200, deadline=None)
@given(hectares, hectares)
def test_occupancy_is_a_share_of_industrial_land(a, b):
    """For any leased ≤ industrial ≥ 0, occupancy lies in [0, 1]; without industrial
    land it has no value (never 0)."""
    leased, industrial = min(a, b), max(a, b)
    value = occupancy(leased, industrial)
    assert value == rate(leased, industrial)
    if industrial == 0:
        assert value is None
    else:
        assert value is not None and 0.0 <= value <= 1.0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(hectares, hectares), max_size=30))
def test_occupancy_column_is_a_share_or_nan(pairs):
    """:func:`rates` agrees with :func:`rate` element by element: a share, NaN where a
    cluster has no industrial land."""
    leased = [min(a, b) for a, b in pairs]
    industrial = [max(a, b) for a, b in pairs]
    column = rates(leased, industrial)
    assert column.shape == (len(pairs),)
    for value, part, whole in zip(column.tolist(), leased, industrial, strict=True):
        if whole == 0:
            assert math.isnan(value)
        else:
            assert 0.0 <= value <= 1.0 and value == rate(part, whole)


# -- a later date never counts fewer established clusters -----------------------------


days = st.dates(dt.date(1990, 1, 1), dt.date(2035, 12, 31))


@settings(max_examples=6, deadline=None)
@given(st.lists(days, min_size=6, max_size=6), st.lists(days, min_size=4, max_size=4))
def test_later_dates_never_count_fewer_established_clusters(decided, as_of):
    """With any decision dates, the figures as of a later date count at least as many
    established clusters (and as many with a detailed plan), in the province and in
    every unit."""
    layers = tiny_layers()
    c3 = gpd.GeoDataFrame({"cluster_id": ["C3"], "stage": ["establishment"],
                           "decision": ["6/QĐ-UBND"]}, geometry=[at(C3)], crs=AREA_CRS)
    extents = pd.concat([layers["approved_extents"], c3], ignore_index=True)
    layers["approved_extents"] = extents.assign(decided_on=decided)
    dataset = tiny_dataset(layers)

    counts = []
    for day in sorted(as_of):
        province = province_figures(dataset, as_of=day)
        units = {s.code: s.figures.established.count for s in figures_by_admin(dataset,
                                                                               as_of=day)}
        counts.append((province.established.count, province.detailed_plan.count, units))
    for (est, plan, units), (later_est, later_plan, later_units) in pairwise(counts):
        assert later_est >= est and later_plan >= plan
        assert all(later_units.get(code, 0) >= n for code, n in units.items())

