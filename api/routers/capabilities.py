"""The landing page (the web map for a browser), conformance and the API's documentation."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from ccn_gis.texts import text
from ccn_gis_api import html
from ccn_gis_api.dependencies import (
    ERRORS,
    HOME,
    HTML,
    HTML_TOO,
    Current,
    FormatQuery,
    Served,
    url,
    wants_html,
)
from ccn_gis_api.middleware import MAP_SCRIPTS, content_security_policy
from ccn_gis_api.models import Conformance, Landing

router = APIRouter()

OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
]
MAP_POLICY = {"Content-Security-Policy": content_security_policy(scripts=MAP_SCRIPTS)}
SWAGGER_CDN = "https://cdn.jsdelivr.net"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each ``{{name}}`` replaced by ``values[name]``, HTML-escaped
    (in one pass: a value that contains ``{{…}}`` stays as it is).

    Examples
    --------
    >>> fill("<h1>{{title}}</h1>", {"title": "Cụm <A & B>"})
    '<h1>Cụm &lt;A &amp; B&gt;</h1>'
    """
    return _PLACEHOLDER.sub(lambda m: html.text(values[m.group(1)]), template)


def map_page(request: Request, current: Current) -> str:
    """The web map's page for the province of ``current``."""
    province = current.province
    template: str = request.app.state.map_template
    return fill(template, {
        "title": text("title", "vi", province=province), "province": province,
        "tiles_above": str(request.app.state.service.settings.map_tiles_above)})


@router.get("/", response_model=Landing, response_model_exclude_none=True,
            operation_id="getLandingPage", tags=["Capabilities"],
            summary="Landing page", responses={**HTML_TOO, **ERRORS})
def landing(request: Request, current: Current, f: FormatQuery = None) -> Any:
    """The web map for a browser; else the links to everything the API serves."""
    if f is None and wants_html(request, None):
        return HTMLResponse(map_page(request, current), headers=MAP_POLICY)
    app = request.app
    body = {
        "title": app.title,
        "description": app.description,
        "links": [
            {"href": url(request, "/"), "rel": "self", "type": "application/json",
             "title": "Trang này (this document)"},
            {"href": url(request, "/", HTML), "rel": "alternate", "type": "text/html",
             "title": "Trang này dạng HTML"},
            {"href": url(request, "/"), "rel": "alternate", "type": "text/html",
             "title": "Bản đồ cụm công nghiệp (web map, opened by browsers)"},
            {"href": url(request, "/openapi.json"), "rel": "service-desc",
             "type": OPENAPI_JSON, "title": "OpenAPI 3.0"},
            {"href": url(request, "/docs"), "rel": "service-doc", "type": "text/html",
             "title": "Tài liệu API (API documentation)"},
            {"href": url(request, "/conformance"), "rel": "conformance",
             "type": "application/json", "title": "Conformance classes"},
            {"href": url(request, "/collections"), "rel": "data",
             "type": "application/json", "title": "Các lớp dữ liệu (collections)"},
            {"href": url(request, "/stats"), "rel": "describedby",
             "type": "application/json", "title": "Số liệu tổng hợp (figures)"},
        ],
    }
    if wants_html(request, f):
        return HTMLResponse(html.page(app.title, html.paragraph(app.description)
                                      + html.links(body["links"]), crumbs=[HOME]))
    return body


@router.get("/conformance", response_model=Conformance, operation_id="getConformance",
            tags=["Capabilities"], summary="Conformance classes",
            responses={**HTML_TOO, **ERRORS})
def conformance(request: Request, f: FormatQuery = None) -> Any:
    """The OGC API conformance classes the API implements."""
    if wants_html(request, f):
        return HTMLResponse(html.page("Conformance", html.bullets(CONFORMANCE), crumbs=[HOME]))
    return {"conformsTo": CONFORMANCE}


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI, its title escaped (FastAPI's page pastes ``app.title`` raw)."""
    return swagger_page(html.text(request.app.title) + " — Swagger UI",
                        request.scope.get("root_path", "") + "/openapi.json")


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


@router.get("/health", operation_id="getHealth", tags=["Capabilities"],
            summary="Whether the file as it is now is served, and why not")
async def health(served: Served) -> Any:
    """``ok`` when the file's latest revision is served; ``stale`` when a newer one breaks
    the data model (its ``problems``: layer, feature, field), and the last good one is
    still served."""
    current = served.snapshot()
    problems = served.refused_problems
    return {
        "status": "stale" if problems else "ok",
        "revision": current.revision,
        "problems": [{"layer": p.layer, "feature": p.feature, "field": p.field,
                      "message": p.message, "hint": p.hint} for p in problems],
    }
