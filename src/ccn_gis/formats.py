"""Numbers, rates and dates as Vietnamese (and English) readers write them."""

from __future__ import annotations

import datetime as dt

from ccn_gis.language import Lang

__all__ = ["format_date", "format_number", "format_rate"]


def format_number(value: float | None, decimals: int = 2, *, lang: Lang = "vi") -> str:
    """Format a number the way readers of ``lang`` write it.

    Examples
    --------
    >>> format_number(4177.97)
    '4.177,97'
    >>> format_number(4177.97, lang="en")
    '4,177.97'
    >>> format_number(30129, 0)
    '30.129'
    """
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_rate(value: float | None, *, lang: Lang = "vi") -> str:
    """Format a fraction as a percentage with one decimal: ``0.413 → '41,3 %'``.

    Examples
    --------
    >>> format_rate(0.413)
    '41,3 %'
    """
    return "–" if value is None else f"{format_number(value * 100, 1, lang=lang)} %"


def format_date(value: dt.date, *, lang: Lang = "vi") -> str:
    """Format a date: ``31/12/2024`` in Vietnamese, ISO 8601 in English."""
    return value.strftime("%d/%m/%Y") if lang == "vi" else value.isoformat()
