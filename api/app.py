"""The web API: OGC API – Features over the province's layers, downloads and figures.

``create_app(settings)`` loads and checks the layers once, prepares every collection
(:mod:`ccn_gis_api.catalog`) and returns the FastAPI application.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
import zlib
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import orjson
import xstatic.pkg.leaflet
from fastapi import FastAPI, Path, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccn_gis.figures import figures_by_cluster, figures_json
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
from ccn_gis_api.etag import ETagMiddleware
from ccn_gis_api.landuse import install_landuse_routes
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
    MAX_LIMIT,
    BadRequest,
    check_crs_params,
    parse_bbox,
    parse_datetime,
    select,
    split_filters,
)
from ccn_gis_api.scenarios import install_scenario_routes, scenarios_dir
from ccn_gis_api.tiles import TILESETS_VECTOR, install_tile_routes

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


def _url(request: Request, path: str, **params: Any) -> str:
    base = str(request.base_url).rstrip("/")
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{base}{path}{'?' + query if query else ''}"


def create_app(settings: AppSettings | None = None) -> FastAPI:
    """Return the web API serving the layers named by ``settings``.

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
    dataset = load_dataset(settings.layers)
    catalog = Catalog.from_dataset(dataset)
    cluster_figures = {f.code: f.to_dict() for f in figures_by_cluster(dataset)}
    province = dataset.settings.province_name or settings.layers.stem
    basename = settings.layers.stem

    app = FastAPI(
        title=f"ccn-gis — Cụm công nghiệp {province}",
        description="OGC API – Features over the industrial clusters (cụm công nghiệp) of "
        f"{province}: clusters, approved extents, parcels, projects, downloads and figures.",
        version="0.1.0",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.catalog = catalog
    install_error_handlers(app)
    stat = settings.layers.stat()
    started = time.time_ns()  # scenario files and settings are read at start too
    app.add_middleware(ETagMiddleware,
                       version=f"{stat.st_size}-{stat.st_mtime_ns}-{started}")
    static = resources.files("ccn_gis_api") / "static"
    app.mount("/static/leaflet", StaticFiles(directory=xstatic.pkg.leaflet.BASE_DIR),
              name="leaflet")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    landuse_by_cluster = install_landuse_routes(app, dataset, open_store(settings.layers))
    install_tile_routes(app, catalog)
    install_scenario_routes(app, dataset, open_store(settings.layers),
                            scenarios_dir(settings.layers))
    map_page = (static / "map.html").read_text(encoding="utf-8")
    map_page = map_page.replace("{{title}}", f"Cụm công nghiệp {province}").replace(
        "{{province}}", province).replace("{{tiles_above}}", str(settings.map_tiles_above))

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
            return HTMLResponse(map_page)
        body = {
            "title": app.title,
            "description": app.description,
            "links": [
                {"href": _url(request, "/"), "rel": "self", "type": "application/json",
                 "title": "Trang này (this document)"},
                {"href": _url(request, "/", f="html"), "rel": "alternate", "type": "text/html",
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
            return HTMLResponse(html.page(app.title, f"<p>{app.description}</p>"
                                          + html.links(body["links"]),
                                          crumbs=[("Trang chủ", "/")]))
        return body

    @app.get("/conformance", response_model=Conformance, operation_id="getConformance",
             tags=["Capabilities"], summary="Conformance classes", responses={**HTML_TOO, **ERRORS})
    def conformance(request: Request, f: FormatQuery = None) -> Any:
        if _wants_html(request, f):
            items = "".join(f"<li>{c}</li>" for c in CONFORMANCE)
            return HTMLResponse(html.page("Conformance", f"<ul>{items}</ul>",
                                          crumbs=[("Trang chủ", "/")]))
        return {"conformsTo": CONFORMANCE}

    # ------------------------------------------------------------- collections
    def collection_info(request: Request, c: ServedCollection) -> dict[str, Any]:
        path = f"/collections/{c.name}"
        links: list[dict[str, Any]] = [
            {"href": _url(request, path), "rel": "self", "type": "application/json",
             "title": c.info.title_vi},
            {"href": _url(request, path, f="html"), "rel": "alternate", "type": "text/html",
             "title": f"{c.info.title_vi} (HTML)"},
            {"href": _url(request, f"{path}/items"), "rel": "items", "type": GEOJSON,
             "title": f"{c.info.title_vi} — GeoJSON"},
            {"href": _url(request, f"{path}/items", f="html"), "rel": "items",
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
                    "href": _url(request, f"{path}/download", format=fmt.value, crs=crs),
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
                f'<p><a href="/collections/{i["id"]}?f=html">{i["title"]}</a></p>' for i in infos)
            crumbs = [("Trang chủ", "/"), ("Collections", "/collections?f=html")]
            return HTMLResponse(html.page("Các lớp dữ liệu", body, crumbs=crumbs))
        return {
            "links": [{"href": _url(request, "/collections"), "rel": "self",
                       "type": "application/json"},
                      {"href": _url(request, "/collections", f="html"), "rel": "alternate",
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
                c.info.title_vi, f"<p>{info['description']}</p>" + html.links(info["links"]),
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
                           filters=split_filters(params))
        page_positions = positions[offset:offset + limit]
        matched, returned = len(positions), len(page_positions)
        path = f"/collections/{c.name}/items"
        keep = {k: v for k, v in params.items() if k not in ("offset", "f")}
        links = [
            {"href": _url(request, path, **keep, offset=offset or None), "rel": "self",
             "type": GEOJSON, "title": "Trang này"},
            {"href": _url(request, path, **keep, offset=offset or None, f="html"),
             "rel": "alternate", "type": "text/html", "title": "Trang này dạng HTML"},
            {"href": _url(request, f"/collections/{c.name}"), "rel": "collection",
             "type": "application/json", "title": c.info.title_vi},
        ]
        if offset + limit < matched:
            links.append({"href": _url(request, path, **keep, offset=offset + limit),
                          "rel": "next", "type": GEOJSON, "title": "Trang sau"})
        if offset > 0:
            previous = max(offset - limit, 0) or None
            links.append({"href": _url(request, path, **keep, offset=previous),
                          "rel": "prev", "type": GEOJSON, "title": "Trang trước"})
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if _wants_html(request, f):
            rows = [{k: json_value(v) for k, v in c.frame.iloc[int(i)].items()}
                    for i in page_positions]
            nav = "".join(f'<a href="{link["href"]}">{link["title"]}</a>' for link in links
                          if link["rel"] in ("prev", "next"))
            body = (f"<p>{returned} / {matched} đối tượng (features)</p>"
                    f'<nav class="pages">{nav}</nav>'
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
            {"href": _url(request, path, f="html"), "rel": "alternate", "type": "text/html"},
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
    def download(
        request: Request, collection_id: CollectionId,
        format: Annotated[ExportFormat, Query(description="geojson, gpkg, shp, kml or csv")],
        crs: Annotated[str, Query(description="EPSG:4326 or the VN-2000 area CRS")] = (
            "EPSG:4326"),
        bbox: BboxQuery = None,
        datetime: Annotated[str | None, Query(description="RFC 3339 date or interval")] = None,
    ) -> Response:
        c = collection_or_404(collection_id)
        params = {k: v for k, v in request.query_params.items() if k not in ("format", "crs")}
        positions = select(c, bbox=parse_bbox(bbox), interval=parse_datetime(datetime),
                           filters=split_filters(params))
        if crs not in ("EPSG:4326", dataset.settings.area_crs):
            raise BadRequest(f"crs={crs!r}: use EPSG:4326 (WGS84) or "
                             f"{dataset.settings.area_crs} (VN-2000)")
        if format is ExportFormat.GEOJSON and crs == "EPSG:4326":
            # the features' RFC 7946 bytes are ready: stream them in chunks, no file to write
            return _streamed_geojson(request, c, positions,
                                     export_filename(c.name, format, basename=basename))
        frame = layer_view(dataset, c.name).iloc[positions]
        folder = FilePath(tempfile.mkdtemp(prefix="ccn-gis-download-"))
        try:
            export = write_export(frame, folder, layer=c.name, fmt=format, crs=crs,
                                  basename=basename)
        except ValueError as err:  # e.g. KML of a table without geometry
            shutil.rmtree(folder, ignore_errors=True)
            raise BadRequest(str(err)) from err
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        del frame
        return _file_attachment(request, export, folder)

    # ----------------------------------------------------------------- figures
    @app.get("/stats", operation_id="getStats", tags=["Figures"],
             summary="The figures of `ccn-gis stats --json`", responses=ERRORS)
    def stats(
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
        return Response(stats_body(day, by), media_type="application/json")

    @lru_cache(maxsize=512)  # the layers never change while the app runs
    def stats_body(day: dt.date | None, by: str) -> bytes:
        return _dumps(figures_json(dataset, as_of=day, by=by))  # type: ignore[arg-type]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            app.openapi_schema = downgrade_to_openapi_30(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


STREAM_CHUNK = 2_000  # features per chunk of a streamed download


def _streamed_geojson(
    request: Request, collection: ServedCollection, positions: Any, filename: str
) -> StreamingResponse:
    """A GeoJSON download streamed chunk by chunk (gzip on request): memory stays flat."""
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
    return StreamingResponse(gzipped() if compress else chunks(),
                             media_type="application/geo+json", headers=headers)


FILE_CHUNK = 1 << 20  # bytes read at a time from a written download


def _file_attachment(request: Request, export: ExportFile, folder: FilePath
                     ) -> StreamingResponse:
    """A written download streamed from disk (gzip on request), its folder removed after.

    The file is never read into memory whole: a GeoPackage of 500,000 parcels would
    otherwise add its size, and again its compressed size, to the server's memory.
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

    headers = {"Content-Disposition": f'attachment; filename="{export.filename}"',
               "Vary": "Accept-Encoding"}
    if compress:
        headers["Content-Encoding"] = "gzip"
    else:
        headers["Content-Length"] = str(export.path.stat().st_size)
    return StreamingResponse(chunks(), media_type=export.media_type, headers=headers,
                             background=BackgroundTask(shutil.rmtree, folder, True))


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
