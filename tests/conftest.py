"""Shared fixtures: the builders module on the path, the sample read once, and a real
server on a free port; and what ``pytest -m "not slow"`` leaves out."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the builders and sample_figures modules

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"


@pytest.fixture(scope="session")
def sample_dataset():
    """The sample province as :func:`ccn_gis.io.load_dataset` reads it, once a session:
    its layers never change, so tests that only read it may share it."""
    from ccn_gis.io import load_dataset

    return load_dataset(SAMPLE)


@pytest.fixture()
def layers(tmp_path: Path) -> Path:
    """A copy of the sample GeoPackage that a test may write to."""
    copy = tmp_path / "province.gpkg"
    shutil.copy(SAMPLE, copy)
    return copy


@pytest.fixture(scope="session")
def ogrinfo() -> str:
    """The path of GDAL's ``ogrinfo``, a real client: a test that asks for it is slow.
    Skips the test where GDAL's command-line tools are not installed."""
    found = shutil.which("ogrinfo")
    if found is None:
        pytest.skip("GDAL's command-line tools are not installed")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str] | None = None, layers: Path = SAMPLE):
    """``ccn-gis serve`` on ``layers`` (the sample), as a user starts it; yields its base
    URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ccn_gis.cli", "serve", "--layers", str(layers),
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/conformance", timeout=2)
            break
        except OSError as err:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read() if process.stdout else ""
                raise RuntimeError(f"the server did not start: {output}") from err
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def live_server_of(layers: Path):
    """``ccn-gis serve`` on a writable copy of the sample (the ``layers`` fixture)."""
    yield from _serve(layers=layers)


@pytest.fixture(scope="session")
def live_server():
    """``ccn-gis serve`` on the sample, as a user starts it; yields its base URL."""
    yield from _serve()


@pytest.fixture(scope="session")
def live_server_tiled():
    """The same with ``CCN_GIS_MAP_TILES_ABOVE=1000``: the map draws the 1,513 parcels from
    vector tiles, the smaller layers from GeoJSON."""
    yield from _serve({"CCN_GIS_MAP_TILES_ABOVE": "1000"})


SLOW_MODULES = {"test_fuzz", "test_cli_fuzz", "test_scenario_fuzz", "test_notebooks",
                "test_web_map", "test_gdal", "test_gdal_oapif", "test_benchmarks_smoke",
                "test_cli", "test_other_province", "test_landuse_sample"}
"""Real clients (GDAL, a browser, notebooks, the command line in a process of its own),
fuzzers, the independent province and the sample's land use checked cell by cell, and
the benchmark smoke run. Elsewhere a test marks itself slow: a command run in a process
of its own (most have an in-process twin that is fast), a bad input stored in a file (its
in-memory twin is fast)."""
SLOW_FIXTURES = {"live_server", "live_server_tiled", "live_server_of", "ogrinfo"}


def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` what runs a real client, a fuzzer or a real server: ``pytest -m "not
    slow"`` runs the rest."""
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if module in SLOW_MODULES or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
