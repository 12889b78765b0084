"""``GET /collections/{id}/download``: a layer as a file (GeoJSON, GeoPackage, Shapefile,
KML, CSV), whole or filtered, in WGS84 or the province's VN-2000 plane system.

At most so many downloads run at once (the ``downloads`` limiter); a slot is held until
the file has been sent or the client has left. WGS84 GeoJSON is streamed from the
features' prebuilt bytes; every other file is written in the process's download folder
and streamed from disk, then removed.
"""

from __future__ import annotations

import shutil
import threading
import weakref
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from ccn_gis.io.export import FORMATS, ExportFile, ExportFormat, export_filename, write_export
from ccn_gis.publish import layer_view
from ccn_gis_api.auth import reader
from ccn_gis_api.catalog import ServedCollection
from ccn_gis_api.dependencies import (
    ERRORS,
    BboxQuery,
    Collection,
    Current,
    DownloadFilters,
    Served,
    dumps,
)
from ccn_gis_api.query import BadRequest, parse_bbox, parse_datetime, select

router = APIRouter(tags=["Downloads"], dependencies=[Depends(reader)])  # CCN_GIS_PUBLIC_READ

STREAM_CHUNK = 2_000  # features per chunk of a streamed download
FILE_CHUNK = 1 << 20  # bytes read at a time from a written download


@router.get(
    "/collections/{collection_id}/download", operation_id="downloadLayer",
    summary="The layer as a file, whole or filtered",
    description="Filters as on /items (bbox, datetime, fields). GeoJSON and KML are "
    "always WGS84; GeoPackage, Shapefile and CSV in WGS84 or the province's VN-2000 "
    "plane system.",
    response_class=Response,
    responses={200: {"content": {i.media_type: {} for i in FORMATS.values()}}, **ERRORS},
)
async def download(
    request: Request, current: Current, served: Served, c: Collection,
    filters: DownloadFilters,
    format: Annotated[ExportFormat, Query(description="geojson, gpkg, shp, kml or csv")],
    crs: Annotated[str, Query(description="EPSG:4326 or the VN-2000 area CRS")] = (
        "EPSG:4326"),
    bbox: BboxQuery = None,
    datetime: Annotated[str | None, Query(description="RFC 3339 date or interval")] = None,
) -> Response:
    """The features that match the filters, as a file to save."""
    dataset = current.dataset
    box, interval = parse_bbox(bbox), parse_datetime(datetime)
    area_crs = dataset.settings.area_crs
    if crs not in ("EPSG:4326", area_crs):
        raise BadRequest(f"crs={crs!r}: use EPSG:4326 (WGS84) or {area_crs} (VN-2000)")
    positions = await run_in_threadpool(
        lambda: select(c, bbox=box, interval=interval, filters=filters))
    basename = served.basename
    filename = export_filename(c.name, format, basename=basename)
    # the slot is held until the file has been sent (or the client left): see _Guarded
    slot = await served.limiters["downloads"].acquire()
    folder: FilePath | None = None
    try:
        if format is ExportFormat.GEOJSON and crs == "EPSG:4326":
            # the features' RFC 7946 bytes are ready: stream them in chunks, no file
            return _streamed_geojson(request, c, positions, filename, slot.release)
        folder = served.folders.new()
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
        yield b'{"type":"FeatureCollection","name":' + dumps(collection.name) + b',"features":['
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
