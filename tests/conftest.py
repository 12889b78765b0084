"""Shared fixtures: the builders module on the path and a real server on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the builders module

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str] | None = None):
    """``ccn-gis serve`` on the sample, as a user starts it; yields its base URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ccn_gis.cli", "serve", "--layers", str(SAMPLE),
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


@pytest.fixture(scope="session")
def live_server():
    """``ccn-gis serve`` on the sample, as a user starts it; yields its base URL."""
    yield from _serve()


@pytest.fixture(scope="session")
def live_server_tiled():
    """The same with ``CCN_GIS_MAP_TILES_ABOVE=1000``: the map draws the 1,513 parcels from
    vector tiles, the smaller layers from GeoJSON."""
    yield from _serve({"CCN_GIS_MAP_TILES_ABOVE": "1000"})
