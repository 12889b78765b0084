"""The benchmarks' report: the machine, the versions and the Markdown table."""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from harness import Side


# ------------------------------------------------------------ machine, versions
def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": memory,
            "os": platform.platform(), "python": platform.python_version()}


def versions(baselines_python: str | None) -> dict[str, Any]:
    found: dict[str, Any] = {"python": platform.python_version()}
    for name in ("ccn-gis", "geopandas", "shapely", "pyogrio", "fiona", "pyproj", "pandas",
                 "numpy", "pyarrow", "rasterio", "exactextract", "fastapi", "starlette",
                 "uvicorn", "orjson", "httpx"):
        try:
            found[name] = md.version(name)
        except md.PackageNotFoundError:
            found[name] = None
    try:
        import pyogrio
        found["gdal (pyogrio)"] = pyogrio.__gdal_version_string__
    except ImportError:
        pass
    for tool, flag in (("ogr2ogr", "--version"), ("wrk", "-v")):
        path = shutil.which(tool)
        if path:
            proc = subprocess.run([path, flag], capture_output=True, text=True, timeout=30)
            text = (proc.stdout or proc.stderr).strip().splitlines()
            found[tool] = text[0] if text else "present"
        else:
            found[tool] = None
    if baselines_python:
        code = ("import importlib.metadata as m, platform, json; v={'python': "
                "platform.python_version()}\nfor n in ('pygeoapi','rasterstats','rasterio',"
                "'shapely','fiona','numpy','uvicorn','starlette'):\n  try: v[n]=m.version(n)\n"
                "  except Exception: v[n]=None\nprint(json.dumps(v))")
        proc = subprocess.run([baselines_python, "-c", code], capture_output=True, text=True,
                              timeout=60)
        try:
            found["baselines"] = json.loads(proc.stdout)
        except ValueError:
            found["baselines"] = None
    return found


# -------------------------------------------------------------------- markdown
def number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit == "req/s":
        return f"{value:,.1f} req/s" if value < 100 else f"{value:,.0f} req/s"
    if unit == "ms":
        return f"{value:,.2f} ms" if value < 100 else f"{value:,.0f} ms"
    return f"{value:,.3f} s" if value < 10 else f"{value:,.1f} s"


def spread(side: Side | None, unit: str) -> str:
    if side is None or side.status != "ok":
        return ""
    if side.n >= 10 and side.p25 is not None:
        return f"IQR {number(side.p25, unit)}–{number(side.p75, unit)} (n={side.n})"
    if side.n > 1:
        return f"{number(side.min, unit)}–{number(side.max, unit)} (n={side.n})"
    return "n=1"


def cell(side: Side | None, unit: str) -> str:
    if side is None:
        return "—"
    if side.status == "ok":
        return number(side.median, unit)
    if side.status == "skipped":
        return f"skipped: {side.error}"
    if side.status == "error":
        return f"**error**: {md_escape(side.error or '')[:160]}"
    return side.status


def md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(doc: dict[str, Any]) -> str:
    m, v, d = doc["machine"], doc["versions"], doc["data"]
    counts = d.get("counts") or {}
    lines = [
        "# ccn-gis benchmark results", "",
        f"- date: {doc['date']}; command: `{doc['command']}`; "
        f"whole run {doc['run_seconds']:,.0f} s; load average before/after "
        f"{doc['machine'].get('loadavg_start', '?')}/{doc['machine'].get('loadavg_end', '?')}",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['os']}",
        f"- data: scale {doc['scale']:g} — {counts.get('clusters', '?'):,} clusters in "
        f"{counts.get('provinces', '?')} provinces ({counts.get('districts', '?')} units), "
        f"{counts.get('parcels', '?'):,} parcels, {counts.get('projects', '?'):,} projects, "
        f"land-use raster {counts.get('raster_cells', 0):,} cells; one province = "
        f"{counts.get('landuse_zones', '?'):,} parcels",
        f"- repeats: up to {doc['repeat']} per side within {doc['budget_s']:.0f} s; "
        f"load runs of {doc['load_seconds']:.0f} s (pygeoapi twice as long)",
        "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items()
                                   if k != "baselines" and val),
    ]
    if v.get("baselines"):
        lines.append("- baselines' environment: " + ", ".join(
            f"{k} {val}" for k, val in v["baselines"].items() if val))
    lines += ["", "| work | ccn-gis median | spread | baseline | baseline median | ratio | "
              "target | met? |", "|---|---|---|---|---|---|---|---|"]
    for r in doc["rows"]:
        ccn, base = Side(**r["ccn"]), Side(**r["baseline"]) if r["baseline"] else None
        met = {True: "yes", False: "**no**", None: "—"}[r["met"]]
        if r["met_detail"]:
            met += f" ({r['met_detail']})"
        ratio = f"{r['ratio']:,.1f}×" if r["ratio"] else "—"
        lines.append(" | ".join([
            f"| {r['work']}", cell(ccn, r["unit"]), spread(ccn, r["unit"]),
            r["baseline_name"] or "—", cell(base, r["unit"]) if base else "—", ratio,
            r["target"], met]) + " |")
    lines += ["", "Ratio: how many times better ccn-gis is than the baseline (time: baseline ÷ "
              "ccn-gis; throughput: ccn-gis ÷ baseline). Spread: min–max of the runs, or the "
              "interquartile range of the requests when there are 10 or more.", "",
              "## Details", ""]
    for r in doc["rows"]:
        details = list(r["notes"])
        for who, side in (("ccn-gis", r["ccn"]), ("baseline", r["baseline"])):
            if side and side.get("extra"):
                details.append(f"{who}: " + json.dumps(side["extra"], ensure_ascii=False,
                                                         default=str))
        if details:
            lines.append(f"- **{r['id']}**: " + " ".join(md_escape(x) for x in details))
    return "\n".join(lines) + "\n"
