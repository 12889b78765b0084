"""``/scenarios``: the 2030 scenarios of the revision served (the plan as it stands and
the examples beside the layers), checked on first request and kept, and a user's own
scenario posted to ``/scenarios/check`` (:mod:`ccn_gis_api.scenarios` holds them,
:mod:`ccn_gis_api.scenario_runner` bounds the checks)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccn_gis_api.auth import reader
from ccn_gis_api.dependencies import GEOJSON, Current, Language, Served
from ccn_gis_api.scenario_models import (
    ERRORS,
    REQUEST_BODY,
    TOO_LARGE,
    ScenarioCheck,
    ScenarioClusters,
    ScenarioId,
    ScenarioInfo,
)
from ccn_gis_api.scenario_upload import SOURCE, posted_body, read_posted
from ccn_gis_api.scenarios import ScenarioBook, dumps
from ccn_gis_api.service import Service

router = APIRouter(tags=["Scenarios"], dependencies=[Depends(reader)])  # CCN_GIS_PUBLIC_READ

MAX_ANSWER_BYTES = 50_000_000


async def _answer(served: Service, book: ScenarioBook, scenario_id: str, lang: Any) -> bytes:
    book.scenario(scenario_id)  # 404 before any work
    return await served.scenario_runner.shared(
        book.answers, (scenario_id, lang),
        lambda: dumps(book.checked(scenario_id, lang).to_json()))


@router.get("/scenarios", response_model=list[ScenarioInfo], operation_id="getScenarios",
            summary="The 2030 scenarios: the plan as it stands and the examples",
            description="`current` is the plan as it stands; the others are the `*.yaml` "
            "files of the `scenarios/` folder beside the GeoPackage (or beside its `layers/` "
            "folder).", responses=ERRORS)
def scenarios(current: Current) -> Any:
    """Every scenario with its name and horizon (or why its file cannot be read)."""
    return [e.info.model_dump() for e in current.scenarios.entries.values()]


@router.post("/scenarios/check", response_model=ScenarioCheck, operation_id="checkScenario",
             summary="Check a scenario of your own (YAML or JSON)",
             description="The same JSON as `ccn-gis scenario check --json`. Geometries must "
             "be inline GeoJSON; a malformed scenario is a 400 naming the line.",
             openapi_extra={"requestBody": REQUEST_BODY}, responses={**ERRORS, **TOO_LARGE})
async def check_posted(request: Request, current: Current, served: Served,
                       chosen: Language) -> Response:
    """The posted scenario checked against the revision served."""
    book = current.scenarios
    body = await posted_body(request, most=served.limits.scenario_body_bytes)

    def job() -> bytes:
        scenario = read_posted(body, book.dataset, defaults=book.defaults)
        value = dumps(book.check(scenario, chosen).to_json())
        if len(value) > MAX_ANSWER_BYTES:
            raise StarletteHTTPException(
                422, f"{SOURCE}: the answer would have {len(value):,} bytes (at most "
                f"{MAX_ANSWER_BYTES:,}); check fewer changes")
        return value

    return Response(await served.scenario_runner.run(request, job),
                    media_type="application/json")


@router.get("/scenarios/{scenario_id}", response_model=ScenarioCheck,
            operation_id="getScenario",
            summary="A scenario checked: findings, projection per year, answers",
            description="The same JSON as `ccn-gis scenario check --json`.",
            responses={**ERRORS, 503: TOO_LARGE[503]})
async def scenario(current: Current, served: Served, scenario_id: ScenarioId,
                   lang: Language) -> Response:
    """Example ``scenario_id`` checked (once per revision and language, then kept)."""
    return Response(await _answer(served, current.scenarios, scenario_id, lang),
                    media_type="application/json")


@router.get("/scenarios/{scenario_id}/clusters", response_model=ScenarioClusters,
            operation_id="getScenarioClusters",
            summary="The scenario's clusters at its horizon (GeoJSON)",
            description="Plan geometries at the horizon (RFC 7946, WGS84) with the status "
            "then, the scenario's change and the rules each cluster breaks.",
            responses={200: {"content": {GEOJSON: {}}}, **ERRORS, 503: TOO_LARGE[503]})
async def clusters(
    current: Current, served: Served, scenario_id: ScenarioId,
    removed: Annotated[bool, Query(
        description="also the clusters the scenario removes from the plan")] = False,
) -> Response:
    """The clusters at the horizon, read back from the kept check (no second check)."""
    book = current.scenarios
    book.scenario(scenario_id)
    lang = book.language(None)
    answered = await _answer(served, book, scenario_id, lang)
    body = await served.scenario_runner.shared(
        book.geojson, (scenario_id, removed),
        lambda: book.clusters(scenario_id, answered, lang, removed=removed))
    return Response(body, media_type=GEOJSON)
