"""A scenario posted to ``/scenarios/check``: its body read within bounds and checked.

A posted scenario is YAML (or JSON) like a scenario file, with what a stranger's may not
hold besides: a reference to a file (a server reads no file a client names), ``.inf`` or
``.nan``, a projection longer than :data:`MAX_YEARS`, a geometry far from the province or
larger than any cluster. Every mistake is a 400 (:class:`~ccn_gis_api.query.BadRequest`)
that names the line; a body of the wrong media type is a 415, too large a 413.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import shapely
from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccn_gis.dataset import Dataset
from ccn_gis.io.scenario_file import load_yaml
from ccn_gis.scenario import Scenario, ScenarioError, build_scenario
from ccn_gis.settings import RuleSettings
from ccn_gis_api.query import BadRequest

MAX_YEARS = 30  # from the base year to the horizon
REACH_M = 20_000  # how far from the province a posted geometry may lie
MAX_GEOMETRY_HA = 1_000.0  # a cluster has 10–75 ha: more is a mistake in the coordinates
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml",
              "application/json")
"""Media types a posted scenario may have (JSON is YAML too). Not ``text/plain`` nor a
form's: a web page may make a visitor's browser send those to any server, unasked."""
SOURCE = "request body"
"""What the messages about a posted scenario call it."""


async def posted_body(request: Request, /, *, most: int) -> bytes:
    """The body of ``request``: YAML or JSON of at most ``most`` bytes, read as it comes.

    Raises
    ------
    StarletteHTTPException
        415 for another media type; 413 when the body is (or says it is) larger.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in YAML_TYPES:
        raise StarletteHTTPException(
            415, f"the scenario is sent as {media_type or 'no media type'}; send YAML "
            "(Content-Type: application/yaml) or JSON (application/json)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > most:
        raise StarletteHTTPException(413, f"the scenario has {declared} bytes; at most "
                                     f"{most:,}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > most:
            raise StarletteHTTPException(413, f"the scenario has more than {most:,} bytes")
    return bytes(body)


def read_posted(body: bytes, dataset: Dataset, /, *, defaults: RuleSettings) -> Scenario:
    """The posted scenario ``body`` checked against ``dataset`` (rules from ``defaults``).

    Raises
    ------
    BadRequest
        For text that is not UTF-8, malformed YAML, anything a scenario file may not
        hold (naming the line), a reference to a file, a value that is not finite, too
        long a projection, a geometry far from the province or too large.
    """
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
