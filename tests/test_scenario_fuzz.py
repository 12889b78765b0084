"""Property-based fuzzing of ``POST /scenarios/check``: whatever the body, the answer is a
verdict (200, or 400/413/415/422 with a message), never a 500 or a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccn_gis.settings import AppSettings
from ccn_gis_api import create_app
from ccn_gis_api.limits import Limits
from ccn_gis_api.scenario_models import ScenarioCheck

pytestmark = pytest.mark.slow
SAMPLE = Path(__file__).resolve().parents[1] / "layers" / "thai_binh.gpkg"
VERDICTS = {200, 400, 413, 415, 422}
KEYS = ["name", "description", "horizon", "base_year", "absorption", "changes", "rules",
        "establish", "expand", "add", "remove", "year", "geometry", "type", "coordinates",
        "cluster_id", "admin_code", "kind", "method", "years", "rate_ha_per_year",
        "default", "area_max_ha", "gate_occupancy", "protected_classes", "lease_lag_years",
        "gate_mean", "file", "<<"]
IDS = ["TB-01", "TB-03", "TB-08", "TB-47", "TB-99", "342", "336", "general", "craft_village"]
SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-10**30, max_value=10**30),
    st.integers(min_value=1890, max_value=2210),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=105.8, max_value=106.7),
    st.sampled_from(IDS + ["Polygon", "MultiPolygon", "Point", "historical", "mean", "",
                           "Cụm công nghiệp Đông Cơ", "\x00", "1.0e+400", "2030-02-30"]),
    st.text(max_size=20),
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(st.sampled_from(KEYS), children, max_size=6),
    ),
    max_leaves=40,
)


@pytest.fixture(scope="module")
def client():
    app = create_app(AppSettings(layers=SAMPLE), Limits(scenario_deadline_s=10))
    return TestClient(app, raise_server_exceptions=False)


def _verdict(client: TestClient, body: bytes, media_type: str = "application/yaml") -> None:
    response = client.post("/scenarios/check", content=body,
                           headers={"content-type": media_type})
    assert response.status_code in VERDICTS, (body[:300], response.status_code, response.text)
    if response.status_code == 200:  # a check: its typed rows, as the model says
        ScenarioCheck.model_validate(response.json())
    else:
        problem = response.json()
        assert problem["description"] and "Traceback" not in problem["description"]


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(document=st.dictionaries(st.sampled_from(KEYS), DOCUMENTS, max_size=8))
def test_any_document_gets_a_verdict(client, document):
    _verdict(client, yaml.safe_dump(document, allow_unicode=True).encode())


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(change=st.dictionaries(st.sampled_from(KEYS), DOCUMENTS, max_size=5),
       geometry=st.lists(st.tuples(st.floats(min_value=105.5, max_value=107),
                                   st.floats(min_value=20, max_value=21.5)),
                         max_size=8))
def test_any_change_gets_a_verdict(client, change, geometry):
    """Closer to a real scenario: one change of a known kind, a ring of plausible points."""
    ring = [list(p) for p in geometry] + ([list(geometry[0])] if geometry else [])
    change.setdefault("year", 2027)
    document = {"name": "fuzz", "horizon": 2030,
                "changes": [{**change, "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    _verdict(client, yaml.safe_dump(document, allow_unicode=True).encode())


TEXT = (Path(__file__).resolve().parents[1] / "scenarios" / "fast_growth.yaml").read_bytes()


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(min_value=0, max_value=len(TEXT) - 1),
                                st.binary(min_size=0, max_size=4),
                                st.integers(min_value=0, max_value=4)), max_size=6))
def test_a_damaged_example_gets_a_verdict(client, edits):
    """The example file with bytes replaced, removed or inserted: YAML syntax at its edges."""
    body = bytearray(TEXT)
    for at, new, cut in edits:
        body[at:at + cut] = new
    _verdict(client, bytes(body))


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300),
       media_type=st.sampled_from(["application/yaml", "application/json", "text/plain", "",
                                   "application/yaml; charset=latin-1", "text/yaml;;"]))
def test_any_bytes_get_a_verdict(client, body, media_type):
    _verdict(client, body, media_type)
