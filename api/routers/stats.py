"""``GET /stats``: the figures of ``ccn-gis stats --json``, for the province, per unit or
per cluster, as of a day."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from ccn_gis.figures import figures_json
from ccn_gis.io.register import load_recorded, recorded_time
from ccn_gis_api.auth import reader
from ccn_gis_api.dependencies import ERRORS, Current, Served, dumps
from ccn_gis_api.models import StatsFigures
from ccn_gis_api.query import BadRequest

router = APIRouter(tags=["Figures"], dependencies=[Depends(reader)])  # CCN_GIS_PUBLIC_READ


@router.get("/stats", operation_id="getStats", summary="The figures of `ccn-gis stats --json`",
            response_model=StatsFigures | list[StatsFigures], responses=ERRORS)
async def stats(
    current: Current,
    served: Served,
    as_of: Annotated[str | None, Query(
        pattern=r"^\d{4}-\d{2}-\d{2}$", json_schema_extra={"format": "date"},
        description="count what was decided, leased or registered by this day (YYYY-MM-DD)",
    )] = None,
    by: Annotated[Literal["province", "admin", "cluster"], Query(
        description="one object for the province, or a list per unit or cluster")] = (
        "province"),
    recorded_at: Annotated[str | None, Query(
        description="the register as it stood at this time (ISO 8601; Viet Nam time "
        "without an offset): later changes made with ccn-gis undone; distinct from as_of, "
        "the legal date of decisions and leases")] = None,
) -> Any:
    """The figures, computed once per revision and question (at most so many at once),
    and kept in a cache bounded in count and bytes."""
    try:
        day = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError as err:
        raise BadRequest(f"as_of={as_of!r} is not a date; write YYYY-MM-DD") from err
    at = None
    if recorded_at is not None:
        try:
            at = recorded_time(recorded_at)
        except ValueError as err:
            raise BadRequest(f"recorded_at: {err}") from err
    dataset = current.dataset
    layers = served.settings.layers

    def compute() -> bytes:
        recorded = dataset if at is None else load_recorded(layers, at)
        return dumps(figures_json(recorded, as_of=day, by=by))

    body = await current.caches["stats"].get(
        (day, by) if at is None else (day, by, at.isoformat()), compute,
        limiter=served.limiters["computations"])
    return Response(body, media_type="application/json")
