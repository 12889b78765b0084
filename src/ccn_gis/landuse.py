"""Land use under the zones: hectares of each land-use class in every cluster, extent or parcel.

Pure functions: the class table, turning exact cell coverage into hectares in the area
CRS, and the same figures from a vector plan by polygon overlay. Reading rasters is
:mod:`ccn_gis.io.raster`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from ccn_gis.errors import CcnGisError

UNCOVERED = None
"""``class_code`` of the part of a zone that no land-use data covers (outside the
raster or plan, or on cells marked nodata): reported, never silently zero."""

COLUMNS = ("zone_id", "class_code", "area_ha", "share")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_MIN_HA = 1e-6  # below a hundredth of a square metre a part is rounding noise


class LandUseError(CcnGisError, ValueError):
    """Land-use data is missing or malformed; the message names the file and the fix."""


@dataclass(frozen=True)
class LandUseClass:
    """One class of a land-use map: its raster value, Vietnamese code, names and colour."""

    value: int
    code: str
    name_vi: str
    name_en: str
    colour: str


@dataclass(frozen=True)
class ClassTable:
    """The class table of a land-use raster (``<raster>.classes.csv``)."""

    classes: tuple[LandUseClass, ...]
    source: str = ""

    @property
    def by_value(self) -> dict[int, LandUseClass]:
        """Classes keyed by their raster value."""
        return {c.value: c for c in self.classes}

    @property
    def by_code(self) -> dict[str, LandUseClass]:
        """Classes keyed by their land-use code (LUC, SKN, …)."""
        return {c.code: c for c in self.classes}

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, source: str = "") -> ClassTable:
        """Check and build a class table from the rows of its CSV.

        Raises
        ------
        LandUseError
            Naming the file, the row and the field of every problem.

        Examples
        --------
        >>> rows = pd.DataFrame({"value": [1], "code": ["LUC"], "name_vi": ["Đất chuyên trồng lúa"],
        ...                      "name_en": ["Rice"], "colour": ["#ffff64"]})
        >>> ClassTable.from_frame(rows).by_code["LUC"].value
        1
        """
        problems = []
        missing = [c for c in ("value", "code", "name_vi", "name_en", "colour")
                   if c not in frame.columns]
        if missing:
            raise LandUseError(
                f"{source}: the class table lacks the column(s) {', '.join(missing)}; its "
                "header must be value,code,name_vi,name_en,colour")
        classes = []
        for row_number, row in enumerate(frame.itertuples(index=False), start=2):
            try:
                value = int(str(row.value).strip())
            except ValueError:
                problems.append(f"line {row_number}, field value: {row.value!r} is not an integer")
                continue
            code = str(row.code).strip() if not pd.isna(row.code) else ""
            if not code:
                problems.append(f"line {row_number}, field code: empty")
            colour = str(row.colour).strip()
            if not _COLOUR.match(colour):
                problems.append(
                    f"line {row_number}, field colour: {row.colour!r} is not #rrggbb")
            classes.append(LandUseClass(value, code, _text(row.name_vi), _text(row.name_en),
                                        colour))
        values = [c.value for c in classes]
        for value in sorted({v for v in values if values.count(v) > 1}):
            problems.append(f"field value: {value} appears more than once")
        if not classes and not problems:
            problems.append("the table has no rows")
        if problems:
            raise LandUseError(f"{source}: " + "; ".join(problems))
        return cls(tuple(classes), source)


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def check_values(
    table: ClassTable, values: Sequence[int], *, zones: Mapping[int, list[str]]
) -> None:
    """Raise :class:`LandUseError` for raster values that the class table lacks.

    ``zones`` maps each value to the zones where it was found, for the message.
    """
    unknown = sorted(set(values) - set(table.by_value))
    if unknown:
        where = "; ".join(
            f"value {v} in {', '.join(zones.get(v, [])[:5])}" for v in unknown)
        raise LandUseError(
            f"{table.source}: the raster holds class value(s) {', '.join(map(str, unknown))} "
            f"that the class table does not list ({where}); add them to the table")


def rows_from_coverage(
    zone_ids: Sequence[str],
    zone_area_ha: np.ndarray,
    zone_area_raster: np.ndarray,
    values: Sequence[Sequence[int] | np.ndarray],
    covered_area_raster: Sequence[Sequence[float] | np.ndarray],
    table: ClassTable,
) -> pd.DataFrame:
    """Turn exact cell coverage into hectares of each class in the area CRS.

    Parameters
    ----------
    zone_ids
        One id per zone.
    zone_area_ha
        Each zone's area in hectares, in the area CRS.
    zone_area_raster
        Each zone's area in the raster's CRS units (m², or degrees² for a geographic
        raster): the scale that carries raster areas into the area CRS.
    values, covered_area_raster
        Per zone, the class values met and the area of each (sum of cell coverage
        fractions times the cell area, in raster CRS units).
    table
        The class table.

    Returns
    -------
    pandas.DataFrame
        Columns ``zone_id``, ``class_code``, ``area_ha``, ``share`` (of the zone); the
        part of the zone that no cell covers has ``class_code`` ``None``.
    """
    codes = {c.value: c.code for c in table.classes}
    records: list[tuple[str, str | None, float, float | None]] = []
    for zid, total_ha, total_raster, vals, areas in zip(
            zone_ids, zone_area_ha, zone_area_raster, values, covered_area_raster, strict=True):
        scale = total_ha / total_raster if total_raster > 0 else 0.0
        covered = 0.0
        for value, area in zip(vals, areas, strict=True):
            ha = float(area) * scale
            if ha <= _MIN_HA:
                continue
            covered += ha
            records.append((zid, codes[int(value)], ha, ha / total_ha if total_ha else None))
        rest = total_ha - covered
        if rest > _MIN_HA:
            records.append((zid, UNCOVERED, rest, rest / total_ha if total_ha else None))
    return _frame(records)


def overlay_classes(
    zone_ids: Sequence[str], zones: np.ndarray, plan_codes: Sequence[str], plan: np.ndarray
) -> pd.DataFrame:
    """Hectares of each code of a vector plan inside each zone, by polygon overlay.

    Both geometry arrays must be in the same metric area CRS. Overlapping plan
    polygons would count twice; the validator of the plan layer reports them.

    Examples
    --------
    >>> zone = np.array([shapely.box(0, 0, 100, 100)])
    >>> plan = np.array([shapely.box(0, 0, 50, 100), shapely.box(50, 0, 200, 100)])
    >>> overlay_classes(["z"], zone, ["LUC", "SKN"], plan)["area_ha"].tolist()
    [0.5, 0.5]
    """
    tree = shapely.STRtree(plan)
    zone_index, plan_index = tree.query(zones, predicate="intersects")
    pieces = shapely.area(shapely.intersection(zones[zone_index], plan[plan_index])) / 10_000.0
    frame = pd.DataFrame({
        "zone": zone_index,
        "class_code": np.asarray(plan_codes, dtype=object)[plan_index],
        "area_ha": pieces,
    })
    sums = frame[frame["area_ha"] > _MIN_HA].groupby(["zone", "class_code"], sort=False)[
        "area_ha"].sum()
    zone_ha = shapely.area(zones) / 10_000.0
    records: list[tuple[str, str | None, float, float | None]] = []
    for position, zid in enumerate(zone_ids):
        covered = 0.0
        if position in sums.index.get_level_values(0):
            for code, ha in sums.loc[position].items():
                covered += ha
                records.append((zid, code, float(ha), ha / zone_ha[position]))
        rest = zone_ha[position] - covered
        if rest > _MIN_HA:
            records.append((zid, UNCOVERED, float(rest), rest / zone_ha[position]))
    return _frame(records)


def _frame(records: list[tuple]) -> pd.DataFrame:
    columns = list(zip(*records, strict=True)) if records else [(), (), (), ()]
    frame = pd.DataFrame({
        "zone_id": pd.Series(columns[0], dtype=object),
        "class_code": pd.Series(columns[1], dtype=object),  # None stays None: uncovered
        "area_ha": pd.Series(columns[2], dtype="float64"),
        "share": pd.Series(columns[3], dtype="float64"),
    })
    order = frame["class_code"].isna()  # the uncovered part last in each zone
    frame = frame.assign(_last=order).sort_values(
        ["zone_id", "_last", "area_ha"], ascending=[True, True, False], kind="stable")
    return frame.drop(columns="_last").reset_index(drop=True)


def to_records(frame: pd.DataFrame) -> list[dict]:
    """Return rows as ``{zone_id, class_code, area_ha, share}`` dicts (``None`` for NaN)."""
    return [
        {"zone_id": r.zone_id, "class_code": r.class_code, "area_ha": float(r.area_ha),
         "share": None if pd.isna(r.share) else float(r.share)}
        for r in frame.itertuples(index=False)
    ]
