"""Scenario checks are bounded: the YAML a stranger sends, the work it asks for, the time
it takes, how many run at once — and the server keeps answering everyone else."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ccn_gis.budget import Deadline, DeadlineExceeded, checkpoint
from ccn_gis.io.scenario_file import YamlLimits, load_yaml
from ccn_gis.rules import MAX_FINDINGS_PER_RULE
from ccn_gis.scenario import ScenarioError
from ccn_gis.settings import AppSettings
from ccn_gis_api import create_app
from ccn_gis_api.limits import Limits, default_download_root

SAMPLE = Path(__file__).resolve().parents[1] / "layers" / "thai_binh.gpkg"
BOMB = "\n".join(
    ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
)  # 9**10 values from a few hundred bytes


def overlapping_additions(n: int) -> str:
    """``n`` new clusters on (almost) the same ground of the sample: every pair overlaps."""
    lines = ["name: many", "horizon: 2030", "changes:"]
    for i in range(n):
        x, y = 106.40 + (i % 7) * 0.0001, 20.50
        ring = [[x, y], [x + 0.004, y], [x + 0.004, y + 0.004], [x, y + 0.004], [x, y]]
        lines += [f"  - add: {{cluster_id: N-{i}, name: 'CCN {i}', admin_code: '342'}}",
                  "    year: 2028",
                  f"    geometry: {json.dumps({'type': 'Polygon', 'coordinates': [ring]})}"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ reading YAML
def test_an_alias_bomb_stops_at_the_value_limit():
    assert len(BOMB) < 600  # 9**10 values if expanded: reading stops at the limit
    with pytest.raises(ScenarioError, match="line 6: the document holds more than 500,000"):
        load_yaml(BOMB, source="body")


def test_the_limits_are_counted_as_aliases_expand():
    text = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\n" + "".join(f"b{i}: *a\n" for i in range(8))
    # the mapping, key a, its list of 1 + 9, and 8 × (a key and the 10 values it repeats)
    document, _ = load_yaml(text, limits=YamlLimits(nodes=100))
    assert document["b7"] == list(range(1, 10))
    with pytest.raises(ScenarioError, match="more than 99 values"):
        load_yaml(text, limits=YamlLimits(nodes=99))
    with pytest.raises(ScenarioError, match="more than 3 aliases"):
        load_yaml(text, limits=YamlLimits(aliases=3))


@pytest.mark.parametrize("text, words", [
    ("a: " + "{b: " * 40 + "1" + "}" * 40, "line 1: nested more than 32 levels deep"),
    ("a: " + "[" * 100_000 + "]" * 100_000, "not valid YAML"),
    ("name: !!python/object/apply:os.system ['true']\n", "line 1: the tag "),
    ("name: !vn Thái Bình\n", "the tag '!vn' is not allowed"),
    ("a: !!set {x, y}\n", "is not allowed"),
    ("a: 1\n---\nb: 2\n", "line 2: more than one YAML document"),
    ("a: 1\nb: 2\na: 3\n", "line 3: the key 'a' is given twice"),
    ("a: *nowhere\n", "names no anchor"),
    ("? [1, 2]\n: x\n", "a key must be plain text"),
    ("a: 2020-02-30\n", "line 1: '2020-02-30' is not a valid timestamp"),
    ("b: &b [1]\nc:\n  <<: *b\n", "a merge key (<<) takes a mapping"),
])
def test_what_a_scenario_cannot_hold(text, words):
    with pytest.raises(ScenarioError) as info:
        load_yaml(text, source="body")
    assert words in str(info.value) and str(info.value).startswith("body")


def test_merge_keys_as_yaml_defines_them():
    text = ("base: &base {year: 2027, admin_code: '342'}\nother: &other {year: 2029, kind: x}\n"
            "one:\n  <<: [*base, *other]\n  year: 2028\n  name: A\n")
    document, lines = load_yaml(text)
    assert document["one"] == {"year": 2028, "admin_code": "342", "kind": "x", "name": "A"}
    assert lines[("one", "year")] == 5 and lines[("one", "name")] == 6
    assert document == yaml.safe_load(text)


def test_the_number_of_changes_is_bounded_while_reading():
    text = "changes:\n" + "  - {remove: TB-01}\n" * 501
    with pytest.raises(ScenarioError, match="more than 500 changes"):
        load_yaml(text, source="body")
    load_yaml("changes:\n" + "  - {remove: TB-01}\n" * 500)


@pytest.mark.parametrize("text", [
    "a: 1\nb: [x, {c: 2020-01-01, d: 1.5e3}]\nc: ~\nd: yes\ne: '0012'\n",
    "x: &x {p: [1, 2]}\ny: *x\n",
    "",
    "- 1\n- two\n",
    "'a b': 0x1F\n",
])
def test_the_same_values_as_pyyaml(text):
    assert load_yaml(text)[0] == yaml.safe_load(text)


# ------------------------------------------------------------------------------- deadlines
def test_a_deadline_stops_at_the_next_checkpoint():
    deadline = Deadline(0.0)
    checkpoint()  # no deadline here: nothing happens
    with deadline.applied(), pytest.raises(DeadlineExceeded, match="after 0 s"):
        checkpoint()
    checkpoint()  # the deadline applied only inside the block


# ------------------------------------------------------------------------- through the API
def scenario_app(**limits) -> FastAPI:
    """The app on the sample, with these limits."""
    return create_app(AppSettings(layers=SAMPLE), Limits(**limits))


@pytest.fixture(scope="module")
def client() -> TestClient:
    """The app on the sample with the default limits, for checks that share nothing."""
    return TestClient(scenario_app())


def post(client: TestClient, text: str, media_type: str = "application/yaml"):
    return client.post("/scenarios/check", content=text.encode(),
                       headers={"content-type": media_type})


def test_a_bomb_is_a_400_naming_the_limit(client):
    response = post(client, BOMB)
    assert response.status_code == 400
    assert "more than 500,000 values" in response.json()["description"]


@pytest.mark.parametrize("text, words", [
    ("base_year: 0\n", "base_year: 0 is not a year between 1900 and 2200"),
    ("horizon: 99999999999999999999999999\n", "is not a year"),
    ("horizon: 2030.5\n", "not a whole number"),
    ("absorption: {years: 99999999999999999999}\n", "absorption.years"),
    ("absorption: {rate_ha_per_year: {default: 1.0e+400}}\n", "not a finite number"),
    ("absorption: {rate_ha_per_year: {default: 1.0e400}}\n", "hectares a year"),
    ("absorption: {rate_ha_per_year: {default: 1.0e30}}\n", "hectares a year"),
    ("defaults: &d {year: 2027}\nchanges:\n  - {establish: TB-03, <<: *d}\n", "unknown key"),
])
def test_realistic_mistakes_are_400(client, text, words):
    response = post(client, text)
    assert response.status_code == 400, response.text
    assert words in response.json()["description"]


def test_merge_keys_in_a_posted_scenario(client):
    text = ("name: merged\nhorizon: 2030\nchanges:\n"
            "  - &first {establish: TB-03, year: 2026}\n  - {<<: *first, establish: TB-47}\n")
    response = post(client, text)
    assert response.status_code == 200, response.text
    assert response.json()["changes"] == [
        {"kind": "establish", "cluster_id": "TB-03", "year": 2026},
        {"kind": "establish", "cluster_id": "TB-47", "year": 2026}]


@pytest.mark.slow  # a storm of requests or checks: seconds of real work
def test_many_overlapping_additions_give_a_bounded_answer(client):
    response = post(client, overlapping_additions(500))
    assert response.status_code == 200, response.text
    overlaps = [f for f in response.json()["findings"] if f["rule"] == "OVERLAP"]
    # 500 · 499 / 2 pairs overlap: the first are listed, one more finding counts the rest
    assert len(overlaps) == MAX_FINDINGS_PER_RULE + 1
    more = [f for f in overlaps if f["cluster_id"] is None]
    assert len(more) == 1 and more[0]["value"] == 500 * 499 / 2 - MAX_FINDINGS_PER_RULE
    assert len(response.content) < 5_000_000


@pytest.mark.slow  # a storm of requests or checks: seconds of real work
def test_the_deadline_gives_422_and_the_next_request_is_served():
    """The stopped check gives its slot back: with one check allowed at a time, the next
    ones are checked (or stopped in their turn), never refused as busy."""
    client = TestClient(scenario_app(scenario_deadline_s=0.05,
                                     scenario_concurrency=1))
    response = post(client, overlapping_additions(300))
    assert response.status_code == 422, response.text
    assert "stopped after 0.05 s" in response.json()["description"]
    for _ in range(3):
        assert post(client, overlapping_additions(300)).status_code == 422
    assert client.get("/scenarios").status_code == 200


@pytest.mark.slow  # several writes, re-reads or checks of the sample: seconds
def test_examples_are_checked_once_for_concurrent_requests(monkeypatch):
    app = scenario_app()
    calls = []
    import ccn_gis_api.scenarios as routes

    real = routes.check_scenario

    def counted(*args, **kwargs):
        calls.append(1)
        time.sleep(0.2)  # long enough for the other requests to arrive meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(routes, "check_scenario", counted)
    client = TestClient(app)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(
        client.get("/scenarios/current").status_code)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 6
    assert len(calls) == 1


@pytest.mark.slow  # several writes, re-reads or checks of the sample: seconds
def test_over_the_concurrency_limit_is_503_with_retry_after(monkeypatch):
    app = scenario_app(scenario_concurrency=1)
    started, release = threading.Event(), threading.Event()
    import ccn_gis_api.scenarios as routes

    real = routes.check_scenario

    def held(*args, **kwargs):
        started.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(routes, "check_scenario", held)
    client = TestClient(app)
    first: list[int] = []
    thread = threading.Thread(target=lambda: first.append(post(client, "name: a\n").status_code))
    thread.start()
    assert started.wait(10)
    try:
        busy = post(client, "name: b\n")
        assert busy.status_code == 503
        assert int(busy.headers["retry-after"]) > 0
        assert "scenario" in busy.json()["description"]
        assert client.get("/scenarios").status_code == 200  # light routes still answer
    finally:
        release.set()
        thread.join()
    assert first == [200]


@pytest.mark.slow  # several writes, re-reads or checks of the sample: seconds
def test_a_client_that_leaves_stops_its_check(caplog):
    """The check stops at its next checkpoint once the client has gone, not at the end."""
    import uvicorn

    app = scenario_app(scenario_deadline_s=120)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]

    async def leave() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body = overlapping_additions(500).encode()
        writer.write(b"POST /scenarios/check HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     b"application/yaml\r\nContent-Length: " + str(len(body)).encode()
                     + b"\r\n\r\n" + body)
        await writer.drain()
        await asyncio.sleep(0.5)  # the check has begun
        writer.close()

    try:
        with caplog.at_level(logging.INFO, logger="ccn_gis_api.scenarios"):
            asyncio.run(leave())
            waited = time.monotonic()
            while time.monotonic() - waited < 30 and not any(
                    "the client left" in r.getMessage() for r in caplog.records):
                time.sleep(0.05)
        assert any("the client left" in r.getMessage() for r in caplog.records)
        assert not [t for t in threading.enumerate() if t.name == "ccn-gis-scenario"]
    finally:
        server.should_exit = True
        thread.join(10)


# -------------------------------------------------------------------------- a real server
def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.slow
def test_forty_bombs_and_forty_huge_scenarios_at_once():
    """The issue's storm: ``/collections`` keeps answering in under a second, the server's
    memory stays bounded, every heavy request gets an answer (400, 200, 422 or 503)."""
    import http.client
    import os
    import socket
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "ccn_gis.cli", "serve", "--layers", str(SAMPLE), "--port",
         str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def request(method: str, path: str, body: bytes = b"", timeout: float = 120
                ) -> tuple[int, float]:
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            connection.request(method, path, body=body or None,
                               headers={"Content-Type": "application/yaml"})
            response = connection.getresponse()
            response.read()
            return response.status, time.monotonic() - started
        finally:
            connection.close()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request("GET", "/conformance", timeout=2)
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        request("GET", "/collections")
        before = _rss_mb(process.pid)
        huge = overlapping_additions(500).encode()
        bodies = [BOMB.encode()] * 40 + [huge] * 40
        light: list[float] = []
        peak = before
        with ThreadPoolExecutor(max_workers=80) as pool:
            heavy = [pool.submit(request, "POST", "/scenarios/check", b) for b in bodies]
            while not all(f.done() for f in heavy):
                status, took = request("GET", "/collections", timeout=10)
                assert status == 200
                light.append(took)
                peak = max(peak, _rss_mb(process.pid))
                time.sleep(0.1)
            statuses = sorted({f.result()[0] for f in heavy})
        assert set(statuses) <= {200, 400, 422, 503}, statuses
        assert 400 in statuses and 503 in statuses
        assert light and max(light) < 1.0, light
        assert peak - before < 500, (before, peak)  # MB: two checks at a time, bounded
        # and it stops within a few seconds, whatever its clients are doing
        with ThreadPoolExecutor(max_workers=4) as pool:
            running = [pool.submit(request, "POST", "/scenarios/check", huge) for _ in range(4)]
            time.sleep(0.5)
            stopping = time.monotonic()
            process.terminate()
            assert process.wait(timeout=15) == 0  # stopped, not killed: clean-up ran
            assert time.monotonic() - stopping < 8
            assert not (default_download_root() / str(process.pid)).exists()
            for f in running:
                try:
                    f.result()
                except OSError:
                    pass  # the connection was closed: that is what stopping means
    finally:
        process.kill()
        process.wait()
