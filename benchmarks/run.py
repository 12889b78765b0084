"""Run the ccn-gis benchmarks, each against its baseline in the same run.

    .venv/bin/python benchmarks/run.py [--scale 1.0] [--repeat 5] [--skip-baselines]

Generates the synthetic national dataset if it is missing (``make_national.py``), then
measures (see docs/performance.md):

- every figure of ``stats`` from the file in a fresh process, against the straightforward
  geopandas way (fiona engine) and the floor of reading the layers with pyogrio + Arrow;
- warm ``/stats`` on a running ``ccn-gis serve``;
- exact land-use hectares for the parcels of one province, against ``rasterstats``;
- ``/collections/parcels/items?bbox=…&limit=1000``: latency for one client and throughput
  for 8 concurrent clients (``wrk``, else an httpx client), against pygeoapi serving the
  same GeoPackage with its SQLiteGPKG provider;
- the parcels as GeoJSON (plain and gzip), GeoPackage and ``items?limit=10000`` pages,
  for one province and for the whole layer, against ``ogr2ogr`` (the floor);
- a scenario check to 2030 (time and peak memory); the server's start-up and memory.

Every measurement is repeated (``--repeat``, within ``--budget`` seconds a side) and
reported as median and spread. A measurement that fails or times out is reported with
its error; the run goes on. Results go to ``benchmarks/results/results.json`` and
``results.md`` (``--results DIR``). Baselines that need ``benchmarks/.venv-baselines``
(rasterstats, pygeoapi) are set up by ``setup_baselines.sh`` on first use, or skipped with
``--skip-baselines``. All traffic stays on 127.0.0.1; every load is bounded in time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKLOADS = HERE / "workloads"
BASELINES_VENV = HERE / ".venv-baselines"
PROFILE_LIB = HERE / ".profile-lib"
PYTHON = sys.executable
CLI = str(Path(sys.executable).with_name("ccn-gis"))

sys.path.insert(0, str(HERE))
import make_national  # noqa: E402
from harness import (  # noqa: E402
    LOOPBACK,
    Proc,
    Server,
    Side,
    free_port,
    httpx_throughput,
    latencies,
    paging,
    repeat,
    run_process,
    timed_get,
    wrk_throughput,
)
from report import machine, markdown, versions  # noqa: E402


# ----------------------------------------------------------------------- rows
@dataclass(frozen=True)
class Spec:
    """What one row of the table measures."""

    id: str
    work: str
    unit: str  # s, ms, req/s, MB
    better: str  # lower | higher
    baseline: str | None
    target: str
    check: Callable[[float | None, float | None], list[bool | None]] | None = None


def _under(limit: float) -> Callable:
    return lambda value, ratio: [None if value is None else value < limit]


def _under_and_ratio(limit: float, ratio_min: float) -> Callable:
    return lambda value, ratio: [None if value is None else value < limit,
                                 None if ratio is None else ratio >= ratio_min]


SPECS = [
    Spec("stats_cold", "All figures of `stats` (province, units, clusters) from the file, "
         "cold (fresh process)", "s", "lower",
         "geopandas: `read_file(engine=\"fiona\")`, `to_crs`, `dissolve`, `sjoin`, `groupby`",
         "< 5 s and ≥ 20×", _under_and_ratio(5.0, 20.0)),
    Spec("read_floor", "Floor: read every layer with pyogrio + Arrow (fresh process)", "s",
         "lower", None, "—"),
    Spec("stats_warm_province", "Warm `/stats` (province)", "ms", "lower", None, "< 20 ms",
         _under(20.0)),
    Spec("stats_warm_admin", "Warm `/stats?by=admin`", "ms", "lower", None, "< 20 ms",
         _under(20.0)),
    Spec("stats_warm_cluster", "Warm `/stats?by=cluster`", "ms", "lower", None, "< 20 ms",
         _under(20.0)),
    Spec("landuse_parcels", "Exact land-use ha by class for the parcels of one province",
         "s", "lower", "`rasterstats.zonal_stats(categorical=True)` (cell centres)",
         "< 15 s and ≥ 5×", _under_and_ratio(15.0, 5.0)),
    Spec("items_bbox_latency", "`items?bbox=…&limit=1000` on the parcels, one client "
         "(per request)", "ms", "lower", "pygeoapi, SQLiteGPKG provider, same file",
         "< 10 ms", _under(10.0)),
    Spec("items_bbox_throughput", "`items?bbox=…&limit=1000`, 8 concurrent clients", "req/s",
         "higher", "pygeoapi, SQLiteGPKG provider, same file, 8 clients",
         "≥ 500 req/s and ≥ 30×",
         lambda v, r: [None if v is None else v >= 500, None if r is None else r >= 30]),
    Spec("map_tiles_z13", "Map tile (MVT) of the parcels at zoom 13, the web map's first "
         "parcel zoom, each tile requested once (not cached)", "ms", "lower", None, "—"),
    Spec("download_geojson_province", "Parcels of one province as GeoJSON "
         "(`/download?format=geojson&bbox=…`)", "s", "lower", "`ogr2ogr -f GeoJSON` (floor)",
         "< 1 s", _under(1.0)),
    Spec("download_geojson_gzip_province", "… the same with `Accept-Encoding: gzip`", "s",
         "lower", "`ogr2ogr` to `/vsigzip/`", "< 1 s", _under(1.0)),
    Spec("download_gpkg_province", "Parcels of one province as GeoPackage", "s", "lower",
         "`ogr2ogr -f GPKG`", "—"),
    Spec("items_paging_province", "Parcels of one province through `items?limit=10000` pages",
         "s", "lower", "`ogr2ogr -f GeoJSON`", "—"),
    Spec("download_geojson_all", "Whole parcels layer as GeoJSON", "s", "lower",
         "`ogr2ogr -f GeoJSON` (floor)", "—"),
    Spec("download_geojson_gzip_all", "Whole parcels layer as GeoJSON, gzip", "s", "lower",
         "`ogr2ogr` to `/vsigzip/`", "—"),
    Spec("download_gpkg_all", "Whole parcels layer as GeoPackage", "s", "lower",
         "`ogr2ogr -f GPKG`", "—"),
    Spec("items_paging_all", "Whole parcels layer through `items?limit=10000` pages", "s",
         "lower", "`ogr2ogr -f GeoJSON`", "—"),
    Spec("write_lease", "Lease one parcel: `PATCH` with `If-Match`, checked like a file on "
         "load and kept in the history, until answered (the next request sees it)", "ms",
         "lower", "GDAL: `ogrinfo -sql \"UPDATE …\"` on the file (no check, no history, "
         "no server)", "median < 20 ms, p99 < 100 ms",
         lambda v, r: [None if v is None else v < 20.0]),
    Spec("scenario_2030", "Scenario check to 2030 over the dataset (fresh process)", "s",
         "lower", None, "— (time and memory)"),
    Spec("server_startup", "`ccn-gis serve` start-up until it answers (load, validate, "
         "catalog)", "s", "lower", None, "—"),
    Spec("server_rss_loaded", "Server memory (peak RSS) with the dataset loaded", "MB",
         "lower", None, "< 2 GB", _under(2048.0)),
    Spec("server_rss_peak", "Server peak RSS at the end of the run (after every request "
         "above)", "MB", "lower", None, "< 2 GB", _under(2048.0)),
]
SPEC = {s.id: s for s in SPECS}


@dataclass
class Row:
    id: str
    work: str
    unit: str
    target: str
    baseline_name: str | None
    ccn: Side = field(default_factory=Side)
    baseline: Side | None = None
    ratio: float | None = None
    met: bool | None = None
    met_detail: str = ""
    notes: list[str] = field(default_factory=list)


class Results:
    """The rows, in the order of :data:`SPECS`."""

    def __init__(self) -> None:
        self.rows = {s.id: Row(s.id, s.work, s.unit, s.target, s.baseline,
                               baseline=Side() if s.baseline else None) for s in SPECS}

    def __getitem__(self, key: str) -> Row:
        return self.rows[key]

    def finish(self) -> None:
        for spec in SPECS:
            row = self.rows[spec.id]
            ours = row.ccn.median if row.ccn.status == "ok" else None
            theirs = row.baseline.median if row.baseline and row.baseline.status == "ok" else None
            if ours and theirs:
                row.ratio = theirs / ours if spec.better == "lower" else ours / theirs
            if spec.check is None:
                row.met, row.met_detail = None, ""
                continue
            checks = spec.check(ours, row.ratio)
            known = [c for c in checks if c is not None]
            if ours is None:
                row.met, row.met_detail = None, "not measured"
            elif len(known) == len(checks):
                row.met = all(known)
            else:  # the ratio could not be evaluated: only a miss is certain
                row.met = False if not all(known) else None
                row.met_detail = "ratio not measured"
        self.bound_by_read_floor()

    def bound_by_read_floor(self) -> None:
        """Say what bounds a cold ``stats`` ratio that misses: no way of computing the
        figures from the file is faster than reading it."""
        row, floor = self.rows["stats_cold"], self.rows["read_floor"]
        spec = SPEC["stats_cold"]
        if row.met is not False or floor.ccn.status != "ok" or not floor.ccn.median:
            return
        if row.baseline is None or row.baseline.status != "ok" or not row.baseline.median:
            return
        best = row.baseline.median / floor.ccn.median
        ours = row.ccn.median
        if spec.check is not None and spec.check(ours, None)[0] and not spec.check(ours, best)[1]:
            row.met_detail = (f"time met; the ratio is bounded by the read: reading the layers "
                              f"alone takes {floor.ccn.median:.2f} s, so no ccn-gis run can be "
                              f"more than {best:.1f}× faster than the baseline")



# ---------------------------------------------------------------------- runner
class Runner:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results = Results()
        self.data = Path(args.data) if args.data else make_national.default_out(args.scale)
        self.out = Path(args.results)
        self.tmp = self.out / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.manifest: dict[str, Any] = {}
        self.baselines_python: str | None = None
        self.baselines_error: str | None = None
        self.started = time.perf_counter()
        self.loadavg_start = round(os.getloadavg()[0], 2)
        self.server: Server | None = None  # ccn-gis serve while the API rows run
        self.memory_marks: dict[str, float] = {}  # its peak RSS after each of them
        self.generated_s: float | None = None

    # -- helpers
    def log(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.started:7.1f} s] {message}", flush=True)

    def repeat(self, measure: Callable[[], float], *, n: int | None = None,
               budget: float | None = None) -> list[float]:
        return repeat(measure, n=n or self.args.repeat, budget=budget or self.args.budget,
                      log=self.log)

    def side(self, side: Side, work: Callable[[Side], list[float]], label: str) -> None:
        """Fill ``side`` from ``work``; any exception becomes the side's error."""
        try:
            side.fill(work(side))
            if self.server is not None and label.startswith(("/stats", "ccn", "download_",
                                                             "items_paging")):
                self.memory_marks[label] = round(self.server.memory_mb()["VmHWM"])
            self.log(f"  {label}: median {side.median:.4g} (n={side.n})" if side.n
                     else f"  {label}: no sample")
        except SkipError as skip:
            side.status, side.error = "skipped", str(skip)
            self.log(f"  {label}: skipped ({skip})")
        except Exception as err:  # noqa: BLE001 - a failed measurement is a result too
            side.status, side.error = "error", f"{type(err).__name__}: {err}"[:2000]
            self.log(f"  {label}: ERROR {side.error[:300]}")
            if self.args.verbose:
                traceback.print_exc()

    def skip(self, side: Side | None, reason: str) -> None:
        if side is not None and side.status == "not run":
            side.status, side.error = "skipped", reason

    @property
    def gpkg(self) -> Path:
        return self.data / "national.gpkg"

    @property
    def raster(self) -> Path:
        return self.data / "national_landuse.tif"

    # -- data
    def ensure_data(self) -> None:
        manifest = self.data / "manifest.json"
        if manifest.is_file():
            found = json.loads(manifest.read_text(encoding="utf-8"))
            if found.get("version") == make_national.VERSION and found.get(
                    "scale") == self.args.scale:
                self.manifest = found
                self.log(f"data: {self.data} (scale {self.args.scale:g}, present)")
                return
        self.log(f"data: generating scale {self.args.scale:g} into {self.data}")
        # in its own process, so that this one stays small: a child's peak memory as the
        # kernel reports it includes its parent's at the fork
        proc = run_process([PYTHON, str(HERE / "make_national.py"), "--scale",
                            str(self.args.scale), "--out", str(self.data)],
                           timeout=self.args.timeout).check()
        self.log(proc.stdout.strip().replace("\n", "\n           "))
        self.manifest = json.loads(manifest.read_text(encoding="utf-8"))
        self.generated_s = proc.wall_s

    def ensure_baselines(self) -> None:
        if self.args.skip_baselines:
            self.baselines_error = "--skip-baselines"
            return
        python = BASELINES_VENV / "bin" / "python"
        if not python.exists() and not self.args.no_setup:
            self.log("baselines: setting up benchmarks/.venv-baselines (setup_baselines.sh)")
            proc = run_process(["bash", str(HERE / "setup_baselines.sh")], timeout=1800)
            if proc.returncode != 0:
                self.log(f"baselines: setup failed: {proc.stderr[-500:]}")
        if python.exists():
            self.baselines_python = str(python)
        else:
            self.baselines_error = ("the baselines' environment is missing: run "
                                    "benchmarks/setup_baselines.sh")

    # -- measurements
    def workload(self, script: str, *args: str, python: str = PYTHON,
                 timeout: float | None = None) -> Proc:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        return run_process([python, str(WORKLOADS / script), *args],
                           timeout=timeout or self.args.timeout, env=env).check()

    def measure_stats(self) -> None:
        self.log("stats: cold, ccn-gis against geopandas (fiona)")
        row = self.results["stats_cold"]
        ours, theirs = self.tmp / "stats_ccn.json", self.tmp / "stats_geopandas.json"

        def ccn(side: Side) -> list[float]:
            runs: list[Proc] = []

            def once() -> float:
                runs.append(self.workload("stats_ccn.py", str(self.gpkg), str(ours)))
                return runs[-1].wall_s

            samples = self.repeat(once)
            best = sorted(runs, key=lambda p: p.wall_s)[len(runs) // 2]
            side.extra.update(phases_s=best.report.get("phases"),
                              peak_rss_mb=max(p.report.get("peak_rss_mb", 0) for p in runs),
                              clusters=best.report.get("clusters"),
                              units=best.report.get("units"))
            return samples

        def geopandas(side: Side) -> list[float]:
            runs: list[Proc] = []

            def once() -> float:
                runs.append(self.workload("stats_geopandas.py", str(self.gpkg), str(theirs)))
                return runs[-1].wall_s

            samples = self.repeat(once)
            best = sorted(runs, key=lambda p: p.wall_s)[len(runs) // 2]
            side.extra.update(phases_s=best.report.get("phases"),
                              peak_rss_mb=max(p.report.get("peak_rss_mb", 0) for p in runs),
                              misplaced_parcels=best.report.get("misplaced_parcels"))
            return samples

        self.side(row.ccn, ccn, "ccn-gis")
        self.side(row.baseline, geopandas, "geopandas/fiona")
        if row.ccn.status == "ok" and row.baseline.status == "ok":
            row.notes.append(compare_figures(ours, theirs))
        floor = self.results["read_floor"]
        self.side(floor.ccn, lambda side: self.repeat(
            lambda: self.workload("read_floor.py", str(self.gpkg)).wall_s), "pyogrio floor")

    def measure_landuse(self) -> None:
        zones = self.data / "landuse_zones.gpkg"
        n = self.manifest["counts"]["landuse_zones"]
        row = self.results["landuse_parcels"]
        row.work = f"Exact land-use ha by class for {n:,} parcels (one province, 10 m raster)"
        self.log(f"landuse: {n} parcels, ccn-gis against rasterstats")
        reports: dict[str, dict] = {}

        def ccn(side: Side) -> list[float]:
            def once() -> float:
                proc = self.workload("landuse_ccn.py", str(self.raster), str(zones), "EPSG:9209")
                reports["ccn"] = proc.report
                side.extra["peak_rss_mb"] = proc.report.get("peak_rss_mb")
                side.extra["process_s"] = proc.wall_s
                return proc.report["phases"]["read_zones"] + proc.report["phases"][
                    "raster_class_areas"]

            return self.repeat(once)

        def rasterstats(side: Side) -> list[float]:
            if not self.baselines_python:
                raise SkipError(self.baselines_error)

            def once() -> float:
                proc = self.workload("landuse_rasterstats.py", str(self.raster), str(zones),
                                     python=self.baselines_python)
                reports["rasterstats"] = proc.report
                side.extra["peak_rss_mb"] = proc.report.get("peak_rss_mb")
                side.extra["process_s"] = proc.wall_s
                return proc.report["phases"]["zonal_stats"]

            return self.repeat(once)

        self.side(row.ccn, ccn, "ccn-gis")
        self.side(row.baseline, rasterstats, "rasterstats")
        row.notes.append("Time of the work in the process (reading the zones and computing), "
                         "without interpreter start and imports.")
        if "ccn" in reports and "rasterstats" in reports:
            a, b = reports["ccn"]["class_ha"], reports["rasterstats"]["class_ha"]
            total_a = sum(v for k, v in a.items() if k != "none")
            total_b = sum(b.values())
            row.notes.append(f"Hectares on mapped land: ccn-gis {total_a:,.2f} (exact partial "
                             f"cells) vs rasterstats {total_b:,.2f} (whole cells by centre).")

    def measure_scenario(self) -> None:
        self.log("scenario: check to 2030")
        row = self.results["scenario_2030"]
        scenario = self.data / "national_2030.yaml"

        def ccn(side: Side) -> list[float]:
            runs: list[Proc] = []

            def once() -> float:
                runs.append(self.workload("scenario_ccn.py", str(self.gpkg), str(scenario)))
                return runs[-1].wall_s

            samples = self.repeat(once)
            best = sorted(runs, key=lambda p: p.wall_s)[len(runs) // 2]
            side.extra.update(phases_s=best.report.get("phases"),
                              peak_rss_mb=max(p.report.get("peak_rss_mb", 0) for p in runs),
                              changes=best.report.get("changes"),
                              findings=best.report.get("findings"),
                              rice_converted_ha=best.report.get("rice_converted_ha"))
            return samples

        self.side(row.ccn, ccn, "ccn-gis")
        extra = row.ccn.extra
        if extra.get("peak_rss_mb"):
            row.notes.append(f"Peak memory {extra['peak_rss_mb']:,.0f} MB; "
                             f"{extra.get('changes')} changes, {extra.get('findings')} findings.")

    # -- the API
    def views(self) -> list[str]:
        return [",".join(f"{v:.6f}" for v in bbox) for bbox in self.manifest["map_views"]]

    def measure_api(self) -> None:
        self.log("api: starting ccn-gis serve")
        port = free_port()
        base = f"http://{LOOPBACK}:{port}"
        try:
            server = Server([CLI, "serve", "--layers", str(self.gpkg), "--port", str(port),
                             "--host", LOOPBACK], ready_url=f"{base}/conformance",
                            log_path=self.tmp / "ccn_server.log",
                            timeout=self.args.timeout)
        except Exception as err:  # noqa: BLE001
            for spec in SPECS:
                row = self.results[spec.id]
                if spec.id.startswith(("stats_warm", "items_", "download_", "server_")):
                    row.ccn.status, row.ccn.error = "error", f"server did not start: {err}"[:2000]
            self.log(f"  ERROR: the server did not start: {err}")
            return
        try:
            startup = self.results["server_startup"]
            startup.ccn.fill([server.startup_s])
            loaded = server.memory_mb()
            self.results["server_rss_loaded"].ccn.fill([loaded["VmHWM"]])
            self.results["server_rss_loaded"].notes.append(
                f"RSS after start-up {loaded['VmRSS']:,.0f} MB, peak during start-up "
                f"{loaded['VmHWM']:,.0f} MB.")
            self.log(f"  started in {server.startup_s:.1f} s, peak RSS {loaded['VmHWM']:.0f} MB")
            self.server = server
            with httpx.Client(base_url=base, timeout=self.args.timeout) as client:
                self.api_rows(client, base, "ccn")
            peak = server.memory_mb()
            self.results["server_rss_peak"].ccn.fill([peak["VmHWM"]])
            self.results["server_rss_peak"].ccn.extra["peak_after_mb"] = self.memory_marks
        finally:
            self.server = None
            server.stop()

    def api_rows(self, client: httpx.Client, base: str, who: str) -> None:
        """The API rows on one server: ``who`` is ccn (every row) or pygeoapi (items)."""
        views = self.views()
        suffix = "&f=json" if who == "pygeoapi" else ""
        paths = [f"/collections/parcels/items?bbox={v}&limit=1000{suffix}" for v in views]
        if who == "ccn":
            for by in ("province", "admin", "cluster"):
                row = self.results[f"stats_warm_{by}"]
                url = "/stats" if by == "province" else f"/stats?by={by}"
                self.side(row.ccn, lambda side, url=url: latencies(
                    client, [url], count=max(10, 10 * self.args.repeat), side=side),
                    f"/stats by {by}")
        latency = self.results["items_bbox_latency"]
        side = latency.ccn if who == "ccn" else latency.baseline
        count = max(10, 40 * self.args.repeat) if who == "ccn" else max(3, 4 * self.args.repeat)
        self.side(side, lambda s: latencies(client, paths, count=count, side=s,
                                            budget=self.args.budget, features=True),
                  f"{who} items bbox latency")
        throughput = self.results["items_bbox_throughput"]
        side = throughput.ccn if who == "ccn" else throughput.baseline
        self.side(side, lambda s: self.throughput(base, paths, s, who), f"{who} throughput")
        if who == "ccn":
            self.side(self.results["map_tiles_z13"].ccn,
                      lambda s: latencies(client, tile_paths(self.manifest["map_views"], 13),
                                          count=200, side=s, budget=self.args.budget),
                      "map tiles z13")
            self.downloads(client)

    def throughput(self, base: str, paths: list[str], side: Side, who: str) -> list[float]:
        seconds = self.args.load_seconds * (2 if who == "pygeoapi" else 1)
        runs = []

        def once() -> float:
            if shutil.which("wrk"):
                result = wrk_throughput(base, paths, seconds=seconds, connections=8,
                                        script_dir=self.tmp)
            else:
                result = httpx_throughput(base, paths, seconds=seconds, connections=8)
            runs.append(result)
            if result["non_2xx"] >= result["requests"]:
                raise RuntimeError(f"none of {result['requests']} responses was a 200")
            return result["rps"] * (1 - result["non_2xx"] / max(result["requests"], 1))

        samples = self.repeat(once, n=min(self.args.repeat, 3))
        failed = sum(r["non_2xx"] for r in runs)
        if failed:
            self.results["items_bbox_throughput"].notes.append(
                f"{who}: {failed} of {sum(r['requests'] for r in runs)} answers were errors "
                "(not 200); requests/s counts the 200 answers only.")
        side.extra.update(client=runs[-1]["client"], seconds_per_run=seconds,
                          requests=[r["requests"] for r in runs],
                          failed_responses=[r["non_2xx"] for r in runs],
                          p50_ms_under_load=[r.get("p50_ms_under_load") for r in runs],
                          socket_errors=runs[-1].get("socket_errors"))
        return samples

    def downloads(self, client: httpx.Client) -> None:
        province = ",".join(f"{v:.6f}" for v in self.manifest["first_province"]["bbox_wgs84"])
        for scope, bbox, n in (("province", province, self.args.repeat),
                               ("all", None, min(self.args.repeat, 3))):
            extra = f"&bbox={bbox}" if bbox else ""
            for fmt, gz in (("geojson", False), ("geojson", True), ("gpkg", False)):
                rid = f"download_{fmt}{'_gzip' if gz else ''}_{scope}"
                url = f"/collections/parcels/download?format={fmt}{extra}"
                self.side(self.results[rid].ccn,
                          lambda side, url=url, gz=gz, n=n: self.fetch(client, url, side, n, gz),
                          rid)
            self.side(self.results[f"items_paging_{scope}"].ccn,
                      lambda side, n=n, extra=extra: self.repeat(
                          lambda: paging(client, f"/collections/parcels/items?limit=10000{extra}",
                                         side), n=n), f"items_paging_{scope}")

    def fetch(self, client: httpx.Client, url: str, side: Side, n: int, gz: bool) -> list[float]:
        def once() -> float:
            got = timed_get(client, url, gzip_ok=gz)
            side.extra.update(bytes=got["bytes"], content_encoding=got["encoding"])
            return got["s"]

        return self.repeat(once, n=n)

    # -- pygeoapi
    def measure_pygeoapi(self) -> None:
        rows = [self.results["items_bbox_latency"], self.results["items_bbox_throughput"]]
        if not self.baselines_python:
            for row in rows:
                self.skip(row.baseline, self.baselines_error or "no baselines environment")
            return
        self.log("pygeoapi: starting (SQLiteGPKG provider, uvicorn, 1 process)")
        port = free_port()
        base = f"http://{LOOPBACK}:{port}"
        config, openapi = self.tmp / "pygeoapi.yml", self.tmp / "pygeoapi-openapi.yml"
        config.write_text(pygeoapi_config(self.gpkg, port, self.manifest), encoding="utf-8")
        bindir = Path(self.baselines_python).parent
        env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi),
               "SPATIALITE_LIBRARY_PATH": "mod_spatialite"}
        try:
            run_process([str(bindir / "pygeoapi"), "openapi", "generate", str(config),
                         "--output-file", str(openapi)], timeout=300, env=env).check()
            server = Server([self.baselines_python, "-m", "uvicorn", "pygeoapi.starlette_app:APP",
                             "--host", LOOPBACK, "--port", str(port), "--log-level", "warning"],
                            ready_url=f"{base}/collections", log_path=self.tmp / "pygeoapi.log",
                            env=env, timeout=300)
        except Exception as err:  # noqa: BLE001
            for row in rows:
                row.baseline.status, row.baseline.error = "error", f"pygeoapi: {err}"[:2000]
            self.log(f"  ERROR: pygeoapi did not start: {err}")
            return
        try:
            rows[0].notes.append(f"pygeoapi started in {server.startup_s:.1f} s.")
            with httpx.Client(base_url=base, timeout=self.args.timeout) as client:
                self.api_rows(client, base, "pygeoapi")
            rows[1].notes.append(
                f"pygeoapi peak RSS {server.memory_mb()['VmHWM']:,.0f} MB.")
        finally:
            server.stop()

    # -- ogr2ogr
    def measure_ogr2ogr(self) -> None:
        ogr2ogr = shutil.which("ogr2ogr")
        targets = [r for r in self.results.rows if r.startswith(("download_", "items_paging_"))]
        if not ogr2ogr:
            for rid in targets:
                self.skip(self.results[rid].baseline, "ogr2ogr not found (Debian: gdal-bin)")
            return
        self.log("ogr2ogr: the floor of every download")
        bbox = self.manifest["first_province"]["bbox_wgs84"]
        for rid in targets:
            scope = rid.rsplit("_", 1)[1]
            fmt = "gpkg" if "gpkg" in rid else "geojson"
            gz = "gzip" in rid
            out = self.tmp / f"ogr2ogr_{rid}.{'gpkg' if fmt == 'gpkg' else 'geojson'}"
            dest = f"/vsigzip/{out}.gz" if gz else str(out)
            cmd = [ogr2ogr, "-f", "GPKG" if fmt == "gpkg" else "GeoJSON", "-t_srs", "EPSG:4326"]
            if fmt == "geojson":
                cmd += ["-lco", "RFC7946=YES", "-lco", "COORDINATE_PRECISION=7"]
            if scope == "province":
                cmd += ["-spat", *map(str, bbox), "-spat_srs", "EPSG:4326"]
            cmd += [dest, str(self.gpkg), "parcels"]
            n = self.args.repeat if scope == "province" else min(self.args.repeat, 3)

            def once(cmd=cmd, out=out, dest=dest) -> float:
                for path in (out, Path(f"{out}.gz")):
                    path.unlink(missing_ok=True)
                return run_process(cmd, timeout=self.args.timeout).check().wall_s

            side = self.results[rid].baseline
            self.side(side, lambda s, once=once, n=n: self.repeat(once, n=n), f"ogr2ogr {rid}")
            written = Path(f"{out}.gz") if gz else out
            if written.exists():
                side.extra["bytes"] = written.stat().st_size
                written.unlink()

    # -- writes
    def measure_writes(self) -> None:
        """Leases through the API of a server on a copy of the dataset, against GDAL's
        own SQL on another copy."""
        import sqlite3
        import subprocess

        self.log("writes: PATCH a lease, against ogrinfo -sql UPDATE")
        row = self.results["write_lease"]
        copy, theirs = self.tmp / "writes.gpkg", self.tmp / "writes-gdal.gpkg"
        shutil.copy(self.gpkg, copy)
        shutil.copy(self.gpkg, theirs)
        con = sqlite3.connect(copy)
        pairs = con.execute(
            "SELECT p.parcel_id, j.project_id FROM parcels p JOIN projects j "
            "ON j.cluster_id = p.cluster_id WHERE p.project_id IS NULL AND "
            "p.land_use = 'industrial' GROUP BY p.parcel_id LIMIT ?",
            (max(5, 4 * self.args.repeat),)).fetchall()
        con.close()
        password = "benchmark-password"
        subprocess.run([CLI, "user", "add", "bench", "--role", "editor", "--layers", str(copy)],
                       input=password + "\n", text=True, check=True, capture_output=True)
        port = free_port()
        base = f"http://{LOOPBACK}:{port}"

        def ccn(side: Side) -> list[float]:
            server = Server([CLI, "serve", "--layers", str(copy), "--port", str(port),
                             "--host", LOOPBACK], ready_url=f"{base}/conformance",
                            log_path=self.tmp / "ccn_writes.log", timeout=self.args.timeout)
            samples, stats_ms = [], []
            try:
                with httpx.Client(base_url=base, timeout=self.args.timeout,
                                  auth=("bench", password)) as client:
                    for parcel, project in pairs:
                        url = f"/collections/parcels/items/{parcel}"
                        tag = client.get(url).headers["etag"]
                        t0 = time.perf_counter()
                        done = client.patch(url, json={"properties": {
                            "project_id": project, "leased_on": "2026-12-01"}}, headers={
                            "If-Match": tag, "Content-Type": "application/merge-patch+json"})
                        samples.append((time.perf_counter() - t0) * 1000.0)
                        if done.status_code != 204:
                            raise RuntimeError(f"PATCH {url}: HTTP {done.status_code}: "
                                               f"{done.text[:300]}")
                        t0 = time.perf_counter()
                        client.get("/stats").raise_for_status()
                        stats_ms.append((time.perf_counter() - t0) * 1000.0)
            finally:
                server.stop()
            side.extra["p99_ms"] = round(sorted(samples)[max(0, math.ceil(
                0.99 * len(samples)) - 1)], 1)
            side.extra["next_stats_ms"] = round(sorted(stats_ms)[len(stats_ms) // 2], 1)
            side.extra["leases"] = len(samples)
            return samples

        def gdal(side: Side) -> list[float]:
            ogrinfo = shutil.which("ogrinfo")
            if ogrinfo is None:
                raise SkipError("GDAL's ogrinfo is not installed")
            samples = []
            for parcel, project in pairs:
                sql = (f"UPDATE parcels SET project_id = '{project}', leased_on = "
                       f"'2026-12-01' WHERE parcel_id = '{parcel}'")
                t0 = time.perf_counter()
                subprocess.run([ogrinfo, str(theirs), "-sql", sql], check=True,
                               capture_output=True)
                samples.append((time.perf_counter() - t0) * 1000.0)
            return samples

        self.side(row.ccn, ccn, "ccn write lease")
        assert row.baseline is not None
        self.side(row.baseline, gdal, "ogrinfo UPDATE")
        for path in (copy, theirs):
            path.unlink(missing_ok=True)

    # -- all
    def run(self) -> dict[str, Any]:
        groups = set(self.args.only.split(",")) if self.args.only else None

        def wanted(name: str) -> bool:
            return groups is None or name in groups

        self.ensure_data()
        self.ensure_baselines()
        for name, step in (("stats", self.measure_stats), ("landuse", self.measure_landuse),
                           ("scenario", self.measure_scenario), ("api", self.measure_api),
                           ("pygeoapi", self.measure_pygeoapi), ("ogr2ogr", self.measure_ogr2ogr),
                           ("writes", self.measure_writes)):
            if wanted(name):
                try:
                    step()
                except Exception as err:  # noqa: BLE001 - the run goes on
                    self.log(f"{name}: ERROR {err}")
                    traceback.print_exc()
        for row in self.results.rows.values():
            self.skip(row.baseline, "not run")
        self.results.finish()
        return self.write()

    def write(self) -> dict[str, Any]:
        document = {
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, "benchmarks/run.py", *sys.argv[1:]]),
            "scale": self.args.scale,
            "repeat": self.args.repeat,
            "budget_s": self.args.budget,
            "load_seconds": self.args.load_seconds,
            "run_seconds": round(time.perf_counter() - self.started, 1),
            "data": {"path": str(self.data), "generated_in_s": self.generated_s,
                     "counts": self.manifest.get("counts"),
                     "first_province": {k: v for k, v in self.manifest.get(
                         "first_province", {}).items() if k != "map_views"}},
            "machine": machine() | {"loadavg_start": self.loadavg_start,
                                    "loadavg_end": round(os.getloadavg()[0], 2)},
            "versions": versions(self.baselines_python),
            "rows": [asdict(r) for r in self.results.rows.values()],
        }
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "results.json").write_text(json.dumps(document, indent=1, ensure_ascii=False,
                                                          default=str), encoding="utf-8")
        (self.out / "results.md").write_text(markdown(document), encoding="utf-8")
        self.log(f"results: {self.out / 'results.json'} and results.md")
        return document


class SkipError(Exception):
    """A side that cannot run here (its environment is missing)."""


def tile_paths(views: list[list[float]], z: int) -> list[str]:
    """The distinct parcel tiles (``/tiles/WebMercatorQuad/z/y/x``) at the views' centres."""
    paths = []
    for west, south, east, north in views:
        lon, lat = math.radians((west + east) / 2), math.radians((south + north) / 2)
        x = int((math.degrees(lon) + 180.0) / 360.0 * 2**z)
        y = int((1.0 - math.asinh(math.tan(lat)) / math.pi) / 2.0 * 2**z)
        path = f"/collections/parcels/tiles/WebMercatorQuad/{z}/{y}/{x}"
        if path not in paths:
            paths.append(path)
    return paths


def compare_figures(ours: Path, theirs: Path) -> str:
    """Do both sides agree on the province's figures?"""
    a = json.loads(ours.read_text(encoding="utf-8"))["province"]
    b = json.loads(theirs.read_text(encoding="utf-8"))["province"]
    keys = [("planned", "count"), ("planned", "area_ha"), ("established", "count"),
            ("established", "area_ha"), ("detailed_plan", "count"), ("detailed_plan", "area_ha"),
            ("operating", "count"), ("operating", "area_ha"), ("industrial_ha",), ("leased_ha",),
            ("recovered_industrial_ha",), ("projects", "count")]
    worst = 0.0
    for key in keys:
        x, y = a, b
        for k in key:
            x, y = x[k], y[k]
        worst = max(worst, abs(x - y) / max(abs(x), 1e-9))
    verdict = "agree" if worst < 1e-6 else "DIFFER"
    return (f"Both sides' province figures {verdict} (largest relative difference "
            f"{worst:.1e}; planned {a['planned']['count']:,} clusters "
            f"{a['planned']['area_ha']:,.2f} ha, industrial {a['industrial_ha']:,.2f} ha).")


def pygeoapi_config(gpkg: Path, port: int, manifest: dict[str, Any]) -> str:
    bbox = manifest["first_province"]["bbox_wgs84"]
    crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    storage = "http://www.opengis.net/def/crs/EPSG/0/9209"
    config = {
        "server": {
            "bind": {"host": LOOPBACK, "port": port}, "url": f"http://{LOOPBACK}:{port}",
            "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8",
            "language": "en-US", "cors": False, "pretty_print": False,
            "limits": {"default_items": 10, "max_items": 10000},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                    "attribution": "OpenStreetMap"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "ccn-gis benchmark baseline",
                "description": "pygeoapi serving the benchmark GeoPackage",
                "keywords": ["benchmark"], "keywords_type": "theme",
                "terms_of_service": "https://creativecommons.org/licenses/by/4.0/",
                "url": "https://example.org"},
            "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "ccn-gis benchmarks", "url": "https://example.org"},
            "contact": {k: "none" for k in (
                "name", "position", "address", "city", "stateorprovince", "postalcode",
                "country", "phone", "fax", "hours", "instructions")} | {
                "email": "none@example.org", "url": "https://example.org",
                "role": "pointOfContact"},
        },
        "resources": {
            "parcels": {
                "type": "collection", "title": "Parcels", "description": "Land parcels",
                "keywords": ["parcels"], "links": [],
                "extents": {"spatial": {"bbox": bbox, "crs": crs84}},
                "providers": [{
                    "type": "feature", "name": "SQLiteGPKG", "data": str(gpkg),
                    "id_field": "parcel_id", "table": "parcels",
                    "storage_crs": storage, "crs": [crs84, storage],
                }],
            },
        },
    }
    return json.dumps(config, indent=1)  # JSON is YAML


# ------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="dataset size: 1.0 = 1,500 clusters, 500,000 parcels (default)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per side (default 5)")
    parser.add_argument("--budget", type=float, default=150.0,
                        help="seconds per side after which no further run starts (default 150)")
    parser.add_argument("--load-seconds", type=float, default=10.0,
                        help="length of one throughput run (default 10)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds after which a process or request is abandoned")
    parser.add_argument("--data", default=None,
                        help="data folder (default benchmarks/data/scale-<scale>)")
    parser.add_argument("--results", default=str(HERE / "results"),
                        help="where results.json and results.md go (default benchmarks/results)")
    parser.add_argument("--skip-baselines", action="store_true",
                        help="skip the baselines that need benchmarks/.venv-baselines "
                        "(rasterstats, pygeoapi)")
    parser.add_argument("--no-setup", action="store_true",
                        help="do not run setup_baselines.sh when the environment is missing")
    parser.add_argument("--only", default=None,
                        help="comma-separated groups: stats,landuse,scenario,api,pygeoapi,"
                        "ogr2ogr,writes")
    parser.add_argument("--verbose", action="store_true", help="print tracebacks of errors")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    document = Runner(args).run()
    failed = [r["id"] for r in document["rows"] if r["ccn"]["status"] == "error"]
    print(markdown(document).split("## Details")[0])
    if failed:
        print(f"errors in: {', '.join(failed)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
