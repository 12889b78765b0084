"""Curved geometries in WKB: which features are stored with curve types, and which hold arcs.

QGIS and ArcGIS store ``CURVEPOLYGON``, ``MULTISURFACE`` and ``COMPOUNDCURVE`` in
GeoPackages. GEOS (and so shapely) cannot decode them; GDAL turns them into straight
segments (``OGR_G_GetLinearGeometry``, the conversion ``ogr2ogr -nlt CONVERT_TO_LINEAR``
makes). A curve type holding only straight pieces converts exactly; only circular arcs
(``CIRCULARSTRING`` parts) change, slightly, and are worth a warning.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Sequence

import numpy as np

_LINEAR_TYPES = frozenset({1, 2, 3, 4, 5, 6})
"""Point, LineString, Polygon and their Multi types: what shapely always decodes.
A GeometryCollection (7) may hold curves, so it is looked into too."""
_POINT, _CIRCULAR_STRING = 1, 8
_POINT_LISTS = frozenset({2, 8})  # LineString, CircularString
_RING_LISTS = frozenset({3, 17})  # Polygon, Triangle
_COLLECTIONS = frozenset({4, 5, 6, 7, 9, 10, 11, 12, 15, 16})


def _type_code(wkb: bytes, pos: int) -> tuple[str, int, int, int]:
    """Byte order, base type, coordinate size and position after the type, at ``pos``."""
    order = "<" if wkb[pos] == 1 else ">"
    (code,) = struct.unpack_from(order + "I", wkb, pos + 1)
    pos += 5
    dims = 2
    if code & 0x20000000:  # EWKB with an SRID
        pos += 4
    if code & 0x80000000 or code & 0x40000000:  # EWKB Z, M
        dims += bool(code & 0x80000000) + bool(code & 0x40000000)
    code &= 0x0FFFFFFF
    dims += {1: 1, 2: 1, 3: 2}.get(code // 1000, 0)  # ISO Z, M, ZM
    return order, code % 1000, 8 * dims, pos


def curve_positions(wkbs: Iterable[bytes | None]) -> np.ndarray:
    """Return the positions of the WKB geometries that shapely cannot decode as they are.

    Those are the curve types (``CURVEPOLYGON``, ``MULTISURFACE``, …) and the
    geometry collections, which may hold curves. Only each geometry's first five bytes
    (byte order, type) are looked at.
    """
    heads = np.frombuffer(b"".join(
        wkb[:5] if wkb is not None and len(wkb) >= 5 else _A_POINT for wkb in wkbs
    ), dtype=np.uint8).reshape(-1, 5).astype(np.uint32)
    little = heads[:, 1] | heads[:, 2] << 8 | heads[:, 3] << 16 | heads[:, 4] << 24
    big = heads[:, 4] | heads[:, 3] << 8 | heads[:, 2] << 16 | heads[:, 1] << 24
    code = np.where(heads[:, 0] == 1, little, big) & 0x0FFFFFFF
    return np.flatnonzero(~np.isin(code % 1000, list(_LINEAR_TYPES)))


_A_POINT = b"\x01\x01\x00\x00\x00"  # stands for missing geometries: never curved
_ARC_HEADERS = re.compile(b"|".join(
    re.escape(struct.pack(order + "I", code)) for order in "<>"
    for code in (8, 1008, 2008, 3008, 8 | 0x80000000, 8 | 0x40000000, 8 | 0xC0000000)
))
"""The type bytes of every kind of CIRCULARSTRING: a geometry without any holds no arc."""


def arc_positions(wkbs: Sequence[bytes]) -> list[int]:
    """Return the positions of the WKB geometries that hold circular arcs.

    Raises
    ------
    ValueError
        When one of them is not well-formed WKB.
    """
    if not _ARC_HEADERS.search(b"".join(wkbs)):  # a MULTISURFACE layer of straight lines
        return []
    return [i for i, wkb in enumerate(wkbs) if has_arcs(wkb)]


def has_arcs(wkb: bytes) -> bool:
    """Whether the WKB geometry holds a circular arc anywhere.

    Raises
    ------
    ValueError
        When ``wkb`` is not well-formed WKB.
    """
    if not _ARC_HEADERS.search(wkb):
        return False
    try:
        arcs, end = _walk(wkb, 0)
    except (struct.error, IndexError, KeyError) as err:
        raise ValueError(f"malformed WKB ({err})") from err
    if end > len(wkb):
        raise ValueError(f"malformed WKB ({len(wkb)} bytes, its points need {end})")
    return arcs


def _walk(wkb: bytes, pos: int) -> tuple[bool, int]:
    order, base, size, pos = _type_code(wkb, pos)
    if base == _POINT:
        return False, pos + size
    (count,) = struct.unpack_from(order + "I", wkb, pos)
    pos += 4
    if base in _POINT_LISTS:
        return base == _CIRCULAR_STRING and count > 0, pos + count * size
    if base in _RING_LISTS:
        for _ in range(count):
            (points,) = struct.unpack_from(order + "I", wkb, pos)
            pos += 4 + points * size
        return False, pos
    if base not in _COLLECTIONS:
        raise KeyError(f"geometry type {base}")
    arcs = False
    for _ in range(count):
        part, pos = _walk(wkb, pos)
        arcs = arcs or part
    return arcs, pos


def gpkg_wkb(blob: bytes) -> bytes:
    """The WKB inside a GeoPackage geometry blob (its ``GP`` header and envelope removed)."""
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get((blob[3] >> 1) & 0b111, 0)
    return blob[8 + envelope:]
