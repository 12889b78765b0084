"""Readable reports of checked scenarios: findings, the planners' answers, comparisons.

The headings are those of the text catalogue, :mod:`ccn_gis.texts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ccn_gis.language import LANGS, Lang
from ccn_gis.report import format_number, format_rate, text_table
from ccn_gis.rules import Severity
from ccn_gis.scenario_check import CheckedScenario
from ccn_gis.texts import text

_KEYS = {
    "title": "scenario_report.title", "findings": "scenario_report.findings",
    "none": "scenario_report.none", "gate": "scenario_report.gate",
    "earliest": "scenario_report.earliest", "rice": "scenario_report.rice",
    "supply": "scenario_report.supply", "unit": "field.unit", "year": "column.year",
    "cluster": "column.cluster", "scenario_year": "scenario_report.scenario_year",
    "demand": "scenario_report.demand", "supply_col": "scenario_report.supply_col",
    "balance": "scenario_report.balance", "province": "scenario_report.province",
    "never": "not_by", "not_measured": "scenario_report.not_measured",
    "metric": "column.figure", "errors": "scenario_report.errors",
    "warnings": "scenario_report.warnings", "plan_ha": "scenario_report.plan_ha",
    "established": "scenario_report.established", "occupancy": "scenario_report.occupancy",
    "rice_short": "scenario_report.rice_short", "balance_short": "scenario_report.balance_short",
}

TEXT: dict[str, dict[str, str]] = {
    lang: {name: text(key, lang) for name, key in _KEYS.items()} for lang in LANGS}
"""The reports' texts by language and short name, from :mod:`ccn_gis.texts` (placeholders
such as ``{horizon}`` unfilled)."""


def scenario_report(result: CheckedScenario, /, *, lang: Lang = "vi") -> str:
    """Return a checked scenario as text: findings, then the answers.

    The findings' messages are in the language of the check (``result.lang``); the
    headings in ``lang``.
    """
    t = TEXT[lang]
    n = lambda v, d=2: format_number(v, d, lang=lang)  # noqa: E731
    scenario = result.scenario
    horizon = scenario.horizon
    lines = [t["title"].format(name=scenario.name, base=scenario.base_year,
                               horizon=horizon), ""]
    findings = result.findings
    lines.append(t["findings"].format(n=len(findings)))
    if not findings:
        lines.append(t["none"])
    for f in findings:
        where = " ".join(str(x) for x in (f.cluster_id, f.year) if x is not None)
        lines.append(f"- [{f.severity.value}] {f.rule.value} {where}: "
                     f"{f.message(result.lang)} — {f.basis}")
    answers = result.answers
    never = t["never"].format(horizon=horizon)
    lines += ["", t["gate"]]
    lines.append(text_table([[g.admin_code, g.name, str(g.year) if g.year else never]
                             for g in answers.gate_opens], [t["unit"], "", t["year"]],
                            align_left=2))
    if answers.earliest_establishment:
        lines += ["", t["earliest"]]
        lines.append(text_table([
            [e.cluster_id, str(e.admin_code),
             str(e.earliest_year) if e.earliest_year else never,
             str(e.scenario_year or "–")]
            for e in answers.earliest_establishment],
            [t["cluster"], t["unit"], t["year"], t["scenario_year"]], align_left=2))
    rice = answers.rice_converted_ha
    lines += ["", f"{t['rice'].format(horizon=horizon)}: "
              f"{n(rice) + ' ha' if rice is not None else t['not_measured']}"]
    lines += ["", t["supply"].format(horizon=horizon)]
    lines.append(text_table([
        [d.admin_code or t["province"], n(d.demand_ha), n(d.supply_ha), n(d.balance_ha)]
        for d in answers.demand_supply],
        [t["unit"], t["demand"], t["supply_col"], t["balance"]]))
    return "\n".join(lines)


@dataclass(frozen=True)
class HorizonFigures:
    """A scenario's plan at its horizon: the plan area and the clusters established (of
    the clusters in the plan then) and their occupancy (``None`` without industrial land)."""

    plan_ha: float
    established: int
    occupancy: float | None


def horizon_figures(result: CheckedScenario, /) -> HorizonFigures:
    """The plan of a checked scenario at its horizon, as :func:`comparison_report` shows it."""
    last = result.at_horizon()
    industrial = sum(r.industrial_ha for r in last)
    return HorizonFigures(
        plan_ha=sum(r.plan_ha for r in last),
        established=sum(1 for r in last if r.established),
        occupancy=(sum(r.leased_ha for r in last) / industrial) if industrial else None,
    )


def comparison_report(results: Sequence[CheckedScenario], /, *, lang: Lang = "vi") -> str:
    """Return scenarios side by side: findings, plan, occupancy, rice land, land balance."""
    t = TEXT[lang]
    horizon = results[0].scenario.horizon
    n = lambda v, d=2: format_number(v, d, lang=lang)  # noqa: E731
    figures = [horizon_figures(r) for r in results]
    rows: list[list[str]] = [
        [t["errors"]] + [str(r.count(Severity.ERROR)) for r in results],
        [t["warnings"]] + [str(r.count(Severity.WARNING)) for r in results],
        [t["plan_ha"].format(horizon=horizon)] + [n(f.plan_ha) for f in figures],
        [t["established"].format(horizon=horizon)] + [
            n(float(f.established), 0) for f in figures],
        [t["occupancy"].format(horizon=horizon)] + [
            format_rate(f.occupancy, lang=lang) for f in figures],
        [t["rice_short"]] + [n(r.answers.rice_converted_ha) for r in results],
        [t["balance_short"]] + [n(r.answers.province_balance.balance_ha) for r in results],
    ]
    return text_table(rows, [t["metric"]] + [r.scenario.name for r in results])
