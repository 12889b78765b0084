"""The languages ccn-gis writes its reports, messages and figures in.

A base module: it imports nothing from ccn-gis, so that every other module (the
number formats, the settings, the text catalogue, the reports) may name a language
without a circle.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["LANGS", "Lang"]

Lang = Literal["vi", "en"]
"""A report language: Vietnamese (``vi``, the default of every interface) or English."""

LANGS: tuple[Lang, ...] = ("vi", "en")
"""The report languages, the default first."""
