"""Bounded heavy work: limiters, single flights, bounded caches and download folders."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import orjson
import pytest
from conftest import _serve
from fastapi.testclient import TestClient

import ccn_gis_api.routers.stats as stats_routes
from ccn_gis.figures import _cluster_table, cluster_table, cluster_tables, figures_json
from ccn_gis.io import load_dataset
from ccn_gis.settings import AppSettings
from ccn_gis_api import create_app
from ccn_gis_api.dependencies import dumps
from ccn_gis_api.limits import Busy, DownloadFolders, Limiter, Limits, SingleFlight

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"


def run(coroutine):
    return asyncio.run(coroutine)


def _stop(server) -> None:
    """Stop a server started with ``_serve`` (its generator stops it when resumed)."""
    for _ in server:
        pass


# ---------------------------------------------------------------------------- Limiter
def test_a_limiter_admits_so_many_then_is_busy():
    async def main():
        limiter = Limiter("downloads", 2, retry_after=9)
        async with limiter:
            async with limiter:
                assert limiter.active == 2
                started = time.monotonic()
                with pytest.raises(Busy) as refused:
                    async with limiter:
                        pass
                assert time.monotonic() - started < 0.05  # wait=0: at once
            assert limiter.active == 1
            async with limiter:
                assert limiter.active == 2
        assert limiter.active == 0 and limiter.refused == 1
        return refused.value

    busy = run(main())
    assert (busy.kind, busy.retry_after, busy.headers) == ("downloads", 9, {"Retry-After": "9"})
    assert str(busy).endswith("the server is busy with other downloads; try again in 9 s")


def test_a_limiter_with_a_wait_admits_when_a_slot_frees():
    async def main():
        limiter = Limiter("computations", 1, wait=2.0)
        slot = await limiter.acquire()
        asyncio.get_running_loop().call_later(0.2, slot.release)
        started = time.monotonic()
        async with limiter:
            waited = time.monotonic() - started
        slot.release()  # a second release does nothing
        short = Limiter("computations", 1, wait=0.2)
        async with short:
            started = time.monotonic()
            with pytest.raises(Busy):
                await short.acquire()
            assert 0.15 < time.monotonic() - started < 1.0
        return waited, limiter.active

    waited, active = run(main())
    assert 0.15 < waited < 1.5 and active == 0


def test_a_limiter_is_shared_by_threads_and_loops():
    limiter = Limiter("tiles", 3, wait=30.0)
    inside = []
    most = [0]
    lock = threading.Lock()

    async def job():
        async with limiter:
            with lock:
                inside.append(1)
                most[0] = max(most[0], len(inside))
            await asyncio.sleep(0.02)
            with lock:
                inside.pop()

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda _: asyncio.run(job()), range(36)))
    assert most[0] == 3 and limiter.active == 0


def test_limits_come_from_the_environment_when_built(monkeypatch, tmp_path):
    monkeypatch.setenv("CCN_GIS_DOWNLOAD_CONCURRENCY", "7")
    monkeypatch.setenv("CCN_GIS_STATS_CACHE_BYTES", "12345")
    monkeypatch.setenv("CCN_GIS_DOWNLOAD_DIR", str(tmp_path))
    limits = Limits()
    assert limits.download_concurrency == 7 and limits.stats_cache_bytes == 12345
    assert limits.download_dir == tmp_path
    assert limits.scenario_body_bytes == 1_000_000 and limits.edit_body_bytes == 5_000_000
    assert limits.max_body_bytes == 5_000_000  # the larger of the two
    monkeypatch.setenv("CCN_GIS_DOWNLOAD_CONCURRENCY", "0")
    with pytest.raises(ValueError):
        Limits()


# ----------------------------------------------------------------------- SingleFlight
def test_concurrent_requests_for_one_key_compute_once():
    calls = []

    def compute():
        calls.append(threading.get_ident())
        time.sleep(0.2)
        return b"figures"

    async def main():
        flight: SingleFlight[str, bytes] = SingleFlight(8)
        values = await asyncio.gather(*(flight.get("2020-12-31", compute) for _ in range(20)))
        again = await flight.get("2020-12-31", compute)
        return flight, values, again

    flight, values, again = run(main())
    assert len(calls) == 1 and calls[0] != threading.get_ident()  # in a worker thread
    assert values == [b"figures"] * 20 and again == b"figures"
    assert flight.computations == 1 and flight.hits == 1 and len(flight) == 1


def test_distinct_keys_are_bounded_by_the_limiter():
    running = []
    most = [0]
    lock = threading.Lock()

    def compute(i):
        with lock:
            running.append(i)
            most[0] = max(most[0], len(running))
        time.sleep(0.03)
        with lock:
            running.remove(i)
        return i

    async def main():
        flight: SingleFlight[int, int] = SingleFlight(100)
        limiter = Limiter("computations", 2, wait=30.0)
        return await asyncio.gather(*(flight.get(i, lambda i=i: compute(i), limiter=limiter)
                                      for i in range(30)))

    assert run(main()) == list(range(30))
    assert most[0] == 2


def test_a_refused_computation_refuses_its_waiters_and_is_not_kept():
    async def main():
        flight: SingleFlight[str, str] = SingleFlight(8)
        limiter = Limiter("computations", 1)
        async with limiter:  # full
            results = await asyncio.gather(*(flight.get("k", lambda: "v", limiter=limiter)
                                             for _ in range(3)), return_exceptions=True)
        assert all(isinstance(r, Busy) for r in results)
        assert "k" not in flight and flight.in_flight == 0
        return await flight.get("k", lambda: "v", limiter=limiter)

    assert run(main()) == "v"


def test_exceptions_reach_every_waiter_and_are_not_kept():
    calls = []

    def failing():
        calls.append(1)
        time.sleep(0.1)
        raise KeyError("no such thing")

    async def main():
        flight: SingleFlight[str, str] = SingleFlight(8)
        results = await asyncio.gather(*(flight.get("k", failing) for _ in range(5)),
                                       return_exceptions=True)
        assert all(isinstance(r, KeyError) for r in results) and len(calls) == 1
        assert "k" not in flight
        return await flight.get("k", lambda: "fixed")

    assert run(main()) == "fixed"


def test_a_waiter_that_leaves_does_not_cancel_the_others():
    async def main():
        flight: SingleFlight[str, str] = SingleFlight(8)

        def slow():
            time.sleep(0.3)
            return "v"

        leader = asyncio.ensure_future(flight.get("k", slow))
        await asyncio.sleep(0.05)
        leaving = asyncio.ensure_future(flight.get("k", slow))
        staying = asyncio.ensure_future(flight.get("k", slow))
        await asyncio.sleep(0.05)
        leaving.cancel()
        return await leader, await staying, flight.computations

    assert run(main()) == ("v", "v", 1)


def test_when_the_computing_request_leaves_before_starting_a_waiter_computes():
    async def main():
        flight: SingleFlight[str, str] = SingleFlight(8)
        limiter = Limiter("computations", 1, wait=10.0)
        slot = await limiter.acquire()  # the leader waits for this slot …
        leader = asyncio.ensure_future(flight.get("k", lambda: "v", limiter=limiter))
        await asyncio.sleep(0.05)
        waiter = asyncio.ensure_future(flight.get("k", lambda: "v", limiter=limiter))
        await asyncio.sleep(0.05)
        leader.cancel()  # … and leaves before it computed anything
        await asyncio.sleep(0.05)
        slot.release()
        return await asyncio.wait_for(waiter, 5)

    assert run(main()) == "v"


def test_the_cache_is_bounded_by_count_and_weight():
    async def main():
        by_count: SingleFlight[int, bytes] = SingleFlight(3)
        by_weight: SingleFlight[int, bytes] = SingleFlight(100, max_weight=250)
        for i in range(10):
            await by_count.get(i, lambda: b"x" * 100)
            await by_weight.get(i, lambda: b"x" * 100)
        await by_weight.get(99, lambda: b"x" * 1000)  # heavier than the bound: not kept
        return by_count, by_weight

    by_count, by_weight = run(main())
    assert len(by_count) == 3 and 9 in by_count and 0 not in by_count
    assert len(by_weight) == 2 and by_weight.weight == 200 and 99 not in by_weight
    assert by_weight.evictions == 8


def test_a_computation_may_run_in_a_given_executor():
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="own-pool") as pool:
        flight: SingleFlight[str, str] = SingleFlight(1)
        name = run(flight.get("k", lambda: threading.current_thread().name, executor=pool))
    assert name.startswith("own-pool")


# ------------------------------------------------------------------ figures, bounded
@pytest.mark.slow  # a storm of requests or checks: seconds of real work
def test_dates_between_two_records_share_one_cluster_table():
    dataset = load_dataset(SAMPLE)
    tables = cluster_tables(dataset)
    tables.maxsize = 8
    rng = np.random.default_rng(7)
    days = [dt.date(1990, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 14_000, 60)]
    for day in [dt.date(1, 1, 1), dt.date(9999, 12, 31), *days]:
        assert cluster_table(dataset, as_of=day).equals(_cluster_table(dataset, day)), day
    assert len(tables) <= 8 + 1  # and the table of every record
    assert tables.key(dataset, dt.date(1901, 1, 1)) == tables.key(dataset, dt.date(1950, 1, 1))
    assert tables.key(dataset, dt.date(2100, 1, 1)) == tables.key(dataset, dt.date(9999, 1, 1))


@pytest.fixture(scope="module")
def bounded_app():
    return create_app(AppSettings(layers=SAMPLE),
                      Limits(stats_cache_entries=16, figures_cache_entries=8,
                             tile_cache_bytes=30_000))


@pytest.mark.slow
def test_stats_for_many_dates_keep_bounded_caches(bounded_app):
    client = TestClient(bounded_app)
    caches = bounded_app.state.caches
    first = dt.date(2005, 1, 1)
    for i in range(300):
        day = (first + dt.timedelta(days=17 * i)).isoformat()
        assert client.get("/stats", params={"as_of": day}).status_code == 200
    assert len(caches["stats"]) == 16
    assert len(caches["cluster_tables"]) <= 8 + 1
    day = dt.date(2019, 7, 1)
    dataset = bounded_app.state.catalog.dataset
    assert client.get("/stats", params={"as_of": day.isoformat(), "by": "cluster"}).json() == (
        orjson.loads(dumps(figures_json(dataset, as_of=day, by="cluster"))))


@pytest.mark.slow  # a storm of requests or checks: seconds of real work
def test_concurrent_first_time_stats_are_bounded_and_shared(bounded_app, monkeypatch):
    running = []
    most = [0]
    calls = []
    lock = threading.Lock()
    real = stats_routes.figures_json

    def counted(dataset, *, as_of=None, by="province"):
        with lock:
            calls.append(as_of)
            running.append(1)
            most[0] = max(most[0], len(running))
        time.sleep(0.05)
        with lock:
            running.pop()
        return real(dataset, as_of=as_of, by=by)

    monkeypatch.setattr(stats_routes, "figures_json", counted)
    client = TestClient(bounded_app)
    new = [(dt.date(1961, 1, 1) + dt.timedelta(days=i)).isoformat() for i in range(50)]
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        codes = list(pool.map(lambda d: client.get("/stats", params={"as_of": d}).status_code,
                              new))
    assert codes == [200] * 50
    assert most[0] <= bounded_app.state.limits.compute_concurrency == 2
    calls.clear()
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        bodies = list(pool.map(lambda _: client.get("/stats", params={
            "as_of": "1950-05-05", "by": "admin"}).content, range(20)))
    assert len(set(bodies)) == 1 and calls == [dt.date(1950, 5, 5)]  # computed once


def test_tiles_are_kept_within_their_bytes(bounded_app):
    client = TestClient(bounded_app)
    caches = bounded_app.state.caches
    for dx in range(-2, 3):
        for dy in range(-2, 3):
            x, y = 814 + dx, 452 + dy  # around Thái Bình city at zoom 10
            assert client.get(f"/landuse/tiles/10/{x}/{y}.png").status_code == 200
            assert client.get(f"/collections/clusters/tiles/WebMercatorQuad/10/{y}/{x}"
                              ).status_code in (200, 204)
    for name in ("tiles", "landuse_tiles"):
        assert 0 < caches[name].weight <= 30_000, name
        assert caches[name].evictions > 0 or name == "tiles", name


@pytest.mark.slow
def test_stats_for_2000_distinct_dates_keep_the_default_bounds():
    app = create_app(AppSettings(layers=SAMPLE), Limits())
    client = TestClient(app)
    caches, limits = app.state.caches, app.state.limits
    first = dt.date(1900, 1, 1)
    for i in range(2000):
        day = first + dt.timedelta(days=23 * i)
        by = ("province", "admin", "cluster")[i % 3]
        assert client.get("/stats", params={"as_of": day.isoformat(), "by": by}).status_code == 200
    assert len(caches["stats"]) <= limits.stats_cache_entries
    assert caches["stats"].weight <= limits.stats_cache_bytes
    assert len(caches["cluster_tables"]) <= limits.figures_cache_entries + 1


# -------------------------------------------------------------------------- downloads
async def _asgi_get(app, url: str, *, hold: asyncio.Event | None = None, spec: str = "2.4"):
    """GET ``url`` straight through ASGI. With ``hold``, the client stalls on the first piece
    of the body until ``hold`` is set, then leaves (ASGI 2.4: sending fails; before 2.4:
    the server hears a disconnect)."""
    path, _, query = url.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": spec},
             "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
             "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"testserver"), (b"accept-encoding", b"identity")],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    answer: dict = {"started": asyncio.Event(), "body": b""}

    async def receive():
        if hold is None:
            await asyncio.Event().wait()  # never leaves
        await hold.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
            answer["started"].set()
        elif message["type"] == "http.response.body":
            if hold is not None:
                await hold.wait()
                if spec == "2.4":
                    raise OSError("the client left")
                await asyncio.Event().wait()  # before 2.4: stalled until cancelled
            answer["body"] += message.get("body", b"")

    answer["task"] = asyncio.ensure_future(app(scope, receive, send))
    if hold is None:
        await answer["task"]
    return answer


@pytest.fixture(scope="module")
def download_app(tmp_path_factory):
    root = tmp_path_factory.mktemp("downloads")
    return create_app(AppSettings(layers=SAMPLE),
                      Limits(download_concurrency=2, download_dir=root))


@pytest.mark.parametrize("spec", ["2.4", "2.3"])
def test_downloads_over_the_limit_are_503_until_the_sent_ones_end(download_app, spec):
    limiter = download_app.state.limiters["downloads"]
    folders = download_app.state.download_folders

    async def main():
        leave = asyncio.Event()
        held = [await _asgi_get(download_app, f"/collections/parcels/download?format={fmt}",
                                hold=leave, spec=spec) for fmt in ("gpkg", "geojson")]
        for answer in held:
            await asyncio.wait_for(answer["started"].wait(), 30)
            assert answer["status"] == 200
        assert limiter.active == 2 and len(folders.downloads()) == 1  # the GeoPackage's
        refused = await _asgi_get(download_app, "/collections/parcels/download?format=csv")
        started = time.monotonic()
        other = await _asgi_get(download_app, "/collections")
        fast = time.monotonic() - started
        leave.set()  # both clients leave half-way
        for answer in held:
            try:
                await asyncio.wait_for(answer["task"], 30)
            except Exception:  # noqa: BLE001 - the server's view of a client gone
                pass
        after = await _asgi_get(download_app, "/collections/projects/download?format=csv")
        return refused, other, fast, after

    refused, other, fast, after = run(main())
    assert refused["status"] == 503 and refused["headers"]["retry-after"] == "5"
    assert b"the server is busy with other downloads" in refused["body"]
    assert other["status"] == 200 and fast < 1.0
    assert after["status"] == 200 and b"project_id" in after["body"]
    assert limiter.active == 0 and folders.downloads() == []


def test_a_sent_download_leaves_no_folder(download_app):
    client = TestClient(download_app)
    folders = download_app.state.download_folders
    for fmt in ("gpkg", "shp", "csv", "kml"):
        assert client.get("/collections/clusters/download", params={"format": fmt}).status_code \
            == 200
    assert client.get("/collections/projects/download", params={"format": "kml"}
                      ).status_code == 400  # no geometry: refused, its folder removed
    assert folders.downloads() == [] and download_app.state.limiters["downloads"].active == 0
    assert folders.folder.parent == download_app.state.limits.download_dir
    assert folders.folder.name == str(os.getpid())


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_leftovers_of_stopped_servers_are_swept_at_start(tmp_path):
    dead = tmp_path / str(_dead_pid())
    (dead / "download-abc").mkdir(parents=True)
    (dead / "download-abc" / "parcels.gpkg").write_bytes(b"x" * 1000)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        alive = tmp_path / str(sleeper.pid)
        (alive / "download-def").mkdir(parents=True)
        stranger = tmp_path / "not-a-server"
        stranger.mkdir()
        folders = DownloadFolders(tmp_path)
        assert not dead.exists() and folders.removed == [dead]
        assert alive.exists() and stranger.exists()
        assert folders.folder == tmp_path / str(os.getpid())
        assert (folders.folder / ".lock").exists()
        again = DownloadFolders.for_process(tmp_path / "elsewhere")
        assert again is DownloadFolders.for_process(tmp_path / "elsewhere")
        folders.close()
        assert not folders.folder.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_folder_locked_by_a_live_server_is_kept(tmp_path):
    first = DownloadFolders(tmp_path)
    other = tmp_path / "1"  # pid 1 is alive; its folder is locked by a process below
    other.mkdir()
    locker = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time; f = open(sys.argv[1], 'wb'); "
        "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)"),
        str(other / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        assert other not in first.sweep() and other.exists()
    finally:
        locker.kill()
        locker.wait()
    assert other in first.sweep()  # pid 1 lives, but not the server that held the lock
    first.close()


# ------------------------------------------------------------------------ real servers
def _hold(url: str, path: str) -> socket.socket:
    """Ask for ``path`` and read only the status line: the server waits to send the rest
    (a tiny receive window and segment size keep the kernel from taking it all)."""
    parts = urlsplit(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    if hasattr(socket, "TCP_MAXSEG"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    sock.connect((parts.hostname, parts.port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                 "Accept-Encoding: identity\r\n\r\n".encode())
    assert sock.recv(12).startswith(b"HTTP/1.1 200")
    return sock


def _get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.mark.slow
def test_a_real_server_refuses_downloads_beyond_the_limit(tmp_path):
    server = _serve({"CCN_GIS_DOWNLOAD_CONCURRENCY": "2", "CCN_GIS_DOWNLOAD_DIR": str(tmp_path)})
    url = next(server)
    try:
        held = [_hold(url, f"/collections/parcels/download?format={fmt}")
                for fmt in ("kml", "geojson")]
        time.sleep(0.5)
        status, headers, body = _get(f"{url}/collections/parcels/download?format=csv")
        assert status == 503 and headers["retry-after"] == "5"
        assert b"ServiceUnavailable" in body
        started = time.monotonic()
        assert _get(f"{url}/collections")[0] == 200
        assert time.monotonic() - started < 1.0
        for sock in held:
            sock.close()  # the clients leave: their slots come back
        deadline = time.monotonic() + 10
        while (status := _get(f"{url}/collections/parcels/download?format=csv")[0]) == 503:
            assert time.monotonic() < deadline, "the slots of the clients gone never came back"
            time.sleep(0.2)
        assert status == 200
    finally:
        _stop(server)


@pytest.mark.slow
def test_a_killed_servers_downloads_are_swept_by_the_next(tmp_path):
    env = {"CCN_GIS_DOWNLOAD_DIR": str(tmp_path)}
    first = _serve(env)
    url = next(first)
    (folder,) = [p for p in tmp_path.iterdir() if p.name.isdigit()]
    pid = int(folder.name)
    sock = _hold(url, "/collections/parcels/download?format=kml")
    deadline = time.monotonic() + 10
    while not list(folder.glob("download-*")):
        assert time.monotonic() < deadline, "the download's folder never appeared"
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)  # mid-download
    sock.close()
    time.sleep(0.5)
    assert list(folder.glob("download-*/*")), "kill -9 leaves the file behind"
    second = _serve(env)
    next(second)
    try:
        assert not folder.exists()
        assert [p.name for p in tmp_path.iterdir() if p.name.isdigit()] != [str(pid)]
    finally:
        _stop(second)
        _stop(first)
