"""Fuzzing the OpenAPI document with schemathesis: no 5xx, no response breaking its schema."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from ccn_gis.settings import AppSettings
from ccn_gis_api import create_app

SAMPLE = Path(__file__).resolve().parents[1] / "layers" / "thai_binh.gpkg"

app = create_app(AppSettings(layers=SAMPLE))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_api_keeps_its_contract(case):
    # Values the schema cannot rule out but that mean nothing (a bbox whose south lies north
    # of its north, an interval ending before it starts) get a 400 that says why: so the
    # check that every schema-valid request succeeds is left out; all others run.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
