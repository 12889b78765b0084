"""OGC API – Features Part 4: create, replace, update and delete features.

Every write needs an editor (:mod:`ccn_gis_api.auth`) and goes through the register
(:func:`ccn_gis.io.register.write_changes`): checked like a file on load (422 with the
problems, nothing written), recorded in the history with its user and note (the
``note`` query parameter: a decision number, say). A feature's ``ETag`` is the version
of its stored row; replacing, updating or deleting it needs ``If-Match`` with that tag
(428 without, 412 with a stale one, with the current tag). A feature arrives as GeoJSON
in WGS84, or in the CRS of a ``Content-Crs`` header (``<http://www.opengis.net/def/crs/
EPSG/0/9209>``: VN-2000 as the decisions' boundary tables give it). Once written, the
server serves the new revision from the next request on.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import orjson
import shapely.geometry
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccn_gis.crs import WGS84
from ccn_gis.edits import ChangeSet, Edit, Operation
from ccn_gis.io.register import (
    Written,
    feature_version,
    read_history,
    revert_change,
    write_changes,
)
from ccn_gis.model import Role
from ccn_gis_api.auth import Admin, CurrentUser, Editor, Unauthorized, require
from ccn_gis_api.catalog import ServedCollection
from ccn_gis_api.dependencies import Collection, Current, Served
from ccn_gis_api.models import Problem
from ccn_gis_api.query import CRS84 as CRS84_URI
from ccn_gis_api.service import Service

router = APIRouter(tags=["Edits"])

FEATURE_TYPES = ("application/geo+json", "application/json")
MERGE_PATCH = "application/merge-patch+json"
_OGC_CRS = re.compile(r"^<?https?://www\.opengis\.net/def/crs/(EPSG|OGC)/[^/]+/([^>]+)>?$")
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The feature is malformed or names an unknown "
          "field"},
    401: {"model": Problem, "description": "No credentials, or wrong ones"},
    403: {"model": Problem, "description": "The user is not an editor"},
    404: {"model": Problem, "description": "No such collection or feature"},
    412: {"model": Problem, "description": "The feature changed since its ETag was read"},
    413: {"model": Problem, "description": "The body is too large"},
    415: {"model": Problem, "description": "Not GeoJSON (or merge-patch JSON for PATCH)"},
    422: {"model": Problem, "description": "The register would break the data model; "
          "`problems` name layer, feature and field; nothing was written"},
    428: {"model": Problem, "description": "If-Match is required"},
}
NoteQuery = Annotated[str | None, Query(
    max_length=500, description="why: the decision or contract, e.g. Quyết định 1234/QĐ-UBND")]
FeatureId = Annotated[str, Path(description="The feature's id, e.g. TB-01-P006")]
Viewer = Annotated[Any, Depends(require(Role.VIEWER))]
"""The history names the staff who wrote: a signed-in viewer at least reads it."""


def content_crs(header: str | None) -> Any:
    """The CRS of a ``Content-Crs`` header (WGS84 longitude/latitude without one).

    Examples
    --------
    >>> content_crs("<http://www.opengis.net/def/crs/EPSG/0/9209>")
    'EPSG:9209'
    >>> content_crs(None) is WGS84
    True
    """
    if header is None or header.strip() in ("", f"<{CRS84_URI}>", CRS84_URI):
        return WGS84
    text = header.strip()
    found = _OGC_CRS.match(text)
    if found:
        authority, code = found.groups()
        return WGS84 if (authority, code) == ("OGC", "CRS84") else f"{authority}:{code}"
    if re.fullmatch(r"EPSG:\d+", text):
        return text
    raise StarletteHTTPException(400, f"Content-Crs {header!r}: give a CRS URI such as "
                                 "<http://www.opengis.net/def/crs/EPSG/0/9209>")


async def _body(request: Request, served: Service, types: tuple[str, ...]) -> Any:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in types:
        raise StarletteHTTPException(415, f"the body is {media_type or 'of no media type'}; "
                                     f"send {' or '.join(types)}")
    most = served.limits.edit_body_bytes
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > most:
            raise StarletteHTTPException(413, f"the body has more than {most:,} bytes")
    try:
        return orjson.loads(bytes(body))
    except orjson.JSONDecodeError as err:
        raise StarletteHTTPException(400, f"the body is not JSON ({err})") from err


def _stored_properties(current: Any, c: ServedCollection, properties: Any) -> dict[str, Any]:
    """The properties that are stored fields: the published ones ccn-gis computes (a
    cluster's ``stage``, ``occupancy``…, every ``area_ha``) are left out, so a feature
    read and sent back as it came is accepted."""
    if properties is None:
        return {}
    if not isinstance(properties, dict):
        raise StarletteHTTPException(400, "properties: give an object of field values")
    stored = set(getattr(current.dataset, c.name).columns) - {"area_ha", "geometry"}
    computed = set(c.frame.columns) - stored
    return {k: v for k, v in properties.items() if k not in computed}


def _geometry(feature: dict[str, Any]) -> tuple[bool, Any]:
    if "geometry" not in feature:
        return False, None
    if feature["geometry"] is None:
        return True, None
    try:
        return True, shapely.geometry.shape(feature["geometry"])
    except (ValueError, TypeError, KeyError, AttributeError,
            shapely.errors.GEOSException) as err:
        raise StarletteHTTPException(400, f"geometry: not a GeoJSON geometry ({err})") from err


def _feature(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or value.get("type") != "Feature":
        raise StarletteHTTPException(400, 'send one GeoJSON feature ({"type": "Feature", …})')
    return value


def _etag(version: str | None) -> dict[str, str]:
    return {"ETag": f'"{version}"'} if version else {}


def _if_match(value: str | None) -> str:
    if not value:
        raise StarletteHTTPException(428, "send If-Match with the feature's ETag (read the "
                                     "feature first): it tells a change made meanwhile")
    tag = value.strip()
    if tag.startswith("W/"):
        raise StarletteHTTPException(412, "If-Match needs the feature's strong ETag")
    return tag.strip('"')


async def _write(served: Service, user: str, edit: Edit, note: str | None) -> Written:
    with served.writing():
        written = await run_in_threadpool(
            write_changes, served.settings.layers, ChangeSet((edit,), note=note or ""),
            user=user)
        served.wrote(written.revision)
        await run_in_threadpool(served.refresh)
    return written


def _location(request: Request, c: ServedCollection, feature_id: str) -> str:
    return str(request.base_url).rstrip("/") + f"/collections/{c.name}/items/{feature_id}"


@router.post("/collections/{collection_id}/items", status_code=201,
             operation_id="createFeature", summary="Add a feature (GeoJSON)",
             response_class=Response, responses={201: {"description": "Created; Location "
                                                       "names it, ETag is its version"},
                                                 **WRITE_ERRORS})
async def create(request: Request, current: Current, served: Served, c: Collection,
                 user: Editor, note: NoteQuery = None,
                 crs: Annotated[str | None, Header(alias="Content-Crs")] = None) -> Response:
    """Add the feature sent; its id field names it (an extent gets the next number)."""
    feature = _feature(await _body(request, served, FEATURE_TYPES))
    has_geometry, geometry = _geometry(feature)
    edit = Edit(c.name, Operation.CREATE, None,
                _stored_properties(current, c, feature.get("properties")), geometry,
                set_geometry=has_geometry, crs=content_crs(crs))
    written = await _write(served, user.name, edit, note)
    done = written.applied[0]
    return Response(status_code=201, headers={
        "Location": _location(request, c, done.feature_id), **_etag(written.versions[0])})


@router.put("/collections/{collection_id}/items/{feature_id}", status_code=204,
            operation_id="replaceFeature", summary="Replace a feature (GeoJSON)",
            response_class=Response, responses=WRITE_ERRORS)
async def replace(request: Request, current: Current, served: Served, c: Collection,
                  feature_id: FeatureId, user: Editor, note: NoteQuery = None,
                  if_match: Annotated[str | None, Header()] = None,
                  crs: Annotated[str | None, Header(alias="Content-Crs")] = None) -> Response:
    """Replace every field and the geometry (fields not sent are emptied)."""
    tag = _if_match(if_match)
    feature = _feature(await _body(request, served, FEATURE_TYPES))
    _, geometry = _geometry(feature)
    edit = Edit(c.name, Operation.REPLACE, feature_id,
                _stored_properties(current, c, feature.get("properties")), geometry,
                set_geometry=True, crs=content_crs(crs), if_match=tag)
    written = await _write(served, user.name, edit, note)
    return Response(status_code=204, headers=_etag(written.versions[0]))


@router.patch("/collections/{collection_id}/items/{feature_id}", status_code=204,
              operation_id="updateFeature",
              summary="Change some fields or the geometry (JSON merge patch)",
              response_class=Response, responses=WRITE_ERRORS)
async def update(request: Request, current: Current, served: Served, c: Collection,
                 feature_id: FeatureId, user: Editor, note: NoteQuery = None,
                 if_match: Annotated[str | None, Header()] = None,
                 crs: Annotated[str | None, Header(alias="Content-Crs")] = None) -> Response:
    """Set the properties sent (an empty value empties one) and the geometry if sent
    (RFC 7396)."""
    tag = _if_match(if_match)
    patch = await _body(request, served, (MERGE_PATCH, *FEATURE_TYPES))
    if not isinstance(patch, dict):
        raise StarletteHTTPException(400, "send a JSON object (a merge patch of the feature)")
    has_geometry, geometry = _geometry(patch)
    edit = Edit(c.name, Operation.UPDATE, feature_id,
                _stored_properties(current, c, patch.get("properties")), geometry,
                set_geometry=has_geometry, crs=content_crs(crs), if_match=tag)
    written = await _write(served, user.name, edit, note)
    return Response(status_code=204, headers=_etag(written.versions[0]))


@router.delete("/collections/{collection_id}/items/{feature_id}", status_code=204,
               operation_id="deleteFeature", summary="Delete a feature",
               response_class=Response, responses=WRITE_ERRORS)
async def delete(served: Served, c: Collection, feature_id: FeatureId, user: Editor,
                 note: NoteQuery = None,
                 if_match: Annotated[str | None, Header()] = None) -> Response:
    """Delete the feature (refused while others refer to it: a cluster's parcels…)."""
    tag = _if_match(if_match)
    await _write(served, user.name, Edit(c.name, Operation.DELETE, feature_id, if_match=tag),
                 note)
    return Response(status_code=204)


def item_etag(served: Service, c: ServedCollection, position: int) -> dict[str, str]:
    """The ``ETag`` header of the feature at ``position``: its stored row's version."""
    return _etag(feature_version(served.settings.layers, c.name, int(c.fids[position])))


# ------------------------------------------------------------------ change sets, history
_OPERATIONS = {o.value: o for o in Operation}


def _edit_of(current: Any, entry: Any, n: int, crs: Any) -> Edit:
    """Edit ``n`` of a posted change set."""
    where = f"edits[{n}]"
    if not isinstance(entry, dict):
        raise StarletteHTTPException(400, f"{where}: give an object with collection, "
                                     "operation, id, feature and if_match")
    name = entry.get("collection")
    c = current.catalog.collections.get(name) if isinstance(name, str) else None
    if c is None:
        raise StarletteHTTPException(
            404, f"{where}.collection: no collection {name!r}; collections: "
            f"{', '.join(current.catalog.collections)}")
    operation = _OPERATIONS.get(str(entry.get("operation")))
    if operation is None:
        raise StarletteHTTPException(400, f"{where}.operation: one of "
                                     f"{', '.join(_OPERATIONS)}")
    feature_id = entry.get("id")
    if operation is not Operation.CREATE and not isinstance(feature_id, str):
        raise StarletteHTTPException(400, f"{where}.id: the feature's id, as text")
    tag = None
    if operation is not Operation.CREATE:
        tag = _if_match(entry.get("if_match"))
    feature = entry.get("feature") or {}
    if not isinstance(feature, dict):
        raise StarletteHTTPException(400, f"{where}.feature: a GeoJSON feature or a patch")
    has_geometry, geometry = _geometry(feature) if operation is not Operation.DELETE else (
        False, None)
    return Edit(c.name, operation, feature_id,
                _stored_properties(current, c, feature.get("properties")), geometry,
                set_geometry=has_geometry or operation is Operation.REPLACE, crs=crs,
                if_match=tag)


@router.post("/changes", status_code=201, operation_id="applyChanges",
             summary="Several edits, all or nothing, with one note",
             description="A JSON object `{note, edits: [{collection, operation (create, "
             "replace, update, delete), id, if_match, feature}]}`: a new establishment "
             "extent and the cluster's updated fields are one change. Each edit is checked "
             "as the single writes are; if any fails, none is written.",
             responses={201: {"description": "Written: the change set's number, each "
                              "feature's new ETag"}, **WRITE_ERRORS})
async def apply_changes(request: Request, current: Current, served: Served, user: Editor,
                        crs: Annotated[str | None, Header(alias="Content-Crs")] = None
                        ) -> Any:
    """Apply the posted change set; 201 with its number and the features' new ETags."""
    body = await _body(request, served, ("application/json",))
    if not isinstance(body, dict) or not isinstance(body.get("edits"), list) \
            or not body["edits"]:
        raise StarletteHTTPException(400, "send {\"note\": …, \"edits\": [ … ]} with at "
                                     "least one edit")
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        raise StarletteHTTPException(400, "note: text of at most 500 characters")
    chosen = content_crs(crs)
    edits = tuple(_edit_of(current, e, n, chosen) for n, e in enumerate(body["edits"]))
    with served.writing():
        written = await run_in_threadpool(
            write_changes, served.settings.layers, ChangeSet(edits, note=note or ""),
            user=user.name)
        served.wrote(written.revision)
        await run_in_threadpool(served.refresh)
    location = str(request.base_url).rstrip("/") + f"/changes/{written.change_id}"
    return JSONResponse(status_code=201, headers={"Location": location}, content={
        "change_id": written.change_id, "recorded_at": written.recorded_at,
        "edits": [{"collection": d.layer, "id": d.feature_id, "operation": d.operation.value,
                   "etag": f'"{v}"' if v else None}
                  for d, v in zip(written.applied, written.versions, strict=True)]})


def _changes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History rows grouped by change set."""
    out: list[dict[str, Any]] = []
    for row in rows:
        if not out or out[-1]["change_id"] != row["change_id"]:
            out.append({k: row[k] for k in ("change_id", "recorded_at", "user", "note",
                                            "source")} | {"edits": []})
        out[-1]["edits"].append({"collection": row["layer"], "id": row["feature_id"],
                                 "operation": row["operation"], "before": row["before"],
                                 "after": row["after"]})
    return out


@router.get("/changes", operation_id="getChanges", tags=["History"],
            summary="The register's log: change sets after `since`, oldest first",
            responses={401: WRITE_ERRORS[401], 403: WRITE_ERRORS[403]})
async def changes(request: Request, served: Served, user: Viewer,
                  since: Annotated[int, Query(ge=0, description="after this change set")] = 0,
                  limit: Annotated[int, Query(ge=1, le=1_000)] = 100) -> Any:
    """Change sets after ``since``: who, when, the note, each edit with the stored values
    before and after (geometries as WKB in hex, in the layer's CRS)."""
    rows = await run_in_threadpool(read_history, served.settings.layers, since=since,
                                   limit=limit)
    found = _changes(rows)
    links = []
    if len(found) == limit:
        links.append({"rel": "next", "type": "application/json", "href": str(
            request.base_url).rstrip("/") + f"/changes?since={found[-1]['change_id']}"
            f"&limit={limit}"})
    return {"changes": found, "links": links}


@router.get("/changes/{change_id}", operation_id="getChange", tags=["History"],
            summary="One change set",
            responses={404: WRITE_ERRORS[404], 401: WRITE_ERRORS[401]})
async def change(served: Served, user: Viewer,
                 change_id: Annotated[int, Path(ge=1)]) -> Any:
    """Change set ``change_id``: who, when, the note and its edits."""
    rows = await run_in_threadpool(read_history, served.settings.layers,
                                   change_id=change_id, limit=1)
    if not rows:
        raise StarletteHTTPException(404, f"no change set {change_id}")
    return _changes(rows)[0]


@router.get("/collections/{collection_id}/items/{feature_id}/history",
            operation_id="getFeatureHistory", tags=["History"],
            summary="Every change ccn-gis made to one feature, oldest first",
            responses={404: WRITE_ERRORS[404], 401: WRITE_ERRORS[401]})
async def feature_history(served: Served, c: Collection, feature_id: FeatureId,
                          user: Viewer) -> Any:
    """The feature's edits with their change sets' who, when and note."""
    rows = await run_in_threadpool(read_history, served.settings.layers, layer=c.name,
                                   feature_id=feature_id, limit=1_000)
    return {"collection": c.name, "id": feature_id, "changes": _changes(rows)}


@router.post("/changes/{change_id}/revert", status_code=201, operation_id="revertChange",
             tags=["History"], summary="Undo a change set (admins), as a new change set",
             responses={201: {"description": "Reverted: the new change set"},
                        409: {"model": Problem, "description": "A feature it wrote has "
                              "changed since, or another program made it"},
                        **WRITE_ERRORS})
async def revert(request: Request, served: Served, user: Admin,
                 change_id: Annotated[int, Path(ge=1)], note: NoteQuery = None) -> Any:
    """Put every feature change set ``change_id`` wrote back as it was before it, checked
    as any write is; the revert is itself in the history."""
    with served.writing():
        written = await run_in_threadpool(
            revert_change, served.settings.layers, change_id, user=user.name,
            note=note or "")
        served.wrote(written.revision)
        await run_in_threadpool(served.refresh)
    location = str(request.base_url).rstrip("/") + f"/changes/{written.change_id}"
    return JSONResponse(status_code=201, headers={"Location": location}, content={
        "change_id": written.change_id, "reverts": change_id,
        "edits": [{"collection": d.layer, "id": d.feature_id, "operation": d.operation.value}
                  for d in written.applied]})


@router.get("/me", operation_id="getMe", tags=["Edits"],
            summary="Who the credentials name, and their role",
            responses={401: WRITE_ERRORS[401]})
async def me(user: CurrentUser) -> Any:
    """The user the request's credentials name (401 without any): the web map signs in
    with it."""
    if user is None:
        raise Unauthorized("send your user name and password (HTTP Basic) or a token")
    return {"name": user.name, "role": user.role.value}
