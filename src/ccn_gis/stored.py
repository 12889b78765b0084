"""A layer as a store hands it over, before any check: the value that crosses from io to domain."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from pyproj import CRS

from ccn_gis.problems import Problem


@dataclass(frozen=True)
class RawLayer:
    """A layer as stored: its rows, indexed by feature id, and how it is declared.

    ``frame`` is a GeoDataFrame when the layer has geometry, a DataFrame
    otherwise; its index holds the storage's feature ids (GeoPackage ``fid``).
    ``problems`` lists what could not be read (a corrupt geometry, say), each
    naming its feature; those rows are left out of ``frame``.
    """

    name: str
    frame: pd.DataFrame
    crs: CRS | None
    geometry_type: str | None
    problems: tuple[Problem, ...] = field(default=())

    @property
    def has_geometry(self) -> bool:
        """Whether the layer stores geometries."""
        return self.geometry_type is not None
