"""Cache validators: every GET answer carries an ETag, and a matching If-None-Match gets 304.

The app serves layers that do not change while it runs, so an answer depends only on the
data's version, the URL and the headers it negotiates on (Accept, Accept-Encoding): the
tag is a hash of those, known before the answer is computed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ETagMiddleware:
    """Add ``ETag`` to successful GET answers; answer ``304`` to a matching ``If-None-Match``.

    Parameters
    ----------
    app
        The ASGI app.
    version
        Identifies the data the app serves (for example the file's size and mtime).
    """

    def __init__(self, app: ASGIApp, *, version: str) -> None:
        self.app = app
        self.version = version

    def _tag(self, scope: Scope) -> str:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        key = "\n".join([self.version, scope.get("path", ""),
                         scope.get("query_string", b"").decode("latin-1"),
                         headers.get("accept", ""), headers.get("accept-encoding", "")])
        return f'W/"{hashlib.blake2b(key.encode(), digest_size=12).hexdigest()}"'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        tag = self._tag(scope)
        for name, value in scope.get("headers", []):
            if name.lower() == b"if-none-match" and tag in value.decode("latin-1"):
                await send({"type": "http.response.start", "status": 304,
                            "headers": [(b"etag", tag.encode())]})
                await send({"type": "http.response.body", "body": b""})
                return

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"etag" for name, _ in headers):  # static files
                    headers.append((b"etag", tag.encode()))           # carry their own
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, tagged)
