"""The web API: OGC API – Features over the province's layers, downloads and figures.

``create_app(settings)`` loads and checks the layers once, prepares every collection
(:mod:`ccn_gis_api.catalog`) and returns the FastAPI application.

Heavy work is bounded (:mod:`ccn_gis_api.limits`, numbers in ``app.state.limits``): so
many downloads at once, so many first-time computations, caches of bounded size; every
answer carries security headers, HEAD and OPTIONS work on every GET route
(:mod:`ccn_gis_api.etag`), and an unexpected error is a 500 problem
(:mod:`ccn_gis_api.errors`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import shutil
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterator, Mapping
from importlib import resources
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import orjson
import xstatic.pkg.leaflet
from fastapi import FastAPI, Path, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from ccn_gis.figures import cluster_tables, figures_by_cluster, figures_json
from ccn_gis.io import load_dataset, open_store
from ccn_gis.io.export import (
    FORMATS,
    ExportFile,
    ExportFormat,
    export_filename,
    write_export,
)
from ccn_gis.publish import layer_view
from ccn_gis.settings import AppSettings
from ccn_gis_api import html
from ccn_gis_api.catalog import Catalog, ServedCollection, json_value
from ccn_gis_api.errors import install_error_handlers
from ccn_gis_api.etag import (
    MAP_SCRIPTS,
    ETagMiddleware,
    MethodsMiddleware,
    SecurityHeadersMiddleware,
    content_security_policy,
)
from ccn_gis_api.landuse import install_landuse_routes
from ccn_gis_api.limits import DownloadFolders, Limiter, Limits, SingleFlight
from ccn_gis_api.models import (
    CollectionInfo,
    Collections,
    Conformance,
    FeatureCollection,
    Landing,
    Problem,
)
from ccn_gis_api.openapi import downgrade_to_openapi_30
from ccn_gis_api.query import (
    CRS84,
    DEFAULT_LIMIT,
    DOWNLOAD_PARAMETERS,
    MAX_LIMIT,
    BadRequest,
    check_crs_params,
    parse_bbox,
    parse_datetime,
    select,
    split_filters,
)
from ccn_gis_api.scenarios import install_scenario_routes, scenarios_dir
from ccn_gis_api.tiles import CACHED_TILES, TILE_OVERHEAD, TILESETS_VECTOR, install_tile_routes

GEOJSON = "application/geo+json"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
HTML_TOO: dict[int | str, dict[str, Any]] = {200: {"content": {"text/html": {}}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "A parameter is malformed; the message says why"},
    404: {"model": Problem, "description": "No such collection or feature"},
}
HTML = {"f": "html"}
Format = Literal["json", "html", "geojson"]
FormatQuery = Annotated[
    Format | None, Query(description="json (default; geojson is the same) or html")]
CollectionId = Annotated[str, Path(description="A layer name, e.g. clusters or parcels")]
_NUMBER = r"\s*-?\d+(\.\d*)?\s*"
BboxQuery = Annotated[str | None, Query(
    pattern=rf"^{_NUMBER}(,{_NUMBER}){{3}}(,{_NUMBER},{_NUMBER})?$",
    description="west,south,east,north in WGS84 degrees (or six numbers with heights)")]


def _wants_html(request: Request, f: str | None) -> bool:
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept


def _url(request: Request, path: str, params: Mapping[str, Any] | None = None) -> str:
    """The absolute URL of ``path`` with query ``params`` (those not None).

    The parameters are a mapping, not keywords: a layer's field may be named ``path``.
    """
    base = str(request.base_url).rstrip("/")
    query = urlencode({k: v for k, v in (params or {}).items() if v is not None})
    return f"{base}{path}{'?' + query if query else ''}"


_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each ``{{name}}`` replaced by ``values[name]``, HTML-escaped
    (in one pass: a value that contains ``{{…}}`` stays as it is)."""
    return _PLACEHOLDER.sub(lambda m: html.text(values[m.group(1)]), template)


def create_app(settings: AppSettings | None = None, limits: Limits | None = None) -> FastAPI:
    """Return the web API serving the layers named by ``settings``.

    ``limits`` bound the heavy work (default: :class:`~ccn_gis_api.limits.Limits` read
    from the ``CCN_GIS_*`` environment now); they are kept on ``app.state.limits``, the
    caches on ``app.state.caches`` and the limiters on ``app.state.limiters``.

    Raises
    ------
    ValidationError, DataSourceError
        When the layers cannot be served; the message lists every problem.

    Examples
    --------
    >>> from fastapi.testclient import TestClient  # doctest: +SKIP
    >>> client = TestClient(create_app(AppSettings(layers="layers/thai_binh.gpkg")))
    >>> client.get("/collections").status_code
    200
    """
    settings = settings or AppSettings()
    limits = limits or Limits()
    dataset = load_dataset(settings.layers)
    cluster_tables(dataset).maxsize = limits.figures_cache_entries
    catalog = Catalog.from_dataset(dataset)
    cluster_figures = {f.code: f.to_dict() for f in figures_by_cluster(dataset)}
    province = dataset.settings.province_name or settings.layers.stem
    basename = settings.layers.stem

    app = FastAPI(
        title=f"ccn-gis — Cụm công nghiệp {province}",
        description="OGC API – Features over the industrial clusters (cụm công nghiệp) of "
        f"{province}: clusters, approved extents, parcels, projects, downloads and figures.",
        version="0.1.0",
        docs_url=None,  # its page pastes the title raw: see docs() below
        redoc_url=None,
    )
    app.state.catalog = catalog
    app.state.limits = limits
    retry = limits.retry_after_s
    limiters = {
        "downloads": Limiter("downloads", limits.download_concurrency, retry_after=retry),
        "computations": Limiter("computations", limits.compute_concurrency,
                                retry_after=retry, wait=limits.compute_wait_s),
        "tiles": Limiter("tiles", limits.tile_concurrency, retry_after=retry,
                         wait=limits.tile_wait_s),
    }
    stats_bodies: SingleFlight[tuple[dt.date | None, str], bytes] = SingleFlight(
        limits.stats_cache_entries, max_weight=limits.stats_cache_bytes)
    tile_bodies: SingleFlight[tuple[str, int, int, int], bytes] = SingleFlight(
        CACHED_TILES, max_weight=limits.tile_cache_bytes,
        weigh=lambda body: len(body) + TILE_OVERHEAD)
    caches: dict[str, Any] = {"stats": stats_bodies, "tiles": tile_bodies,
                              "cluster_tables": cluster_tables(dataset)}
    app.state.limiters = limiters
    app.state.caches = caches
    folders = DownloadFolders.for_process(limits.download_dir)
    app.state.download_folders = folders

    install_error_handlers(app)  # its last-resort middleware is the innermost
    stat = settings.layers.stat()
    started = time.time_ns()  # scenario files and settings are read at start too
    app.add_middleware(ETagMiddleware,
                       version=f"{stat.st_size}-{stat.st_mtime_ns}-{started}")
    app.add_middleware(MethodsMiddleware, routes=lambda: app.routes)
    app.add_middleware(SecurityHeadersMiddleware,
                       policy=content_security_policy(styles=html.STYLE_HASH))
    map_policy = {"Content-Security-Policy": content_security_policy(scripts=MAP_SCRIPTS)}
    static = resources.files("ccn_gis_api") / "static"
    app.mount("/static/leaflet", StaticFiles(directory=xstatic.pkg.leaflet.BASE_DIR),
              name="leaflet")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    landuse_by_cluster = install_landuse_routes(
        app, dataset, open_store(settings.layers), limiter=limiters["computations"],
        tile_limiter=limiters["tiles"], cache_bytes=limits.tile_cache_bytes, caches=caches)
    install_tile_routes(app, catalog, limiter=limiters["tiles"], cache=tile_bodies)
    install_scenario_routes(app, dataset, open_store(settings.layers),
                            scenarios_dir(settings.layers), limits=limits)
    map_page = fill((static / "map.html").read_text(encoding="utf-8"), {
        "title": f"Cụm công nghiệp {province}", "province": province,
        "tiles_above": str(settings.map_tiles_above)})

    def collection_or_404(collection_id: str) -> ServedCollection:
        if collection_id not in catalog.collections:
            raise StarletteHTTPException(
                404, f"no collection {collection_id!r}; collections: "
                f"{', '.join(catalog.collections)}")
        return catalog.collections[collection_id]

    # ----------------------------------------------------------------- landing
    @app.get("/", response_model=Landing, response_model_exclude_none=True,
             operation_id="getLandingPage", tags=["Capabilities"],
             summary="Landing page", responses={**HTML_TOO, **ERRORS})
    def landing(request: Request, f: FormatQuery = None) -> Any:
        if f is None and _wants_html(request, None):  # a browser: the web map
            return HTMLResponse(map_page, headers=map_policy)
        body = {
            "title": app.title,
            "description": app.description,
            "links": [
                {"href": _url(request, "/"), "rel": "self", "type": "application/json",
                 "title": "Trang này (this document)"},
                {"href": _url(request, "/", HTML), "rel": "alternate", "type": "text/html",
                 "title": "Trang này dạng HTML"},
                {"href": _url(request, "/"), "rel": "alternate", "type": "text/html",
                 "title": "Bản đồ cụm công nghiệp (web map, opened by browsers)"},
                {"href": _url(request, "/openapi.json"), "rel": "service-desc",
                 "type": OPENAPI_JSON, "title": "OpenAPI 3.0"},
                {"href": _url(request, "/docs"), "rel": "service-doc", "type": "text/html",
                 "title": "Tài liệu API (API documentation)"},
                {"href": _url(request, "/conformance"), "rel": "conformance",
                 "type": "application/json", "title": "Conformance classes"},
                {"href": _url(request, "/collections"), "rel": "data",
                 "type": "application/json", "title": "Các lớp dữ liệu (collections)"},
                {"href": _url(request, "/stats"), "rel": "describedby",
                 "type": "application/json", "title": "Số liệu tổng hợp (figures)"},
            ],
        }
        if _wants_html(request, f):
            return HTMLResponse(html.page(app.title, html.paragraph(app.description)
                                          + html.links(body["links"]),
                                          crumbs=[("Trang chủ", "/")]))
        return body

    @app.get("/conformance", response_model=Conformance, operation_id="getConformance",
             tags=["Capabilities"], summary="Conformance classes", responses={**HTML_TOO, **ERRORS})
    def conformance(request: Request, f: FormatQuery = None) -> Any:
        if _wants_html(request, f):
            return HTMLResponse(html.page("Conformance", html.bullets(CONFORMANCE),
                                          crumbs=[("Trang chủ", "/")]))
        return {"conformsTo": CONFORMANCE}

    # ------------------------------------------------------------- collections
    def collection_info(request: Request, c: ServedCollection) -> dict[str, Any]:
        path = f"/collections/{c.name}"
        links: list[dict[str, Any]] = [
            {"href": _url(request, path), "rel": "self", "type": "application/json",
             "title": c.info.title_vi},
            {"href": _url(request, path, HTML), "rel": "alternate", "type": "text/html",
             "title": f"{c.info.title_vi} (HTML)"},
            {"href": _url(request, f"{path}/items"), "rel": "items", "type": GEOJSON,
             "title": f"{c.info.title_vi} — GeoJSON"},
            {"href": _url(request, f"{path}/items", HTML), "rel": "items",
             "type": "text/html", "title": f"{c.info.title_vi} — HTML"},
        ]
        if c.geometries is not None:
            links.append({"href": _url(request, f"{path}/tiles"), "rel": TILESETS_VECTOR,
                          "type": "application/json",
                          "title": f"{c.info.title_vi} — vector tiles (MVT)"})
        for fmt, info in FORMATS.items():
            if fmt is ExportFormat.KML and c.geometries is None:
                continue
            crss = [dataset.settings.area_crs, "EPSG:4326"] if info.crs_choice else ["EPSG:4326"]
            for crs in crss:
                if c.geometries is None and crs != "EPSG:4326":
                    continue
                label = "VN-2000" if crs != "EPSG:4326" else "WGS84"
                links.append({
                    "href": _url(request, f"{path}/download", {"format": fmt.value, "crs": crs}),
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
            "title": c.info.title_vi,
            "description": f"{c.info.title_vi} ({c.info.title_en}), {len(c.ids)} features",
            "links": links,
            "extent": extent or None,
            "itemType": "feature",
            "crs": [CRS84],
            "storageCrs": CRS84,
        }

    @app.get("/collections", response_model=Collections, response_model_exclude_none=True,
             operation_id="getCollections",
             tags=["Data"], summary="The layers served", responses={**HTML_TOO, **ERRORS})
    def collections(request: Request, f: FormatQuery = None) -> Any:
        infos = [collection_info(request, c) for c in catalog.collections.values()]
        if _wants_html(request, f):
            rows = [{"id": f'{i["id"]}', "title": i["title"], "features":
                     len(catalog.collections[i["id"]].ids)} for i in infos]
            body = html.table(rows, ["id", "title", "features"]) + "".join(
                "<p>" + html.link(f"/collections/{i['id']}?f=html", i["title"]) + "</p>"
                for i in infos)
            crumbs = [("Trang chủ", "/"), ("Collections", "/collections?f=html")]
            return HTMLResponse(html.page("Các lớp dữ liệu", body, crumbs=crumbs))
        return {
            "links": [{"href": _url(request, "/collections"), "rel": "self",
                       "type": "application/json"},
                      {"href": _url(request, "/collections", HTML), "rel": "alternate",
                       "type": "text/html"}],
            "collections": infos,
        }

    @app.get("/collections/{collection_id}", response_model=CollectionInfo,
             response_model_exclude_none=True,
             operation_id="describeCollection", tags=["Data"], summary="One layer",
             responses={**HTML_TOO, **ERRORS})
    def collection(request: Request, collection_id: CollectionId, f: FormatQuery = None) -> Any:
        c = collection_or_404(collection_id)
        info = collection_info(request, c)
        if _wants_html(request, f):
            return HTMLResponse(html.page(
                c.info.title_vi, html.paragraph(info["description"]) + html.links(info["links"]),
                crumbs=[("Trang chủ", "/"), ("Collections", "/collections?f=html"),
                        (c.name, f"/collections/{c.name}?f=html")]))
        return info

    # ------------------------------------------------------------------- items
    @app.get(
        "/collections/{collection_id}/items", operation_id="getFeatures", tags=["Data"],
        summary="Features of a layer, filtered and paged",
        description="Other query parameters filter by equality on the layer's fields, "
        "e.g. `?admin_code=342&stage=operating`.",
        response_model=FeatureCollection,
        responses={200: {"content": {GEOJSON: {}, "text/html": {}}}, **ERRORS},
    )
    def items(
        request: Request,
        collection_id: CollectionId,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Features per page")] = (
            DEFAULT_LIMIT),
        offset: Annotated[int, Query(ge=0, le=10_000_000, description="Features to skip")] = 0,
        bbox: BboxQuery = None,
        datetime: Annotated[str | None, Query(
            description="RFC 3339 date or interval (`2015-01-01/2020-12-31`, `..` open)")] = None,
        f: FormatQuery = None,
    ) -> Response:
        c = collection_or_404(collection_id)
        params = dict(request.query_params)
        check_crs_params(params)
        positions = select(c, bbox=parse_bbox(bbox), interval=parse_datetime(datetime),
                           filters=split_filters(params, c.frame.columns))
        page_positions = positions[offset:offset + limit]
        matched, returned = len(positions), len(page_positions)
        path = f"/collections/{c.name}/items"
        keep = {k: v for k, v in params.items() if k not in ("offset", "f")}
        links = [
            {"href": _url(request, path, {**keep, "offset": offset or None}), "rel": "self",
             "type": GEOJSON, "title": "Trang này"},
            {"href": _url(request, path, {**keep, "offset": offset or None, "f": "html"}),
             "rel": "alternate", "type": "text/html", "title": "Trang này dạng HTML"},
            {"href": _url(request, f"/collections/{c.name}"), "rel": "collection",
             "type": "application/json", "title": c.info.title_vi},
        ]
        if offset + limit < matched:
            links.append({"href": _url(request, path, {**keep, "offset": offset + limit}),
                          "rel": "next", "type": GEOJSON, "title": "Trang sau"})
        if offset > 0:
            previous = max(offset - limit, 0) or None
            links.append({"href": _url(request, path, {**keep, "offset": previous}),
                          "rel": "prev", "type": GEOJSON, "title": "Trang trước"})
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if _wants_html(request, f):
            rows = [{k: json_value(v) for k, v in c.frame.iloc[int(i)].items()}
                    for i in page_positions]
            nav = "".join(html.link(link["href"], link["title"]) for link in links
                          if link["rel"] in ("prev", "next"))
            body = (html.paragraph(f"{returned} / {matched} đối tượng (features)")
                    + f'<nav class="pages">{nav}</nav>'
                    + html.table(rows, list(c.frame.columns)))
            return HTMLResponse(html.page(c.info.title_vi, body, crumbs=[
                ("Trang chủ", "/"), ("Collections", "/collections?f=html"),
                (c.name, f"/collections/{c.name}?f=html")]))
        head = (
            b'{"type":"FeatureCollection","numberMatched":' + str(matched).encode()
            + b',"numberReturned":' + str(returned).encode()
            + b',"timeStamp":"' + stamp.encode() + b'","links":' + _dumps(links)
            + b',"features":['
        )
        body = head + b",".join(c.features[int(i)] for i in page_positions) + b"]}"
        return Response(body, media_type=GEOJSON)

    @app.get(
        "/collections/{collection_id}/items/{feature_id}", operation_id="getFeature",
        tags=["Data"], summary="One feature; a cluster carries its figures",
        responses={200: {"content": {GEOJSON: {}, "text/html": {}}}, **ERRORS},
    )
    def item(
        request: Request, collection_id: CollectionId,
        feature_id: Annotated[str, Path(description="The feature's id, e.g. TB-05")],
        f: FormatQuery = None,
    ) -> Response:
        c = collection_or_404(collection_id)
        position = c.position_of(feature_id)
        if position is None:
            raise StarletteHTTPException(404, f"no feature {feature_id!r} in {c.name}")
        feature = orjson.loads(c.features[position])
        if c.name == "clusters":
            feature["properties"]["figures"] = cluster_figures[feature_id]
            if landuse_by_cluster:
                feature["properties"]["landuse"] = landuse_by_cluster.get(feature_id, [])
        path = f"/collections/{c.name}/items/{feature_id}"
        feature["links"] = [
            {"href": _url(request, path), "rel": "self", "type": GEOJSON},
            {"href": _url(request, path, HTML), "rel": "alternate", "type": "text/html"},
            {"href": _url(request, f"/collections/{c.name}"), "rel": "collection",
             "type": "application/json"},
        ]
        if _wants_html(request, f):
            return HTMLResponse(html.page(f"{c.info.title_vi} {feature_id}",
                                          html.properties(feature["properties"]), crumbs=[
                ("Trang chủ", "/"), ("Collections", "/collections?f=html"),
                (c.name, f"/collections/{c.name}/items?f=html")]))
        return Response(_dumps(feature), media_type=GEOJSON)

    # --------------------------------------------------------------- downloads
    @app.get(
        "/collections/{collection_id}/download", operation_id="downloadLayer",
        tags=["Downloads"], summary="The layer as a file, whole or filtered",
        description="Filters as on /items (bbox, datetime, fields). GeoJSON and KML are "
        "always WGS84; GeoPackage, Shapefile and CSV in WGS84 or the province's VN-2000 "
        "plane system.",
        responses={200: {"content": {i.media_type: {} for i in FORMATS.values()}}, **ERRORS},
    )
    async def download(
        request: Request, collection_id: CollectionId,
        format: Annotated[ExportFormat, Query(description="geojson, gpkg, shp, kml or csv")],
        crs: Annotated[str, Query(description="EPSG:4326 or the VN-2000 area CRS")] = (
            "EPSG:4326"),
        bbox: BboxQuery = None,
        datetime: Annotated[str | None, Query(description="RFC 3339 date or interval")] = None,
    ) -> Response:
        c = collection_or_404(collection_id)
        params = dict(request.query_params)
        check_crs_params({"bbox-crs": params["bbox-crs"]} if "bbox-crs" in params else {})
        box, interval = parse_bbox(bbox), parse_datetime(datetime)
        filters = split_filters(params, c.frame.columns, parameters=DOWNLOAD_PARAMETERS)
        if crs not in ("EPSG:4326", dataset.settings.area_crs):
            raise BadRequest(f"crs={crs!r}: use EPSG:4326 (WGS84) or "
                             f"{dataset.settings.area_crs} (VN-2000)")
        positions = await run_in_threadpool(
            lambda: select(c, bbox=box, interval=interval, filters=filters))
        filename = export_filename(c.name, format, basename=basename)
        # the slot is held until the file has been sent (or the client left): see _Guarded
        slot = await limiters["downloads"].acquire()
        folder: FilePath | None = None
        try:
            if format is ExportFormat.GEOJSON and crs == "EPSG:4326":
                # the features' RFC 7946 bytes are ready: stream them in chunks, no file
                return _streamed_geojson(request, c, positions, filename, slot.release)
            folder = folders.new()
            written = folder

            def write() -> ExportFile:
                frame = layer_view(dataset, c.name).iloc[positions]
                try:
                    return write_export(frame, written, layer=c.name, fmt=format, crs=crs,
                                        basename=basename)
                except ValueError as err:  # e.g. KML of a table without geometry
                    raise BadRequest(str(err)) from err

            export = await run_in_threadpool(write)
            return _file_attachment(request, export, folder, slot.release)
        except BaseException:
            slot.release()
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            raise

    # ----------------------------------------------------------------- figures
    @app.get("/stats", operation_id="getStats", tags=["Figures"],
             summary="The figures of `ccn-gis stats --json`", responses=ERRORS)
    async def stats(
        as_of: Annotated[str | None, Query(
            pattern=r"^\d{4}-\d{2}-\d{2}$", json_schema_extra={"format": "date"},
            description="count what was decided, leased or registered by this day (YYYY-MM-DD)",
        )] = None,
        by: Annotated[Literal["province", "admin", "cluster"], Query(
            description="one object for the province, or a list per unit or cluster")] = (
            "province"),
    ) -> Any:
        try:
            day = dt.date.fromisoformat(as_of) if as_of else None
        except ValueError as err:
            raise BadRequest(f"as_of={as_of!r} is not a date; write YYYY-MM-DD") from err
        # the layers never change while the app runs: an answer is computed once (at most
        # so many at once) and kept in a cache bounded in count and bytes
        body = await stats_bodies.get(
            (day, by), lambda: _dumps(figures_json(dataset, as_of=day, by=by)),
            limiter=limiters["computations"])
        return Response(body, media_type="application/json")

    # -------------------------------------------------------------------- docs
    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        """Swagger UI, its title escaped (FastAPI's page pastes ``app.title`` raw)."""
        return swagger_page(html.text(app.title) + " — Swagger UI",
                            request.scope.get("root_path", "") + "/openapi.json")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            app.openapi_schema = downgrade_to_openapi_30(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def swagger_page(title: str, openapi_url: str) -> HTMLResponse:
    """FastAPI's Swagger UI page with its own Content-Security-Policy.

    ``title`` must be escaped already. The page loads Swagger UI from its CDN (as
    FastAPI's default page does: without internet ``/docs`` is blank, the API works); its
    one inline script is allowed by its hash, nothing else inline runs.
    """
    page = get_swagger_ui_html(openapi_url=openapi_url, title=title,
                               swagger_ui_parameters={"validatorUrl": None})
    text = bytes(page.body).decode()
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", text, re.DOTALL))
    page.headers["Content-Security-Policy"] = "; ".join([
        "default-src 'self'",
        f"script-src 'self' {SWAGGER_CDN} {hashes}",
        f"style-src 'self' {SWAGGER_CDN} 'unsafe-inline'",  # Swagger UI styles inline
        "img-src 'self' data: https://fastapi.tiangolo.com",  # its favicon
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ])
    return page


SWAGGER_CDN = "https://cdn.jsdelivr.net"
STREAM_CHUNK = 2_000  # features per chunk of a streamed download


class _Guarded(StreamingResponse):
    """A streamed answer that lets go of what it holds (a download slot, a folder) once.

    ``on_close`` runs when the body has been sent, when the client left half-way (the
    server then stops the stream: with ASGI 2.4 by an error, before 2.4 by cancelling it;
    either way a background task would not run), when sending fails, or — should the
    answer never be sent — when it is garbage-collected.
    """

    def __init__(self, content: Iterator[bytes], *, on_close: Callable[[], None],
                 **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._content = content
        self._on_close = _once(on_close)
        weakref.finalize(self, self._on_close)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            close = getattr(self._content, "close", None)
            if close is not None:
                try:
                    close()  # a generator reading a file closes the file now
                except ValueError:  # still running in a thread: it ends by itself
                    pass
            self._on_close()


def _once(action: Callable[[], None]) -> Callable[[], None]:
    """``action``, run by the first call only (from any thread)."""
    lock = threading.Lock()
    done = False

    def run() -> None:
        nonlocal done
        with lock:
            if done:
                return
            done = True
        action()

    return run


def _streamed_geojson(
    request: Request, collection: ServedCollection, positions: Any, filename: str,
    on_close: Callable[[], None],
) -> StreamingResponse:
    """A GeoJSON download streamed chunk by chunk (gzip on request): memory stays flat.

    ``on_close`` runs once the stream has ended, however it ended.
    """
    compress = "gzip" in request.headers.get("accept-encoding", "")

    def chunks() -> Iterator[bytes]:
        yield b'{"type":"FeatureCollection","name":' + _dumps(collection.name) + b',"features":['
        for start in range(0, len(positions), STREAM_CHUNK):
            part = positions[start:start + STREAM_CHUNK]
            yield (b"," if start else b"") + b",".join(
                collection.features[int(i)] for i in part)
        yield b"]}"

    def gzipped() -> Iterator[bytes]:
        packer = zlib.compressobj(5, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
        for chunk in chunks():
            yield packer.compress(chunk)
        yield packer.flush()

    headers = {"Content-Disposition": f'attachment; filename="{filename}"',
               "Vary": "Accept-Encoding"}
    if compress:
        headers["Content-Encoding"] = "gzip"
    return _Guarded(gzipped() if compress else chunks(), on_close=on_close,
                    media_type="application/geo+json", headers=headers)


FILE_CHUNK = 1 << 20  # bytes read at a time from a written download


def _file_attachment(request: Request, export: ExportFile, folder: FilePath,
                     on_close: Callable[[], None]) -> StreamingResponse:
    """A written download streamed from disk (gzip on request), its folder removed after.

    The file is never read into memory whole: a GeoPackage of 500,000 parcels would
    otherwise add its size, and again its compressed size, to the server's memory. The
    folder is removed and ``on_close`` runs once the stream has ended, however it ended.
    """
    compress = ("gzip" in request.headers.get("accept-encoding", "")
                and export.path.stat().st_size > 1024)

    def chunks() -> Iterator[bytes]:
        packer = zlib.compressobj(5, zlib.DEFLATED, 31) if compress else None
        with export.path.open("rb") as file:
            while chunk := file.read(FILE_CHUNK):
                yield packer.compress(chunk) if packer else chunk
        if packer:
            yield packer.flush()

    def closed() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        on_close()

    headers = {"Content-Disposition": f'attachment; filename="{export.filename}"',
               "Vary": "Accept-Encoding"}
    if compress:
        headers["Content-Encoding"] = "gzip"
    else:
        headers["Content-Length"] = str(export.path.stat().st_size)
    return _Guarded(chunks(), on_close=closed, media_type=export.media_type, headers=headers)


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
