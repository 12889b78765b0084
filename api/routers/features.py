"""OGC API – Features: the collections, their items (filtered and paged) and one item.

A page of items is a join of the features' bytes made once per revision
(:mod:`ccn_gis_api.catalog`); a cluster's item carries its figures and land use, added
to those bytes without parsing them again.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccn_gis.io.export import FORMATS, ExportFormat
from ccn_gis_api import html
from ccn_gis_api.auth import reader
from ccn_gis_api.catalog import ServedCollection, json_value, with_properties
from ccn_gis_api.dependencies import (
    COLLECTIONS_CRUMB,
    ERRORS,
    GEOJSON,
    HOME,
    HTML,
    HTML_TOO,
    Box,
    Collection,
    Current,
    FormatQuery,
    Interval,
    ItemFilters,
    Served,
    dumps,
    url,
    wants_html,
)
from ccn_gis_api.models import CollectionInfo, Collections, Feature, FeatureCollection
from ccn_gis_api.query import CRS84, DEFAULT_LIMIT, MAX_LIMIT, select
from ccn_gis_api.routers.edits import item_etag
from ccn_gis_api.service import Snapshot
from ccn_gis_api.tiles import TILESETS_VECTOR

router = APIRouter(tags=["Data"], dependencies=[Depends(reader)])  # CCN_GIS_PUBLIC_READ


def collection_info(request: Request, current: Snapshot, c: ServedCollection
                    ) -> dict[str, Any]:
    """The description of collection ``c``: links (items, tiles, downloads) and extent."""
    path = f"/collections/{c.name}"
    title = c.info.title_vi
    links: list[dict[str, Any]] = [
        {"href": url(request, path), "rel": "self", "type": "application/json",
         "title": title},
        {"href": url(request, path, HTML), "rel": "alternate", "type": "text/html",
         "title": f"{title} (HTML)"},
        {"href": url(request, f"{path}/items"), "rel": "items", "type": GEOJSON,
         "title": f"{title} — GeoJSON"},
        {"href": url(request, f"{path}/items", HTML), "rel": "items",
         "type": "text/html", "title": f"{title} — HTML"},
    ]
    if c.geometries is not None:
        links.append({"href": url(request, f"{path}/tiles"), "rel": TILESETS_VECTOR,
                      "type": "application/json", "title": f"{title} — vector tiles (MVT)"})
    area_crs = current.dataset.settings.area_crs
    for fmt, info in FORMATS.items():
        if fmt is ExportFormat.KML and c.geometries is None:
            continue
        crss = [area_crs, "EPSG:4326"] if info.crs_choice else ["EPSG:4326"]
        for crs in crss:
            if c.geometries is None and crs != "EPSG:4326":
                continue
            label = "VN-2000" if crs != "EPSG:4326" else "WGS84"
            links.append({
                "href": url(request, f"{path}/download", {"format": fmt.value, "crs": crs}),
                "rel": "enclosure", "type": info.media_type,
                "title": f"Tải về {info.title_vi} ({label}) — download {info.title_en}",
            })
    extent: dict[str, Any] = {}
    if c.bbox is not None:
        extent["spatial"] = {"bbox": [list(c.bbox)], "crs": CRS84}
    if c.interval is not None:
        extent["temporal"] = {"interval": [list(c.interval)]}
    return {
        "id": c.name,
        "title": title,
        "description": f"{title} ({c.info.title_en}), {len(c.ids)} features",
        "links": links,
        "extent": extent or None,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
    }


@router.get("/collections", response_model=Collections, response_model_exclude_none=True,
            operation_id="getCollections", summary="The layers served",
            responses={**HTML_TOO, **ERRORS})
def collections(request: Request, current: Current, f: FormatQuery = None) -> Any:
    """Every layer served, with its links and extent."""
    served = current.catalog.collections
    infos = [collection_info(request, current, c) for c in served.values()]
    if wants_html(request, f):
        rows = [{"id": f'{i["id"]}', "title": i["title"], "features": len(served[i["id"]].ids)}
                for i in infos]
        body = html.table(rows, ["id", "title", "features"]) + "".join(
            "<p>" + html.link(f"/collections/{i['id']}?f=html", i["title"]) + "</p>"
            for i in infos)
        return HTMLResponse(html.page("Các lớp dữ liệu", body,
                                      crumbs=[HOME, COLLECTIONS_CRUMB]))
    return {
        "links": [{"href": url(request, "/collections"), "rel": "self",
                   "type": "application/json"},
                  {"href": url(request, "/collections", HTML), "rel": "alternate",
                   "type": "text/html"}],
        "collections": infos,
    }


@router.get("/collections/{collection_id}", response_model=CollectionInfo,
            response_model_exclude_none=True, operation_id="describeCollection",
            summary="One layer", responses={**HTML_TOO, **ERRORS})
def collection(request: Request, current: Current, c: Collection,
               f: FormatQuery = None) -> Any:
    """One layer: its links (items, tiles, downloads) and extent."""
    info = collection_info(request, current, c)
    if wants_html(request, f):
        return HTMLResponse(html.page(
            c.info.title_vi, html.paragraph(info["description"]) + html.links(info["links"]),
            crumbs=[HOME, COLLECTIONS_CRUMB, (c.name, f"/collections/{c.name}?f=html")]))
    return info


@router.get(
    "/collections/{collection_id}/items", operation_id="getFeatures",
    summary="Features of a layer, filtered and paged",
    description="Other query parameters filter by equality on the layer's fields, "
    "e.g. `?admin_code=342&stage=operating`.",
    response_model=FeatureCollection,
    responses={200: {"content": {GEOJSON: {}, "text/html": {}}}, **ERRORS},
)
def items(
    request: Request,
    c: Collection,
    box: Box,
    interval: Interval,
    filters: ItemFilters,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Features per page")] = (
        DEFAULT_LIMIT),
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Features to skip")] = 0,
    f: FormatQuery = None,
) -> Response:
    """A page of the features that match the filters, with links to the pages around."""
    params = dict(request.query_params)
    positions = select(c, bbox=box, interval=interval, filters=filters)
    page_positions = positions[offset:offset + limit]
    matched, returned = len(positions), len(page_positions)
    path = f"/collections/{c.name}/items"
    keep = {k: v for k, v in params.items() if k not in ("offset", "f")}
    links = [
        {"href": url(request, path, {**keep, "offset": offset or None}), "rel": "self",
         "type": GEOJSON, "title": "Trang này"},
        {"href": url(request, path, {**keep, "offset": offset or None, "f": "html"}),
         "rel": "alternate", "type": "text/html", "title": "Trang này dạng HTML"},
        {"href": url(request, f"/collections/{c.name}"), "rel": "collection",
         "type": "application/json", "title": c.info.title_vi},
    ]
    if offset + limit < matched:
        links.append({"href": url(request, path, {**keep, "offset": offset + limit}),
                      "rel": "next", "type": GEOJSON, "title": "Trang sau"})
    if offset > 0:
        previous = max(offset - limit, 0) or None
        links.append({"href": url(request, path, {**keep, "offset": previous}),
                      "rel": "prev", "type": GEOJSON, "title": "Trang trước"})
    if wants_html(request, f):
        rows = [{k: json_value(v) for k, v in c.frame.iloc[int(i)].items()}
                for i in page_positions]
        nav = "".join(html.link(link["href"], link["title"]) for link in links
                      if link["rel"] in ("prev", "next"))
        body = (html.paragraph(f"{returned} / {matched} đối tượng (features)")
                + f'<nav class="pages">{nav}</nav>'
                + html.table(rows, list(c.frame.columns)))
        return HTMLResponse(html.page(c.info.title_vi, body, crumbs=[
            HOME, COLLECTIONS_CRUMB, (c.name, f"/collections/{c.name}?f=html")]))
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = (
        b'{"type":"FeatureCollection","numberMatched":' + str(matched).encode()
        + b',"numberReturned":' + str(returned).encode()
        + b',"timeStamp":"' + stamp.encode() + b'","links":' + dumps(links)
        + b',"features":['
    )
    body = head + b",".join(c.features[int(i)] for i in page_positions) + b"]}"
    return Response(body, media_type=GEOJSON)


@router.get(
    "/collections/{collection_id}/items/{feature_id}", operation_id="getFeature",
    summary="One feature; a cluster carries its figures", response_model=Feature,
    responses={200: {"content": {GEOJSON: {}, "text/html": {}}}, **ERRORS},
)
def item(
    request: Request, current: Current, served: Served, c: Collection,
    feature_id: Annotated[str, Path(description="The feature's id, e.g. TB-05")],
    f: FormatQuery = None,
) -> Response:
    """One feature; a cluster's properties add its ``figures`` and its ``landuse``."""
    position = c.position_of(feature_id)
    if position is None:
        raise StarletteHTTPException(404, f"no feature {feature_id!r} in {c.name}")
    added: dict[str, Any] = {}
    if c.name == "clusters":
        added["figures"] = current.cluster_figures[feature_id]
        if current.landuse.by_cluster:
            added["landuse"] = current.landuse.by_cluster.get(feature_id, [])
    path = f"/collections/{c.name}/items/{feature_id}"
    links = [
        {"href": url(request, path), "rel": "self", "type": GEOJSON},
        {"href": url(request, path, HTML), "rel": "alternate", "type": "text/html"},
        {"href": url(request, f"/collections/{c.name}"), "rel": "collection",
         "type": "application/json"},
    ]
    if wants_html(request, f):
        properties = {**c.properties(position), **added}
        return HTMLResponse(html.page(f"{c.info.title_vi} {feature_id}",
                                      html.properties(properties), crumbs=[
            HOME, COLLECTIONS_CRUMB, (c.name, f"/collections/{c.name}/items?f=html")]))
    body = with_properties(c.features[position], dumps(added)[1:-1], b'"links":' + dumps(links))
    return Response(body, media_type=GEOJSON, headers=item_etag(served, c, position))
