"""The scenario routes through FastAPI's TestClient, on the sample province and its examples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely
import yaml
from fastapi.testclient import TestClient
from shapely.geometry import shape

from ccn_gis.settings import AppSettings
from ccn_gis_api import create_app
from ccn_gis_api.scenario_models import ScenarioCheck, ScenarioClusters, ScenarioInfo
from ccn_gis_api.scenarios import scenarios_dir

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"
GEOJSON = "application/geo+json"
TB08_EXPANSION = (
    '{"type": "Polygon", "coordinates": [[[106.3627829, 20.6347859], [106.3640143, '
    '20.6339633], [106.368249, 20.6395801], [106.3670176, 20.6404028], [106.3627829, '
    '20.6347859]]]}')
VALID = f"""name: Thử (a trial)
horizon: 2030
absorption: {{method: historical, years: 5}}
changes:
  - {{establish: TB-03, year: 2026}}
  - expand: TB-08
    year: 2027
    geometry: {TB08_EXPANSION}
  - {{remove: TB-13}}
"""


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(AppSettings(layers=SAMPLE)))


@pytest.fixture(scope="module")
def fast_growth(client):
    response = client.get("/scenarios/fast_growth")
    assert response.status_code == 200
    return response.json()


def _post(client, text: str | bytes, media_type: str = "application/yaml", **params):
    body = text.encode() if isinstance(text, str) else text
    return client.post("/scenarios/check", content=body, params=params,
                       headers={"content-type": media_type})


def test_the_folder_beside_the_layers_folder(tmp_path):
    assert scenarios_dir(SAMPLE) == ROOT / "scenarios"
    (tmp_path / "elsewhere").mkdir()
    assert scenarios_dir(tmp_path / "elsewhere" / "x.gpkg") is None
    (tmp_path / "elsewhere" / "scenarios").mkdir()
    assert scenarios_dir(tmp_path / "elsewhere" / "x.gpkg") == tmp_path / "elsewhere" / "scenarios"


def test_list_has_the_plan_as_it_stands_and_the_examples(client):
    body = client.get("/scenarios").json()
    infos = [ScenarioInfo.model_validate(i) for i in body]
    ids = [i.id for i in infos]
    assert ids[0] == "current"
    assert {"current", "plan_as_approved", "fast_growth"} <= set(ids)
    by_id = {i.id: i for i in infos}
    assert by_id["fast_growth"].source == "scenarios/fast_growth.yaml"
    assert by_id["fast_growth"].name == "Mở rộng nhanh (fast growth)"
    assert by_id["current"].source is None and all(i.error is None for i in infos)


def test_fast_growth_findings(fast_growth):
    ScenarioCheck.model_validate(fast_growth)
    found = {(f["rule"], f["cluster_id"]) for f in fast_growth["findings"]}
    for expected in [("AREA_MAX", "TB-08"), ("EXPANSION_GATE", "TB-08"),
                     ("NEW_CLUSTER_GATE", "TB-55"), ("NEW_CLUSTER_GATE", "TB-58"),
                     ("OVERLAP", "TB-67"), ("OUTSIDE_PROVINCE", "TB-68"), ("PLAN_TOTAL", None)]:
        assert expected in found
    overlap = next(f for f in fast_growth["findings"] if f["rule"] == "OVERLAP")
    assert "TB-69" in overlap["message"]
    assert fast_growth["source"] == "scenarios/fast_growth.yaml"
    assert fast_growth["answers"]["rice_converted_ha"] > 0


@pytest.mark.slow
def test_same_findings_as_the_command_line(fast_growth):
    run = subprocess.run(
        [sys.executable, "-m", "ccn_gis.cli", "scenario", "check", "scenarios/fast_growth.yaml",
         "--layers", str(SAMPLE), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=True)
    cli = json.loads(run.stdout)
    assert fast_growth["findings"] == cli["findings"]
    assert fast_growth["answers"] == cli["answers"]
    assert fast_growth["changes"] == cli["changes"]


def test_language_and_cache(client, fast_growth):
    english = client.get("/scenarios/fast_growth", params={"lang": "en"}).json()
    assert [f["message"] for f in english["findings"]] == [
        f["message_en"] for f in fast_growth["findings"]]
    assert english["findings"][0]["message"].startswith("Cluster TB-08")
    again = client.get("/scenarios/fast_growth", params={"lang": "en"})
    assert again.json() == english
    assert client.get("/scenarios/fast_growth", params={"lang": "fr"}).status_code == 400


def test_the_plan_as_it_stands(client):
    body = client.get("/scenarios/current").json()
    ScenarioCheck.model_validate(body)
    assert body["changes"] == [] and body["findings"] == []
    clusters = client.get("/scenarios/current/clusters").json()
    assert len(clusters["features"]) == 66
    assert all(f["properties"]["change"] is None for f in clusters["features"])


def test_unknown_scenario_is_404(client):
    for url in ("/scenarios/nope", "/scenarios/nope/clusters"):
        response = client.get(url)
        assert response.status_code == 404
        assert "fast_growth" in response.json()["description"]


def test_clusters_geojson(client, fast_growth):
    response = client.get("/scenarios/fast_growth/clusters")
    assert response.status_code == 200
    assert response.headers["content-type"] == GEOJSON
    body = response.json()
    ScenarioClusters.model_validate(body)
    kinds = [c["kind"] for c in fast_growth["changes"]]
    assert len(body["features"]) == 66 - kinds.count("remove") + kinds.count("add") == 68
    by_id = {f["id"]: f for f in body["features"]}
    assert "TB-13" not in by_id and {"TB-67", "TB-68", "TB-69"} <= set(by_id)
    tb08 = by_id["TB-08"]["properties"]
    assert tb08["change"] == "expand" and tb08["change_year"] == 2026
    assert {"AREA_MAX", "EXPANSION_GATE"} <= set(tb08["findings"]) and tb08["severity"] == "error"
    assert by_id["TB-55"]["properties"]["change"] == "establish"
    assert by_id["TB-67"]["properties"]["change"] == "add"
    assert "OVERLAP" in by_id["TB-67"]["properties"]["findings"]
    assert by_id["TB-01"]["properties"]["change"] is None
    assert by_id["TB-01"]["properties"]["findings"] == []
    horizon = {r["cluster_id"]: r for r in fast_growth["years"] if r["year"] == 2030}
    assert tb08["plan_ha"] == pytest.approx(horizon["TB-08"]["plan_ha"]) and tb08["plan_ha"] > 75
    for feature in body["features"]:  # RFC 7946: WGS84, CCW outer rings, 7 decimals
        geom = shape(feature["geometry"])
        assert geom.is_valid and geom.geom_type in ("Polygon", "MultiPolygon")
        west, south, east, north = geom.bounds
        assert 105.9 < west < east < 106.8 and 20.2 < south < north < 20.8
        polygons = [geom] if geom.geom_type == "Polygon" else list(geom.geoms)
        assert all(p.exterior.is_ccw for p in polygons)
        coords = shapely.get_coordinates(geom)
        assert np.allclose(coords, np.round(coords, 7), rtol=0, atol=1e-12)
    with_removed = client.get("/scenarios/fast_growth/clusters", params={"removed": True}).json()
    removed = [f for f in with_removed["features"] if not f["properties"]["in_plan"]]
    assert [f["id"] for f in removed] == ["TB-13"]
    assert removed[0]["properties"]["change"] == "remove"


def test_post_a_valid_scenario(client):
    for media_type in ("application/yaml", "text/yaml", "application/yaml; charset=utf-8"):
        response = _post(client, VALID, media_type)
        assert response.status_code == 200, response.text
    body = response.json()
    ScenarioCheck.model_validate(body)
    assert body["scenario"] == "Thử (a trial)"
    assert [c["kind"] for c in body["changes"]] == ["establish", "expand", "remove"]
    assert any(f["rule"] == "AREA_MAX" and f["cluster_id"] == "TB-08" for f in body["findings"])
    english = _post(client, VALID, lang="en").json()
    assert english["findings"][0]["message"] == english["findings"][0]["message_en"]


def test_post_the_example_file_gives_the_same_findings(client):
    text = (ROOT / "scenarios" / "plan_as_approved.yaml").read_text(encoding="utf-8")
    posted = _post(client, text).json()
    assert posted["findings"] == client.get("/scenarios/plan_as_approved").json()["findings"]


def test_post_with_an_unknown_cluster_names_the_line(client):
    text = "name: x\nhorizon: 2030\nchanges:\n  - {establish: TB-03, year: 2026}\n" \
           "  - {establish: TB-99, year: 2027}\n"
    response = _post(client, text)
    assert response.status_code == 400
    message = response.json()["description"]
    assert "line 5" in message and "TB-99" in message


def test_post_refuses_file_references(client):
    text = "changes:\n  - add: {cluster_id: TB-67, name: X, admin_code: '342'}\n" \
           "    year: 2027\n    geometry: {file: tb67_dong_co.geojson}\n"
    response = _post(client, text)
    assert response.status_code == 400
    message = response.json()["description"]
    assert "line 4" in message and "inline" in message


@pytest.mark.parametrize("body", [
    "garbage: [", "- just\n- a list", "? [a, b]\n: 1\n", "", "just text", "horizon: .inf",
    "rules: [1, 2]", "horizon: 3000", "changes: {establish: TB-03}", b"\xff\xfe\x00",
    "changes:\n  - add: {cluster_id: N-1, name: N, admin_code: '342'}\n    year: 2026\n"
    "    geometry: {type: Polygon, coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]]}\n",
    "changes:\n  - add: {cluster_id: N-1, name: N, admin_code: '342'}\n    year: 2026\n"
    "    geometry: {type: Point, coordinates: [106.4, 20.5]}\n",
    "absorption: {rate_ha_per_year: {default: .nan}}",
    "[" * 5000,
])
def test_post_garbage_is_400(client, body):
    response = _post(client, body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "InvalidParameterValue"
    assert response.json()["description"]


def test_post_too_large_is_413(client):
    response = _post(client, "#" * 1_000_001)
    assert response.status_code == 413


@pytest.mark.parametrize("media_type", ["text/plain", "application/x-www-form-urlencoded",
                                        "multipart/form-data", ""])
def test_post_needs_a_yaml_or_json_media_type(client, media_type):
    """A web page can make a visitor's browser send these to any server without asking."""
    response = _post(client, VALID, media_type)
    assert response.status_code == 415, response.text
    assert "application/yaml" in response.json()["description"]


def test_post_json(client):
    response = _post(client, json.dumps(yaml.safe_load(VALID)), "application/json")
    assert response.status_code == 200, response.text
    assert response.json()["findings"] == _post(client, VALID).json()["findings"]


def test_openapi_documents_the_routes(client):
    schema = client.get("/openapi.json").json()
    post = schema["paths"]["/scenarios/check"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/yaml", "text/yaml",
                                                   "application/json"}
    assert {"413", "415", "422", "503"} <= set(post["responses"])
    assert post["tags"] == ["Scenarios"] and post["operationId"] == "checkScenario"
    for path in ("/scenarios", "/scenarios/{scenario_id}", "/scenarios/{scenario_id}/clusters"):
        operation = schema["paths"][path]["get"]
        assert operation["tags"] == ["Scenarios"] and operation["summary"]
        assert {"200", "400", "404"} <= set(operation["responses"])
    clusters = schema["paths"]["/scenarios/{scenario_id}/clusters"]["get"]["responses"]["200"]
    assert GEOJSON in clusters["content"]
