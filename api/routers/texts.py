"""``GET /texts``: the catalogue of labels (:mod:`ccn_gis.texts`), which the web map reads.

The map fetches it once when it starts, so a label changed in the catalogue changes in the
map, the reports and the downloads alike.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ccn_gis.language import LANGS, Lang
from ccn_gis.texts import texts
from ccn_gis_api.models import Problem

__all__ = ["TextCatalogue", "router"]

router = APIRouter()


class TextCatalogue(BaseModel):
    """Every label by its key, in each language asked for.

    A text may hold ``{name}`` placeholders, which the reader fills in.
    """

    vi: dict[str, str] | None = Field(None, description="Vietnamese labels by key")
    en: dict[str, str] | None = Field(None, description="English labels by key")


@router.get(
    "/texts", response_model=TextCatalogue, response_model_exclude_none=True,
    operation_id="getTexts", tags=["Capabilities"],
    summary="The labels of the map and reports, in Vietnamese and English",
    responses={400: {"model": Problem, "description": "``lang`` is not vi or en"}})
def get_texts(
    lang: Annotated[Lang | None, Query(
        description="vi or en; without it, both languages")] = None,
) -> Any:
    """Return the text catalogue: one language, or both."""
    return {code: texts(code) for code in (LANGS if lang is None else (lang,))}
