"""A province's layers, checked and normalised: what every figure is computed from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from ccn_gis.errors import ValidationError
from ccn_gis.model import LAYERS, PROMOTION_ACTIVITIES
from ccn_gis.problems import Problem
from ccn_gis.settings import ProvinceSettings
from ccn_gis.stored import RawLayer
from ccn_gis.validation import check_layers


@dataclass(frozen=True)
class Dataset:
    """The layers of DATA_MODEL.md, typed, with geometries in the area CRS.

    Polygon layers carry an ``area_ha`` column computed from their geometry.
    Build one with :func:`build_dataset` or :func:`ccn_gis.io.load_dataset`.
    """

    settings: ProvinceSettings
    admin_units: gpd.GeoDataFrame
    clusters: gpd.GeoDataFrame
    approved_extents: gpd.GeoDataFrame
    parcels: gpd.GeoDataFrame
    projects: pd.DataFrame
    promotion_activities: pd.DataFrame
    warnings: tuple[Problem, ...] = ()
    source: str = ""
    revision: str = ""
    """The store's revision the layers were read at (empty when built in memory)."""
    derived: dict[Any, Any] = field(init=False, default_factory=dict, repr=False,
                                    compare=False)
    """Figures computed from the layers, kept with them: a dataset never changes (a new
    revision of the store is read into a new dataset), so they are keyed by its revision."""


def build_dataset(
    raw: Mapping[str, RawLayer | None], settings: ProvinceSettings, *, source: str = "",
    revision: str = "",
) -> Dataset:
    """Check the stored layers and return them as a :class:`Dataset`.

    Raises
    ------
    ValidationError
        Listing every problem when any of them is an error.
    """
    frames, problems = check_layers(raw, settings.area_crs)
    if any(p.is_error for p in problems):
        raise ValidationError(problems, source)
    if PROMOTION_ACTIVITIES.name not in frames:
        frames[PROMOTION_ACTIVITIES.name] = pd.DataFrame(
            {f.name: pd.Series(dtype="float64" if f.type.value in ("integer", "number")
                               else object) for f in PROMOTION_ACTIVITIES.fields}
        )
    return Dataset(
        settings=settings,
        **{name: frames[name] for name in LAYERS},
        warnings=tuple(problems),
        source=source,
        revision=revision,
    )
