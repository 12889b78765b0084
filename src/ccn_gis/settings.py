"""Settings: the province's (kept with its data) and the application's (environment).

A province's settings live in the ``ccn_settings`` key/value table inside its
GeoPackage, so that another province is one file away. Keys that are absent take
the defaults of DATA_MODEL.md. The application settings (which file to open, the
report language) come from arguments or ``CCN_GIS_*`` environment variables and are
built once by the interface that needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as _PydanticValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from ccn_gis.crs import DEFAULT_AREA_CRS, check_area_crs
from ccn_gis.errors import CcnGisError, SettingsError

Lang = Literal["vi", "en"]


class ProvinceSettings(BaseModel):
    """What a province keeps beside its layers.

    Parameters
    ----------
    province_name
        The province's name, shown in reports ("Thái Bình").
    province_code
        Its official code ("34"), optional.
    area_crs
        The plane system in which every area is computed (default EPSG:9209).
    plan_total_ha
        The total area of the approved cluster plan, when the province has one.
    lang
        The default language of reports.
    landuse_raster
        The land-use GeoTIFF, relative to the GeoPackage (default:
        ``<GeoPackage name>_landuse.tif`` beside it, when present).
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    province_name: str = ""
    province_code: str | None = None
    area_crs: str = DEFAULT_AREA_CRS
    plan_total_ha: float | None = None
    lang: Lang = "vi"
    landuse_raster: str | None = None

    @field_validator("area_crs")
    @classmethod
    def _projected_in_metres(cls, value: str) -> str:
        try:
            check_area_crs(value)
        except CcnGisError as err:
            raise ValueError(str(err)) from err
        return value

    @classmethod
    def from_table(cls, rows: Mapping[str, str | None]) -> ProvinceSettings:
        """Build settings from the ``key → value`` rows of the settings table.

        Raises
        ------
        SettingsError
            Naming the key whose value is malformed.

        Examples
        --------
        >>> ProvinceSettings.from_table({"area_crs": "EPSG:9210"}).area_crs
        'EPSG:9210'
        """
        values = {k: v for k, v in rows.items() if v is not None and str(v).strip() != ""}
        try:
            return cls.model_validate(values)
        except _PydanticValidationError as err:
            details = "; ".join(
                f"key {'.'.join(str(p) for p in e['loc'])!r}: {e['msg']}" for e in err.errors()
            )
            raise SettingsError(
                f"table ccn_settings: {details}. Fix the value in the ccn_settings table "
                "(key, value) of the GeoPackage"
            ) from err

    def to_table(self) -> dict[str, str]:
        """Return the settings as ``key → text`` rows for the settings table."""
        return {k: "" if v is None else str(v) for k, v in self.model_dump().items()}


@dataclass(frozen=True)
class RuleSettings:
    """Thresholds of the rules of Decree 32/2024/NĐ-CP, overridable per province and scenario.

    ``gate_mean`` chooses how the "average occupancy" of a unit's clusters is taken: the
    mean of the clusters' rates (``mean``, the default) or leased ÷ industrial land over
    all of them (``area_weighted``).
    """

    area_max_ha: float = 75.0
    area_min_ha: float = 10.0
    area_min_craft_village_ha: float = 5.0
    gate_occupancy: float = 0.5
    gate_unleased_ha: float = 100.0
    gate_mean: str = "mean"
    expansion_occupancy: float = 0.6
    services_share_max: float = 0.10
    protected_classes: tuple[str, ...] = ("LUC", "RPH", "RDD", "DTL", "NTD")
    protected_warn_ha: float = 0.0
    plan_total_ha: float | None = None
    lease_lag_years: int = 2
    industrial_share: float = 0.65

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The names a scenario's ``rules:`` or the province settings may set."""
        return tuple(f.name for f in fields(cls))

    def updated(self, values: Mapping[str, Any], *, where: str = "") -> RuleSettings:
        """Return a copy with ``values`` applied, each checked for its type."""
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        for key, value in values.items():
            if key not in current:
                raise SettingsError(
                    f"{where}rules.{key}: unknown rule setting; known: {', '.join(self.keys())}")
            current[key] = _coerce(key, value, current[key], where)
        if current["gate_mean"] not in ("mean", "area_weighted"):
            raise SettingsError(f"{where}rules.gate_mean: use mean or area_weighted")
        return RuleSettings(**current)


def _coerce(key: str, value: Any, default: Any, where: str) -> Any:
    try:
        if key == "protected_classes":
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(v).strip() for v in items if str(v).strip())
        if key == "gate_mean":
            return str(value)
        if key == "lease_lag_years":
            years = int(value)
            if years < 0:
                raise ValueError(value)
            return years
        if value is None and key == "plan_total_ha":
            return None
        number = float(value)
        if not np.isfinite(number) or number < 0:
            raise ValueError(value)
        return number
    except (TypeError, ValueError) as err:
        raise SettingsError(f"{where}rules.{key}: {value!r} is not a valid value "
                            f"(default {default!r})") from err


def rule_settings(province: ProvinceSettings) -> RuleSettings:
    """The rule thresholds of a province: defaults, overridden by its settings table.

    Any key of :class:`RuleSettings` may be set in ``ccn_settings``
    (``area_max_ha``, ``gate_occupancy``, ``protected_classes``…).
    """
    extra = province.model_extra or {}
    values: dict[str, Any] = {k: v for k, v in extra.items() if k in RuleSettings.keys()}
    if province.plan_total_ha is not None:
        values["plan_total_ha"] = province.plan_total_ha
    return RuleSettings().updated(values, where="ccn_settings: ")


class AppSettings(BaseSettings):
    """Settings of a running interface (CLI, web API, notebooks).

    Read from arguments or from the environment with the prefix ``CCN_GIS_``,
    for example ``CCN_GIS_LAYERS=/data/nam_dinh.gpkg``.

    ``map_tiles_above``: the web map draws a layer with more features than this from
    vector tiles instead of loading all of it as GeoJSON (``CCN_GIS_MAP_TILES_ABOVE``).
    """

    model_config = SettingsConfigDict(env_prefix="CCN_GIS_", frozen=True)

    layers: Path = Path("layers/thai_binh.gpkg")
    lang: Lang | None = None
    map_tiles_above: int = Field(default=20_000, ge=0)
