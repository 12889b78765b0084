"""Settings: the province's (kept with its data) and the application's (environment).

A province's settings live in the ``ccn_settings`` key/value table inside its
GeoPackage, so that another province is one file away. Keys that are absent take
the defaults of DATA_MODEL.md. The application settings (which file to open, the
report language) come from arguments or ``CCN_GIS_*`` environment variables and are
built once by the interface that needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator
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


class AppSettings(BaseSettings):
    """Settings of a running interface (CLI, web API, notebooks).

    Read from arguments or from the environment with the prefix ``CCN_GIS_``,
    for example ``CCN_GIS_LAYERS=/data/nam_dinh.gpkg``.
    """

    model_config = SettingsConfigDict(env_prefix="CCN_GIS_", frozen=True)

    layers: Path = Path("layers/thai_binh.gpkg")
    lang: Lang | None = None
