"""The benchmarks still run: the smallest dataset, one repeat, no extra environment.

Benchmarks are not tests: this only proves that ``benchmarks/run.py`` generates its data,
measures every row and writes its results (nothing here is timed against a target).
The baselines that need ``benchmarks/.venv-baselines`` (rasterstats, pygeoapi) are skipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from run import SPECS  # noqa: E402

NEEDS_OGR2OGR = ("download_", "items_paging_", "write_")  # GDAL's command-line tools


def test_benchmarks_smoke(tmp_path: Path) -> None:
    results = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--scale", "0.002",
         "--repeat", "1", "--skip-baselines", "--load-seconds", "1", "--budget", "20",
         "--timeout", "120", "--data", str(tmp_path / "data"), "--results", str(results)],
        capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    document = json.loads((results / "results.json").read_text(encoding="utf-8"))
    rows = {row["id"]: row for row in document["rows"]}
    assert list(rows) == [spec.id for spec in SPECS]
    for spec in SPECS:
        row = rows[spec.id]
        assert row["ccn"]["status"] == "ok", (spec.id, row["ccn"]["error"])
        assert row["ccn"]["median"] is not None and row["ccn"]["median"] > 0, spec.id
        if spec.baseline is None:
            assert row["baseline"] is None
        elif spec.id in ("landuse_parcels", "items_bbox_latency", "items_bbox_throughput"):
            assert row["baseline"]["status"] == "skipped", spec.id
        else:  # geopandas and ogr2ogr need no extra environment
            assert row["baseline"]["status"] in ("ok", "skipped"), (spec.id, row["baseline"])
            if row["baseline"]["status"] == "skipped":
                assert spec.id.startswith(NEEDS_OGR2OGR), row["baseline"]["error"]
    assert any(" agree " in note for note in rows["stats_cold"]["notes"])
    table = (results / "results.md").read_text(encoding="utf-8")
    assert "| work | ccn-gis median |" in table
    for key in ("machine", "versions", "date"):
        assert document[key]
