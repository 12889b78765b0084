"""The rules of Decree 32/2024/NĐ-CP checked on a projected scenario.

Every finding names its rule, severity, cluster, year, the measured value, the limit,
the legal basis and a message in Vietnamese and English. A geometry that breaks a rule
is a finding, never an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ccn_gis.budget import checkpoint
from ccn_gis.dataset import Dataset
from ccn_gis.formats import format_number, format_rate
from ccn_gis.model import ClusterKind, LandUse
from ccn_gis.projection import HA, Projection, unit_table
from ccn_gis.scenario import ChangeKind
from ccn_gis.settings import RuleSettings

TOLERANCE_M = 0.05
DECREE = "Nghị định 32/2024/NĐ-CP"


class Rule(str, Enum):
    AREA_MAX = "AREA_MAX"
    AREA_MIN = "AREA_MIN"
    NEW_CLUSTER_GATE = "NEW_CLUSTER_GATE"
    EXPANSION_GATE = "EXPANSION_GATE"
    SERVICES_SHARE = "SERVICES_SHARE"
    OVERLAP = "OVERLAP"
    OUTSIDE_PROVINCE = "OUTSIDE_PROVINCE"
    PLAN_TOTAL = "PLAN_TOTAL"
    PROTECTED_LAND = "PROTECTED_LAND"


BASIS = {
    Rule.AREA_MAX: f"{DECREE}, Điều 2 khoản 1, Điều 8 (Decree 32/2024, Art. 2(1), Art. 8)",
    Rule.AREA_MIN: f"{DECREE}, Điều 2 khoản 1 (Art. 2(1))",
    Rule.NEW_CLUSTER_GATE: f"{DECREE}, Điều 8 (Art. 8)",
    Rule.EXPANSION_GATE: f"{DECREE}, Điều 8 (Art. 8)",
    Rule.SERVICES_SHARE: f"{DECREE}, Điều 3 khoản 1 (Art. 3(1))",
    Rule.OVERLAP: f"{DECREE}: mỗi cụm có ranh giới riêng (each cluster has its own boundary)",
    Rule.OUTSIDE_PROVINCE: f"{DECREE}: phương án phát triển cụm công nghiệp của tỉnh "
    "(the province's cluster plan)",
    Rule.PLAN_TOTAL: "Quy hoạch tỉnh thời kỳ 2021–2030 được phê duyệt (the approved plan)",
    Rule.PROTECTED_LAND: "Luật Đất đai 2024: chuyển mục đích đất trồng lúa, rừng phòng hộ, "
    "đất thủy lợi, nghĩa trang cần được phép riêng (conversion needs its own approval)",
}


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One rule broken (or a warning): what, where, when, how much, and why it matters."""

    rule: Rule
    severity: Severity
    cluster_id: str | None
    year: int
    value: float | None
    limit: float | None
    basis: str
    message_vi: str
    message_en: str

    def message(self, lang: str = "vi") -> str:
        """The message in ``lang`` (``vi``, else English)."""
        return self.message_vi if lang == "vi" else self.message_en

    def to_dict(self, lang: str = "vi") -> dict[str, Any]:
        """JSON-ready, with ``message`` in ``lang`` besides both languages."""
        data = asdict(self)
        data["rule"], data["severity"] = self.rule.value, self.severity.value
        data["message"] = self.message(lang)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """The finding read back from its :meth:`to_dict` (``message`` is left out)."""
        return cls(Rule(data["rule"]), Severity(data["severity"]), data["cluster_id"],
                   data["year"], data["value"], data["limit"], data["basis"],
                   data["message_vi"], data["message_en"])


@dataclass(frozen=True)
class GateState:
    """The new-cluster gate of a unit at the end of a year (Art. 8).

    ``average_occupancy`` is the average the gate looks at (``None``: no established
    cluster has industrial land); ``unleased_ha`` the unleased industrial land of the
    unit's established clusters.
    """

    is_open: bool
    average_occupancy: float | None
    unleased_ha: float


def _ha(value: float) -> float:
    return round(float(value), 2)  # rules compare areas as reported: to 0.01 ha


def _vn(value: float | None, decimals: int = 2) -> str:
    return format_number(value, decimals)


def _pct(value: float | None) -> str:
    return format_rate(value)


def _en_pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def check_rules(
    dataset: Dataset,
    projection: Projection,
    /,
    *,
    protected_ha: Callable[[list[object]], list[float]] | None = None,
) -> list[Finding]:
    """Every finding of the scenario's projection, ordered by year, rule and cluster.

    ``protected_ha`` measures the hectares of protected land-use classes under each of
    a list of geometries (area CRS); without it PROTECTED_LAND is not checked.
    """
    findings: list[Finding] = []
    for rule_findings in (
        lambda: _area_rules(projection),
        lambda: _gates(dataset, projection),
        lambda: _services_share(dataset, projection),
        lambda: _outside(dataset, projection),
        lambda: _plan_total(dataset, projection),
        lambda: _protected_land(projection, protected_ha) if protected_ha else [],
    ):
        checkpoint()
        findings += _bounded(rule_findings())
    checkpoint()
    findings += _bounded(*_overlaps(projection))
    return sorted(findings, key=lambda f: (f.year, f.rule.value, f.cluster_id or ""))


MAX_FINDINGS_PER_RULE = 200
"""Findings listed for one rule; the rest are counted in one more finding."""


def _bounded(findings: list[Finding], unmeasured: int = 0) -> list[Finding]:
    """The first :data:`MAX_FINDINGS_PER_RULE` findings of a rule, and one that counts the
    others (with ``unmeasured`` more that were found but not measured).

    A scenario of hundreds of changes could otherwise answer with every pair of them.
    """
    if len(findings) <= MAX_FINDINGS_PER_RULE and not unmeasured:
        return findings
    kept = sorted(findings, key=lambda f: (f.year, f.cluster_id or ""))[:MAX_FINDINGS_PER_RULE]
    more = len(findings) - len(kept) + unmeasured
    like = kept[0]
    return [*kept, Finding(
        like.rule, like.severity, None, max(f.year for f in findings), float(more), None,
        like.basis,
        f"Còn {format_number(more, 0)} trường hợp {like.rule.value} khác không liệt kê ở đây",
        f"{more:,} more {like.rule.value} findings are not listed")]


def _change_years(projection: Projection) -> dict[str, int]:
    """The first year a change touches each cluster (the base year for the others)."""
    years: dict[str, int] = {}
    for c in projection.scenario.changes:
        if c.year:
            years[c.cluster_id] = min(c.year, years.get(c.cluster_id, c.year))
    return years


def _area_rules(projection: Projection) -> list[Finding]:
    rules = projection.scenario.rules
    changed, base = _change_years(projection), projection.scenario.base_year
    out = []
    rows = projection.clusters
    for cid, group in rows[rows["in_plan"]].groupby("cluster_id"):
        kind = projection.plan.at[cid, "kind"]
        areas = group[["plan_ha", "established_ha"]].max(axis=1)
        first_big = group[areas.map(_ha) > rules.area_max_ha]
        if len(first_big):
            year = int(first_big["year"].iloc[0])
            value = _ha(areas[first_big.index[0]])
            out.append(Finding(
                Rule.AREA_MAX, Severity.ERROR, cid, year, value, rules.area_max_ha,
                BASIS[Rule.AREA_MAX],
                f"Cụm {cid} rộng {_vn(value)} ha, vượt mức tối đa {_vn(rules.area_max_ha)} ha",
                f"Cluster {cid} covers {value:.2f} ha, above the maximum of "
                f"{rules.area_max_ha:.2f} ha"))
        limit = rules.area_min_craft_village_ha if kind == ClusterKind.CRAFT_VILLAGE.value \
            else rules.area_min_ha
        last = group.iloc[-1]
        value = _ha(max(last["plan_ha"], last["established_ha"]))
        if value < limit:
            out.append(Finding(
                Rule.AREA_MIN, Severity.ERROR, cid, changed.get(cid, base), value, limit,
                BASIS[Rule.AREA_MIN],
                f"Cụm {cid} chỉ rộng {_vn(value)} ha, dưới mức tối thiểu {_vn(limit)} ha",
                f"Cluster {cid} covers only {value:.2f} ha, below the minimum of {limit:.2f} ha"))
    return out


def _gates(dataset: Dataset, projection: Projection) -> list[Finding]:
    rules = projection.scenario.rules
    units = unit_table(projection, mean=rules.gate_mean).set_index(["year", "admin_code"])
    rows = projection.clusters.set_index(["year", "cluster_id"])
    out = []
    for change in projection.scenario.changes:
        if change.kind in (ChangeKind.ESTABLISH, ChangeKind.ADD) and change.year:
            unit = projection.plan.at[change.cluster_id, "admin_code"]
            state = gate_state(units, unit, change.year - 1, rules)
            if not state.is_open:
                out.append(Finding(
                    Rule.NEW_CLUSTER_GATE, Severity.ERROR, change.cluster_id, change.year,
                    state.average_occupancy, rules.gate_occupancy, BASIS[Rule.NEW_CLUSTER_GATE],
                    f"Chưa được thành lập cụm {change.cluster_id} năm {change.year}: các cụm hiện "
                    f"có của đơn vị {unit} lấp đầy bình quân {_pct(state.average_occupancy)} "
                    f"(cần trên {_pct(rules.gate_occupancy)}) và còn "
                    f"{_vn(state.unleased_ha)} ha đất công nghiệp chưa cho thuê (cần không "
                    f"quá {_vn(rules.gate_unleased_ha)} ha)",
                    f"Cluster {change.cluster_id} may not be established in {change.year}: the "
                    f"existing clusters of unit {unit} average "
                    f"{_en_pct(state.average_occupancy)} occupancy (more than "
                    f"{rules.gate_occupancy:.0%} needed) and have {state.unleased_ha:.2f} ha "
                    f"of unleased industrial land (at most {rules.gate_unleased_ha:.2f} ha)"))
        if change.kind is ChangeKind.EXPAND and change.year:
            before = rows.loc[(change.year - 1, change.cluster_id)]
            occupancy = before["occupancy"]
            complete = bool(projection.plan.at[change.cluster_id, "infrastructure_complete"])
            if occupancy is None or pd.isna(occupancy) or occupancy < rules.expansion_occupancy \
                    or not complete:
                shown = None if occupancy is None or pd.isna(occupancy) else float(occupancy)
                why_vi = [] if complete else ["hạ tầng thiết yếu chưa hoàn thành"]
                why_en = [] if complete else ["essential infrastructure is not complete"]
                if shown is None or shown < rules.expansion_occupancy:
                    why_vi.insert(0, f"tỷ lệ lấp đầy {_pct(shown)} (cần ít nhất "
                                     f"{_pct(rules.expansion_occupancy)})")
                    why_en.insert(0, f"occupancy is {'–' if shown is None else f'{shown:.1%}'} "
                                     f"(at least {rules.expansion_occupancy:.0%} needed)")
                out.append(Finding(
                    Rule.EXPANSION_GATE, Severity.ERROR, change.cluster_id, change.year, shown,
                    rules.expansion_occupancy, BASIS[Rule.EXPANSION_GATE],
                    f"Chưa được mở rộng cụm {change.cluster_id} năm {change.year}: "
                    + "; ".join(why_vi),
                    f"Cluster {change.cluster_id} may not be expanded in {change.year}: "
                    + "; ".join(why_en)))
    return out


def gate_state(units: pd.DataFrame, unit: str, year: int, rules: RuleSettings) -> GateState:
    """Whether the new-cluster gate of ``unit`` is open at the end of ``year``.

    Open when the unit's established clusters average more than the occupancy threshold,
    or hold at most the unleased threshold of industrial land; a unit without clusters
    has nothing to fill first and is open. ``units`` is
    :func:`~ccn_gis.projection.unit_table` indexed by ``year`` and ``admin_code``.
    """
    if (year, unit) not in units.index:
        return GateState(True, None, 0.0)
    row = units.loc[(year, unit)]
    average = row["average_occupancy"]
    average = None if average is None or pd.isna(average) else float(average)
    unleased = float(row["unleased_ha"])
    is_open = (average is not None and average > rules.gate_occupancy) or (
        _ha(unleased) <= rules.gate_unleased_ha)
    return GateState(bool(is_open), average, unleased)


def _services_share(dataset: Dataset, projection: Projection) -> list[Finding]:
    rules = projection.scenario.rules
    parcels = dataset.parcels
    services = parcels[parcels["land_use"] == LandUse.SERVICES.value].groupby("cluster_id")[
        "area_ha"].sum()
    out = []
    plan_ha = {cid: shapely.area(g) / HA for cid, g in projection.plan["geometry"].items()}
    for cid, area in services.items():
        if cid not in plan_ha or plan_ha[cid] <= 0:
            continue
        share = area / plan_ha[cid]
        if round(share, 4) > rules.services_share_max:
            out.append(Finding(
                Rule.SERVICES_SHARE, Severity.ERROR, cid, projection.scenario.base_year,
                float(share), rules.services_share_max, BASIS[Rule.SERVICES_SHARE],
                f"Đất dịch vụ của cụm {cid} chiếm {_pct(share)} diện tích cụm, vượt "
                f"{_pct(rules.services_share_max)}",
                f"Service land takes {share:.1%} of cluster {cid}, above "
                f"{rules.services_share_max:.0%}"))
    return out


def _in_plan_at_horizon(projection: Projection) -> list[str]:
    last = projection.clusters[projection.clusters["year"] == projection.scenario.horizon]
    return list(last.loc[last["in_plan"], "cluster_id"])


def _overlaps(projection: Projection) -> tuple[list[Finding], int]:
    """The overlapping pairs: the first ones measured, and how many more there are."""
    ids = _in_plan_at_horizon(projection)
    geoms = np.asarray([projection.plan.at[c, "geometry"] for c in ids], dtype=object)
    shrunk = shapely.buffer(geoms, -TOLERANCE_M)
    tree = shapely.STRtree(shrunk)
    left, right = tree.query(shrunk, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    changed = _change_years(projection)
    base = projection.scenario.base_year
    out: list[Finding] = []
    for n, (i, j) in enumerate(zip(left, right, strict=True)):
        if n == MAX_FINDINGS_PER_RULE:  # the others are counted, not measured
            return out, len(left) - n
        checkpoint()
        area = shapely.area(shapely.intersection(geoms[i], geoms[j])) / HA
        a, b = ids[i], ids[j]
        year = max(changed.get(a, base), changed.get(b, base))
        out.append(Finding(
            Rule.OVERLAP, Severity.ERROR, a, year, _ha(area), 0.0, BASIS[Rule.OVERLAP],
            f"Cụm {a} chồng lấn cụm {b} trên {_vn(area)} ha",
            f"Cluster {a} overlaps cluster {b} by {area:.2f} ha"))
    return out, 0


def _outside(dataset: Dataset, projection: Projection) -> list[Finding]:
    units = dataset.admin_units
    base_end = pd.Timestamp(f"{projection.scenario.base_year}-12-31")
    valid = units[(units["valid_from"].isna() | (units["valid_from"] <= base_end))
                  & (units["valid_to"].isna() | (units["valid_to"] >= base_end))]
    provinces = valid[valid["level"] == "province"]
    province = shapely.union_all(np.asarray(provinces.geometry.array, dtype=object)) \
        if len(provinces) else None
    by_code = units.drop_duplicates("code").set_index("code").geometry
    changed, base = _change_years(projection), projection.scenario.base_year
    out = []
    for cid in _in_plan_at_horizon(projection):
        checkpoint()
        geom = projection.plan.at[cid, "geometry"]
        unit = projection.plan.at[cid, "admin_code"]
        for container, where_vi, where_en in (
                (province, "tỉnh", "the province"),
                (by_code.get(unit), f"đơn vị {unit}", f"its unit {unit}")):
            if container is None:
                continue
            outside = shapely.area(shapely.difference(geom, shapely.buffer(container,
                                                                           TOLERANCE_M))) / HA
            if outside > 0:
                out.append(Finding(
                    Rule.OUTSIDE_PROVINCE, Severity.ERROR, cid, changed.get(cid, base),
                    _ha(outside), 0.0, BASIS[Rule.OUTSIDE_PROVINCE],
                    f"Cụm {cid} có {_vn(outside)} ha nằm ngoài {where_vi}",
                    f"Cluster {cid} has {outside:.2f} ha outside {where_en}"))
                break
    return out


def _plan_total(dataset: Dataset, projection: Projection) -> list[Finding]:
    limit = projection.scenario.rules.plan_total_ha
    if limit is None:
        limit = dataset.settings.plan_total_ha
    if limit is None:
        return []
    totals = projection.clusters.groupby("year")["plan_ha"].sum()
    over = totals[totals.map(_ha) > limit]
    if not len(over):
        return []
    year, total = int(over.index[0]), float(over.iloc[0])
    return [Finding(
        Rule.PLAN_TOTAL, Severity.ERROR, None, year, _ha(total), float(limit),
        BASIS[Rule.PLAN_TOTAL],
        f"Tổng diện tích quy hoạch {_vn(total)} ha vượt tổng được duyệt {_vn(limit)} ha",
        f"The plan's total of {total:.2f} ha exceeds the approved {limit:.2f} ha")]


def _protected_land(
    projection: Projection, protected_ha: Callable[[list[object]], list[float]]
) -> list[Finding]:
    rules = projection.scenario.rules
    land = list(projection.new_land)
    if not land:
        return []
    hectares = protected_ha([n.geometry for n in land])
    out = []
    classes = ", ".join(rules.protected_classes)
    for item, ha in zip(land, hectares, strict=True):
        if _ha(ha) > rules.protected_warn_ha:
            out.append(Finding(
                Rule.PROTECTED_LAND, Severity.WARNING, item.cluster_id, item.year, _ha(ha),
                rules.protected_warn_ha, BASIS[Rule.PROTECTED_LAND],
                f"Phần đất mới của cụm {item.cluster_id} năm {item.year} lấy {_vn(ha)} ha đất "
                f"cần bảo vệ ({classes})",
                f"The new land of cluster {item.cluster_id} in {item.year} takes {ha:.2f} ha of "
                f"protected land ({classes})"))
    return out
