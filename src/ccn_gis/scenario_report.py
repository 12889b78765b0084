"""Readable reports of checked scenarios: findings, the planners' answers, comparisons."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccn_gis.report import format_number, format_rate, text_table
from ccn_gis.settings import Lang

TEXT = {
    "vi": {
        "title": "Kịch bản: {name} (năm gốc {base}, đến năm {horizon})",
        "findings": "Phát hiện ({n})",
        "none": "Không có phát hiện nào: kịch bản đáp ứng các quy định.",
        "gate": "Năm đơn vị đủ điều kiện thành lập cụm mới",
        "earliest": "Năm sớm nhất được thành lập (cụm đang quy hoạch)",
        "rice": "Đất trồng lúa chuyển sang cụm công nghiệp đến {horizon}",
        "supply": "Cung – cầu đất công nghiệp đến {horizon} (ha)",
        "unit": "Đơn vị", "year": "Năm", "cluster": "Cụm", "scenario_year": "Năm trong kịch bản",
        "demand": "Cầu", "supply_col": "Cung", "balance": "Chênh lệch", "province": "Toàn tỉnh",
        "never": "chưa đến {horizon}",
        "not_measured": "không đo được (không có bản đồ sử dụng đất)",
        "metric": "Chỉ tiêu", "errors": "Lỗi", "warnings": "Cảnh báo",
        "plan_ha": "Diện tích quy hoạch đến {horizon} (ha)",
        "established": "CCN đã thành lập đến {horizon}",
        "occupancy": "Tỷ lệ lấp đầy năm {horizon}", "rice_short": "Đất lúa chuyển đổi (ha)",
        "balance_short": "Cung trừ cầu đất CN (ha)",
    },
    "en": {
        "title": "Scenario: {name} (base year {base}, horizon {horizon})",
        "findings": "Findings ({n})", "none": "No findings: the scenario meets the rules.",
        "gate": "Year each unit may establish a new cluster",
        "earliest": "Earliest legal establishment (planned clusters)",
        "rice": "Rice land converted to clusters by {horizon}",
        "supply": "Industrial land supply and demand to {horizon} (ha)",
        "unit": "Unit", "year": "Year", "cluster": "Cluster", "scenario_year": "Scenario year",
        "demand": "Demand", "supply_col": "Supply", "balance": "Balance", "province": "Province",
        "never": "not by {horizon}", "not_measured": "not measured (no land-use map)",
        "metric": "Figure", "errors": "Errors", "warnings": "Warnings",
        "plan_ha": "Plan area by {horizon} (ha)",
        "established": "Clusters established by {horizon}",
        "occupancy": "Occupancy in {horizon}", "rice_short": "Rice land converted (ha)",
        "balance_short": "Industrial land supply minus demand (ha)",
    },
}


def scenario_report(result: dict[str, Any], /, *, lang: Lang = "vi") -> str:
    """Return a checked scenario as text: findings, then the answers."""
    t = TEXT[lang]
    n = lambda v, d=2: format_number(v, d, lang=lang)  # noqa: E731
    horizon = result["horizon"]
    lines = [t["title"].format(name=result["scenario"], base=result["base_year"],
                               horizon=horizon), ""]
    findings = result["findings"]
    lines.append(t["findings"].format(n=len(findings)))
    if not findings:
        lines.append(t["none"])
    for f in findings:
        where = " ".join(str(x) for x in (f["cluster_id"], f["year"]) if x is not None)
        lines.append(f"- [{f['severity']}] {f['rule']} {where}: {f['message']} — {f['basis']}")
    answers = result["answers"]
    never = t["never"].format(horizon=horizon)
    lines += ["", t["gate"]]
    lines.append(text_table([[g["admin_code"], g["name"], str(g["year"]) if g["year"] else never]
                         for g in answers["gate_opens"]], [t["unit"], "", t["year"]],
                        align_left=2))
    if answers["earliest_establishment"]:
        lines += ["", t["earliest"]]
        lines.append(text_table([
            [e["cluster_id"], str(e["admin_code"]),
             str(e["earliest_year"]) if e["earliest_year"] else never,
             str(e["scenario_year"] or "–")]
            for e in answers["earliest_establishment"]],
            [t["cluster"], t["unit"], t["year"], t["scenario_year"]], align_left=2))
    rice = answers["rice_converted_ha"]
    lines += ["", f"{t['rice'].format(horizon=horizon)}: "
              f"{n(rice) + ' ha' if rice is not None else t['not_measured']}"]
    lines += ["", t["supply"].format(horizon=horizon)]
    lines.append(text_table([
        [d["admin_code"] or t["province"], n(d["demand_ha"]), n(d["supply_ha"]),
         n(d["balance_ha"])] for d in answers["demand_supply"]],
        [t["unit"], t["demand"], t["supply_col"], t["balance"]]))
    return "\n".join(lines)


def _horizon_figures(result: dict[str, Any]) -> dict[str, float | None]:
    last = [r for r in result["years"] if r["year"] == result["horizon"] and r["in_plan"]]
    industrial = sum(r["industrial_ha"] for r in last)
    return {
        "plan_ha": sum(r["plan_ha"] for r in last),
        "established": float(sum(1 for r in last if r["established"])),
        "occupancy": (sum(r["leased_ha"] for r in last) / industrial) if industrial else None,
    }


def comparison_report(results: Sequence[dict[str, Any]], /, *, lang: Lang = "vi") -> str:
    """Return scenarios side by side: findings, plan, occupancy, rice land, land balance."""
    t = TEXT[lang]
    horizon = results[0]["horizon"]
    n = lambda v, d=2: format_number(v, d, lang=lang)  # noqa: E731
    rows: list[list[str]] = [
        [t["errors"]] + [str(sum(f["severity"] == "error" for f in r["findings"]))
                         for r in results],
        [t["warnings"]] + [str(sum(f["severity"] == "warning" for f in r["findings"]))
                           for r in results],
        [t["plan_ha"].format(horizon=horizon)] + [n(_horizon_figures(r)["plan_ha"])
                                                  for r in results],
        [t["established"].format(horizon=horizon)] + [
            n(_horizon_figures(r)["established"], 0) for r in results],
        [t["occupancy"].format(horizon=horizon)] + [
            format_rate(_horizon_figures(r)["occupancy"], lang=lang) for r in results],
        [t["rice_short"]] + [n(r["answers"]["rice_converted_ha"]) for r in results],
        [t["balance_short"]] + [
            n(next(d for d in r["answers"]["demand_supply"] if d["admin_code"] is None)[
                "balance_ha"]) for r in results],
    ]
    return text_table(rows, [t["metric"]] + [r["scenario"] for r in results])
