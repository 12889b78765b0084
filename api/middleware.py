"""HTTP plumbing as ASGI middleware: cache validators, HEAD and OPTIONS, security headers.

- :class:`ETagMiddleware`: every GET answer carries an ETag, and a matching
  If-None-Match gets 304. An answer depends only on the revision of the layers served
  (:mod:`ccn_gis_api.service`: a new revision, new tags), the URL (with the Host it was
  asked on: links are absolute) and the headers it negotiates on (Accept,
  Accept-Encoding): the tag is a hash of those, known before the answer is computed.
  The same middleware sets ``Cache-Control`` and ``Vary`` (:func:`cache_policy`), so that
  a 304 carries what the 200 would.
- :class:`MethodsMiddleware`: HEAD is a GET without its body; OPTIONS answers 204 with
  the methods of the path in ``Allow``.
- :class:`SecurityHeadersMiddleware`: ``nosniff``, no framing, same-origin referrers and
  a Content-Security-Policy on every answer.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from typing import Any

from starlette.routing import BaseRoute, Match, Mount

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

TILE_PATH = re.compile(r"/landuse/tiles/\d+/\d+/\d+\.png$")
"""The paths of the land-use raster's tiles (after a root path, if any)."""
TILE_CACHE = "public, max-age=3600"
"""Land-use tiles may be kept an hour without asking: a map pans over the same tiles
again, and the raster changes only when a new one is put beside the layers. Vector tiles
are revalidated like the rest: the register's features change with every edit."""
REVALIDATE = "no-cache"
"""Everything else is asked again each time, answered by a cheap 304 when unchanged:
a restarted server may serve other data."""
VARY = ("Accept", "Accept-Encoding")
"""What answers are negotiated on (HTML or JSON; gzip or not)."""


def cache_policy(path: str) -> str:
    """The ``Cache-Control`` of a successful GET of ``path`` (and of its 304)."""
    return TILE_CACHE if TILE_PATH.search(path) else REVALIDATE


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1")
            for k, v in scope.get("headers", [])}


def _with_vary(headers: Headers, names: Iterable[str]) -> Headers:
    """``headers`` with one ``Vary`` naming ``names`` and those it named already."""
    named: list[str] = []
    rest = []
    for key, value in headers:
        if key.lower() == b"vary":
            named += [v.strip() for v in value.decode("latin-1").split(",") if v.strip()]
        else:
            rest.append((key, value))
    seen = {n.lower() for n in named}
    named += [n for n in names if n.lower() not in seen]
    return [*rest, (b"vary", ", ".join(named).encode("latin-1"))]


def _set(headers: Headers, name: bytes, value: bytes) -> Headers:
    return [(k, v) for k, v in headers if k.lower() != name] + [(name, value)]


def _matches(if_none_match: str, tag: str) -> bool:
    """Whether an ``If-None-Match`` value names ``tag`` (weak comparison, RFC 9110)."""
    opaque = tag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == opaque
               for candidate in if_none_match.split(","))


class ETagMiddleware:
    """Add ``ETag``, ``Cache-Control`` and ``Vary`` to successful GET answers; answer
    ``304`` to a matching ``If-None-Match``, with the same three headers.

    The tag hashes the data's version, the method-independent request (path, query,
    root path, scheme, ``Host``) and the negotiated headers; tags are weak (``W/``): the
    same tag for answers that mean the same, byte for byte or not.

    Parameters
    ----------
    app
        The ASGI app.
    version
        Identifies the data the app serves now (the store's revision): asked on every
        request, so that a new revision has new tags.
    """

    def __init__(self, app: ASGIApp, *, version: Callable[[], str]) -> None:
        self.app = app
        self.version = version

    def _tag(self, scope: Scope) -> str:
        headers = _headers(scope)
        key = "\n".join([
            self.version(), scope.get("scheme", "http"), headers.get("host", ""),
            scope.get("root_path", ""), scope.get("path", ""),
            scope.get("query_string", b"").decode("latin-1"),
            headers.get("accept", ""), headers.get("accept-encoding", ""),
        ])
        return f'W/"{hashlib.blake2b(key.encode(), digest_size=12).hexdigest()}"'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        tag = self._tag(scope)
        policy = [(b"cache-control", cache_policy(scope.get("path", "")).encode())]
        asked = _headers(scope).get("if-none-match")
        if asked is not None and _matches(asked, tag):
            headers = _with_vary([(b"etag", tag.encode()), *policy], VARY)
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 204,
                                                                                  304):
                headers = list(message.get("headers", []))
                if message["status"] == 200 and not any(
                        name.lower() == b"etag" for name, _ in headers):  # static files
                    headers.append((b"etag", tag.encode()))               # carry their own
                headers = _set(headers, b"cache-control", policy[0][1])
                message["headers"] = _with_vary(headers, VARY)
            await send(message)

        await self.app(scope, receive, tagged)


def served_routes(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """Every route among ``routes``, the routes of included routers too.

    Recent FastAPI versions keep an included router as one entry of ``app.routes``
    (matched as a whole); older ones copy its routes in. Both give the same list here.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before included routers were kept whole
        return list(routes)
    return [context.original_route for context in iter_route_contexts(routes)]


_ORDER = {m: i for i, m in enumerate(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
                                      "OPTIONS"))}


class MethodsMiddleware:
    """HEAD and OPTIONS for every GET route (FastAPI's routes answer them 405).

    HEAD is run as a GET whose body is dropped: the same status and headers
    (``Content-Length`` included), no body. OPTIONS answers ``204`` with ``Allow`` listing
    the methods of the routes that match the path; a path that no route matches goes on
    to the app (404).

    Parameters
    ----------
    app
        The ASGI app.
    routes
        Returns the routes to look through (read at each OPTIONS: routes added later count).
    """

    def __init__(self, app: ASGIApp, *, routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self.app = app
        self.routes = routes

    def allowed(self, scope: Scope) -> list[str]:
        """The methods of the routes whose path matches ``scope``'s (none: no such path)."""
        matched = [r for r in self.routes() if r.matches(scope)[0] is not Match.NONE]
        literal = [r for r in matched if not getattr(r, "param_convertors", None)]
        methods: set[str] = set()
        # a path written out (/scenarios/check) is that resource, not one of a template's
        # (/scenarios/{scenario_id}) that happens to match it too
        for route in literal or matched:
            if isinstance(route, Mount):
                methods |= {"GET", "HEAD"}  # static files
            else:
                methods |= set(getattr(route, "methods", None) or ())
        if not methods:
            return []
        if "GET" in methods:
            methods.add("HEAD")
        return sorted(methods | {"OPTIONS"}, key=lambda m: (_ORDER.get(m, len(_ORDER)), m))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method") if scope["type"] == "http" else None
        if method == "HEAD":
            await self._head(scope, receive, send)
        elif method == "OPTIONS":
            methods = self.allowed(scope)
            if not methods:
                await self.app(scope, receive, send)
                return
            await send({"type": "http.response.start", "status": 204,
                        "headers": [(b"allow", ", ".join(methods).encode())]})
            await send({"type": "http.response.body", "body": b""})
        else:
            await self.app(scope, receive, send)

    async def _head(self, scope: Scope, receive: Receive, send: Send) -> None:
        ended = False

        async def headers_only(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.body":
                if not ended:  # the first piece of the body ends the answer; drop the rest
                    ended = True
                    await send({"type": "http.response.body", "body": b"",
                                "more_body": False})
                return
            await send(message)

        # a new scope: the server keeps its own, and knows the request was a HEAD
        await self.app({**scope, "method": "GET"}, receive, headers_only)


def content_security_policy(*, styles: str = "", scripts: str = "") -> str:
    """The policy of the app's pages: scripts, styles and data only from the app, map
    images also from OpenStreetMap (the optional basemap).

    ``styles`` adds sources of styles (the hash of the OGC API pages' inline stylesheet,
    :data:`ccn_gis_api.html.STYLE_HASH`); ``scripts`` adds sources of scripts (none for
    the web map, see :data:`MAP_SCRIPTS`). No inline script ever runs.
    """
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' {scripts}".strip(),
        f"style-src 'self' {styles}".strip(),
        "img-src 'self' data: https://tile.openstreetmap.org https://*.tile.openstreetmap.org",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


MAP_SCRIPTS = ""
"""The web map's page adds no source of scripts: scripts only from the app, no inline
script, no ``eval`` (neither the map nor its libraries call it, and the browser tests wait
with Playwright's own waits, never with a string the page would have to evaluate)."""


class SecurityHeadersMiddleware:
    """Add ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
    ``Referrer-Policy: same-origin`` and a ``Content-Security-Policy`` to every answer.

    An answer that brings its own ``Content-Security-Policy`` (``/docs``) keeps it.

    Parameters
    ----------
    app
        The ASGI app.
    policy
        The Content-Security-Policy of answers without one.
    """

    def __init__(self, app: ASGIApp, *, policy: str) -> None:
        self.app = app
        self.fixed: Headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
        ]
        self.policy = policy.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in self.fixed if k not in names]
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", self.policy))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, secured)
