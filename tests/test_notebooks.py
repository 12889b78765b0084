"""The analysts' notebooks: stored clean, and executed headlessly as an analyst runs them.

Each notebook is executed twice with nbclient: against a real ``ccn-gis serve``
(``API_URL`` set) and against the GeoPackage (``API_URL = None``). The parameters are
injected by rewriting the cell tagged ``parameters``; a first cell refuses every
connection that does not go to this machine, and a last cell prints what the notebook
built (map layers, legends, tables, chart) as JSON for the assertions.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sample_figures as published
from ccn_gis import notebook as nb
from ccn_gis.model import Stage
from ccn_gis.publish import LEASE_STATUSES, STAGES
from ccn_gis.report import format_number

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"
NAMES = ["01_overview.ipynb", "02_cluster.ipynb", "03_landuse.ipynb", "04_scenarios_2030.ipynb"]
CLUSTER_ID = "TB-06"  # the default of 02_cluster: operating, with parcels and projects
SCENARIO_IDS = ["plan_as_approved", "fast_growth"]
SCENARIO_FILES = [ROOT / "scenarios" / f"{i}.yaml" for i in SCENARIO_IDS]

_MISSING = [m for m in ("leafmap", "nbclient", "nbformat", "ipykernel")
            if importlib.util.find_spec(m) is None]
needs_jupyter = pytest.mark.skipif(
    bool(_MISSING) and not os.environ.get("CI"),
    reason=f"not installed: {', '.join(_MISSING)} (pip install -e '.[notebooks,test]'); "
    "with CI set these tests run and fail instead",
)


def _load(name: str) -> dict[str, Any]:
    return json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))


def _code_cells(notebook: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in notebook["cells"] if c["cell_type"] == "code"]


# ------------------------------------------------------------------ as stored


@pytest.mark.parametrize("name", NAMES)
def test_stored_without_outputs(name):
    notebook = _load(name)
    for cell in _code_cells(notebook):
        assert cell["outputs"] == [], f"{name}: clear the outputs before committing"
        assert cell["execution_count"] is None, f"{name}: clear the execution counts"
    assert "widgets" not in notebook["metadata"], f"{name}: do not save the widget state"


@pytest.mark.parametrize("name", NAMES)
def test_first_code_cell_holds_the_parameters(name):
    first = _code_cells(_load(name))[0]
    assert "parameters" in first["metadata"].get("tags", [])
    values = _assignments("".join(first["source"]))
    assert values["API_URL"] is None
    assert values["LAYERS"] == "../layers/thai_binh.gpkg"
    assert (NOTEBOOKS / values["LAYERS"]).resolve() == SAMPLE.resolve()
    if name == "02_cluster.ipynb":
        assert values["CLUSTER_ID"] == CLUSTER_ID
    if name == "03_landuse.ipynb":
        assert values["RASTER"] is None  # the province's raster beside the layers
    if name == "04_scenarios_2030.ipynb":
        assert values["SCENARIOS"] == [f"../scenarios/{i}.yaml" for i in SCENARIO_IDS]
        assert [(NOTEBOOKS / f).resolve() for f in values["SCENARIOS"]] == SCENARIO_FILES


def _assignments(source: str) -> dict[str, Any]:
    return {node.targets[0].id: ast.literal_eval(node.value)
            for node in ast.parse(source).body if isinstance(node, ast.Assign)}


def test_styles_cover_the_vocabularies():
    assert list(nb.STAGE_STYLES) == list(STAGES)
    assert list(nb.LEASE_STYLES) == list(LEASE_STATUSES)
    assert set(nb.EXTENT_STYLES) == set(Stage.values())
    colours = [s.colour for s in nb.STAGE_STYLES.values()]
    assert len(set(colours)) == 4


def test_the_helper_imports_neither_the_web_app_nor_leafmap():
    code = ("import sys, ccn_gis.notebook; print(sorted({m.split('.')[0] for m in sys.modules} "
            "& {'fastapi', 'starlette', 'uvicorn', 'ccn_gis_api', 'leafmap', 'ipyleaflet'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


# ----------------------------------------------- the helper: API = the file


def test_layers_from_the_api_page_by_page_equal_the_file(live_server):
    by_api = nb.read_layer("parcels", api_url=live_server, page_size=500)  # 4 pages
    by_file = nb.read_layer("parcels", layers=SAMPLE)
    assert len(by_api) == len(by_file) == 1513
    assert list(by_api.columns) == list(by_file.columns)
    assert by_api["parcel_id"].tolist() == by_file["parcel_id"].tolist()
    assert by_api["lease_status"].tolist() == by_file["lease_status"].tolist()
    assert by_api.crs == by_file.crs == "EPSG:4326"
    same = by_api.geometry.normalize().geom_equals_exact(by_file.geometry.normalize(),
                                                         tolerance=1e-6)
    assert same.all()  # the API rounds to 7 decimals
    assert (by_api["leased_on"].isna() == by_file["leased_on"].isna()).all()


def test_filters_and_figures_from_the_api_equal_the_file(live_server):
    where = {"cluster_id": CLUSTER_ID}
    for name in ("approved_extents", "parcels", "projects"):
        by_api = nb.read_layer(name, api_url=live_server, where=where)
        by_file = nb.read_layer(name, layers=SAMPLE, where=where)
        assert len(by_api) == len(by_file) > 0, name
    as_of = dt.date(2020, 12, 31)
    assert (nb.read_figures(api_url=live_server, as_of=as_of)
            == nb.read_figures(layers=SAMPLE, as_of=as_of))
    assert (nb.read_cluster_figures(CLUSTER_ID, api_url=live_server)
            == nb.read_cluster_figures(CLUSTER_ID, layers=SAMPLE))
    with pytest.raises(KeyError, match="TB-99"):
        nb.read_cluster_figures("TB-99", api_url=live_server)
    with pytest.raises(KeyError, match="TB-99"):
        nb.read_cluster_figures("TB-99", layers=SAMPLE)
    with pytest.raises(ValueError, match="clusterid"):
        nb.read_layer("parcels", api_url=live_server, where={"clusterid": "TB-06"})
    with pytest.raises(ValueError, match="clusterid"):
        nb.read_layer("parcels", layers=SAMPLE, where={"clusterid": "TB-06"})


def test_landuse_from_the_api_equals_the_file(live_server):
    for source in ("raster", "plan"):
        by_api = nb.read_landuse("clusters", api_url=live_server, source=source)
        by_file = nb.read_landuse("clusters", layers=SAMPLE, source=source)
        assert list(by_api.columns) == list(by_file.columns) == list(nb.LANDUSE_COLUMNS)
        assert by_api["zone_id"].tolist() == by_file["zone_id"].tolist()
        assert by_api["class_code"].tolist() == by_file["class_code"].tolist()
        assert by_api["area_ha"].to_numpy() == pytest.approx(by_file["area_ha"].to_numpy())
    classes = nb.read_landuse_classes(layers=SAMPLE)
    assert nb.read_landuse_classes(api_url=live_server).equals(classes)
    assert classes["code"].tolist()[:2] == ["LUC", "LUK"] and len(classes) == 14
    with pytest.raises(ValueError, match="source"):
        nb.read_landuse("clusters", layers=SAMPLE, source="vector")


def test_landuse_pivot_keeps_the_uncovered_part_and_formats_in_vietnamese():
    classes = nb.read_landuse_classes(layers=SAMPLE)
    rows = pd.DataFrame({"zone_id": ["A", "A", "A", "B"],
                         "class_code": ["SKN", "LUC", None, "LUC"],
                         "area_ha": [1000.5, 2.25, 0.25, 3.0], "share": [0.0] * 4})
    pivot = nb.landuse_pivot(rows, classes)
    assert list(pivot.columns) == ["LUC", "SKN", nb.UNCOVERED_LABEL]  # class-table order
    assert pivot.sum(axis=1).tolist() == [1003.0, 3.0]
    table = nb.hectares_table(pivot, names={"A": "CCN A"}, total_row=True)
    assert table.loc["A"].tolist() == ["CCN A", "2,25", "1.000,50", "0,25", "1.003,00"]
    assert table.loc["B"].tolist() == ["", "3,00", "–", "–", "3,00"]
    assert table.loc["Tổng"].tolist()[1:] == ["5,25", "1.000,50", "0,25", "1.006,00"]
    colours = nb.landuse_colours(classes)
    assert colours["LUC"] == "#ffff64" and nb.UNCOVERED_LABEL in colours


def test_figures_table_in_vietnamese():
    table = nb.figures_table(nb.read_figures(layers=SAMPLE))
    assert table.loc["CCN trong quy hoạch"].tolist() == [str(published.CLUSTERS),
                                                          published.PLANNED_HA_VI]
    assert table.loc["Tỷ lệ lấp đầy đất công nghiệp"].tolist() == ["", published.OCCUPANCY_VI]


# --------------------------------------------------------------- executed

_GUARD = '''
import socket as _socket

_network_attempts = []
_LOCAL = {"127.0.0.1", "::1", "localhost"}
_connect, _getaddrinfo = _socket.socket.connect, _socket.getaddrinfo


def _local_connect(self, address):
    if self.family in (_socket.AF_INET, _socket.AF_INET6) and address[0] not in _LOCAL:
        _network_attempts.append(repr(address))
        raise OSError(f"no network while testing the notebook: {address!r}")
    return _connect(self, address)


def _local_getaddrinfo(host, *args, **kwargs):
    if host not in _LOCAL and host is not None:
        _network_attempts.append(repr(host))
        raise OSError(f"no network while testing the notebook: {host!r}")
    return _getaddrinfo(host, *args, **kwargs)


_socket.socket.connect = _local_connect
_socket.getaddrinfo = _local_getaddrinfo
'''

_REPORT_HEAD = '''
import json as _json
import sys as _sys


def _legends(m):
    values = [str(getattr(getattr(c, "widget", None), "value", "")) for c in m.controls]
    return [v for v in values if "legend-title" in v]

'''

_REPORTS = {
    "01_overview.ipynb": _REPORT_HEAD + '''
print(_json.dumps({
    "executable": _sys.executable,
    "api_url": API_URL,
    "network": _network_attempts,
    "layers": [layer.name for layer in m.layers],
    "legends": _legends(m),
    "table": {label: row.tolist() for label, row in table.iterrows()},
    "units": units.index.tolist(),
    "points": len(occupancy_axis.lines[0].get_xdata()),
    "bars": len(ax.patches),
    "occupancy_last": float(timeline["occupancy"].iloc[-1]),
}, ensure_ascii=False))
''',
    "02_cluster.ipynb": _REPORT_HEAD + '''
print(_json.dumps({
    "executable": _sys.executable,
    "api_url": API_URL,
    "network": _network_attempts,
    "layers": [layer.name for layer in m.layers],
    "legends": _legends(m),
    "parcels": len(parcels),
    "extents": len(extents),
    "projects": project_table.index.tolist(),
    "table": {label: row.tolist() for label, row in table.iterrows()},
}, ensure_ascii=False))
''',
    "03_landuse.ipynb": _REPORT_HEAD + '''
import matplotlib.colors as _colors

_landuse = next(layer for layer in m.layers if layer.name == nb.LANDUSE_LAYER)
print(_json.dumps({
    "executable": _sys.executable,
    "api_url": API_URL,
    "network": _network_attempts,
    "layers": [layer.name for layer in m.layers],
    "landuse_type": type(_landuse).__name__,
    "landuse_url": _landuse.url if len(_landuse.url) < 200 else _landuse.url[:22],
    "landuse_bounds": getattr(_landuse, "bounds", None),
    "legends": _legends(m),
    "pivot_rows": len(pivot),
    "pivot_columns": list(pivot.columns),
    "cluster_ha": pivot.sum(axis=1).to_dict(),
    "table_total": table["Tổng"].to_dict(),
    "totals": {label: row.tolist() for label, row in totals.iterrows()},
    "rice_ids": rice.index.tolist(),
    "rice_total": rice_table.loc["Tổng"].tolist(),
    "top": top.index.tolist(),
    "top_columns": list(top.columns),
    "bars": len(ax.patches),
    "bar_colours": sorted({_colors.to_hex(p.get_facecolor()) for p in ax.patches}),
    "comparison": {"/".join(key): round(float(value), 2)
                   for key, value in comparison.sum().items()},
    "comparison_rows": len(comparison_table),
}, ensure_ascii=False))
''',
    "04_scenarios_2030.ipynb": _REPORT_HEAD + '''
print(_json.dumps({
    "executable": _sys.executable,
    "api_url": API_URL,
    "network": _network_attempts,
    "scenarios": names,
    "findings": {name: table.values.tolist() for name, table in findings.items()},
    "finding_columns": list(next(iter(findings.values())).columns),
    "by_rule": {label: row.tolist() for label, row in by_rule.iterrows()},
    "by_rule_columns": list(by_rule.columns),
    "maps": {name: [layer.name for layer in m.layers] for name, m in maps.items()},
    "legends": {name: _legends(m) for name, m in maps.items()},
    "statuses": {name: frame.groupby("status")["cluster_id"].apply(sorted).to_dict()
                 for name, frame in zip(names, clusters)},
    "outlined": {name: frame.groupby("severity")["cluster_id"].apply(sorted).to_dict()
                 for name, frame in zip(names, clusters)},
    "crs": [str(frame.crs) for frame in clusters],
    "bounds": [frame.total_bounds.tolist() for frame in clusters],
    "occupancy_x": [[int(x) for x in line.get_xdata()] for line in occupancy_ax.lines],
    "occupancy_y": [[float(y) for y in line.get_ydata()] for line in occupancy_ax.lines],
    "established_bars": len(established_ax.patches),
    "established_heights": [round(float(p.get_height()), 2) for p in established_ax.patches],
    "supply_bars": [len(ax.patches) for ax in supply_axes],
    "supply_ticks": [[t.get_text() for t in ax.get_xticklabels()] for ax in supply_axes],
    "rice_bars": [round(float(p.get_height()), 2) for p in rice_ax.patches],
    "comparison_columns": list(comparison.columns),
    "comparison": {label: row.tolist() for label, row in comparison.iterrows()},
}, ensure_ascii=False))
''',
}


def _set_parameters(source: str, values: dict[str, Any]) -> str:
    for key, value in values.items():
        source, found = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value!r}", source)
        assert found == 1, f"the parameters cell has no line {key} = …"
    return source


def _execute(name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Execute notebook ``name`` in notebooks/ with ``parameters``; return its report."""
    import nbclient
    import nbformat

    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = _set_parameters(cell.source, parameters)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(_GUARD))
    notebook.cells.append(nbformat.v4.new_code_cell(_REPORTS[name]))
    client = nbclient.NotebookClient(
        notebook, kernel_name="python3", timeout=120,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    text = "".join(o.get("text", "") for o in notebook.cells[-1].outputs
                   if o.output_type == "stream")
    return json.loads(text.strip().splitlines()[-1])


@pytest.fixture(params=["api", "file"])
def api_url(request):
    """The notebook's ``API_URL``: a running server, or None to read the GeoPackage."""
    return request.getfixturevalue("live_server") if request.param == "api" else None


def _check_common(report: dict[str, Any], api_url: str | None) -> None:
    assert report["api_url"] == api_url
    assert Path(report["executable"]).resolve() == Path(sys.executable).resolve()
    assert report["network"] == []


@needs_jupyter
def test_overview_notebook(api_url):
    report = _execute("01_overview.ipynb", {"API_URL": api_url})
    _check_common(report, api_url)
    stage_layers = [f"Cụm công nghiệp – {s.label}" for s in nb.STAGE_STYLES.values()]
    lease_layers = [f"Lô đất – {s.label}" for s in nb.LEASE_STYLES.values()]
    assert report["layers"][1:] == [nb.OUTLINE.label, *stage_layers, *lease_layers]
    stages, leases = report["legends"]
    for style in nb.STAGE_STYLES.values():
        assert style.label in stages and style.colour in stages
    for style in nb.LEASE_STYLES.values():
        assert style.label in leases and style.colour in leases
    table = report["table"]
    assert table["CCN trong quy hoạch"] == [str(published.CLUSTERS), published.PLANNED_HA_VI]
    assert table["CCN đã thành lập"] == [str(published.ESTABLISHED), published.ESTABLISHED_HA_VI]
    assert table["CCN đã quy hoạch chi tiết"] == [str(published.DETAILED_PLAN),
                                                  published.DETAILED_PLAN_HA_VI]
    assert table["Tỷ lệ lấp đầy đất công nghiệp"] == ["", published.OCCUPANCY_VI]
    assert table["Tỷ lệ lấp đầy đất thu hồi"] == ["", published.OCCUPANCY_RECOVERED_VI]
    assert table["Dự án đăng ký đầu tư"] == [str(published.PROJECTS), ""]
    assert report["units"] == ["336", "338", "339", "340", "341", "342", "343", "344"]
    assert report["points"] == report["bars"] == 13  # 31/12/2012 … 31/12/2024
    assert report["occupancy_last"] == pytest.approx(published.OCCUPANCY, abs=5e-4)


@needs_jupyter
def test_cluster_notebook(api_url):
    report = _execute("02_cluster.ipynb", {"API_URL": api_url})
    _check_common(report, api_url)
    expected = nb.read_layer("parcels", layers=SAMPLE, where={"cluster_id": CLUSTER_ID})
    projects = nb.read_layer("projects", layers=SAMPLE, where={"cluster_id": CLUSTER_ID})
    assert report["parcels"] == len(expected) == 41
    assert report["projects"] == projects["project_id"].tolist()
    assert report["extents"] == 2
    layers = report["layers"][1:]
    assert layers[0] == "Ranh giới quy hoạch CCN Đông Hòa"
    assert layers[1:3] == [f"Phạm vi được phê duyệt – {s.label}"
                           for s in nb.EXTENT_STYLES.values()]
    statuses = expected["lease_status"].unique()
    assert sorted(layers[3:]) == sorted(f"Lô đất – {nb.LEASE_STYLES[s].label}" for s in statuses)
    assert len(report["legends"]) == 2
    figures = nb.read_cluster_figures(CLUSTER_ID, layers=SAMPLE)
    assert report["table"]["CCN trong quy hoạch"] == [
        "1", format_number(figures["planned"]["area_ha"])]
    assert report["table"]["Dự án đăng ký đầu tư"] == [str(len(projects)), ""]


@needs_jupyter
def test_landuse_notebook(api_url):
    report = _execute("03_landuse.ipynb", {"API_URL": api_url})
    _check_common(report, api_url)
    stage_layers = [f"Cụm công nghiệp – {s.label}" for s in nb.STAGE_STYLES.values()]
    assert report["layers"][1:] == [nb.LANDUSE_LAYER, *stage_layers]
    clusters = nb.read_layer("clusters", layers=SAMPLE)
    if api_url:  # the app's tiles, loaded by the browser
        assert report["landuse_type"] == "TileLayer"
        assert report["landuse_url"] == f"{api_url}/landuse/tiles/{{z}}/{{x}}/{{y}}.png"
        x, y = _tile(*clusters.union_all().centroid.coords[0], zoom=10)
        with urllib.request.urlopen(f"{api_url}/landuse/tiles/10/{x}/{y}.png") as response:
            assert response.headers["Content-Type"] == "image/png"
            assert response.read().startswith(b"\x89PNG")
    else:  # the raster drawn into one image held by the map: no tile server, no network
        assert report["landuse_type"] == "ImageOverlay"
        assert report["landuse_url"] == "data:image/png;base64,"
        (south, west), (north, east) = report["landuse_bounds"]
        minx, miny, maxx, maxy = clusters.total_bounds
        assert west < minx < maxx < east and south < miny < maxy < north
    landuse, stages = report["legends"]
    classes = nb.read_landuse_classes(layers=SAMPLE)
    for code, name, colour in zip(classes["code"], classes["name_vi"], classes["colour"],
                                  strict=True):
        assert f"{code} – {name}" in landuse and colour in landuse
    assert "LUC – Đất chuyên trồng lúa" in landuse
    for style in nb.STAGE_STYLES.values():
        assert style.label in stages and style.colour in stages

    # hectares by class: one row per cluster, adding up to the cluster's planned area
    assert report["pivot_rows"] == published.CLUSTERS
    assert report["pivot_columns"] == ["LUC", "LUK", "ONT", "SKN"]  # layers/README.md
    for item in nb.read_figures_by("cluster", layers=SAMPLE):
        zone = item["cluster_id"]
        assert report["cluster_ha"][zone] == pytest.approx(item["planned"]["area_ha"], abs=0.01)
        assert report["table_total"][zone] == format_number(item["planned"]["area_ha"])
    totals = report["totals"]
    assert totals["LUC"] == ["Đất chuyên trồng lúa", "1.328,25", "31,8 %"]
    assert totals["SKN"] == ["Đất cụm công nghiệp", "2.506,14", "60,0 %"]
    assert totals["Tổng"] == ["", published.PLANNED_HA_VI, "100,0 %"]

    # rice land in the clusters that are planned only
    planned = clusters.loc[clusters["stage"] == "planned", "cluster_id"]
    assert sorted(report["rice_ids"]) == sorted(planned) and len(planned) == 20
    assert report["rice_total"] == ["", "986,91", "233,65", "1.220,56"]

    # the chart: the 20 clusters with most rice, one bar per cluster and class shown
    rows = nb.read_landuse("clusters", layers=SAMPLE)
    rice = rows[rows["class_code"].isin(nb.RICE_CODES)].groupby("zone_id")["area_ha"].sum()
    assert sorted(report["top"]) == sorted(rice.nlargest(20).index)
    assert report["bars"] == 20 * len(report["top_columns"]) > 0
    colours = dict(zip(classes["code"], classes["colour"], strict=True))
    assert report["bar_colours"] == sorted(colours[c] for c in report["top_columns"])

    # the plan: every cluster's whole area SKN, no rice left
    comparison = report["comparison"]
    assert comparison["SKN/Hiện trạng"] == pytest.approx(2506.14, abs=0.01)
    assert comparison["SKN/Quy hoạch"] == pytest.approx(published.PLANNED_HA, abs=0.01)
    assert comparison["LUC/Hiện trạng"] == pytest.approx(1328.25, abs=0.01)
    assert comparison["LUC/Quy hoạch"] == 0.0
    assert comparison["LUC/Thay đổi"] == pytest.approx(-1328.25, abs=0.01)
    assert report["comparison_rows"] == published.CLUSTERS + 1  # and the total


def _tile(lon: float, lat: float, *, zoom: int) -> tuple[int, int]:
    """The XYZ tile holding a point."""
    n = 2**zoom
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


# ------------------------------------------------------------------ scenarios

FAST_GROWTH_ERRORS = sorted([  # docs/scenarios.md, scenarios/fast_growth.yaml
    ("AREA_MAX", "TB-08"), ("EXPANSION_GATE", "TB-08"), ("NEW_CLUSTER_GATE", "TB-55"),
    ("NEW_CLUSTER_GATE", "TB-58"), ("OVERLAP", "TB-67"), ("OUTSIDE_PROVINCE", "TB-68"),
    ("PLAN_TOTAL", None)], key=str)
YEARS = list(range(2024, 2031))


@pytest.fixture(scope="module")
def cli_scenarios() -> list[dict[str, Any]]:
    """``ccn-gis scenario compare … --json`` on the example scenarios, as a user runs it."""
    run = subprocess.run(
        [sys.executable, "-m", "ccn_gis.cli", "scenario", "compare",
         *map(str, SCENARIO_FILES), "--json", "--layers", str(SAMPLE)],
        capture_output=True, text=True, check=True)
    return list(json.loads(run.stdout))


@pytest.fixture(scope="module")
def cli_comparison() -> dict[str, list[str]]:
    """The table of ``ccn-gis scenario compare`` on the example scenarios, as printed."""
    run = subprocess.run(
        [sys.executable, "-m", "ccn_gis.cli", "scenario", "compare",
         *map(str, SCENARIO_FILES), "--layers", str(SAMPLE)],
        capture_output=True, text=True, check=True)
    return _report_table(run.stdout)


def _skip_without_scenario_routes(api_url: str) -> None:
    """Skip when the server has no ``/scenarios`` (a 404); any other failure fails."""
    try:
        with urllib.request.urlopen(f"{api_url}/scenarios", timeout=60):
            pass
    except urllib.error.HTTPError as err:
        if err.code != 404:
            raise
        pytest.skip("GET /scenarios answers 404: the server has no scenario routes "
                    "(api/scenarios.py) yet; this test runs once they are there")


def _report_table(text: str) -> dict[str, list[str]]:
    """The rows of a text table of ``ccn_gis.report``: first cell → the others."""
    lines = text.splitlines()
    return {cells[0]: cells[1:] for cells in (re.split(r" {2,}", line.strip())
                                              for line in lines[2:])}


def test_scenario_results_from_the_file_equal_the_cli(cli_scenarios):
    for path, expected in zip(SCENARIO_FILES, cli_scenarios, strict=True):
        assert nb.read_scenario_result(str(path), layers=SAMPLE) == expected
    plan, fast = cli_scenarios
    assert [f for f in plan["findings"] if f["severity"] == "error"] == []
    errors = [(f["rule"], f["cluster_id"]) for f in fast["findings"]
              if f["severity"] == "error"]
    assert sorted(errors, key=str) == FAST_GROWTH_ERRORS
    assert nb.scenario_id(SCENARIO_FILES[1]) == "fast_growth"
    listed = nb.read_scenario_list(folder=ROOT / "scenarios")
    assert set(SCENARIO_IDS) <= set(listed["id"])
    assert listed.set_index("id").at["fast_growth", "name"] == fast["scenario"]


def test_scenario_clusters_from_the_file(cli_scenarios):
    fast = cli_scenarios[1]
    frame = nb.read_scenario_clusters(SCENARIO_FILES[1], layers=SAMPLE, result=fast)
    assert list(frame.columns) == [*nb.SCENARIO_CLUSTER_COLUMNS, "geometry"]
    assert frame.crs == "EPSG:4326"
    assert len(frame) == published.CLUSTERS + 3  # three clusters added
    status = frame.set_index("cluster_id")["status"]
    assert set(status) <= set(nb.SCENARIO_STYLES)
    assert sorted(status[status == "added"].index) == ["TB-67", "TB-68", "TB-69"]
    assert status["TB-13"] == "removed" and status["TB-08"] == "expanded"
    assert status["TB-55"] == status["TB-58"] == "newly_established"
    outlined = frame.set_index("cluster_id")["severity"]
    assert sorted(outlined[outlined == "error"].index) == sorted(
        {c for _, c in FAST_GROWTH_ERRORS if c})
    assert list(outlined[outlined == "warning"].index) == ["TB-69"]  # protected land only
    changed = frame.set_index("cluster_id")[["change", "change_year"]]
    assert changed.loc["TB-08"].tolist() == ["expand", 2026]
    assert changed.loc["TB-67"].tolist() == ["add", 2027]
    assert changed.at["TB-13", "change"] == "remove" and pd.isna(changed.at["TB-13",
                                                                          "change_year"])
    assert changed["change"].notna().sum() == len(fast["changes"])
    rules = frame.set_index("cluster_id")["findings"]
    assert rules["TB-08"] == ["AREA_MAX", "EXPANSION_GATE", "PROTECTED_LAND"]
    assert {(c, r) for c, found in rules.items() for r in found} == {
        (f["cluster_id"], f["rule"]) for f in fast["findings"] if f["cluster_id"]}
    # an unchanged cluster keeps the geometry of the layer, in WGS84
    layer = nb.read_layer("clusters", layers=SAMPLE).set_index("cluster_id").geometry
    same = frame.set_index("cluster_id").geometry.drop(
        index=["TB-08", "TB-67", "TB-68", "TB-69"])
    assert same.geom_equals_exact(layer.reindex(same.index), tolerance=1e-7).all()
    # the expansion of TB-08 is part of its plan at the horizon
    assert frame.set_index("cluster_id").at["TB-08", "plan_ha"] == pytest.approx(85.12,
                                                                                 abs=0.01)


def test_scenario_tables_equal_the_cli(cli_scenarios, cli_comparison):
    plan, fast = cli_scenarios
    comparison = nb.scenario_comparison(cli_scenarios)
    assert {k: v.tolist() for k, v in comparison.iterrows()} == cli_comparison
    assert list(comparison.columns) == [plan["scenario"], fast["scenario"]]
    table = nb.findings_table(fast)
    assert list(table.columns) == list(nb.FINDING_COLUMNS.values())
    assert len(table) == len(fast["findings"]) == 13
    first = table.iloc[0]
    assert first[["Quy tắc", "Mức độ", "Cụm", "Năm", "Giá trị", "Ngưỡng"]].tolist() == [
        "AREA_MAX", "Lỗi", "TB-08", 2026, "85,12 ha", "75,00 ha"]
    assert table.iloc[1]["Giá trị"] == "3,4 %" and table.iloc[1]["Ngưỡng"] == "60,0 %"
    assert (table["Cụm"] == "–").sum() == 1  # PLAN_TOTAL: the whole province
    by_rule = nb.findings_by_rule(cli_scenarios)
    assert by_rule.loc["NEW_CLUSTER_GATE", fast["scenario"]] == 2
    assert by_rule.loc["PROTECTED_LAND", plan["scenario"]] == 4
    assert by_rule.loc["Tổng"].tolist()[2:] == [4, 13]
    years = nb.scenario_years(plan)
    assert years.index.tolist() == YEARS
    assert years.at[2024, "occupancy"] == pytest.approx(published.OCCUPANCY, abs=5e-4)
    assert years.at[2024, "plan_ha"] == pytest.approx(published.PLANNED_HA, abs=0.01)
    assert years.at[2024, "established"] == published.ESTABLISHED
    balance = nb.demand_supply(fast)
    assert balance.index.tolist()[-1] == nb.PROVINCE and len(balance) == 8 + 1
    units = balance.drop(index=nb.PROVINCE)
    assert units["demand_ha"].sum() == pytest.approx(balance.at[nb.PROVINCE, "demand_ha"])


def test_scenarios_from_the_api_equal_the_file(live_server, cli_scenarios):
    _skip_without_scenario_routes(live_server)
    listed = nb.read_scenario_list(api_url=live_server)
    assert set(SCENARIO_IDS) <= set(listed["id"])
    assert list(listed.columns[:3]) == ["id", "name", "source"]
    for scenario_id, path, expected in zip(SCENARIO_IDS, SCENARIO_FILES, cli_scenarios,
                                           strict=True):
        result = nb.read_scenario_result(scenario_id, api_url=live_server)
        assert result["findings"] == expected["findings"]
        assert nb.scenario_comparison([result]).equals(nb.scenario_comparison([expected]))
        assert nb.scenario_years(result).to_numpy() == pytest.approx(
            nb.scenario_years(expected).to_numpy(), nan_ok=True)
        by_api = nb.read_scenario_clusters(scenario_id, api_url=live_server, result=result)
        by_file = nb.read_scenario_clusters(path, layers=SAMPLE, result=expected)
        assert list(by_api.columns[:len(nb.SCENARIO_CLUSTER_COLUMNS)]) == list(
            nb.SCENARIO_CLUSTER_COLUMNS)
        by_api, by_file = by_api.set_index("cluster_id"), by_file.set_index("cluster_id")
        assert sorted(by_api.index) == sorted(by_file.index)
        by_api = by_api.reindex(by_file.index)
        assert by_api["status"].tolist() == by_file["status"].tolist()
        for column in ("severity", "change", "in_plan", "errors", "warnings"):
            assert by_api[column].tolist() == by_file[column].tolist(), column
        assert by_api["change_year"].equals(by_file["change_year"])
        assert by_api["findings"].tolist() == by_file["findings"].tolist()
        assert by_api["name"].tolist() == by_file["name"].tolist()
        assert by_api.crs == "EPSG:4326"
        same = by_api.geometry.normalize().geom_equals_exact(by_file.geometry.normalize(),
                                                             tolerance=1e-6)
        assert same.all()
    with pytest.raises(KeyError):
        nb.read_scenario_result("no_such_scenario", api_url=live_server)


@needs_jupyter
def test_scenarios_notebook(api_url, cli_scenarios, cli_comparison):
    if api_url:
        _skip_without_scenario_routes(api_url)
        report = _execute("04_scenarios_2030.ipynb",
                          {"API_URL": api_url, "SCENARIOS": SCENARIO_IDS})
    else:
        report = _execute("04_scenarios_2030.ipynb", {"API_URL": None})
    _check_common(report, api_url)
    plan, fast = cli_scenarios
    names = [plan["scenario"], fast["scenario"]]
    assert report["scenarios"] == names

    # the findings: those of `ccn-gis scenario check --json`, row by row
    columns = report["finding_columns"]
    assert columns == list(nb.FINDING_COLUMNS.values())
    for name, expected in zip(names, cli_scenarios, strict=True):
        rows = [dict(zip(columns, row, strict=True)) for row in report["findings"][name]]
        assert [(r["Quy tắc"], None if r["Cụm"] == "–" else r["Cụm"], r["Năm"]) for r in rows] \
            == [(f["rule"], f["cluster_id"], f["year"]) for f in expected["findings"]]
        assert [r["Nội dung"] for r in rows] == [f["message_vi"] for f in expected["findings"]]
    errors = [(r[0], None if r[2] == "–" else r[2]) for r in report["findings"][names[1]]
              if r[1] == "Lỗi"]
    assert sorted(errors, key=str) == FAST_GROWTH_ERRORS
    assert not [r for r in report["findings"][names[0]] if r[1] == "Lỗi"]
    by_rule = report["by_rule"]
    assert report["by_rule_columns"][2:] == names
    assert by_rule["NEW_CLUSTER_GATE"][2:] == [0, 2]
    assert by_rule["PROTECTED_LAND"][2:] == [4, 6]
    assert by_rule["Tổng"][2:] == [len(plan["findings"]), len(fast["findings"])]
    for rule, *_ in FAST_GROWTH_ERRORS:
        assert by_rule[rule][1] == "Lỗi"

    # the maps: one layer per status present, then the outlines of findings, and legends
    def layers(statuses, findings):
        return ([f"Trạng thái năm 2030 – {nb.SCENARIO_STYLES[s].label}" for s in statuses]
                + [f"Phát hiện – {nb.FINDING_STYLES[f].label}" for f in findings])

    assert report["maps"][names[0]][1:] == layers(
        ["planned", "established", "expanded", "newly_established"], ["warning"])
    assert report["maps"][names[1]][1:] == layers(list(nb.SCENARIO_STYLES), ["error", "warning"])
    for name in names:
        statuses, outlines = report["legends"][name]
        for style in nb.SCENARIO_STYLES.values():
            assert style.label in statuses and style.colour in statuses
        for style in nb.FINDING_STYLES.values():
            assert style.label in outlines and style.colour in outlines
    assert report["statuses"][names[1]]["added"] == ["TB-67", "TB-68", "TB-69"]
    assert report["statuses"][names[1]]["removed"] == ["TB-13"]
    assert report["statuses"][names[0]]["newly_established"] == [
        "TB-03", "TB-09", "TB-18", "TB-45", "TB-65"]
    assert report["outlined"][names[1]] == {
        "error": sorted({c for _, c in FAST_GROWTH_ERRORS if c}), "warning": ["TB-69"]}
    assert report["crs"] == ["EPSG:4326", "EPSG:4326"]
    for minx, miny, maxx, maxy in report["bounds"]:  # Thái Bình, in degrees
        assert 106.0 < minx < maxx < 106.8 and 20.2 < miny < maxy < 20.8

    # the charts: 2024–2030 per scenario
    assert report["occupancy_x"] == [YEARS, YEARS]
    occupancy = [y[-1] for y in report["occupancy_y"]]
    assert occupancy == pytest.approx([55.0, 59.8], abs=0.05)  # % in 2030, as compared
    assert report["occupancy_y"][0][0] == pytest.approx(  # 2024, as `stats`
        published.OCCUPANCY * 100, abs=0.05)
    assert report["established_bars"] == 2 * len(YEARS)
    heights = report["established_heights"]
    assert heights[0] == heights[len(YEARS)] == pytest.approx(  # the base
        published.ESTABLISHED_HA, abs=0.5)
    assert report["supply_bars"] == [2 * 8, 2 * 8]  # demand and supply of 8 units
    assert len(report["supply_ticks"][0]) == 8
    assert report["rice_bars"] == [round(r["answers"]["rice_converted_ha"], 2)
                                   for r in cli_scenarios]

    # the comparison: the table of `ccn-gis scenario compare`
    assert report["comparison_columns"] == names
    assert report["comparison"] == cli_comparison
    assert report["comparison"]["Lỗi"] == ["0", "7"]
