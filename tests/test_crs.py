"""VN-2000 with the national shift: the check point of DATA_MODEL.md and round trips."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS

from ccn_gis.crs import area_ha, check_area_crs, resolve_crs, transform_geometries, transformer
from ccn_gis.errors import CrsError

# A VN-2000 TM-3 system as some desktop tools write it in a .prj: no EPSG code, no shift.
ESRI_PRJ = (
    'PROJCS["VN_2000_TM3_105_30",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",'
    'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",105.5],PARAMETER["Scale_Factor",0.9999],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)
# The same with a datum name PROJ does not know.
UNNAMED_PRJ = ESRI_PRJ.replace("VN_2000_TM3_105_30", "Thai Binh plane").replace(
    "D_Vietnam_2000", "Vietnam_2000_local")


@pytest.mark.parametrize("target", ["EPSG:9209", ESRI_PRJ, UNNAMED_PRJ])
def test_check_point(target):
    east, north = transformer("EPSG:4326", target).transform(106.34, 20.45)
    assert east == pytest.approx(587448.56, abs=0.05)
    assert north == pytest.approx(2262291.73, abs=0.05)


def test_dropping_the_shift_would_move_features_about_220_m():
    no_shift = "+proj=tmerc +lon_0=105.5 +k=0.9999 +x_0=500000 +ellps=WGS84 +units=m"
    shifted = np.array(transformer("EPSG:4326", "EPSG:9209").transform(106.34, 20.45))
    plain = np.array(transformer("EPSG:4326", no_shift).transform(106.34, 20.45))
    assert 150 < np.hypot(*(shifted - plain)) < 300


@settings(max_examples=50, deadline=None)
@given(st.floats(106.0, 106.8), st.floats(20.2, 20.8), st.floats(10, 900), st.floats(10, 900))
def test_round_trip_keeps_geometry_and_area(lon, lat, width, height):
    to_plane = transformer("EPSG:4326", "EPSG:9209")
    x, y = to_plane.transform(lon, lat)
    square = shapely.box(x, y, x + width, y + height)
    there = transform_geometries(np.array([square]), "EPSG:9209", "EPSG:4326")
    back = transform_geometries(there, "EPSG:4326", "EPSG:9209")[0]
    # PROJ inverts the 7-parameter shift to within a millimetre: far below the 5 cm tolerance
    assert shapely.hausdorff_distance(square, back) < 0.002
    assert area_ha(np.array([back]))[0] == pytest.approx(width * height / 10_000, rel=1e-6)


@pytest.mark.parametrize("bad", ["EPSG:4326", "EPSG:4756"])
def test_area_crs_must_be_projected_in_metres(bad):
    with pytest.raises(CrsError, match="projected"):
        check_area_crs(bad)


@pytest.mark.parametrize("bad", [None, "", "EPSG:999999", "not a crs"])
def test_unknown_crs(bad):
    with pytest.raises(CrsError):
        resolve_crs(bad)


def test_other_tm3_zones_resolve():
    for code in range(9205, 9219):
        assert resolve_crs(f"EPSG:{code}").is_projected
    assert CRS.from_epsg(9210).name.startswith("VN-2000 / TM-3")
