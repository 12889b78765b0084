"""Readable reports of the figures: Vietnamese labels and number format, English on request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from ccn_gis.figures import Figures, ScopedFigures
from ccn_gis.formats import format_date, format_number, format_rate
from ccn_gis.landuse import ClassTable
from ccn_gis.problems import Problem
from ccn_gis.settings import Lang

LABELS: dict[str, dict[str, str]] = {
    "title": {"vi": "Cụm công nghiệp {province}", "en": "Industrial clusters of {province}"},
    "as_of": {"vi": "số liệu đến ngày {date}", "en": "as of {date}"},
    "all_records": {"vi": "toàn bộ dữ liệu", "en": "all records"},
    "figure": {"vi": "Chỉ tiêu", "en": "Figure"},
    "count": {"vi": "Số lượng", "en": "Count"},
    "area": {"vi": "Diện tích (ha)", "en": "Area (ha)"},
    "value": {"vi": "Giá trị", "en": "Value"},
    "planned": {"vi": "CCN trong quy hoạch", "en": "Clusters in the plan"},
    "established": {"vi": "CCN đã thành lập", "en": "Clusters established"},
    "detailed_plan": {"vi": "CCN đã quy hoạch chi tiết", "en": "Clusters with a detailed plan"},
    "operating": {"vi": "CCN đã đi vào hoạt động", "en": "Clusters in operation"},
    "industrial_ha": {"vi": "Đất công nghiệp (ha)", "en": "Industrial land (ha)"},
    "leased_ha": {"vi": "Đất công nghiệp đã cho thuê (ha)", "en": "Industrial land leased (ha)"},
    "occupancy": {"vi": "Tỷ lệ lấp đầy đất công nghiệp", "en": "Occupancy of industrial land"},
    "recovered_industrial_ha": {
        "vi": "Đất công nghiệp đã thu hồi (ha)", "en": "Recovered industrial land (ha)"
    },
    "occupancy_recovered": {
        "vi": "Tỷ lệ lấp đầy đất thu hồi", "en": "Occupancy of recovered land"
    },
    "projects": {"vi": "Dự án đăng ký đầu tư", "en": "Investment projects"},
    "producing": {"vi": "  đi vào sản xuất", "en": "  producing"},
    "under_construction": {"vi": "  đang xây dựng", "en": "  under construction"},
    "not_started": {"vi": "  chưa xây dựng", "en": "  not yet built"},
    "stopped": {"vi": "  ngừng hoạt động", "en": "  stopped"},
    "registered_capital": {"vi": "Vốn đăng ký (tỷ đồng)", "en": "Registered capital (bn VND)"},
    "implemented_capital": {
        "vi": "Vốn đầu tư thực hiện (tỷ đồng)", "en": "Capital invested (bn VND)"
    },
    "capital_realisation": {"vi": "Tỷ lệ vốn thực hiện", "en": "Capital realisation"},
    "registered_workers": {"vi": "Lao động đăng ký (người)", "en": "Registered workforce"},
    "workers": {"vi": "Lao động đang sử dụng (người)", "en": "Workers employed"},
    "promotion": {"vi": "Khuyến công", "en": "Industrial promotion"},
    "participants": {"vi": "Người tham gia", "en": "Participants"},
    "facilities": {"vi": "Cơ sở / mô hình", "en": "Facilities / models"},
    "sewing_training": {"vi": "Đào tạo nghề may công nghiệp", "en": "Industrial sewing training"},
    "management_training": {
        "vi": "Đào tạo quản lý, khởi sự doanh nghiệp", "en": "Management / start-up training"
    },
    "demo_model": {"vi": "Mô hình trình diễn kỹ thuật", "en": "Technical demonstration models"},
    "machinery_support": {
        "vi": "Hỗ trợ máy móc, chuyển giao công nghệ", "en": "Machinery and technology support"
    },
    "rural_product_programme": {
        "vi": "Sản phẩm công nghiệp nông thôn tiêu biểu", "en": "Typical rural industrial products"
    },
    "cluster_detailed_plan": {
        "vi": "Hỗ trợ lập quy hoạch chi tiết CCN", "en": "Cluster detailed plans funded"
    },
    "code": {"vi": "Mã", "en": "Code"},
    "zone": {"vi": "Vùng", "en": "Zone"},
    "landuse_class": {"vi": "Loại đất", "en": "Land-use class"},
    "share": {"vi": "Tỷ lệ", "en": "Share"},
    "uncovered": {"vi": "(không có dữ liệu)", "en": "(no land-use data)"},
    "name": {"vi": "Tên", "en": "Name"},
    "unit": {"vi": "Đơn vị", "en": "Unit"},
    "problems_none": {"vi": "Không có lỗi.", "en": "No problems found."},
    "problems_summary": {
        "vi": "{errors} lỗi, {warnings} cảnh báo trong {source}",
        "en": "{errors} error(s), {warnings} warning(s) in {source}",
    },
}


SHORT_HEADERS: dict[str, dict[str, str]] = {
    "vi": {"planned_ha": "QH (ha)", "established": "TL", "established_ha": "TL (ha)",
           "detailed_plan": "QHCT", "detailed_plan_ha": "QHCT (ha)", "operating": "HĐ",
           "industrial_ha": "Đất CN (ha)", "leased_ha": "Đã thuê (ha)", "occupancy": "Lấp đầy",
           "projects": "Dự án"},
    "en": {"planned_ha": "Plan (ha)", "established": "Est.", "established_ha": "Est. (ha)",
           "detailed_plan": "Det.", "detailed_plan_ha": "Det. (ha)", "operating": "Oper.",
           "industrial_ha": "Ind. (ha)", "leased_ha": "Leased (ha)", "occupancy": "Occup.",
           "projects": "Projects"},
}
"""Short column headers of the per-unit and per-cluster tables."""


def label(key: str, lang: Lang = "vi", **values: object) -> str:
    """Return the label ``key`` in ``lang``, formatted with ``values``."""
    return LABELS[key][lang].format(**values)


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
    when = label("as_of", lang, date=format_date(as_of, lang=lang)) if as_of else label(
        "all_records", lang
    )
    return f"{label('title', lang, province=province)} — {when}"


def province_report(
    figures: Figures, /, *, province: str, as_of: dt.date | None = None, lang: Lang = "vi"
) -> str:
    """Return the province's figures as a readable two-part table."""
    n = lambda v, d=2: format_number(v, d, lang=lang)  # noqa: E731
    rows = [
        [label(k, lang), str(getattr(figures, k).count), n(getattr(figures, k).area_ha)]
        for k in ("planned", "established", "detailed_plan", "operating")
    ]
    rows += [
        [label("industrial_ha", lang), "", n(figures.industrial_ha)],
        [label("leased_ha", lang), "", n(figures.leased_ha)],
        [label("occupancy", lang), "", format_rate(figures.occupancy, lang=lang)],
        [label("recovered_industrial_ha", lang), "", n(figures.recovered_industrial_ha)],
        [label("occupancy_recovered", lang), "",
         format_rate(figures.occupancy_recovered, lang=lang)],
    ]
    p = figures.projects
    rows += [[label("projects", lang), n(p.count, 0), ""]]
    rows += [[label(s, lang), n(c, 0), ""] for s, c in p.by_status.items()]
    rows += [
        [label("registered_capital", lang), "", n(p.registered_capital_bn_vnd, 0)],
        [label("implemented_capital", lang), "", n(p.implemented_capital_bn_vnd, 0)],
        [label("capital_realisation", lang), "", format_rate(p.capital_realisation, lang=lang)],
        [label("registered_workers", lang), "", n(p.registered_workers, 0)],
        [label("workers", lang), "", n(p.workers, 0)],
    ]
    parts = [
        _heading(province, as_of, lang),
        "",
        text_table(rows, [label("figure", lang), label("count", lang), label("area", lang)]),
    ]
    if figures.promotion:
        promo = [
            [label(k, lang), n(v.participants, 0), n(v.facilities, 0)]
            for k, v in figures.promotion.items()
        ]
        parts += [
            "",
            text_table(promo, [label("promotion", lang), label("participants", lang),
                           label("facilities", lang)]),
        ]
    return "\n".join(parts)


def scoped_report(
    items: Sequence[ScopedFigures], /, *, province: str, as_of: dt.date | None = None,
    lang: Lang = "vi",
) -> str:
    """Return one row per unit or cluster with the main figures."""
    n = lambda v, d=2: format_number(v, d, lang=lang)  # noqa: E731
    short = list(SHORT_HEADERS[lang].values())
    rows = []
    for item in items:
        f = item.figures
        rows.append([
            item.code, item.name, n(f.planned.area_ha), str(f.established.count),
            n(f.established.area_ha), str(f.detailed_plan.count), n(f.detailed_plan.area_ha),
            str(f.operating.count), n(f.industrial_ha), n(f.leased_ha),
            format_rate(f.occupancy, lang=lang), n(f.projects.count, 0),
        ])
    header = [label("code", lang), label("name", lang), *short]
    return "\n".join([_heading(province, as_of, lang), "", text_table(rows, header, align_left=2)])


def landuse_report(
    table: pd.DataFrame, /, *, classes: ClassTable | None = None, lang: Lang = "vi"
) -> str:
    """Return land-use hectares per zone and class as a table (names from ``classes``)."""
    names = {c.code: (c.name_vi if lang == "vi" else c.name_en)
             for c in (classes.classes if classes else ())}
    uncovered = label("uncovered", lang)
    rows = [
        [str(r.zone_id), r.class_code or "–",
         names.get(r.class_code, "") if r.class_code else uncovered,
         format_number(r.area_ha, 2, lang=lang), format_rate(r.share, lang=lang)]
        for r in table.itertuples(index=False)
    ]
    header = [label("zone", lang), label("code", lang), label("landuse_class", lang),
              label("area", lang), label("share", lang)]
    return text_table(rows, header, align_left=3)


def problems_report(problems: Sequence[Problem], /, *, source: str, lang: Lang = "vi") -> str:
    """Return the validation report: a summary line, then one line per problem."""
    if not problems:
        return f"{source}: {label('problems_none', lang)}"
    errors = sum(p.is_error for p in problems)
    lines = [label("problems_summary", lang, errors=errors, warnings=len(problems) - errors,
                   source=source)]
    ordered = sorted(problems, key=lambda p: (not p.is_error, p.layer))
    lines += [f"- {p.render(lang)}" for p in ordered]
    return "\n".join(lines)
