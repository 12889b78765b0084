"""The figures and projects as tables in Vietnamese, numbers in Vietnamese format.

Each table is built from the JSON of the figures (:func:`~ccn_gis.notebook.read_figures`)
or from a layer as read (:func:`~ccn_gis.notebook.read_layer`), so it is the same
whether the notebook reads a server or the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ccn_gis.formats import format_date, format_number, format_rate
from ccn_gis.model import ProjectStatus
from ccn_gis.report import SHORT_COLUMNS, short_headers
from ccn_gis.texts import text

TOTAL = text("column.total")
"""The label of a total row or column."""

PROJECT_COLUMNS: dict[str, str] = {
    "project_id": text("notebook.project.project_id"),
    "name": text("notebook.project.name"),
    "investor": text("notebook.project.investor"),
    "sector": text("notebook.project.sector"),
    "registered_on": text("notebook.project.registered_on"),
    "status": text("field.status"),
    "registered_capital_bn_vnd": text("figure.registered_capital_bn_vnd"),
    "implemented_capital_bn_vnd": text("figure.implemented_capital_bn_vnd"),
    "registered_workers": text("figure.registered_workers"),
    "workers": text("notebook.project.workers"),
}
"""The columns of the projects table and their Vietnamese headers."""

_SHORT = dict(zip(SHORT_COLUMNS, short_headers("vi"), strict=True))
_STATUS = {s.value: text(f"project_status.{s.value}") for s in ProjectStatus}


def figures_table(figures: Mapping[str, Any], /) -> pd.DataFrame:
    """Return one scope's figures as the table of ``ccn-gis stats``, in Vietnamese.

    ``figures`` is the JSON of the province, a unit or a cluster (:func:`read_figures`,
    :func:`read_cluster_figures`). The index is the figure's label; the columns
    *Số lượng* and *Giá trị* hold text in Vietnamese number format.

    Examples
    --------
    >>> table = figures_table(read_figures(layers="layers/thai_binh.gpkg"))  # doctest: +SKIP
    >>> table.loc["CCN trong quy hoạch"].tolist()  # doctest: +SKIP
    ['66', '4.177,97']
    """
    def n(value: float | None, decimals: int = 2) -> str:
        return format_number(value, decimals)

    rows = [
        (text(f"figure.{k}"), str(figures[k]["count"]), n(figures[k]["area_ha"]))
        for k in ("planned", "established", "detailed_plan", "operating")
    ]
    rows += [
        (f"{text('figure.industrial_ha')} (ha)", "", n(figures["industrial_ha"])),
        (f"{text('figure.leased_ha')} (ha)", "", n(figures["leased_ha"])),
        (text("figure.occupancy"), "", format_rate(figures["occupancy"])),
        (f"{text('figure.recovered_industrial_ha')} (ha)", "",
         n(figures["recovered_industrial_ha"])),
        (text("figure.occupancy_recovered"), "", format_rate(figures["occupancy_recovered"])),
    ]
    p = figures["projects"]
    rows += [(text("report.projects"), n(p["count"], 0), "")]
    rows += [(f"– {text(f'project_status.{s}')}", n(c, 0), "") for s, c in p["by_status"].items()]
    rows += [
        (text("figure.registered_capital_bn_vnd"), "", n(p["registered_capital_bn_vnd"], 0)),
        (text("report.implemented_capital"), "", n(p["implemented_capital_bn_vnd"], 0)),
        (text("figure.capital_realisation"), "", format_rate(p["capital_realisation"])),
        (text("report.registered_workers"), "", n(p["registered_workers"], 0)),
        (text("report.workers"), "", n(p["workers"], 0)),
    ]
    figure = text("column.figure")
    table = pd.DataFrame(rows, columns=[figure, text("column.count"), text("column.value")])
    return table.set_index(figure)


def scoped_table(items: Sequence[Mapping[str, Any]], /) -> pd.DataFrame:
    """Return one row per unit or cluster (:func:`read_figures_by`), in Vietnamese.

    The columns of ``ccn-gis stats --by admin|cluster``: code, name, planned area,
    established, detailed and operating clusters, industrial and leased land,
    occupancy and projects, as text in Vietnamese number format.
    """
    rows = []
    for item in items:
        rows.append({
            text("field.code"): item.get("cluster_id", item.get("admin_code")),
            text("column.name"): item["name"],
            _SHORT["planned_ha"]: format_number(item["planned"]["area_ha"]),
            _SHORT["established"]: str(item["established"]["count"]),
            _SHORT["established_ha"]: format_number(item["established"]["area_ha"]),
            _SHORT["detailed_plan"]: str(item["detailed_plan"]["count"]),
            _SHORT["detailed_plan_ha"]: format_number(item["detailed_plan"]["area_ha"]),
            _SHORT["operating"]: str(item["operating"]["count"]),
            _SHORT["industrial_ha"]: format_number(item["industrial_ha"]),
            _SHORT["leased_ha"]: format_number(item["leased_ha"]),
            _SHORT["occupancy"]: format_rate(item["occupancy"]),
            _SHORT["projects"]: format_number(item["projects"]["count"], 0),
        })
    columns = [text("field.code"), text("column.name"), *_SHORT.values()]
    return pd.DataFrame(rows, columns=columns).set_index(text("field.code"))


def projects_table(projects: pd.DataFrame, /) -> pd.DataFrame:
    """Return projects (:func:`read_layer` ``"projects"``) with Vietnamese headers and values.

    The columns of :data:`PROJECT_COLUMNS`, indexed by project id; the status in
    words, dates as ``31/12/2024`` and numbers in Vietnamese format.
    """
    table = pd.DataFrame(projects[list(PROJECT_COLUMNS)])
    table["status"] = [_STATUS.get(s, s) for s in table["status"]]
    table["registered_on"] = [None if pd.isna(d) else format_date(d.date())
                              for d in table["registered_on"]]
    for column, decimals in (("registered_capital_bn_vnd", 1),
                             ("implemented_capital_bn_vnd", 1),
                             ("registered_workers", 0), ("workers", 0)):
        table[column] = [None if pd.isna(v) else format_number(float(v), decimals)
                         for v in table[column]]
    return table.rename(columns=PROJECT_COLUMNS).set_index(PROJECT_COLUMNS["project_id"])
