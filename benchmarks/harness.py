"""The benchmarks' harness: processes, servers, load clients and the samples they give.

Used by ``run.py``; nothing here knows what is measured.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

LOOPBACK = "127.0.0.1"


@dataclass
class Side:
    """One side of a row: ccn-gis or the baseline."""

    status: str = "not run"  # ok | error | skipped | not run
    samples: list[float] = field(default_factory=list)
    median: float | None = None
    p25: float | None = None
    p75: float | None = None
    min: float | None = None
    max: float | None = None
    n: int = 0
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def fill(self, samples: list[float]) -> Side:
        self.samples = [round(s, 6) for s in samples]
        self.n = len(samples)
        if samples:
            self.status = "ok"
            ordered = sorted(samples)
            self.median = statistics.median(ordered)
            self.min, self.max = ordered[0], ordered[-1]
            if len(ordered) >= 4:
                q = statistics.quantiles(ordered, n=4, method="inclusive")
                self.p25, self.p75 = q[0], q[2]
        return self


# -------------------------------------------------------------- processes
@dataclass
class Proc:
    wall_s: float
    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float
    timed_out: bool = False

    @property
    def report(self) -> dict[str, Any]:
        for line in reversed(self.stdout.strip().splitlines()):
            if line.startswith("{"):
                try:
                    return json.loads(line)
                except ValueError:
                    break
        return {}

    def check(self) -> Proc:
        if self.timed_out:
            raise RuntimeError(f"timed out after {self.wall_s:.0f} s")
        if self.returncode != 0:
            tail = (self.stderr.strip() or self.stdout.strip())[-1500:]
            raise RuntimeError(f"exit status {self.returncode}: {tail}")
        return self


def run_process(cmd: list[str], *, timeout: float, env: dict | None = None) -> Proc:
    """Run ``cmd``; return its wall time, output and peak RSS (``wait4``), killing its
    process group when it outlives ``timeout``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, start_new_session=True)
        box: dict[str, Any] = {}

        def wait() -> None:
            _, status, usage = os.wait4(proc.pid, 0)
            box.update(end=time.perf_counter(), status=status, usage=usage)

        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        waiter.join(timeout)
        timed_out = waiter.is_alive()
        if timed_out:
            os.killpg(proc.pid, signal.SIGKILL)
            waiter.join()
        proc.returncode = os.waitstatus_to_exitcode(box["status"])
        out.seek(0)
        err.seek(0)
        return Proc(box["end"] - started, proc.returncode,
                    out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                    box["usage"].ru_maxrss / 1024.0, timed_out)


def repeat(measure: Callable[[], float], *, n: int, budget: float, log: Callable) -> list[float]:
    """Run ``measure`` up to ``n`` times; start another run only while the runs so far
    leave room for one more within ``budget`` seconds (at least one run)."""
    samples: list[float] = []
    started = time.perf_counter()
    for i in range(n):
        spent = time.perf_counter() - started
        if i and spent + spent / i > budget:
            log(f"    budget of {budget:.0f} s reached after {i} run(s)")
            break
        samples.append(measure())
    return samples


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


class Server:
    """A server process of ours, in its own process group, stopped by its id."""

    def __init__(self, cmd: list[str], *, ready_url: str, log_path: Path, env: dict | None = None,
                 timeout: float = 900) -> None:
        self.log_file = log_path.open("wb")
        started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=self.log_file, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)
        while True:
            try:
                if httpx.get(ready_url, timeout=5).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                self.log_file.close()
                raise RuntimeError(f"the server exited with {self.proc.returncode}: "
                                   + log_path.read_text(errors="replace")[-2000:])
            if time.perf_counter() - started > timeout:
                self.stop()
                raise RuntimeError(f"the server did not answer within {timeout:.0f} s")
            time.sleep(0.1)
        self.startup_s = time.perf_counter() - started

    def memory_mb(self) -> dict[str, float]:
        """VmRSS and VmHWM (peak) of the server process, MB."""
        values = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024.0
        return values

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log_file.close()


# ------------------------------------------------------------------ load tools
def wrk_throughput(base: str, paths: list[str], *, seconds: float, connections: int,
                   script_dir: Path) -> dict[str, Any]:
    """Requests per second (all answers) with ``wrk`` (C client, 2 threads, ``connections``
    connections), cycling through ``paths``; bounded by ``seconds``."""
    script = script_dir / "paths.lua"
    quoted = ",\n".join(json.dumps(p) for p in paths)
    script.write_text(
        "local paths = {\n" + quoted + "\n}\nlocal i = math.random(#paths)\n"
        "request = function()\n  i = i % #paths + 1\n"
        "  return wrk.format('GET', paths[i])\nend\n", encoding="utf-8")
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "120s",
           "--latency", "-s", str(script), base]
    proc = run_process(cmd, timeout=seconds + 150).check()
    text = proc.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: (.*)", text)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", text)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    return {"rps": rps, "requests": requests, "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else None,
            "p50_ms_under_load": float(p50.group(1)) * scale[p50.group(2)] if p50 else None,
            "client": "wrk"}


def httpx_throughput(base: str, paths: list[str], *, seconds: float, connections: int,
                     max_requests: int = 100_000) -> dict[str, Any]:
    """The same with an asyncio httpx client (when wrk is missing): bounded in time and count."""

    async def go() -> tuple[int, int, float]:
        done = failed = 0
        deadline = time.perf_counter() + seconds
        async with httpx.AsyncClient(base_url=base, timeout=120,
                                     limits=httpx.Limits(max_connections=connections)) as client:
            counter = iter(range(max_requests))

            async def worker(k: int) -> None:
                nonlocal done, failed
                for i in counter:
                    if time.perf_counter() > deadline:
                        return
                    r = await client.get(paths[(i + k) % len(paths)])
                    await r.aread()
                    done += 1
                    failed += r.status_code != 200

            t0 = time.perf_counter()
            await asyncio.gather(*(worker(k) for k in range(connections)))
            return done, failed, time.perf_counter() - t0

    done, failed, elapsed = asyncio.run(go())
    return {"rps": done / elapsed, "requests": done, "non_2xx": failed, "client": "httpx"}


def timed_get(client: httpx.Client, url: str, *, gzip_ok: bool = False) -> dict[str, Any]:
    """GET ``url`` to the last byte; return seconds, bytes on the wire and the encoding."""
    headers = {"Accept-Encoding": "gzip" if gzip_ok else "identity"}
    t0 = time.perf_counter()
    size = 0
    with client.stream("GET", url, headers=headers) as r:
        for chunk in r.iter_raw():
            size += len(chunk)
        status, encoding = r.status_code, r.headers.get("content-encoding")
    elapsed = time.perf_counter() - t0
    if status != 200:
        raise RuntimeError(f"GET {url}: HTTP {status}")
    return {"s": elapsed, "bytes": size, "encoding": encoding}


def latencies(client: httpx.Client, urls: list[str], *, count: int, side: Side,
              budget: float = 120.0, features: bool = False) -> list[float]:
    """Sequential GETs cycling through ``urls`` after one warm-up; milliseconds each."""
    t0 = time.perf_counter()
    client.get(urls[0]).raise_for_status()
    side.extra["first_request_ms"] = round((time.perf_counter() - t0) * 1000.0, 2)
    samples, returned, sizes = [], [], []
    started = time.perf_counter()
    for i in range(count):
        if i >= 3 and time.perf_counter() - started > budget:
            break
        t0 = time.perf_counter()
        r = client.get(urls[i % len(urls)])
        body = r.content
        samples.append((time.perf_counter() - t0) * 1000.0)
        if not 200 <= r.status_code < 300:  # an empty map tile is a 204
            raise RuntimeError(f"GET {urls[i % len(urls)]}: HTTP {r.status_code}: {body[:300]!r}")
        sizes.append(len(body))
        if features:
            returned.append(body.count(b'"type":"Feature"') or body.count(b'"type": "Feature"'))
    side.extra["mean_bytes"] = round(statistics.fmean(sizes))
    if features:
        side.extra["mean_features_returned"] = round(statistics.fmean(returned), 1)
        side.extra["views"] = len(set(urls[:count]))
    return samples


def paging(client: httpx.Client, url: str, side: Side) -> float:
    """Follow ``next`` links from ``url`` to the end; seconds (parsing each page included)."""
    t0 = time.perf_counter()
    features = pages = size = 0
    next_url: str | None = url
    while next_url:
        r = client.get(next_url)
        r.raise_for_status()
        size += len(r.content)
        page = orjson.loads(r.content)
        features += len(page["features"])
        pages += 1
        next_url = next((link["href"] for link in page.get("links", [])
                         if link.get("rel") == "next"), None)
    side.extra.update(features=features, pages=pages, bytes=size)
    return time.perf_counter() - t0
