"""What the scenario routes answer and take, for the OpenAPI document.

The response models document the JSON of :meth:`ccn_gis.scenario_check.CheckedScenario.to_json`
(the routes send it as it is, already encoded); the rows of the projection and of the
answers are the library's own dataclasses, so their fields are named in one place. The
posted scenario is described, not typed: like a scenario file, the API takes ``2030`` or
``"2030"``, and an empty value for a missing one; whatever it cannot use is a 400.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from ccn_gis.scenario import MAX_CHANGES, Absorption
from ccn_gis.scenario_check import (
    ClusterYear,
    EarliestEstablishment,
    GateOpening,
    LandBalance,
    UnitYear,
)
from ccn_gis.settings import Lang, RuleSettings
from ccn_gis_api.models import Problem

MAX_BODY_BYTES = 1_000_000  # the default of Limits.scenario_body_bytes

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "A parameter or the scenario is malformed; the "
          "message says why and names the line"},
    404: {"model": Problem, "description": "No such scenario"},
}
TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": Problem, "description": "The scenario is larger than the server takes "
          f"(by default {MAX_BODY_BYTES:,} bytes)"},
    415: {"model": Problem, "description": "The body is not YAML or JSON: send it as "
          "application/yaml or application/json"},
    422: {"model": Problem, "description": "The scenario would take longer to check, or give a "
          "longer answer, than the server allows; make it smaller"},
    503: {"model": Problem, "description": "The server is checking as many scenarios as it "
          "may at once; try again after the seconds of the Retry-After header"},
}
LangQuery = Annotated[Lang | None, Query(
    description="language of the findings' `message`: vi or en (default: the province's)")]
ScenarioId = Annotated[str, PathParam(
    description="`current` (the plan as it stands) or an example's file name without .yaml, "
    "e.g. fast_growth")]

EXAMPLE = {
    "name": "Thử nghiệm (a trial)",
    "horizon": 2030,
    "absorption": {"method": "historical", "years": 5},
    "changes": [{"establish": "TB-03", "year": 2026}, {"remove": "TB-13"}],
    "rules": {"protected_warn_ha": 5},
}
DOCUMENT_SCHEMA = {
    "type": "object",
    "description": "A scenario, as in the files of scenarios/ (see scenarios/fast_growth.yaml)",
    "properties": {
        "name": {"description": "the scenario's name"},
        "description": {"description": "free text"},
        "horizon": {"description": "the last year projected (default 2030)", "example": 2030},
        "base_year": {"description": "default: the year of the newest record of the data"},
        "absorption": {"description": "{method: historical, years: 5} or "
                       "{rate_ha_per_year: {TB-01: 3.5, default: 2.0}}"},
        "changes": {"description": "a list; each one of `establish: ID`, `expand: ID`, "
                    "`add: {cluster_id, name, admin_code, kind}`, `remove: ID`, with `year` "
                    "and, for expand and add, an inline GeoJSON `geometry` (WGS84)"},
        "rules": {"description": "overrides of the rule thresholds (area_max_ha, "
                  "gate_occupancy, protected_warn_ha, …)"},
    },
}
REQUEST_BODY = {
    "required": True,
    "description": f"The scenario as YAML or JSON (UTF-8, by default at most "
    f"{MAX_BODY_BYTES:,} bytes and {MAX_CHANGES} changes), as in the files of scenarios/; "
    "geometries inline GeoJSON in WGS84, never `{file: …}`.",
    "content": {
        "application/yaml": {"schema": DOCUMENT_SCHEMA, "example": EXAMPLE},
        "text/yaml": {"schema": DOCUMENT_SCHEMA, "example": EXAMPLE},
        "application/json": {"schema": DOCUMENT_SCHEMA, "example": EXAMPLE},
    },
}


class ScenarioInfo(BaseModel):
    """A scenario the app offers: ``current`` or an example file."""

    id: str = Field(description="`current` or the file name without .yaml")
    name: str
    source: str | None = Field(default=None,
                               description="the file, e.g. scenarios/fast_growth.yaml")
    horizon: int | None = None
    error: str | None = Field(default=None, description="why the file cannot be checked, if so")


class Finding(BaseModel):
    """A rule a scenario breaks (error) or comes close to (warning)."""

    rule: str = Field(description="AREA_MAX, NEW_CLUSTER_GATE, OVERLAP, PLAN_TOTAL, …")
    severity: str = Field(description="error or warning")
    cluster_id: str | None
    year: int | None
    value: float | None
    limit: float | None
    basis: str = Field(description="the decree or law the rule comes from")
    message: str = Field(description="in the language asked for")
    message_vi: str
    message_en: str


class ChangeInfo(BaseModel):
    """One change of the scenario to the plan."""

    kind: str = Field(description="establish, expand, add or remove")
    cluster_id: str
    year: int | None


class Answers(BaseModel):
    """What planners ask: gate years, earliest establishment, rice land, demand and supply."""

    model_config = ConfigDict(extra="allow")

    gate_opens: list[GateOpening] = Field(
        description="per unit: the first year it may open a new cluster (none: not by the "
        "horizon)")
    earliest_establishment: list[EarliestEstablishment]
    rice_converted_ha: float | None = Field(
        description="rice land (LUC, LUK) the new land takes by the horizon; none without "
        "land-use data")
    demand_supply: list[LandBalance] = Field(
        description="per unit, then the province (admin_code none)")


class ScenarioCheck(BaseModel):
    """The JSON of ``ccn-gis scenario check --json``."""

    model_config = ConfigDict(extra="allow")

    scenario: str = Field(description="the scenario's name")
    source: str
    base_year: int
    horizon: int
    rules: RuleSettings = Field(description="the thresholds the scenario is checked with")
    absorption: Absorption
    changes: list[ChangeInfo]
    findings: list[Finding]
    years: list[ClusterYear] = Field(description="per cluster and year: the projection")
    units: list[UnitYear] = Field(description="per unit and year, with gate_open")
    answers: Answers


class ScenarioClusterProperties(BaseModel):
    """A cluster at the scenario's horizon: its figures, change and findings."""

    cluster_id: str
    name: str
    admin_code: str
    kind: str | None = None
    in_plan: bool = Field(description="in the plan at the horizon")
    established: bool
    plan_ha: float
    established_ha: float
    industrial_ha: float
    leased_ha: float
    occupancy: float | None
    change: str | None = Field(description="establish, expand, add, remove, or none if the "
                               "scenario leaves the cluster as it is")
    change_year: int | None
    findings: list[str] = Field(description="the rules the cluster breaks or nears")
    severity: str | None = Field(description="error, warning, or none without findings")


class ScenarioClusterFeature(BaseModel):
    """A cluster of the scenario as a GeoJSON feature (WGS84)."""

    type: str = Field("Feature", pattern="^Feature$")
    id: str
    geometry: dict[str, Any]
    properties: ScenarioClusterProperties


class ScenarioClusters(BaseModel):
    """The scenario's clusters at its horizon (GeoJSON, RFC 7946)."""

    type: str = Field("FeatureCollection", pattern="^FeatureCollection$")
    scenario: str
    horizon: int
    features: list[ScenarioClusterFeature]
