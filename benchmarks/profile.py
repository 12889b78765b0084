"""Profile where the time goes in the measurements that miss their targets.

    .venv/bin/python benchmarks/profile.py [--scale 1.0] [--only stats,startup,requests,scenario]

Uses pyinstrument from ``benchmarks/.profile-lib`` (``setup_baselines.sh`` puts it there,
outside the project's ``.venv``), else cProfile. Writes text profiles to
``benchmarks/results/profiles/``:

- ``stats_cold.txt``: ``load_dataset`` + ``figures_json`` for the three levels (the cold
  ``stats`` workload);
- ``server_startup.txt``: ``create_app`` on the dataset (load, validate, catalog, land use);
- ``request_<name>.txt``: requests through the whole app (routing, parameters, handler,
  response) in one thread: FastAPI's thread pool is replaced by a direct call so that the
  profiler sees the handlers;
- ``scenario_2030.txt``: the scenario workload.

Run it after ``run.py`` (it uses the same data folder) and not at the same time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROFILE_LIB = HERE / ".profile-lib"
sys.path.insert(0, str(HERE))
if PROFILE_LIB.is_dir():
    sys.path.insert(0, str(PROFILE_LIB))

import make_national  # noqa: E402


class Profile:
    """pyinstrument when available, else cProfile; text into ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            from pyinstrument import Profiler

            self.profiler = Profiler(interval=0.002, async_mode="disabled")
            self.kind = "pyinstrument"
        except ImportError:
            import cProfile

            self.profiler = cProfile.Profile()
            self.kind = "cprofile"

    def __enter__(self) -> Profile:
        self.t0 = time.perf_counter()
        if self.kind == "pyinstrument":
            self.profiler.start()
        else:
            self.profiler.enable()
        return self

    def __exit__(self, *exc) -> None:
        elapsed = time.perf_counter() - self.t0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.kind == "pyinstrument":
            self.profiler.stop()
            text = self.profiler.output_text(unicode=True, color=False)
        else:
            import io
            import pstats

            self.profiler.disable()
            out = io.StringIO()
            pstats.Stats(self.profiler, stream=out).sort_stats("cumulative").print_stats(60)
            text = out.getvalue()
        self.path.write_text(text, encoding="utf-8")
        print(f"  {self.path.name}: {elapsed:.2f} s ({self.kind})", flush=True)


def workload(script: str, *args: str, out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(PROFILE_LIB), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(HERE / "workloads" / script), "--profile", str(out),
                    *args], check=True, env=env, stdout=subprocess.DEVNULL)
    print(f"  {out.name}: {time.perf_counter() - t0:.2f} s (workload {script})", flush=True)


def profile_requests(gpkg: Path, manifest: dict, out: Path) -> None:
    import fastapi.routing
    import httpx

    async def inline(func, *args, **kwargs):  # handlers in this thread, for the profiler
        return func(*args, **kwargs)

    fastapi.routing.run_in_threadpool = inline
    from ccn_gis.settings import AppSettings
    from ccn_gis_api import create_app

    with Profile(out / "server_startup.txt"):
        app = create_app(AppSettings(layers=gpkg))
    views = [",".join(f"{v:.6f}" for v in b) for b in manifest["map_views"]]
    province = ",".join(f"{v:.6f}" for v in manifest["first_province"]["bbox_wgs84"])
    cases = [
        ("stats_province", ["/stats"], 20),
        ("stats_admin", ["/stats?by=admin"], 10),
        ("stats_cluster", ["/stats?by=cluster"], 10),
        ("items_bbox", [f"/collections/parcels/items?bbox={v}&limit=1000" for v in views], 200),
        ("download_geojson_province",
         [f"/collections/parcels/download?format=geojson&bbox={province}"], 2),
        ("items_page_10000", ["/collections/parcels/items?limit=10000&offset=250000"], 5),
    ]

    async def run(urls: list[str], n: int) -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for i in range(n):
                r = await client.get(urls[i % len(urls)])
                r.raise_for_status()

    for name, urls, n in cases:
        asyncio.run(run(urls[:1], 1))  # warm-up
        with Profile(out / f"request_{name}.txt"):
            asyncio.run(run(urls, n))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--data", default=None)
    parser.add_argument("--out", default=str(HERE / "results" / "profiles"))
    parser.add_argument("--only", default="stats,startup,requests,scenario")
    args = parser.parse_args(argv)
    data = Path(args.data) if args.data else make_national.default_out(args.scale)
    if not (data / "manifest.json").is_file():
        make_national.generate(args.scale, data)
    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    gpkg, out = data / "national.gpkg", Path(args.out)
    only = set(args.only.split(","))
    print(f"profiles of scale {args.scale:g} into {out}")
    if "stats" in only:
        scratch = HERE / "results" / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        workload("stats_ccn.py", str(gpkg), str(scratch / "stats_cold.json"),
                 out=out / "stats_cold.txt")
    if "scenario" in only:
        workload("scenario_ccn.py", str(gpkg), str(data / "national_2030.yaml"),
                 out=out / "scenario_2030.txt")
    if "startup" in only or "requests" in only:
        profile_requests(gpkg, manifest, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
