"""Query parameters of ``/items`` and downloads: parsing, and selecting the features they match.

Every mistake raises :class:`BadRequest` with a message that says what is allowed;
the app answers it with 400.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccn_gis_api.catalog import ServedCollection

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

ITEMS_PARAMETERS = frozenset({"limit", "offset", "bbox", "bbox-crs", "datetime", "f", "crs"})
"""The query parameters of ``/items`` that are not equality filters on fields."""
DOWNLOAD_PARAMETERS = frozenset({"format", "crs", "bbox", "bbox-crs", "datetime"})
"""The query parameters of ``/download`` that are not equality filters on fields."""
IGNORED = frozenset({"lang", "as_of"})
"""Names that ``/items`` and downloads accept and ignore (parameters of the web map and of
other routes) — unless the layer has a field of that name: then they filter."""
RESERVED = ITEMS_PARAMETERS | IGNORED
"""Query parameters of ``/items`` that are not equality filters on fields."""


class BadRequest(ValueError):
    """A client's request is malformed; the message says what is allowed."""


@dataclass(frozen=True)
class Bounds:
    """A bounding box, always ``(west, south, east, north)``."""

    west: float
    south: float
    east: float
    north: float


def parse_bbox(text: str | None) -> Bounds | None:
    """Parse ``bbox=west,south,east,north`` in WGS84 longitude/latitude.

    Examples
    --------
    >>> parse_bbox("106.1,20.3,106.6,20.7")
    Bounds(west=106.1, south=20.3, east=106.6, north=20.7)
    """
    if text is None or text == "":
        return None
    parts = text.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError as err:
        raise BadRequest(
            f"bbox={text!r}: give four numbers west,south,east,north in WGS84 degrees, "
            "for example bbox=106.1,20.3,106.6,20.7"
        ) from err
    if len(numbers) == 6:  # west,south,min-height,east,north,max-height
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise BadRequest(f"bbox={text!r}: give four (or six) finite numbers west,south,east,north")
    west, south, east, north = numbers
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise BadRequest(
            f"bbox={text!r}: longitudes must lie in [-180, 180], latitudes in [-90, 90] "
            "with south ≤ north"
        )
    if west > east:
        raise BadRequest(f"bbox={text!r}: west must not exceed east (no antimeridian crossing)")
    return Bounds(west, south, east, north)


LOCAL_TIME = dt.timezone(dt.timedelta(hours=7), "ICT")
"""Vietnam's time, UTC+07:00 all year. Features carry dates, not instants: a feature dated
D covers D from 00:00 to 24:00 of this time, and an instant matches it when it falls in
that day (``2020-06-15T00:30:00+07:00`` and ``2020-06-14T17:30:00Z`` are both on
2020-06-15). An instant without an offset is read as this time."""
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ONE_DAY = pd.Timedelta(days=1)
_LAST_DAY = pd.Timestamp.max.normalize() - _ONE_DAY  # a day whose end pandas can hold


def _parse_instant(text: str) -> pd.Timestamp | None:
    """An RFC 3339 date or date-time as a naive timestamp in :data:`LOCAL_TIME`;
    None for an open end (``..`` or nothing)."""
    if text in ("..", ""):
        return None
    try:
        value = pd.Timestamp(text)
        if value is not pd.NaT and value.tzinfo is not None:
            value = value.tz_convert(LOCAL_TIME).tz_localize(None)
    except (ValueError, OverflowError, TypeError) as err:
        raise BadRequest(
            f"datetime: {text!r} is not a date; use RFC 3339, e.g. 2020-12-31, "
            "2020-12-31T00:00:00Z, or an interval 2015-01-01/2020-12-31 with '..' for open ends"
        ) from err
    if value is pd.NaT:
        raise BadRequest(f"datetime: {text!r} is not a date")
    return value


def _day(value: pd.Timestamp | None) -> pd.Timestamp | None:
    """The local day of an instant, at 00:00; the last days pandas holds become one before."""
    if value is None:
        return None
    return min(value.normalize(), _LAST_DAY)


def parse_datetime(text: str | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None] | None:
    """Parse an RFC 3339 instant or interval into the first and last day it touches.

    Both days count (``None`` for an open end), as days of :data:`LOCAL_TIME`: a
    feature dated D matches when D lies between them. An instant gives its own day.

    Examples
    --------
    >>> parse_datetime("2020-06-15T00:30:00+07:00")
    (Timestamp('2020-06-15 00:00:00'), Timestamp('2020-06-15 00:00:00'))
    >>> parse_datetime("2015-01-01/..")
    (Timestamp('2015-01-01 00:00:00'), None)
    """
    if text is None or text == "":
        return None
    if "/" in text:
        start_text, _, end_text = text.partition("/")
        if "/" in end_text:
            raise BadRequest(f"datetime={text!r}: an interval has exactly one '/'")
        start = _parse_instant(start_text)
        end = _parse_instant(end_text)
        if start is None and end is None:
            raise BadRequest("datetime='../..': give at least one end of the interval")
        if start is not None and end is not None and (
                _day(start) > _day(end)  # type: ignore[operator]
                or (start > end and not _DATE.match(end_text))):
            raise BadRequest(f"datetime={text!r}: the start is after the end")
        return _day(start), _day(end)
    instant = _parse_instant(text)
    if instant is None:
        raise BadRequest("datetime='..': give a date or an interval")
    return _day(instant), _day(instant)


def _typed(column: pd.Series, name: str, text: str) -> object:
    dtype = column.dtype
    try:
        if pd.api.types.is_bool_dtype(dtype):
            lowered = text.lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return lowered in ("true", "1")
        if pd.api.types.is_integer_dtype(dtype):
            return int(text)
        if pd.api.types.is_float_dtype(dtype):
            return float(text)
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return pd.Timestamp(dt.date.fromisoformat(text))
    except ValueError as err:
        raise BadRequest(f"{name}={text!r}: not a valid value for a {dtype} field") from err
    return text


def select(
    collection: ServedCollection,
    *,
    bbox: Bounds | None = None,
    interval: tuple[pd.Timestamp | None, pd.Timestamp | None] | None = None,
    filters: Mapping[str, str] | None = None,
) -> np.ndarray:
    """Return the positions of the features matching every criterion, in layer order."""
    mask = np.ones(len(collection.ids), dtype=bool)
    if bbox is not None:
        if collection.tree is None:
            raise BadRequest(f"bbox: the collection {collection.name} has no geometry")
        hits = collection.query_box((bbox.west, bbox.south, bbox.east, bbox.north))
        inside = np.zeros(len(mask), dtype=bool)
        inside[hits] = True
        mask &= inside
    if interval is not None:
        field = collection.info.date_field
        if field is None:
            raise BadRequest(f"datetime: the collection {collection.name} has no dates")
        dates = collection.frame[field]
        start, end = interval  # days: a feature dated D matches when start <= D <= end
        ok = dates.notna()
        if start is not None:
            ok &= dates >= start
        if end is not None:
            ok &= dates < end + _ONE_DAY
        mask &= ok.to_numpy()
    for name, text in (filters or {}).items():
        if name not in collection.frame.columns:
            allowed = ", ".join(c for c in collection.frame.columns)
            raise BadRequest(
                f"unknown parameter {name!r} for {collection.name}; filter on one of its fields "
                f"({allowed}) or use limit, offset, bbox, datetime, f"
            )
        column = collection.frame[name]
        value = _typed(column, name, text)
        mask &= (column == value).fillna(False).to_numpy(dtype=bool)
    return np.flatnonzero(mask)


def split_filters(params: Mapping[str, str], fields: Collection[str] = (), *,
                  parameters: Collection[str] = ITEMS_PARAMETERS) -> dict[str, str]:
    """Return the query parameters that filter on fields.

    Every name is a filter but the route's own ``parameters`` and the :data:`IGNORED`
    names that are not among ``fields``; :func:`select` answers a filter on no field with
    a 400. A field named like a parameter of the route (``limit``, ``bbox``, ``f``…)
    cannot be a filter there: the parameter wins, and a value it cannot take is a 400.
    """
    return {k: v for k, v in params.items()
            if k not in parameters and (k not in IGNORED or k in fields)}


def check_crs_params(params: Mapping[str, str]) -> None:
    """Only WGS84 longitude/latitude (CRS84) is served; say so for anything else."""
    for key in ("crs", "bbox-crs"):
        value = params.get(key)
        if value is not None and value != CRS84:
            raise BadRequest(f"{key}={value!r}: only {CRS84} is supported")
