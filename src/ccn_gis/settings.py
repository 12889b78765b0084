"""Settings: the province's (kept with its data) and the application's (environment).

A province's settings live in the ``ccn_settings`` key/value table inside its
GeoPackage, so that another province is one file away. Keys that are absent take
the defaults of DATA_MODEL.md. The application settings (which file to open, the
report language) come from arguments or ``CCN_GIS_*`` environment variables and are
built once by the interface that needs them.
"""

from __future__ import annotations

import difflib
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as _PydanticValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from ccn_gis.crs import DEFAULT_AREA_CRS, check_area_crs
from ccn_gis.errors import CcnGisError, SettingsError
from ccn_gis.language import Lang

MAX_TEXT = 1000
"""The longest text a setting may hold, in characters (``area_crs``, which may be WKT:
:data:`MAX_CRS_TEXT`)."""
MAX_CRS_TEXT = 20_000
MAX_HA = 10_000_000.0
"""The largest area a setting may give, in hectares (Viet Nam is 33 million ha, its largest
province 1.6 million): beyond it a value is a typing mistake, and would overflow later."""
MAX_LAG_YEARS = 50
"""The longest lease lag a setting may give, in years (a scenario spans at most 50)."""


def _shown(value: Any) -> str:
    """``repr(value)`` cut to a readable length, for messages."""
    try:
        text = repr(value)
    except ValueError:  # an integer of more than 4,300 digits
        return "a number too large to print"
    return text if len(text) <= 60 else f"{text[:57]}…"


class _Refused(ValueError):
    """A value a setting does not allow: the message in English, ``vi`` in Vietnamese.

    Never leaves this module: it becomes a :class:`SettingsError` or a pydantic error.
    """

    def __init__(self, message: str, vi: str = "") -> None:
        super().__init__(message)
        self.vi = vi or message


def _clean_text(value: Any, *, longest: int = MAX_TEXT, one_line: bool = True) -> str:
    """``value`` as text; raise ValueError when too long, not UTF-8 or (``one_line``)
    holding control characters."""
    text = str(value)
    if len(text) > longest:
        raise _Refused(f"{len(text)} characters is too long; use at most {longest}",
                       f"dài {len(text)} ký tự, quá dài; tối đa {longest}")
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc" and (one_line or char not in "\t\n\r"):
            raise _Refused(f"it holds the control character {char!r}; write it on one line, "
                           "without tabs or control characters",
                           f"có ký tự điều khiển {char!r}; hãy viết trên một dòng, không có "
                           "tab hay ký tự điều khiển")
        if category == "Cs":
            raise _Refused("it is not valid UTF-8 text; type it again in a UTF-8 terminal",
                           "đây không phải văn bản UTF-8 hợp lệ; hãy gõ lại trong cửa sổ lệnh "
                           "dùng UTF-8")
    return text


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
        The total area of the approved cluster plan, when the province has one: a finite
        number of hectares above 0 (at most :data:`MAX_HA`).
    lang
        The default language of reports.
    landuse_raster
        The land-use GeoTIFF, relative to the GeoPackage (default:
        ``<GeoPackage name>_landuse.tif`` beside it, when present).

    Any key of :class:`RuleSettings` may be kept too (it is an "extra" field, checked by
    :func:`rule_settings` and :func:`check_settings`).
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    province_name: str = ""
    province_code: str | None = None
    area_crs: str = DEFAULT_AREA_CRS
    plan_total_ha: float | None = None
    lang: Lang = "vi"
    landuse_raster: str | None = None

    @field_validator("province_name", "province_code", "landuse_raster", mode="before")
    @classmethod
    def _one_line_of_text(cls, value: Any) -> Any:
        return None if value is None else _clean_text(value)

    @field_validator("area_crs", mode="before")
    @classmethod
    def _projected_in_metres(cls, value: Any) -> str:
        text = _clean_text(value, longest=MAX_CRS_TEXT, one_line=False)  # WKT may be long
        try:
            check_area_crs(text)
        except CcnGisError as err:
            raise ValueError(str(err)) from err
        return text

    @field_validator("plan_total_ha", mode="before")
    @classmethod
    def _hectares(cls, value: Any) -> float | None:
        if value is None:
            return None
        number: float | None = _rule_value("plan_total_ha", value)
        return number

    @classmethod
    def from_table(cls, rows: Mapping[str, str | None]) -> ProvinceSettings:
        """Build settings from the ``key → value`` rows of the settings table.

        Rule thresholds (the keys of :class:`RuleSettings`) are kept as given; check them
        with :func:`rule_settings` or :func:`check_settings`.

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
                f"key {'.'.join(str(p) for p in e['loc'])!r}: {_pydantic_message(e)}"
                for e in err.errors()
            )
            raise SettingsError(
                f"table ccn_settings: {details}. Fix the value in the ccn_settings table "
                "(key, value) of the GeoPackage, or with ccn-gis settings --set KEY=VALUE "
                "(--set KEY= takes the default)"
            ) from err

    def to_table(self) -> dict[str, str]:
        """Return the settings as ``key → text`` rows for the settings table."""
        return {k: "" if v is None else str(v) for k, v in self.model_dump().items()}


def _pydantic_message(error: Any, lang: Lang = "en") -> str:
    """The message of one pydantic error, without pydantic's "Value error, " prefix."""
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, _Refused) and lang == "vi":
        return cause.vi
    return str(cause) if isinstance(cause, ValueError) else str(error["msg"])


@dataclass(frozen=True)
class _Range:
    """The numbers a rule setting allows, and how to say so (in English and Vietnamese)."""

    low: float
    high: float
    words: str
    words_vi: str
    low_open: bool = False

    def holds(self, number: float) -> bool:
        above = number > self.low if self.low_open else number >= self.low
        return math.isfinite(number) and above and number <= self.high


_HECTARES = _Range(0.0, MAX_HA, "a number of hectares from 0 to 10,000,000",
                   "một số héc-ta từ 0 đến 10.000.000")
_SHARE = _Range(0.0, 1.0, "a share from 0 to 1 (0.5 is 50 %)",
                "một tỷ lệ từ 0 đến 1 (0.5 là 50 %)")
_RANGES: dict[str, _Range] = {
    "area_max_ha": _HECTARES,
    "area_min_ha": _HECTARES,
    "area_min_craft_village_ha": _HECTARES,
    "gate_unleased_ha": _HECTARES,
    "protected_warn_ha": _HECTARES,
    "plan_total_ha": _Range(0.0, MAX_HA, "a number of hectares above 0, at most 10,000,000 "
                            "(or nothing: no plan total)", "một số héc-ta lớn hơn 0, tối đa "
                            "10.000.000 (hoặc để trống: không có tổng quy hoạch)",
                            low_open=True),
    "gate_occupancy": _SHARE,
    "expansion_occupancy": _SHARE,
    "services_share_max": _SHARE,
    "industrial_share": _Range(0.0, 1.0, "a share above 0, at most 1 (0.65 is 65 %)",
                               "một tỷ lệ lớn hơn 0, tối đa 1 (0.65 là 65 %)", low_open=True),
}
_WORDS = {
    "gate_mean": ("mean or area_weighted", "mean hoặc area_weighted"),
    "protected_classes": ("land-use codes separated by commas, e.g. LUC,RPH,RDD",
                          "các mã loại đất cách nhau bởi dấu phẩy, ví dụ LUC,RPH,RDD"),
    "lease_lag_years": (f"a whole number of years from 0 to {MAX_LAG_YEARS}",
                        f"một số năm nguyên từ 0 đến {MAX_LAG_YEARS}"),
}
_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")


def allowed_values(key: str, lang: Lang = "en") -> str:
    """What the rule setting ``key`` allows, in words (for messages and documentation)."""
    if key in _RANGES:
        return _RANGES[key].words_vi if lang == "vi" else _RANGES[key].words
    en, vi = _WORDS.get(key, ("", ""))
    return vi if lang == "vi" else en


def _number(value: Any) -> float:
    """A float from a number or its text; ValueError for anything else (booleans too)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(value)
    try:
        return float(value.strip() if isinstance(value, str) else value)
    except OverflowError as err:  # an integer beyond the range of floats
        raise ValueError(value) from err


def _whole(value: Any) -> int:
    """An int from an integer, an integral float or their text; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:  # "3.0" and "3e1" are whole numbers too
            pass
    number = _number(value)
    if not number.is_integer():  # nan and inf are not integers either
        raise ValueError(value)
    return int(number)


def _rule_value(key: str, value: Any) -> Any:
    """Rule setting ``key`` parsed from ``value``; ValueError saying what it allows."""
    try:
        if key == "protected_classes":
            if isinstance(value, str):
                items: list[Any] = value.split(",")
            elif isinstance(value, (list, tuple)):
                items = list(value)
            else:
                raise ValueError(value)
            codes = tuple(str(v).strip() for v in items if str(v).strip())
            if any(len(c) > 32 or not set(c) <= _CODE_CHARS for c in codes):
                raise ValueError(value)
            return codes
        if key == "gate_mean":
            if value not in ("mean", "area_weighted"):
                raise ValueError(value)
            return str(value)
        if key == "lease_lag_years":
            years = _whole(value)
            if not 0 <= years <= MAX_LAG_YEARS:
                raise ValueError(value)
            return years
        if value is None and key == "plan_total_ha":
            return None
        number = _number(value)
        if not _RANGES[key].holds(number):
            raise ValueError(value)
        return number
    except (TypeError, ValueError, OverflowError) as err:
        raise _Refused(f"{_shown(value)} is not a valid value; use {allowed_values(key)}",
                       f"{_shown(value)} không phải là giá trị hợp lệ; hãy dùng "
                       f"{allowed_values(key, 'vi')}") from err


def _cross_problems(values: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(key, message, message_vi)`` for each pair of rule settings that contradict."""
    found = []
    for low in ("area_min_ha", "area_min_craft_village_ha"):
        if values[low] > values["area_max_ha"]:
            low_ha, high_ha = f"{values[low]:g}", f"{values['area_max_ha']:g}"
            found.append((
                low,
                f"{low_ha} ha is above area_max_ha ({high_ha} ha); the smallest cluster "
                "allowed cannot be larger than the largest: lower it or raise area_max_ha",
                f"{low_ha} ha lớn hơn area_max_ha ({high_ha} ha); diện tích nhỏ nhất cho "
                "phép của một cụm không thể lớn hơn diện tích lớn nhất: hãy giảm giá trị này "
                "hoặc tăng area_max_ha"))
    return found


@dataclass(frozen=True)
class RuleSettings:
    """Thresholds of the rules of Decree 32/2024/NĐ-CP, overridable per province and scenario.

    ``gate_mean`` chooses how the "average occupancy" of a unit's clusters is taken: the
    mean of the clusters' rates (``mean``, the default) or leased ÷ industrial land over
    all of them (``area_weighted``).

    Every value is checked when set (:meth:`updated`): areas from 0 to :data:`MAX_HA`
    hectares (``plan_total_ha`` above 0), shares (``gate_occupancy``,
    ``expansion_occupancy``, ``services_share_max``) from 0 to 1, ``industrial_share``
    above 0 and at most 1, ``lease_lag_years`` a whole number from 0 to
    :data:`MAX_LAG_YEARS`, and ``area_min_ha`` and ``area_min_craft_village_ha`` at most
    ``area_max_ha``.
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

    def updated(
        self, values: Mapping[str, Any], *, where: str = "", prefix: str = "rules."
    ) -> RuleSettings:
        """Return a copy with ``values`` applied, each checked for its type and range.

        Raises
        ------
        SettingsError
            Naming the first key (``{where}{prefix}{key}``) that is unknown, malformed,
            out of range or contradicts another, and what it allows.
        """
        if not isinstance(values, Mapping):
            raise SettingsError(f"{where}rules: {_shown(values)} is not a mapping of "
                                "thresholds; write key: value pairs, e.g. "
                                "{gate_occupancy: 0.6, lease_lag_years: 3}")
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        for key, value in values.items():
            if key not in current:
                raise SettingsError(
                    f"{where}{prefix}{key}: unknown rule setting; known: "
                    f"{', '.join(self.keys())}")
            try:
                current[key] = _rule_value(key, value)
            except ValueError as err:
                raise SettingsError(f"{where}{prefix}{key}: {err} "
                                    f"(default {_shown(getattr(RuleSettings, key))})") from err
        for key, message, _ in _cross_problems(current):
            raise SettingsError(f"{where}{prefix}{key}: {message}")
        return RuleSettings(**current)


def rule_settings(province: ProvinceSettings) -> RuleSettings:
    """The rule thresholds of a province: defaults, overridden by its settings table.

    Any key of :class:`RuleSettings` may be set in ``ccn_settings``
    (``area_max_ha``, ``gate_occupancy``, ``protected_classes``…).

    Raises
    ------
    SettingsError
        Naming the first key of ``ccn_settings`` whose value is not allowed.
    """
    extra = province.model_extra or {}
    values: dict[str, Any] = {k: v for k, v in extra.items() if k in RuleSettings.keys()}
    if province.plan_total_ha is not None:
        values["plan_total_ha"] = province.plan_total_ha
    return RuleSettings().updated(values, where="ccn_settings: ", prefix="key ")


def known_settings() -> tuple[str, ...]:
    """Every key the ``ccn_settings`` table may hold: the province's, then the rules'."""
    return tuple(dict.fromkeys([*ProvinceSettings.model_fields, *RuleSettings.keys()]))


@dataclass(frozen=True)
class SettingIssue:
    """One problem of a settings table: its key, what is wrong, whether it stops the layers.

    An error makes the layers unusable (``load_dataset`` refuses them, ``validate`` exits 1);
    a warning (an unknown key, which ccn-gis ignores) does not.
    """

    key: str
    message: str
    is_error: bool = True
    message_vi: str = ""

    def __str__(self) -> str:
        return f"key {self.key!r}: {self.message}"


def unknown_setting_message(key: str, lang: Lang = "en") -> str:
    """Why ``key`` is not a setting, with the nearest known key when one is close."""
    known = known_settings()
    close = difflib.get_close_matches(key, known, n=1)
    if lang == "vi":
        hint = f"có phải là {close[0]!r}? " if close else ""
        return (f"khoá cài đặt không xác định, ccn-gis không dùng nó; {hint}các khoá: "
                f"{', '.join(known)}")
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (f"unknown setting, which ccn-gis does not use; {hint}known keys: "
            f"{', '.join(known)}")


def check_settings(
    rows: Mapping[str, str | None], *, pairs: bool = True
) -> list[SettingIssue]:
    """Every problem of the ``key → value`` rows of a settings table, each naming its key.

    Each key is checked on its own, so that one mistake does not hide another: the
    province's keys (:class:`ProvinceSettings`), the rule thresholds with their ranges
    (:class:`RuleSettings`), then the pairs that contradict each other. Empty values take
    the default and are not problems. A key that is neither is a warning: ccn-gis ignores
    it (a typo, or a row another program keeps). ``pairs=False`` leaves out the pairs, for
    rows that are only part of a table.

    Examples
    --------
    >>> [str(i) for i in check_settings({"gate_occupancy": "2"})]
    ["key 'gate_occupancy': '2' is not a valid value; use a share from 0 to 1 (0.5 is 50 %)"]
    """
    values = {k: v for k, v in rows.items() if v is not None and str(v).strip() != ""}
    issues: list[SettingIssue] = []
    rules: dict[str, Any] = {}
    for key, value in values.items():
        if key in ProvinceSettings.model_fields:
            try:
                parsed = ProvinceSettings.model_validate({key: value})
            except _PydanticValidationError as err:
                issues.append(SettingIssue(
                    key, "; ".join(_pydantic_message(e) for e in err.errors()),
                    message_vi="; ".join(_pydantic_message(e, "vi") for e in err.errors())))
                continue
            if key == "plan_total_ha":
                rules[key] = parsed.plan_total_ha
        elif key in RuleSettings.keys():
            try:
                rules[key] = _rule_value(key, value)
            except _Refused as err:
                issues.append(SettingIssue(key, str(err), message_vi=err.vi))
        else:
            issues.append(SettingIssue(key, unknown_setting_message(key), is_error=False,
                                       message_vi=unknown_setting_message(key, "vi")))
    if not pairs:
        return issues
    merged = {f.name: getattr(RuleSettings, f.name) for f in fields(RuleSettings)} | rules
    issues.extend(SettingIssue(key, message, message_vi=vi)
                  for key, message, vi in _cross_problems(merged))
    return issues


class AppSettings(BaseSettings):
    """Settings of a running interface (CLI, web API, notebooks).

    Read from arguments or from the environment with the prefix ``CCN_GIS_``,
    for example ``CCN_GIS_LAYERS=/data/nam_dinh.gpkg``.

    ``map_tiles_above``: the web map draws a layer with more features than this from
    vector tiles instead of loading all of it as GeoJSON (``CCN_GIS_MAP_TILES_ABOVE``).
    ``busy_timeout``: how long ``ccn-gis settings --set`` waits, in seconds, for another
    program writing the GeoPackage to finish before giving up (``CCN_GIS_BUSY_TIMEOUT``).
    """

    model_config = SettingsConfigDict(env_prefix="CCN_GIS_", frozen=True)

    layers: Path = Path("layers/thai_binh.gpkg")
    lang: Lang | None = None
    map_tiles_above: int = Field(default=20_000, ge=0)
    busy_timeout: float = Field(default=5.0, ge=0, le=600, allow_inf_nan=False)
    """Seconds a write waits for another program writing the same file to finish
    (``CCN_GIS_BUSY_TIMEOUT``)."""
    public_read: bool = True
    """Whether the web API answers reads without credentials (``CCN_GIS_PUBLIC_READ``);
    with ``false`` a read needs a user, a viewer at least. Writes always need one."""
