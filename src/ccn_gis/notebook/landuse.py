"""Land use in the clusters as tables: hectares of each class, rice land, today and plan.

Every table starts from the rows of :func:`~ccn_gis.notebook.read_landuse` (hectares per
zone and class, the figures of ``ccn-gis landuse``) and the class table of
:func:`~ccn_gis.notebook.read_landuse_classes`, which also gives the colours and the
Vietnamese names of the legends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ccn_gis.formats import format_number, format_rate
from ccn_gis.notebook.tables import TOTAL
from ccn_gis.texts import text

UNCOVERED_LABEL = text("landuse.uncovered")
"""The column of :func:`landuse_pivot` for land that no land-use data covers
(``class_code`` ``None``: outside the raster or plan, or on nodata cells)."""

UNCOVERED_COLOUR = "#ffffff"
UNKNOWN_COLOUR = "#999999"  # a code of the plan that the raster's class table lacks

RICE_CODES = ("LUC", "LUK")
"""Rice land: specialised rice land and other rice land."""


def landuse_colours(classes: pd.DataFrame, /) -> dict[str, str]:
    """Return ``{code: colour}`` of the class table, and white for :data:`UNCOVERED_LABEL`."""
    return {**dict(zip(classes["code"], classes["colour"], strict=True)),
            UNCOVERED_LABEL: UNCOVERED_COLOUR}


def landuse_labels(classes: pd.DataFrame, /) -> dict[str, str]:
    """Return ``{code: "LUC – Đất chuyên trồng lúa"}``: a class as legends name it."""
    return {**{c: f"{c} – {n}" for c, n in zip(classes["code"], classes["name_vi"], strict=True)},
            UNCOVERED_LABEL: UNCOVERED_LABEL}


def landuse_legend(classes: pd.DataFrame, /) -> dict[str, str]:
    """Return ``{"LUC – Đất chuyên trồng lúa": colour, …}``, a ``leafmap`` ``legend_dict``.

    Examples
    --------
    >>> classes = pd.DataFrame({"value": [1], "code": ["LUC"], "name_vi": ["Đất chuyên trồng lúa"],
    ...                         "name_en": ["Rice"], "colour": ["#ffff64"]})
    >>> landuse_legend(classes)
    {'LUC – Đất chuyên trồng lúa': '#ffff64'}
    """
    labels = landuse_labels(classes)
    return {labels[code]: colour for code, colour in zip(classes["code"], classes["colour"],
                                                          strict=True)}


def landuse_pivot(rows: pd.DataFrame, classes: pd.DataFrame, /) -> pd.DataFrame:
    """Return hectares as one row per zone and one column per class code (:func:`read_landuse`).

    Columns in the class table's order, only the classes present, then codes that the
    table lacks, then :data:`UNCOVERED_LABEL` when some land has no land-use data; 0
    where a zone has none of a class. The rows of a zone add up to its area.
    """
    frame = rows.assign(class_code=rows["class_code"].where(rows["class_code"].notna(),
                                                            UNCOVERED_LABEL))
    pivot = frame.pivot_table(index="zone_id", columns="class_code", values="area_ha",
                              aggfunc="sum", fill_value=0.0, sort=False)
    pivot = pivot.reindex(pd.unique(rows["zone_id"]))
    known = [c for c in classes["code"] if c in pivot.columns]
    others = sorted(set(pivot.columns) - {*known, UNCOVERED_LABEL})
    uncovered = [UNCOVERED_LABEL] if UNCOVERED_LABEL in pivot.columns else []
    pivot = pivot[[*known, *others, *uncovered]].astype("float64")
    pivot.index.name = text("field.code")
    pivot.columns.name = text("column.landuse_class")
    return pivot


def rice_ha(pivot: pd.DataFrame, /) -> pd.Series:
    """Return each zone's rice land (:data:`RICE_CODES`) in hectares, from :func:`landuse_pivot`."""
    return pivot[[c for c in RICE_CODES if c in pivot.columns]].sum(axis=1)


def rice_land(
    pivot: pd.DataFrame, clusters: pd.DataFrame, /, *, stages: Sequence[str] = ("planned",),
) -> pd.DataFrame:
    """Return the rice land (LUC, LUK) in the clusters whose ``stage`` is in ``stages``.

    The default asks the planners' question: how much rice land do the clusters that
    are only planned (not established) hold? One row per such cluster, most rice first.
    """
    ids = clusters.loc[clusters["stage"].isin(stages).to_numpy(), "cluster_id"]
    rice = pivot.reindex(index=pd.Index(ids, name=pivot.index.name), columns=list(RICE_CODES),
                         fill_value=0.0)
    order = rice.sum(axis=1).sort_values(ascending=False, kind="stable").index
    return rice.loc[order]


def landuse_totals(pivot: pd.DataFrame, classes: pd.DataFrame, /) -> pd.DataFrame:
    """Return the hectares of each class in all zones together, in Vietnamese.

    One row per column of :func:`landuse_pivot` (its code, name, hectares, share of
    all zones), then the total.
    """
    names = dict(zip(classes["code"], classes["name_vi"], strict=True))
    sums = pivot.sum(axis=0)
    total = float(sums.sum())
    rows = [(code, names.get(code, ""), format_number(float(ha)),
             format_rate(float(ha) / total if total else None)) for code, ha in sums.items()]
    rows.append((TOTAL, "", format_number(total), format_rate(1.0 if total else None)))
    columns = [text(key) for key in ("field.code", "column.landuse_class", "column.area",
                                     "column.share")]
    return pd.DataFrame(rows, columns=columns).set_index(columns[0])


def landuse_comparison(
    current: pd.DataFrame, planned: pd.DataFrame, /, *, codes: Sequence[str] = ("SKN", "LUC"),
) -> pd.DataFrame:
    """Return, per zone and code, the hectares now (raster) and in the plan, and the change.

    ``current`` and ``planned`` are :func:`landuse_pivot` of the raster and of the plan.
    Columns: for each code, *Hiện trạng*, *Quy hoạch* and *Thay đổi* (plan − now).
    """
    zones = current.index.union(planned.index, sort=False)
    now_label, plan_label, change_label = (
        text(key) for key in ("notebook.landuse.now", "notebook.landuse.plan", "column.change"))
    parts = {}
    for code in codes:
        now = current.reindex(index=zones, columns=[code], fill_value=0.0)[code]
        plan = planned.reindex(index=zones, columns=[code], fill_value=0.0)[code]
        parts[(code, now_label)] = now
        parts[(code, plan_label)] = plan
        parts[(code, change_label)] = plan - now
    frame = pd.DataFrame(parts, index=zones)
    frame.index.name = current.index.name
    return frame


def hectares_table(
    frame: pd.DataFrame, /, *, names: Mapping[str, str] | pd.Series | None = None,
    total_column: bool = True, total_row: bool = False, decimals: int = 2,
) -> pd.DataFrame:
    """Return hectares as text in Vietnamese number format (``1.328,25``; ``–`` for none).

    ``frame`` is :func:`landuse_pivot`, :func:`rice_land` or
    :func:`landuse_comparison`. ``names`` (``{zone_id: name}``) adds a *Tên* column
    first; ``total_column`` a *Tổng* column (each row's sum), ``total_row`` a *Tổng*
    row (each column's sum).

    Examples
    --------
    >>> pivot = pd.DataFrame({"LUC": [1328.25, 0.0]}, index=["TB-01", "TB-02"])
    >>> hectares_table(pivot, names={"TB-01": "CCN Tiền Phong"}).loc["TB-01"].tolist()
    ['CCN Tiền Phong', '1.328,25', '1.328,25']
    """
    numbers = frame.copy()
    if total_row:
        numbers.loc[TOTAL] = numbers.sum(axis=0)
    if total_column:
        key: Any = (TOTAL,) + ("",) * (numbers.columns.nlevels - 1)
        numbers[key if numbers.columns.nlevels > 1 else TOTAL] = numbers.sum(axis=1)
    table = numbers.map(lambda v: "–" if v == 0 else format_number(float(v), decimals))
    if names is not None:
        lookup = dict(names)
        name = text("column.name")
        key = (name,) + ("",) * (table.columns.nlevels - 1)
        table.insert(0, key if table.columns.nlevels > 1 else name,
                     [lookup.get(i, "") for i in table.index])
    return table
