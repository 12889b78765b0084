"""Expansion scenarios over HTTP: the example scenarios, a user's own, and their clusters.

The example scenarios are the ``*.yaml`` files of a ``scenarios/`` folder beside the
GeoPackage or, when the GeoPackage lies in a folder named ``layers``, beside that folder
(the repository's layout: ``layers/thai_binh.gpkg`` and ``scenarios/fast_growth.yaml``);
the app's settings have no field for it. ``current`` is the plan as it stands (no change).
The files are read when the app starts; each scenario is checked (projection, rules,
answers: :func:`ccn_gis.scenario_check.check_scenario`) on its first request, then cached.

A user's scenario is posted as YAML (or JSON) to ``/scenarios/check``; its geometries must
be inline GeoJSON (a server reads no file a client names). Every mistake in it is a 400
that names the line.

Checks are heavy and a stranger may send one, so they are bounded (``docs/security.md``):
the body's size and media type; the YAML's values, depth and aliases while it is read
(:mod:`ccn_gis.io.scenario_file`); the number of changes; the findings listed per rule;
the time, by a :class:`~ccn_gis.budget.Deadline` that the computation checks as it goes
and that is cancelled when the client leaves; and how many checks run at once — they
run in a pool of their own, so that the threads serving every other route stay free, and
beyond it a request gets 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import orjson
import shapely
from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccn_gis.budget import Deadline, DeadlineExceeded
from ccn_gis.dataset import Dataset
from ccn_gis.io.landuse import land_use_measure
from ccn_gis.io.scenario_file import load_yaml, read_scenario
from ccn_gis.io.store import LayerStore
from ccn_gis.projection import project
from ccn_gis.scenario import MAX_CHANGES, ChangeKind, Scenario, ScenarioError, build_scenario
from ccn_gis.scenario_check import check_scenario
from ccn_gis.settings import Lang, RuleSettings, rule_settings
from ccn_gis_api.catalog import rfc7946_geometries
from ccn_gis_api.limits import Limiter, Limits, SingleFlight
from ccn_gis_api.models import Problem
from ccn_gis_api.query import BadRequest

LOG = logging.getLogger(__name__)
T = TypeVar("T")
K = TypeVar("K")
GEOJSON = "application/geo+json"
CURRENT = "current"
MAX_BODY_BYTES = 1_000_000  # the default of Limits.scenario_body_bytes
MAX_ANSWER_BYTES = 50_000_000
MAX_YEARS = 30  # from the base year to the horizon
REACH_M = 20_000  # how far from the province a posted geometry may lie
MAX_GEOMETRY_HA = 1_000.0  # a cluster has 10–75 ha: more is a mistake in the coordinates
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml",
              "application/json")
"""Media types a posted scenario may have (JSON is YAML too). Not ``text/plain`` nor a
form's: a web page may make a visitor's browser send those to any server, unasked."""
SOURCE = "request body"

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
EXAMPLE_TEXT = """name: Thử nghiệm (a trial)
horizon: 2030
absorption: {method: historical, years: 5}
changes:
  - {establish: TB-03, year: 2026}
  - expand: TB-60
    year: 2026
    geometry: {"type": "Polygon", "coordinates": [[[106.2960229, 20.3925042],
      [106.2968431, 20.3890505], [106.2977701, 20.3895356], [106.2960229, 20.3925042]]]}
  - {remove: TB-13}
rules: {protected_warn_ha: 5}
"""
# The properties are described, not typed: like a scenario file, the API takes ``2030`` or
# ``"2030"``, and an empty value for a missing one; whatever it cannot use is a 400.
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


# ------------------------------------------------------------------ response models
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
    kind: str = Field(description="establish, expand, add or remove")
    cluster_id: str
    year: int | None


class Answers(BaseModel):
    """What planners ask: gate years, earliest establishment, rice land, demand and supply."""

    model_config = ConfigDict(extra="allow")

    gate_opens: list[dict[str, Any]] = Field(
        description="per unit: the first year it may open a new cluster (none: not by the "
        "horizon)")
    earliest_establishment: list[dict[str, Any]]
    rice_converted_ha: float | None = Field(
        description="rice land (LUC, LUK) the new land takes by the horizon; none without "
        "land-use data")
    demand_supply: list[dict[str, Any]]


class ScenarioCheck(BaseModel):
    """The JSON of ``ccn-gis scenario check --json``."""

    model_config = ConfigDict(extra="allow")

    scenario: str = Field(description="the scenario's name")
    source: str
    base_year: int
    horizon: int
    rules: dict[str, Any]
    absorption: dict[str, Any]
    changes: list[ChangeInfo]
    findings: list[Finding]
    years: list[dict[str, Any]] = Field(description="per cluster and year: the projection")
    units: list[dict[str, Any]] = Field(description="per unit and year, with gate_open")
    answers: Answers


class ScenarioClusterProperties(BaseModel):
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


# ----------------------------------------------------------------------- the folder
def scenarios_dir(layers: str | Path) -> Path | None:
    """The folder of example scenarios for the GeoPackage ``layers``, if there is one.

    ``scenarios/`` beside the GeoPackage, else beside its folder when that is named
    ``layers``.

    Examples
    --------
    >>> scenarios_dir("layers/thai_binh.gpkg")  # doctest: +SKIP
    PosixPath('scenarios')
    """
    folder = Path(layers).parent
    for candidate in (folder / "scenarios",
                      folder.parent / "scenarios" if folder.resolve().name == "layers" else None):
        if candidate is not None and candidate.is_dir():
            return candidate
    return None


@dataclass
class _Entry:
    info: ScenarioInfo
    scenario: Scenario | None


def _read_examples(dataset: Dataset, folder: Path | None,
                   defaults: RuleSettings) -> dict[str, _Entry]:
    current = build_scenario(None, dataset, defaults=defaults)
    entries = {CURRENT: _Entry(ScenarioInfo(id=CURRENT, name=current.name,
                                            horizon=current.horizon), current)}
    if folder is None:
        return entries
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    for path in files:
        if path.stem == CURRENT or path.stem in entries:
            continue
        shown = f"{folder.name}/{path.name}"
        try:
            scenario = read_scenario(path, dataset, defaults=defaults)
        except ScenarioError as err:
            entries[path.stem] = _Entry(ScenarioInfo(
                id=path.stem, name=path.stem, source=shown,
                error=str(err).replace(str(path), shown)), None)
            continue
        entries[path.stem] = _Entry(ScenarioInfo(id=path.stem, name=scenario.name, source=shown,
                                                 horizon=scenario.horizon), scenario)
    return entries


# ------------------------------------------------------------------ posted scenarios
def _line(lines: Mapping[tuple, int], path: tuple) -> str:
    line = lines.get(path)
    return f"{SOURCE}{f', line {line}' if line else ''}: "


def _check_document(document: Any, lines: Mapping[tuple, int]) -> None:
    """What a file may hold but a posted scenario may not: file references, .inf and .nan."""
    if not isinstance(document, Mapping):
        raise BadRequest(f"{SOURCE}: a scenario is a YAML mapping with name, horizon, "
                         "changes…; see scenarios/fast_growth.yaml")
    changes = document.get("changes")
    if isinstance(changes, list):  # their number is bounded while reading
        for i, change in enumerate(changes):
            geometry = change.get("geometry") if isinstance(change, Mapping) else None
            if isinstance(geometry, Mapping) and "file" in geometry:
                raise BadRequest(
                    f"{_line(lines, ('changes', i, 'geometry'))}changes[{i}].geometry: a "
                    "posted scenario cannot refer to files; write the GeoJSON geometry inline")

    def walk(node: Any, path: tuple) -> None:
        if isinstance(node, float) and not math.isfinite(node):
            key = ".".join(str(p) for p in path) or "document"
            raise BadRequest(f"{_line(lines, path)}{key}: {node} is not a finite number")
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, (*path, i))

    walk(document, ())


def _check_reach(scenario: Scenario, dataset: Dataset) -> None:
    """Refuse a projection that would mean nothing: too long, or land far from the province."""
    if scenario.horizon - scenario.base_year > MAX_YEARS:
        raise BadRequest(f"{SOURCE}: horizon {scenario.horizon} is more than {MAX_YEARS} "
                         f"years after the base year {scenario.base_year}")
    west, south, east, north = dataset.admin_units.total_bounds
    reach = shapely.box(west - REACH_M, south - REACH_M, east + REACH_M, north + REACH_M)
    for i, change in enumerate(scenario.changes):
        if change.geometry is None:
            continue
        where = f"{SOURCE}{f', line {change.line}' if change.line else ''}: "
        bounds = shapely.bounds(change.geometry)
        if not np.isfinite(bounds).all() or not shapely.within(change.geometry, reach):
            raise BadRequest(f"{where}changes[{i}].geometry lies outside the province (or "
                             "more than 20 km from it); GeoJSON is longitude, latitude (WGS84)")
        area_ha = shapely.area(change.geometry) / 10_000
        if area_ha > MAX_GEOMETRY_HA:
            raise BadRequest(f"{where}changes[{i}].geometry covers {area_ha:,.0f} ha; a cluster "
                             f"has tens of hectares (at most {MAX_GEOMETRY_HA:,.0f} ha here)")


def _parse(body: bytes, dataset: Dataset, defaults: RuleSettings) -> Scenario:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise BadRequest(f"{SOURCE}: not UTF-8 text ({err})") from err
    try:
        document, lines = load_yaml(text, source=SOURCE)
    except ScenarioError as err:
        raise BadRequest(str(err)) from err
    _check_document(document, lines)
    try:
        scenario = build_scenario(document, dataset, lines=lines, source=SOURCE,
                                  defaults=defaults)
    except ScenarioError as err:
        raise BadRequest(str(err)) from err
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as err:
        # a value of the wrong shape the checks above do not name (``rules: [1, 2]``)
        raise BadRequest(f"{SOURCE}: not a valid scenario ({type(err).__name__}: {err}); "
                         "see scenarios/fast_growth.yaml") from err
    _check_reach(scenario, dataset)
    return scenario


# ---------------------------------------------------------------------- the clusters
_CHANGE_ORDER = (ChangeKind.ADD, ChangeKind.REMOVE, ChangeKind.EXPAND, ChangeKind.ESTABLISH)


def scenario_clusters(
    dataset: Dataset, scenario: Scenario, result: Mapping[str, Any], /, *,
    removed: bool = False,
) -> dict[str, Any]:
    """The scenario's clusters at its horizon as a GeoJSON FeatureCollection (RFC 7946).

    ``result`` is the scenario's :func:`check_scenario` answer (for the status at the
    horizon and the findings). With ``removed``, clusters the scenario takes out of the
    plan are included too (``in_plan`` false).
    """
    plan = project(dataset, scenario).plan
    horizon = {r["cluster_id"]: r for r in result["years"] if r["year"] == scenario.horizon}
    changes: dict[str, tuple[str, int | None]] = {}
    for kind in reversed(_CHANGE_ORDER):  # the most telling change wins: add, remove, …
        for c in scenario.changes:
            if c.kind is kind:
                changes[c.cluster_id] = (kind.value, c.year)
    findings: dict[str, list[str]] = {}
    severity: dict[str, str] = {}
    for f in result["findings"]:
        cid = f.get("cluster_id")
        if cid is None:
            continue
        if f["rule"] not in findings.setdefault(cid, []):
            findings[cid].append(f["rule"])
        if severity.get(cid) != "error":
            severity[cid] = f["severity"]
    ids = [cid for cid in plan.index
           if cid in horizon and (horizon[cid]["in_plan"] or removed)]
    geoms = rfc7946_geometries(np.asarray([plan.at[cid, "geometry"] for cid in ids],
                                          dtype=object), dataset.settings.area_crs)
    features = []
    for cid, geom in zip(ids, geoms, strict=True):
        row = horizon[cid]
        change, year = changes.get(cid, (None, None))
        kind = plan.at[cid, "kind"]
        features.append({
            "type": "Feature", "id": cid,
            "geometry": orjson.loads(shapely.to_geojson(geom)),
            "properties": {
                "cluster_id": cid, "name": str(plan.at[cid, "name"]),
                "admin_code": str(plan.at[cid, "admin_code"]),
                "kind": None if kind is None else str(kind),
                "in_plan": bool(row["in_plan"]), "established": bool(row["established"]),
                "plan_ha": row["plan_ha"], "established_ha": row["established_ha"],
                "industrial_ha": row["industrial_ha"], "leased_ha": row["leased_ha"],
                "occupancy": row["occupancy"], "change": change, "change_year": year,
                "findings": findings.get(cid, []), "severity": severity.get(cid),
            },
        })
    return {"type": "FeatureCollection", "scenario": scenario.name,
            "horizon": scenario.horizon, "features": features}


# ------------------------------------------------------------------------ the routes
class ScenarioRunner:
    """Runs scenario checks in a pool of their own, bounded in number and in time.

    At most ``limits.scenario_concurrency`` checks run at once (beyond, :class:`Limiter`
    answers 503); each one stops at its deadline, when its client leaves or when the
    server shuts down (the waiting request is cancelled, and so is its deadline).
    """

    def __init__(self, dataset: Dataset, store: LayerStore, limits: Limits) -> None:
        self.dataset = dataset
        self.limits = limits
        self.limiter = Limiter("scenario checks", limits.scenario_concurrency,
                               retry_after=limits.retry_after_s)
        self.pool = DaemonExecutor("ccn-gis-scenario")
        measure = land_use_measure(dataset, store)
        lock = threading.Lock()  # the land-use raster is one open dataset

        def measured(geoms: list[object]) -> Any:
            with lock:
                return measure(geoms)  # type: ignore[misc]

        self.measure = measured if measure is not None else None

    def check(self, scenario: Scenario, lang: Lang) -> dict[str, Any]:
        """The check itself, in the calling thread (under the caller's deadline)."""
        return check_scenario(self.dataset, scenario, land_use_under=self.measure, lang=lang)

    def bounded(self, job: Callable[[], T], deadline: Deadline | None = None
                ) -> Callable[[], T]:
        """``job`` run under ``deadline`` (a fresh one of the configured length if none)."""

        def run() -> T:
            with (deadline or Deadline(self.limits.scenario_deadline_s)).applied():
                return job()

        return run

    async def run(self, request: Request, job: Callable[[], T]) -> T:
        """Run ``job`` in the pool under a deadline cancelled when ``request``'s client leaves.

        Raises
        ------
        Busy
            When as many checks as allowed are running already (503).
        StarletteHTTPException
            422 when the deadline passes first.
        """
        async with self.limiter:
            deadline = Deadline(self.limits.scenario_deadline_s)
            future = asyncio.get_running_loop().run_in_executor(
                self.pool, contextvars.copy_context().run, self.bounded(job, deadline))
            try:
                while True:
                    done, _ = await asyncio.wait({future}, timeout=0.25)
                    if done:
                        return future.result()
                    if await request.is_disconnected():
                        deadline.cancel("the client left")
            except DeadlineExceeded as err:
                LOG.info("scenario check %s", err)
                raise _too_long(err) from err
            finally:
                deadline.cancel("the request ended")  # a cancelled request stops its work

    async def shared(self, flight: SingleFlight[K, bytes], key: K, job: Callable[[], bytes]
                     ) -> bytes:
        """``job``'s answer for ``key``, computed once for every request that asks for it."""
        try:
            return await flight.get(key, self.bounded(job), limiter=self.limiter,
                                    executor=self.pool)
        except DeadlineExceeded as err:
            raise _too_long(err) from err


def _too_long(err: DeadlineExceeded) -> StarletteHTTPException:
    return StarletteHTTPException(422, f"the scenario check {err}; check fewer changes or "
                                  "smaller geometries")


class DaemonExecutor(concurrent.futures.Executor):
    """Each job in a daemon thread of its own: a check still running when the server
    stops does not keep the process alive (a pool's threads are joined at exit). The
    number of threads is bounded by the :class:`Limiter` that admits the jobs."""

    def __init__(self, name: str) -> None:
        self.name = name

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
               ) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as err:  # noqa: BLE001 - handed to the waiting request
                future.set_exception(err)

        threading.Thread(target=work, name=self.name, daemon=True).start()
        return future


def install_scenario_routes(
    app: FastAPI, dataset: Dataset, store: LayerStore, folder: Path | None,
    limits: Limits | None = None,
) -> None:
    """Add ``/scenarios``: the examples in ``folder`` and ``current``, checked, and a POST."""
    limits = limits or Limits()
    defaults = rule_settings(dataset.settings)
    entries = _read_examples(dataset, folder, defaults)
    runner = ScenarioRunner(dataset, store, limits)
    # one check per scenario and language, shared by concurrent requests; examples are few
    answers: SingleFlight[tuple[str, Lang], bytes] = SingleFlight(maxsize=4 * len(entries))
    geojson: SingleFlight[tuple[str, bool], bytes] = SingleFlight(maxsize=4 * len(entries))

    def entry_or_404(scenario_id: str) -> Scenario:
        entry = entries.get(scenario_id)
        if entry is None:
            raise StarletteHTTPException(
                404, f"no scenario {scenario_id!r}; scenarios: {', '.join(entries)}")
        if entry.scenario is None:
            raise StarletteHTTPException(
                404, f"scenario {scenario_id!r} cannot be checked: {entry.info.error}; fix "
                "the file and restart the server")
        return entry.scenario

    def result(scenario_id: str, lang: Lang) -> dict[str, Any]:
        value = runner.check(entry_or_404(scenario_id), lang)
        value["source"] = entries[scenario_id].info.source or ""
        return value

    async def answer(scenario_id: str, lang: Lang) -> bytes:
        entry_or_404(scenario_id)
        return await runner.shared(answers, (scenario_id, lang),
                                   lambda: _dumps(result(scenario_id, lang)))

    def language(lang: Lang | None) -> Lang:
        return lang or dataset.settings.lang

    @app.get("/scenarios", response_model=list[ScenarioInfo], operation_id="getScenarios",
             tags=["Scenarios"], summary="The 2030 scenarios: the plan as it stands and the "
             "examples", description="`current` is the plan as it stands; the others are the "
             "`*.yaml` files of the `scenarios/` folder beside the GeoPackage (or beside its "
             "`layers/` folder).", responses=ERRORS)
    def scenarios() -> Any:
        return [e.info.model_dump() for e in entries.values()]

    @app.post("/scenarios/check", response_model=ScenarioCheck, operation_id="checkScenario",
              tags=["Scenarios"], summary="Check a scenario of your own (YAML or JSON)",
              description="The same JSON as `ccn-gis scenario check --json`. Geometries must "
              "be inline GeoJSON; a malformed scenario is a 400 naming the line.",
              openapi_extra={"requestBody": REQUEST_BODY},
              responses={**ERRORS, **TOO_LARGE})
    async def check_posted(request: Request, lang: LangQuery = None) -> Response:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in YAML_TYPES:
            raise StarletteHTTPException(
                415, f"the scenario is sent as {media_type or 'no media type'}; send YAML "
                "(Content-Type: application/yaml) or JSON (application/json)")
        most = limits.scenario_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > most:
            raise StarletteHTTPException(413, f"the scenario has {declared} bytes; at most "
                                         f"{most:,}")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > most:
                raise StarletteHTTPException(413, f"the scenario has more than {most:,} bytes")
        chosen = language(lang)

        def job() -> bytes:
            scenario = _parse(bytes(body), dataset, defaults)
            value = _dumps(runner.check(scenario, chosen))
            if len(value) > MAX_ANSWER_BYTES:
                raise StarletteHTTPException(
                    422, f"{SOURCE}: the answer would have {len(value):,} bytes (at most "
                    f"{MAX_ANSWER_BYTES:,}); check fewer changes")
            return value

        return Response(await runner.run(request, job), media_type="application/json")

    @app.get("/scenarios/{scenario_id}", response_model=ScenarioCheck,
             operation_id="getScenario", tags=["Scenarios"],
             summary="A scenario checked: findings, projection per year, answers",
             description="The same JSON as `ccn-gis scenario check --json`.",
             responses={**ERRORS, 503: TOO_LARGE[503]})
    async def scenario(scenario_id: ScenarioId, lang: LangQuery = None) -> Response:
        return Response(await answer(scenario_id, language(lang)),
                        media_type="application/json")

    @app.get("/scenarios/{scenario_id}/clusters", response_model=ScenarioClusters,
             operation_id="getScenarioClusters", tags=["Scenarios"],
             summary="The scenario's clusters at its horizon (GeoJSON)",
             description="Plan geometries at the horizon (RFC 7946, WGS84) with the status "
             "then, the scenario's change and the rules each cluster breaks.",
             responses={200: {"content": {GEOJSON: {}}}, **ERRORS, 503: TOO_LARGE[503]})
    async def clusters(
        scenario_id: ScenarioId,
        removed: Annotated[bool, Query(
            description="also the clusters the scenario removes from the plan")] = False,
    ) -> Response:
        scenario = entry_or_404(scenario_id)
        lang = language(None)
        answered = await answer(scenario_id, lang)  # kept: no second check

        def job() -> bytes:  # read back only when the clusters are not kept yet
            checked = orjson.loads(answered)
            return _dumps(scenario_clusters(dataset, scenario, checked, removed=removed))

        body = await runner.shared(geojson, (scenario_id, removed), job)
        return Response(body, media_type=GEOJSON)


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)  # NaN and infinity: null
