"""Coordinate systems: VN-2000 with the national 7-parameter shift, areas in hectares.

VN-2000 ↔ WGS84 uses the shift of Decision 05/2007/QĐ-BTNMT (EPSG:6960). PROJ knows
it for every EPSG-coded VN-2000 system, but a ``.prj`` written by some desktop tools
describes VN-2000 without any shift; :func:`resolve_crs` puts the shift back so that
no feature is silently moved by about 220 m. Where PROJ also knows a regional shift (the
Mekong delta blocks), the national one is still the one used (:func:`transformer`).
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as _PyprojCRSError
from pyproj.transformer import TransformerGroup

from ccn_gis.errors import CrsError

WGS84 = CRS.from_epsg(4326)
DEFAULT_AREA_CRS = "EPSG:9209"
"""VN-2000 / TM-3 105-30, the official plane system of Thái Bình."""

VN2000_TOWGS84 = (
    -191.90441429,
    -39.30318279,
    -111.45032835,
    0.00928836,
    -0.01975479,
    0.00427372,
    0.252906278,
)
"""The national shift in PROJ ``+towgs84`` form (rotations with PROJ's sign)."""

_VN2000_DATUM_NAMES = ("vietnam 2000", "vn-2000", "vn2000", "vn_2000", "vietnam_2000")


def resolve_crs(crs: Any) -> CRS:
    """Return a :class:`pyproj.CRS` for ``crs``, giving VN-2000 its national shift.

    Parameters
    ----------
    crs
        Anything pyproj accepts: ``"EPSG:9209"``, an EPSG integer, WKT, a CRS.

    Raises
    ------
    CrsError
        When ``crs`` is empty or unknown.

    Examples
    --------
    >>> resolve_crs("EPSG:9209").name
    'VN-2000 / TM-3 105-30'
    """
    if crs is None or (isinstance(crs, str) and not crs.strip()):
        raise CrsError("no coordinate reference system given")
    try:
        parsed = CRS.from_user_input(crs)
    except _PyprojCRSError as err:
        raise CrsError(f"unknown coordinate reference system {crs!r}: {err}") from err
    return _with_vn2000_shift(parsed)


def _with_vn2000_shift(crs: CRS) -> CRS:
    """Give a VN-2000 CRS that PROJ cannot tie to EPSG:6960 an explicit ``+towgs84``."""
    datum = crs.datum.name.lower() if crs.datum is not None else ""
    if not any(n in datum for n in _VN2000_DATUM_NAMES):
        return crs
    geodetic = crs.geodetic_crs
    if geodetic is not None and geodetic.to_epsg() == 4756:
        return crs  # PROJ's database holds the national shift for EPSG:4756
    if crs.to_epsg(min_confidence=70) is not None:
        return crs
    with warnings.catch_warnings():  # PROJ warns that a PROJ string loses detail: we add it back
        warnings.simplefilter("ignore", UserWarning)
        proj4 = crs.to_proj4() or ""
    if "+towgs84" in proj4:
        return crs
    towgs84 = ",".join(repr(v) for v in VN2000_TOWGS84)
    return CRS.from_proj4(f"{proj4.replace('+type=crs', '').strip()} +towgs84={towgs84}")


NATIONAL_SHIFT = 6960
"""EPSG code of the national VN-2000 → WGS84 shift (Decision 05/2007/QĐ-BTNMT)."""


def _shifts(operation: Any) -> set[int]:
    """The EPSG codes of the datum transformations in a coordinate operation's JSON."""
    found: set[int] = set()
    if isinstance(operation, dict):
        ident = operation.get("id") or {}
        if operation.get("type") == "Transformation" and ident.get("authority") in (
                "EPSG", "INVERSE(EPSG)"):  # the way back is the same shift
            found.add(int(ident["code"]))
        for value in operation.values():
            found |= _shifts(value)
    elif isinstance(operation, list):
        for value in operation:
            found |= _shifts(value)
    return found


@lru_cache(maxsize=64)
def _transformer(src_wkt: str, dst_wkt: str) -> Transformer:
    """The transformer between two systems; between VN-2000 and another datum always
    through the national shift, everywhere in Viet Nam.

    Left to choose, PROJ takes a regional shift (EPSG:5194, the Mekong delta blocks DBSCL
    02 and 03) for points inside its area and the national one elsewhere: features there
    would move by about 0.8 m, and a round trip across the blocks' edge would not return.
    """
    src, dst = CRS.from_wkt(src_wkt), CRS.from_wkt(dst_wkt)
    try:
        candidates = TransformerGroup(src, dst, always_xy=True).transformers
        national = [t for t in candidates if NATIONAL_SHIFT in _shifts(t.to_json_dict())]
        if national and len(national) < len(candidates):
            return national[0]
        return Transformer.from_crs(src, dst, always_xy=True, only_best=True)
    except _PyprojCRSError as err:  # the best operation's grid or parameters are missing
        raise CrsError(f"no accurate transformation between the two systems: {err}") from err


def transformer(src: Any, dst: Any) -> Transformer:
    """Return a cached ``always_xy`` transformer using PROJ's most accurate operation.

    Examples
    --------
    >>> t = transformer("EPSG:4326", "EPSG:9209")
    >>> [round(v, 2) for v in t.transform(106.34, 20.45)]
    [587448.56, 2262291.73]
    """
    return _transformer(resolve_crs(src).to_wkt(), resolve_crs(dst).to_wkt())


def transform_geometries(geometries: np.ndarray, src: Any, dst: Any) -> np.ndarray:
    """Reproject an array of shapely geometries from ``src`` to ``dst``."""
    src_crs, dst_crs = resolve_crs(src), resolve_crs(dst)
    if src_crs == dst_crs:
        return np.asarray(geometries)
    t = transformer(src_crs, dst_crs)
    return shapely.transform(
        np.asarray(geometries), lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
    )


def area_ha(geometries: np.ndarray) -> np.ndarray:
    """Return the planar area in hectares of geometries already in a metric CRS.

    Examples
    --------
    >>> from shapely import box
    >>> float(area_ha(np.array([box(0, 0, 100, 100)]))[0])
    1.0
    """
    return shapely.area(np.asarray(geometries)) / 10_000.0


def check_area_crs(crs: Any) -> CRS:
    """Return ``crs`` resolved, raising :class:`CrsError` unless it is projected in metres."""
    resolved = resolve_crs(crs)
    unit = resolved.axis_info[0].unit_name if resolved.axis_info else ""
    if not resolved.is_projected or unit not in ("metre", "meter"):
        raise CrsError(
            f"the area CRS {crs!r} is not a projected system in metres; use the province's "
            "VN-2000 TM-3 zone, for example EPSG:9209 (VN-2000 / TM-3 105-30)"
        )
    return resolved
