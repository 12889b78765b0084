"""Errors raised by ccn-gis.

Every error derives from :class:`CcnGisError` and also from the builtin it
resembles, so callers may catch either (rasterio does the same).
"""

from __future__ import annotations

from collections.abc import Sequence

from ccn_gis.problems import Problem


class CcnGisError(Exception):
    """Base class of every ccn-gis error."""


class DataSourceError(CcnGisError, OSError):
    """The layers file cannot be opened (missing, not a GeoPackage, unreadable)."""


class LayerNotFoundError(CcnGisError, KeyError):
    """A layer asked for is not in the data source."""

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0]) if self.args else ""


class UnknownValueError(CcnGisError, ValueError):
    """A value is outside a closed vocabulary; the message lists the valid ones."""


class CrsError(CcnGisError, ValueError):
    """A coordinate reference system is missing, unknown or unusable."""


class SettingsError(CcnGisError, ValueError):
    """A province setting is missing or malformed."""


class ValidationError(CcnGisError, ValueError):
    """The layers break the data model; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        errors = [p for p in self.problems if p.is_error]
        super().__init__(
            f"{source or 'the layers'}: {len(errors)} error(s) found; "
            "run `ccn-gis validate` for the full report"
        )
