"""What the routes share: the snapshot served, the collection asked for, the common query
parameters (format, bbox, datetime, field filters), links, and the error responses.

Each is a FastAPI dependency or an ``Annotated`` type, so a route states what it needs
in its signature and the OpenAPI document describes every parameter once. Within one
request the snapshot is taken once (FastAPI keeps a dependency's value per request):
every part of an answer comes from the same revision of the layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import orjson
from fastapi import Depends, Path, Query, Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccn_gis.language import Lang
from ccn_gis_api.catalog import ServedCollection
from ccn_gis_api.models import Problem
from ccn_gis_api.query import (
    DOWNLOAD_PARAMETERS,
    Bounds,
    check_crs_params,
    parse_bbox,
    parse_datetime,
    split_filters,
)
from ccn_gis_api.scenario_models import LangQuery
from ccn_gis_api.service import Service, Snapshot

GEOJSON = "application/geo+json"
HTML = {"f": "html"}
HTML_TOO: dict[int | str, dict[str, Any]] = {200: {"content": {"text/html": {}}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "A parameter is malformed; the message says why"},
    404: {"model": Problem, "description": "No such collection or feature"},
}
HOME = ("Trang chủ", "/")
COLLECTIONS_CRUMB = ("Collections", "/collections?f=html")

Format = Literal["json", "html", "geojson"]
FormatQuery = Annotated[
    Format | None, Query(description="json (default; geojson is the same) or html")]
CollectionId = Annotated[str, Path(description="A layer name, e.g. clusters or parcels")]
_NUMBER = r"\s*-?\d+(\.\d*)?\s*"
BboxQuery = Annotated[str | None, Query(
    pattern=rf"^{_NUMBER}(,{_NUMBER}){{3}}(,{_NUMBER},{_NUMBER})?$",
    description="west,south,east,north in WGS84 degrees (or six numbers with heights)")]


def service(request: Request) -> Service:
    """The app's :class:`~ccn_gis_api.service.Service`."""
    return request.app.state.service  # type: ignore[no-any-return]


Served = Annotated[Service, Depends(service)]


async def snapshot(served: Served) -> Snapshot:
    """The snapshot this request is answered from (the latest revision read)."""
    return served.snapshot()


Current = Annotated[Snapshot, Depends(snapshot)]


async def collection(collection_id: CollectionId, current: Current) -> ServedCollection:
    """The collection named in the path; 404 naming the others when there is none."""
    found = current.catalog.collections.get(collection_id)
    if found is None:
        raise StarletteHTTPException(
            404, f"no collection {collection_id!r}; collections: "
            f"{', '.join(current.catalog.collections)}")
    return found


Collection = Annotated[ServedCollection, Depends(collection)]


async def bbox(bbox: BboxQuery = None) -> Bounds | None:
    """The ``bbox`` parameter, parsed (400 when malformed)."""
    return parse_bbox(bbox)


async def interval(datetime: Annotated[str | None, Query(
        description="RFC 3339 date or interval (`2015-01-01/2020-12-31`, `..` open)")] = None,
) -> Any:
    """The ``datetime`` parameter as an interval of days (400 when malformed)."""
    return parse_datetime(datetime)


Box = Annotated[Bounds | None, Depends(bbox)]
Interval = Annotated[Any, Depends(interval)]


async def item_filters(request: Request, c: Collection) -> dict[str, str]:
    """The equality filters on fields of an ``/items`` request (every other parameter);
    400 for a ``crs`` or ``bbox-crs`` other than CRS84."""
    params = dict(request.query_params)
    check_crs_params(params)
    return split_filters(params, c.frame.columns)


async def download_filters(request: Request, c: Collection) -> dict[str, str]:
    """The equality filters on fields of a download (``format`` and ``crs`` are its own);
    400 for a ``bbox-crs`` other than CRS84."""
    params = dict(request.query_params)
    check_crs_params({"bbox-crs": params["bbox-crs"]} if "bbox-crs" in params else {})
    return split_filters(params, c.frame.columns, parameters=DOWNLOAD_PARAMETERS)


ItemFilters = Annotated[dict[str, str], Depends(item_filters)]
DownloadFilters = Annotated[dict[str, str], Depends(download_filters)]


async def language(current: Current, lang: LangQuery = None) -> Lang:
    """The language asked for, else the province's."""
    return lang or current.dataset.settings.lang


Language = Annotated[Lang, Depends(language)]


def wants_html(request: Request, f: str | None) -> bool:
    """Whether to answer in HTML: ``f=html``, or a browser's ``Accept`` without ``f``."""
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept


def url(request: Request, path: str, params: Mapping[str, Any] | None = None) -> str:
    """The absolute URL of ``path`` with query ``params`` (those not None).

    The parameters are a mapping, not keywords: a layer's field may be named ``path``.
    """
    base = str(request.base_url).rstrip("/")
    query = urlencode({k: v for k, v in (params or {}).items() if v is not None})
    return f"{base}{path}{'?' + query if query else ''}"


def dumps(value: Any) -> bytes:
    """``value`` as JSON bytes (numpy scalars and arrays too)."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
