"""GDAL's OGC API – Features driver (``OAPIF:``) reads every collection of a running server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest

from ccn_gis import load_dataset
from ccn_gis.publish import COLLECTIONS

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"

pytestmark = pytest.mark.skipif(
    shutil.which("ogrinfo") is None and not os.environ.get("CI"),
    reason="GDAL's tools are not installed (scripts/setup.sh --test installs gdal-bin)",
)


@pytest.fixture(scope="module")
def sample():
    return load_dataset(SAMPLE)


def test_ogrinfo_lists_every_collection(live_server):
    out = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{live_server}/"], capture_output=True,
                         text=True, check=True).stdout
    for name in COLLECTIONS:
        assert name in out, out


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_ogrinfo_counts_every_feature(live_server, sample, name):
    out = subprocess.run(["ogrinfo", "-ro", "-so", f"OAPIF:{live_server}/", name],
                         capture_output=True, text=True, check=True).stdout
    count = int(re.search(r"Feature Count: (\d+)", out).group(1))
    assert count == len(getattr(sample, name))


@pytest.mark.parametrize("name", ["clusters", "parcels", "projects"])
def test_ogr2ogr_copies_every_feature_with_paging(live_server, sample, tmp_path, name):
    out = tmp_path / f"{name}.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{live_server}/", name,
                    "-oo", "PAGE_SIZE=500"], check=True, capture_output=True)
    copy = pyogrio.read_dataframe(out)
    source = getattr(sample, name)
    id_field = COLLECTIONS[name].id_field
    assert sorted(copy[id_field]) == sorted(source[id_field])
    if name == "clusters":
        assert set(copy["name"]) == set(source["name"])  # Vietnamese text intact
        areas = copy.to_crs("EPSG:9209").set_index("cluster_id").area / 10_000
        stats = json.loads(subprocess.run(
            [sys.executable, "-m", "ccn_gis.cli", "stats", "--json", "--layers", str(SAMPLE)],
            capture_output=True, text=True, check=True).stdout)
        assert areas.sum() == pytest.approx(stats["planned"]["area_ha"], abs=0.01)
