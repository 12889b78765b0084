"""A checked scenario as tables and series: findings, the province by year, the comparison.

Everything here reads the JSON of ``ccn-gis scenario check --json`` (the library's check,
:func:`~ccn_gis.notebook.read_scenario_result`), so a server and the file give the same
tables; occupancy is :func:`ccn_gis.occupancy.rates`, the one formula.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ccn_gis.formats import format_number, format_rate
from ccn_gis.language import Lang
from ccn_gis.notebook.tables import TOTAL
from ccn_gis.occupancy import rates
from ccn_gis.rules import Rule, Severity
from ccn_gis.scenario import ChangeKind
from ccn_gis.scenario_report import TEXT as SCENARIO_TEXT
from ccn_gis.texts import text

SEVERITY_LABELS = {s.value: text(f"severity.{s.value}") for s in Severity}
"""A finding's ``severity`` in Vietnamese (the catalogue's ``severity.*``)."""

RULE_LABELS: dict[str, str] = {r.value: text(f"rule.{r.value}") for r in Rule}
"""The rules of :mod:`ccn_gis.rules` in Vietnamese (the catalogue's ``rule.*``), in their
order there."""

RATE_RULES = frozenset({Rule.NEW_CLUSTER_GATE.value, Rule.EXPANSION_GATE.value,
                        Rule.SERVICES_SHARE.value})
"""Rules whose value and limit are fractions (occupancy, share); the others are hectares."""

FINDING_COLUMNS: dict[str, str] = {
    "rule": text("notebook.finding.rule"),
    "severity": text("notebook.finding.severity"),
    "cluster_id": text("column.cluster"),
    "year": text("column.year"),
    "value": text("column.value"),
    "limit": text("notebook.finding.limit"),
    "message": text("column.message"),
    "basis": text("notebook.finding.basis"),
}
"""The columns of :func:`findings_table` and their Vietnamese headers."""

HORIZON_COLUMNS = ("in_plan", "established", "plan_ha", "established_ha", "industrial_ha",
                   "leased_ha", "occupancy")
"""A cluster's figures at the horizon, as the check's ``years`` give them."""

SCENARIO_CLUSTER_COLUMNS = ("cluster_id", "name", "admin_code", "kind", *HORIZON_COLUMNS,
                            "change", "change_year", "findings", "severity", "status", "errors",
                            "warnings")
"""The columns of :func:`read_scenario_clusters`, before any other property and the geometry."""

PROVINCE = text("whole_province")
"""The row of the whole province in :func:`demand_supply`."""


def scenario_id(scenario: str | Path, /) -> str:
    """Return the API's id of a scenario: the name of its file without ``.yaml``.

    Examples
    --------
    >>> scenario_id("../scenarios/fast_growth.yaml")
    'fast_growth'
    >>> scenario_id("fast_growth")
    'fast_growth'
    """
    path = Path(scenario)
    return path.stem if path.suffix.lower() in (".yaml", ".yml") else str(scenario)


def scenario_status(result: Mapping[str, Any], /) -> pd.DataFrame:
    """Return each cluster's figures and status at the horizon, indexed by ``cluster_id``.

    Columns :data:`HORIZON_COLUMNS` (from ``result["years"]``); ``severity``, the worst
    of its findings (``"error"``, ``"warning"``, ``None``: none); ``status``:
    ``removed`` (out of the plan at the horizon), ``added`` (a new cluster),
    ``newly_established`` (established during the scenario), ``expanded``,
    ``established`` (before the base year) or ``planned``; and the number of its
    ``errors`` and ``warnings``.
    """
    years = pd.DataFrame(result["years"])
    base = years[years["year"] == result["base_year"]].set_index("cluster_id")
    last = years[years["year"] == result["horizon"]].set_index("cluster_id")
    kinds: dict[str, set[str]] = {}
    for change in result["changes"]:
        kinds.setdefault(change["cluster_id"], set()).add(change["kind"])
    status = []
    for cid, row in last.iterrows():
        done = kinds.get(str(cid), set())
        if not row["in_plan"]:
            status.append("removed")
        elif ChangeKind.ADD.value in done:
            status.append("added")
        elif row["established"] and not base.at[cid, "established"]:
            status.append("newly_established")
        elif ChangeKind.EXPAND.value in done:
            status.append("expanded")
        else:
            status.append("established" if row["established"] else "planned")
    frame = pd.DataFrame(last[list(HORIZON_COLUMNS)])
    frame["occupancy"] = frame["occupancy"].astype("float64")
    findings = pd.DataFrame(result["findings"], columns=["cluster_id", "severity"])
    counts = findings.groupby(["cluster_id", "severity"]).size()
    errors = [int(counts.get((c, Severity.ERROR.value), 0)) for c in frame.index]
    warnings = [int(counts.get((c, Severity.WARNING.value), 0)) for c in frame.index]
    frame["severity"] = [Severity.ERROR.value if e else Severity.WARNING.value if w else None
                         for e, w in zip(errors, warnings, strict=True)]
    frame["status"] = status
    frame["errors"] = errors
    frame["warnings"] = warnings
    frame.index.name = "cluster_id"
    return frame


def findings_table(result: Mapping[str, Any], /) -> pd.DataFrame:
    """Return a scenario's findings in Vietnamese, one row each, in the order of the check.

    The columns of :data:`FINDING_COLUMNS`: the rule (its id), the severity in words,
    the cluster (``–`` for the whole province), the year, the measured value and the
    limit (rates as ``30,3 %``, areas as ``85,12 ha``), the message in Vietnamese and
    the legal basis.
    """
    rows = []
    for f in result["findings"]:
        rows.append({
            "rule": f["rule"], "severity": SEVERITY_LABELS.get(f["severity"], f["severity"]),
            "cluster_id": f["cluster_id"] or "–", "year": f["year"],
            "value": _finding_value(f["value"], f["rule"]),
            "limit": _finding_value(f["limit"], f["rule"]),
            "message": f.get("message_vi", f["message"]), "basis": f["basis"],
        })
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS)).rename(columns=FINDING_COLUMNS)


def findings_by_rule(results: Sequence[Mapping[str, Any]], /) -> pd.DataFrame:
    """Return the number of findings of each rule, one column per scenario, and the total.

    The rows are the rules found in any of the scenarios, in the order of
    :data:`RULE_LABELS`, indexed by rule id with their Vietnamese name and severity.
    """
    counts = [pd.Series([f["rule"] for f in r["findings"]], dtype=object).value_counts()
              for r in results]
    severity = {f["rule"]: f["severity"] for r in results for f in r["findings"]}
    found = [r for r in RULE_LABELS if r in severity]
    found += sorted(set(severity) - set(found))
    frame = pd.DataFrame({
        text("notebook.finding.rule_name"): [RULE_LABELS.get(r, "") for r in found],
        FINDING_COLUMNS["severity"]: [SEVERITY_LABELS.get(severity[r], severity[r])
                                      for r in found],
        **{r["scenario"]: [int(c.get(rule, 0)) for rule in found]
           for r, c in zip(results, counts, strict=True)},
    }, index=pd.Index(found, name=FINDING_COLUMNS["rule"]))
    frame.loc[TOTAL] = ["", "", *[len(r["findings"]) for r in results]]
    return frame


def scenario_years(result: Mapping[str, Any], /) -> pd.DataFrame:
    """Return the province year by year, base year to horizon, one row per year.

    Sums over the clusters in the plan that year: ``plan_ha``, ``established`` (count),
    ``established_ha``, ``industrial_ha``, ``leased_ha``, and ``occupancy``
    (leased ÷ industrial land, NaN without industrial land) — at the horizon the
    figures of ``ccn-gis scenario compare``.
    """
    rows = pd.DataFrame(result["years"])
    rows = rows[rows["in_plan"].astype(bool)]
    by_year = rows.groupby("year")
    frame = pd.DataFrame({
        "plan_ha": by_year["plan_ha"].sum(),
        "established": by_year["established"].sum().astype("int64"),
        "established_ha": by_year["established_ha"].sum(),
        "industrial_ha": by_year["industrial_ha"].sum(),
        "leased_ha": by_year["leased_ha"].sum(),
    })
    frame = frame.reindex(range(result["base_year"], result["horizon"] + 1))
    frame["occupancy"] = rates(frame["leased_ha"], frame["industrial_ha"])
    frame.index.name = "year"
    return frame


def demand_supply(result: Mapping[str, Any], /) -> pd.DataFrame:
    """Return industrial land demand and supply by the horizon, per unit and the province.

    Indexed by unit code (:data:`PROVINCE` last): ``name``, ``demand_ha`` (what the
    absorption rates would lease), ``supply_ha`` (unleased industrial land at the base
    plus new industrial land), ``balance_ha`` (supply − demand).
    """
    answers = result["answers"]
    names = {g["admin_code"]: g["name"] for g in answers["gate_opens"]}
    rows = [{"unit": d["admin_code"] or PROVINCE,
             "name": names.get(d["admin_code"], "") if d["admin_code"] else "",
             "demand_ha": d["demand_ha"], "supply_ha": d["supply_ha"],
             "balance_ha": d["balance_ha"]} for d in answers["demand_supply"]]
    return pd.DataFrame(rows).set_index("unit")


def scenario_comparison(
    results: Sequence[Mapping[str, Any]], /, *, lang: Lang = "vi",
) -> pd.DataFrame:
    """Return scenarios side by side, the table of ``ccn-gis scenario compare``.

    One column per scenario (its name), one row per figure: errors, warnings, the plan's
    area, the established clusters and the occupancy at the horizon, the rice land
    converted, and supply minus demand of industrial land; text in the number format of
    ``lang``.
    """
    t = SCENARIO_TEXT[lang]
    horizon = results[0]["horizon"]

    def n(value: float | None, decimals: int = 2) -> str:
        return format_number(value, decimals, lang=lang)

    columns: dict[str, list[str]] = {}
    for r in results:
        last = scenario_years(r).loc[r["horizon"]]
        occupancy = None if pd.isna(last["occupancy"]) else float(last["occupancy"])
        province = next(d for d in r["answers"]["demand_supply"] if d["admin_code"] is None)
        columns[r["scenario"]] = [
            str(sum(f["severity"] == Severity.ERROR.value for f in r["findings"])),
            str(sum(f["severity"] == Severity.WARNING.value for f in r["findings"])),
            n(float(last["plan_ha"])), n(float(last["established"]), 0),
            format_rate(occupancy, lang=lang), n(r["answers"]["rice_converted_ha"]),
            n(province["balance_ha"]),
        ]
    index = [t["errors"], t["warnings"], t["plan_ha"].format(horizon=horizon),
             t["established"].format(horizon=horizon), t["occupancy"].format(horizon=horizon),
             t["rice_short"], t["balance_short"]]
    return pd.DataFrame(columns, index=pd.Index(index, name=t["metric"]))


def _finding_value(value: float | None, rule: str) -> str:
    if value is None:
        return "–"
    return format_rate(value) if rule in RATE_RULES else f"{format_number(value)} ha"
