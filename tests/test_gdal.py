"""GDAL's own command-line tools as real clients of the layers ccn-gis reads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"
LAYERS = ("admin_units", "clusters", "approved_extents", "parcels", "projects",
          "promotion_activities", "ccn_settings")

pytestmark = pytest.mark.skipif(
    shutil.which("ogrinfo") is None and not os.environ.get("CI"),
    reason="GDAL's tools are not installed (scripts/setup.sh --test installs gdal-bin)",
)


def _stats(path: Path, *extra: str) -> dict:
    run = subprocess.run([sys.executable, "-m", "ccn_gis.cli", "stats", "--json", "--layers",
                          str(path), *extra], capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


def test_ogrinfo_sees_every_layer_and_the_same_counts():
    listing = subprocess.run(["ogrinfo", "-ro", "-q", str(SAMPLE)], capture_output=True,
                             text=True, check=True).stdout
    for layer in LAYERS:
        assert f": {layer}" in listing, listing
    count = subprocess.run(
        ["ogrinfo", "-ro", "-q", "-sql", "SELECT COUNT(*) AS n FROM clusters", str(SAMPLE)],
        capture_output=True, text=True, check=True).stdout
    assert f"n (Integer) = {_stats(SAMPLE)['planned']['count']}" in count


def test_figures_survive_ogr2ogr_reprojection(tmp_path):
    """A user reprojects the whole file to WGS84 with GDAL: the figures stay the same."""
    copy = tmp_path / "wgs84.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", "-t_srs", "EPSG:4326", str(copy), str(SAMPLE)],
                   check=True, capture_output=True)
    info = subprocess.run(["ogrinfo", "-ro", "-so", str(copy), "clusters"], capture_output=True,
                          text=True, check=True).stdout
    assert "4326" in info
    ours, theirs = _stats(SAMPLE), _stats(copy)
    for key in ("planned", "established", "detailed_plan", "operating"):
        assert theirs[key]["count"] == ours[key]["count"]
        assert theirs[key]["area_ha"] == pytest.approx(ours[key]["area_ha"], abs=0.01)
    for key in ("industrial_ha", "leased_ha", "recovered_industrial_ha"):
        assert theirs[key] == pytest.approx(ours[key], abs=0.01)


def test_vietnamese_text_reads_back_in_gdal():
    out = subprocess.run(
        ["ogrinfo", "-ro", "-q", "-sql",
         "SELECT name FROM admin_units WHERE code = '342'", str(SAMPLE)],
        capture_output=True, text=True, check=True, env={**os.environ, "LC_ALL": "C.UTF-8"},
    ).stdout
    assert "Huyện Tiền Hải" in out
