"""The command line as a user runs it: a real process, its output and exit status."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from builders import tiny_layers, write_layers


def ccn(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ccn_gis.cli", *args], capture_output=True,
                          text=True, check=False, env=env)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_layers(tmp_path_factory.mktemp("cli") / "tiny.gpkg", tiny_layers(),
                        settings={"province_name": "Tỉnh Thử", "area_crs": "EPSG:9209"})


def test_table_is_vietnamese_by_default(tiny):
    run = ccn("stats", "--layers", str(tiny))
    assert run.returncode == 0, run.stderr
    assert "Cụm công nghiệp Tỉnh Thử — toàn bộ dữ liệu" in run.stdout
    assert "CCN đã thành lập" in run.stdout
    assert "43,00" in run.stdout  # 25 + 18 ha, Vietnamese decimal comma
    assert "63,0 %" in run.stdout  # 8.5 / 13.5


def test_table_in_english(tiny):
    run = ccn("stats", "--layers", str(tiny), "--lang", "en", "--as-of", "2016-12-31")
    assert run.returncode == 0, run.stderr
    assert "as of 2016-12-31" in run.stdout and "Clusters established" in run.stdout
    assert "15.00" in run.stdout  # the first establishment extent only


def test_json_by_level(tiny):
    province = json.loads(ccn("stats", "--layers", str(tiny), "--json").stdout)
    assert province["province"] == "Tỉnh Thử" and province["as_of"] is None
    assert province["planned"]["count"] == 3
    units = json.loads(ccn("stats", "--layers", str(tiny), "--json", "--by", "admin").stdout)
    assert [u["admin_code"] for u in units] == ["D1", "D2"]
    clusters = json.loads(ccn("stats", "--layers", str(tiny), "--json", "--by", "cluster").stdout)
    assert [c["cluster_id"] for c in clusters] == ["C1", "C2", "C3"]
    assert clusters[2]["occupancy"] is None


def test_layers_from_the_environment(tiny):
    import os

    run = ccn("stats", "--json", env={**os.environ, "CCN_GIS_LAYERS": str(tiny)})
    assert json.loads(run.stdout)["planned"]["count"] == 3


@pytest.mark.parametrize("args", [["stats", "--as-of", "2016-13-01"], ["stats", "--by", "x"],
                                  ["frobnicate"], []])
def test_usage_mistakes_exit_2_without_traceback(tiny, args):
    run = ccn(*args)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and "usage" in run.stderr


def test_settings_are_kept_in_the_file(tmp_path):
    path = write_layers(tmp_path / "p.gpkg", tiny_layers())
    shown = json.loads(ccn("settings", "--layers", str(path)).stdout)
    assert shown["area_crs"] == "EPSG:9209" and shown["province_name"] == ""
    run = ccn("settings", "--layers", str(path), "--set", "province_name=Nam Định",
              "--set", "area_crs=EPSG:9211")
    assert run.returncode == 0, run.stderr
    stats = json.loads(ccn("stats", "--layers", str(path), "--json").stdout)
    assert (stats["province"], stats["area_crs"]) == ("Nam Định", "EPSG:9211")
    again = ccn("settings", "--layers", str(path), "--set", "area_crs=EPSG:4326")
    assert again.returncode == 1 and "area_crs" in again.stderr
    assert json.loads(ccn("settings", "--layers", str(path)).stdout)["area_crs"] == "EPSG:9211"
