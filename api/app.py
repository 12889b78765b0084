"""The web API: OGC API – Features over the province's layers, downloads and figures.

``create_app(settings)`` only wires: a :class:`~ccn_gis_api.service.Service` (the layers
read and checked, revision after revision), the middleware, the static files and one
router per concern (:mod:`ccn_gis_api.routers`). Heavy work is bounded
(:mod:`ccn_gis_api.limits`, numbers in ``app.state.limits``); every answer carries
security headers and an ETag keyed by the revision served, HEAD and OPTIONS work on every
GET route (:mod:`ccn_gis_api.middleware`), and an unexpected error is a 500 problem
(:mod:`ccn_gis_api.errors`).
"""

from __future__ import annotations

import time
from importlib import resources
from typing import Any

import xstatic.pkg.leaflet
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from ccn_gis.settings import AppSettings
from ccn_gis.texts import text
from ccn_gis_api import html
from ccn_gis_api.errors import install_error_handlers
from ccn_gis_api.limits import Limits
from ccn_gis_api.middleware import (
    ETagMiddleware,
    MethodsMiddleware,
    SecurityHeadersMiddleware,
    served_routes,
)
from ccn_gis_api.middleware import content_security_policy as policy
from ccn_gis_api.openapi import downgrade_to_openapi_30
from ccn_gis_api.routers import (
    capabilities,
    downloads,
    edits,
    features,
    landuse,
    scenarios,
    stats,
    texts,
    tiles,
)
from ccn_gis_api.service import Service, Snapshot


def create_app(settings: AppSettings | None = None, limits: Limits | None = None) -> FastAPI:
    """Return the web API serving the layers named by ``settings``.

    ``limits`` bound the heavy work (default: :class:`~ccn_gis_api.limits.Limits` read
    from the ``CCN_GIS_*`` environment now). The app keeps its
    :class:`~ccn_gis_api.service.Service` on ``app.state.service``, and for convenience
    ``limits``, ``limiters``, ``download_folders`` and the served revision's ``catalog``
    and ``caches``.

    Raises
    ------
    ValidationError, DataSourceError
        When the layers cannot be served; the message lists every problem.

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> client = TestClient(create_app(AppSettings(layers="layers/thai_binh.gpkg")))
    >>> client.get("/collections").status_code
    200
    """
    settings = settings or AppSettings()
    service = Service(settings, limits or Limits())
    first = service.snapshot()
    province = first.province
    app = FastAPI(
        title=f"ccn-gis — {text('title', 'vi', province=province)}",
        description="OGC API – Features over the industrial clusters (cụm công nghiệp) of "
        f"{province}: clusters, approved extents, parcels, projects, downloads and figures.",
        version="0.1.0",
        docs_url=None,  # its page pastes the title raw: see capabilities.docs
        redoc_url=None,
    )
    static = resources.files("ccn_gis_api") / "static"
    app.state.service = service
    app.state.limits, app.state.limiters = service.limits, service.limiters
    app.state.download_folders = service.folders
    app.state.map_template = (static / "map.html").read_text(encoding="utf-8")

    def serving(snapshot: Snapshot) -> None:
        app.state.catalog, app.state.caches = snapshot.catalog, snapshot.caches

    serving(first)
    service.on_swap(serving)

    install_error_handlers(app)  # its last-resort middleware is the innermost
    started = time.time_ns()  # scenario files and settings are read at start too
    app.add_middleware(ETagMiddleware,
                       version=lambda: f"{service.snapshot().revision}-{service.refused}-"
                       f"{started}")  # /health says when a revision is refused
    app.add_middleware(MethodsMiddleware, routes=lambda: served_routes(app.routes))
    app.add_middleware(SecurityHeadersMiddleware, policy=policy(styles=html.STYLE_HASH))
    app.mount("/static/leaflet", StaticFiles(directory=xstatic.pkg.leaflet.BASE_DIR),
              name="leaflet")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    for router in (landuse, tiles, texts, scenarios, capabilities, features, edits, downloads,
                   stats):
        app.include_router(router.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            app.openapi_schema = downgrade_to_openapi_30(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
