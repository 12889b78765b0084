"""Readable reports of the figures: Vietnamese labels and number format, English on request.

The labels are those of the text catalogue, :mod:`ccn_gis.texts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from ccn_gis.figures import Figures, ScopedFigures
from ccn_gis.formats import format_date, format_number, format_rate
from ccn_gis.landuse import ClassTable
from ccn_gis.problems import Problem
from ccn_gis.settings import Lang
from ccn_gis.texts import text

SHORT_COLUMNS = ("planned_ha", "established", "established_ha", "detailed_plan",
                 "detailed_plan_ha", "operating", "industrial_ha", "leased_ha", "occupancy",
                 "projects")
"""The figures of the per-unit and per-cluster tables, in order, under their short
headers (``short_header.`` in :mod:`ccn_gis.texts`)."""


def short_headers(lang: Lang = "vi", /) -> list[str]:
    """Return the short headers of :data:`SHORT_COLUMNS` in ``lang``.

    Examples
    --------
    >>> short_headers("en")[:3]
    ['Plan (ha)', 'Est.', 'Est. (ha)']
    """
    return [text(f"short_header.{column}", lang) for column in SHORT_COLUMNS]


def text_table(rows: Sequence[Sequence[str]], header: Sequence[str], align_left: int = 1) -> str:
    """Return rows as a plain-text table; the first ``align_left`` columns align left.

    Examples
    --------
    >>> print(text_table([["TB-01", "13,48"]], ["Mã", "ha"]))
    Mã        ha
    -----  -----
    TB-01  13,48
    """
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < align_left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _heading(province: str, as_of: dt.date | None, lang: Lang) -> str:
    when = (text("report.as_of", lang, date=format_date(as_of, lang=lang)) if as_of
            else text("report.all_records", lang))
    return f"{text('title', lang, province=province)} — {when}"


def _ha(key: str, lang: Lang) -> str:
    """A figure in hectares as the reports name it: ``Đất công nghiệp (ha)``."""
    return f"{text(key, lang)} (ha)"


def province_report(
    figures: Figures, /, *, province: str, as_of: dt.date | None = None, lang: Lang = "vi"
) -> str:
    """Return the province's figures as a readable two-part table."""
    n = lambda v, d=2: format_number(v, d, lang=lang)  # noqa: E731
    t = lambda key: text(key, lang)  # noqa: E731
    rows = [
        [t(f"figure.{k}"), str(getattr(figures, k).count), n(getattr(figures, k).area_ha)]
        for k in ("planned", "established", "detailed_plan", "operating")
    ]
    rows += [
        [_ha("figure.industrial_ha", lang), "", n(figures.industrial_ha)],
        [_ha("figure.leased_ha", lang), "", n(figures.leased_ha)],
        [t("figure.occupancy"), "", format_rate(figures.occupancy, lang=lang)],
        [_ha("figure.recovered_industrial_ha", lang), "", n(figures.recovered_industrial_ha)],
        [t("figure.occupancy_recovered"), "",
         format_rate(figures.occupancy_recovered, lang=lang)],
    ]
    p = figures.projects
    rows += [[t("report.projects"), n(p.count, 0), ""]]
    rows += [["  " + t(f"project_status.{s}"), n(c, 0), ""] for s, c in p.by_status.items()]
    rows += [
        [t("figure.registered_capital_bn_vnd"), "", n(p.registered_capital_bn_vnd, 0)],
        [t("report.implemented_capital"), "", n(p.implemented_capital_bn_vnd, 0)],
        [t("figure.capital_realisation"), "", format_rate(p.capital_realisation, lang=lang)],
        [t("report.registered_workers"), "", n(p.registered_workers, 0)],
        [t("report.workers"), "", n(p.workers, 0)],
    ]
    parts = [
        _heading(province, as_of, lang),
        "",
        text_table(rows, [t("column.figure"), t("column.count"), t("column.area")]),
    ]
    if figures.promotion:
        promo = [
            [t(f"programme.{k}"), n(v.participants, 0), n(v.facilities, 0)]
            for k, v in figures.promotion.items()
        ]
        parts += [
            "",
            text_table(promo, [t("column.promotion"), t("column.participants"),
                               t("column.facilities")]),
        ]
    return "\n".join(parts)


def scoped_report(
    items: Sequence[ScopedFigures], /, *, province: str, as_of: dt.date | None = None,
    lang: Lang = "vi",
) -> str:
    """Return one row per unit or cluster with the main figures."""
    n = lambda v, d=2: format_number(v, d, lang=lang)  # noqa: E731
    rows = []
    for item in items:
        f = item.figures
        rows.append([
            item.code, item.name, n(f.planned.area_ha), str(f.established.count),
            n(f.established.area_ha), str(f.detailed_plan.count), n(f.detailed_plan.area_ha),
            str(f.operating.count), n(f.industrial_ha), n(f.leased_ha),
            format_rate(f.occupancy, lang=lang), n(f.projects.count, 0),
        ])
    header = [text("field.code", lang), text("column.name", lang), *short_headers(lang)]
    return "\n".join([_heading(province, as_of, lang), "", text_table(rows, header, align_left=2)])


def landuse_report(
    table: pd.DataFrame, /, *, classes: ClassTable | None = None, lang: Lang = "vi"
) -> str:
    """Return land-use hectares per zone and class as a table (names from ``classes``)."""
    names = {c.code: (c.name_vi if lang == "vi" else c.name_en)
             for c in (classes.classes if classes else ())}
    uncovered = text("landuse.uncovered", lang)
    rows = [
        [str(r.zone_id), r.class_code or "–",
         names.get(r.class_code, "") if r.class_code else uncovered,
         format_number(r.area_ha, 2, lang=lang), format_rate(r.share, lang=lang)]
        for r in table.itertuples(index=False)
    ]
    header = [text(key, lang) for key in ("column.zone", "field.code", "column.landuse_class",
                                          "column.area", "column.share")]
    return text_table(rows, header, align_left=3)


def problems_report(problems: Sequence[Problem], /, *, source: str, lang: Lang = "vi") -> str:
    """Return the validation report: a summary line, then one line per problem."""
    if not problems:
        return f"{source}: {text('report.problems_none', lang)}"
    errors = sum(p.is_error for p in problems)
    lines = [text("report.problems_summary", lang, errors=errors,
                  warnings=len(problems) - errors, source=source)]
    ordered = sorted(problems, key=lambda p: (not p.is_error, p.layer))
    lines += [f"- {p.render(lang)}" for p in ordered]
    return "\n".join(lines)
