"""Property-based fuzzing of the CLI's file inputs: whatever a user hands it, the CLI exits
0, 1 or 2 with a message — never a traceback, never a crash report (exit 70) — and leaves
the file as it was unless ``settings --set`` said it wrote it.

Damaged GeoPackages (random bytes, truncated copies of the sample, copies with bytes
overwritten), odd scenario YAML, odd settings values and odd zone files go through
``ccn_gis.cli.main`` in-process; a few go through a real process. Deterministic
(``derandomize=True``); the fast tests take a few seconds, the longer runs are ``slow``.
Damaged files are read in a forked child, so that a crash of a C library fails the test
rather than killing pytest; a failing input is kept in the module's ``fuzz*/failures``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import select
import shutil
import signal
import string
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from builders import tiny_layers, write_layers
from ccn_gis import cli
from ccn_gis.io import validate_store
from ccn_gis.settings import RuleSettings, known_settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"
SAMPLE_BYTES = SAMPLE.read_bytes()
SQLITE_PAGE = 4096

FAST = settings(derandomize=True, max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
DAMAGE = settings(FAST, max_examples=10)  # four commands read each damaged sample
LONG = settings(FAST, max_examples=60)
FEW = settings(FAST, max_examples=6)


# ----------------------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A folder for the module: each example overwrites the files it uses."""
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def tiny(work) -> Path:
    return write_layers(work / "tiny.gpkg", tiny_layers(),
                        settings={"province_name": "Tỉnh Thử", "area_crs": "EPSG:9209"})


@pytest.fixture(autouse=True)
def _reports(work, monkeypatch):
    """Crash reports (exit 70) go to a folder of ours, to be shown when a case fails."""
    monkeypatch.setenv("XDG_STATE_HOME", str(work / "state"))
    monkeypatch.delenv("CCN_GIS_DEBUG", raising=False)
    monkeypatch.setenv("CCN_GIS_BUSY_TIMEOUT", "0.5")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "-"


def newest_report(work: Path) -> str:
    reports = sorted((work / "state" / "ccn-gis").glob("crash-*.txt"),
                     key=lambda p: p.stat().st_mtime)
    return reports[-1].read_text(encoding="utf-8") if reports else "(no report)"


def in_process(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(list(args))
    return status, out.getvalue(), err.getvalue()


def forked(*args: str, timeout: float = 120) -> tuple[int, str, str]:
    """``in_process`` in a forked copy of this process: a damaged file that crashes a C
    library (SQLite, GDAL) fails the test instead of killing pytest."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, send the answer, leave without pytest's teardown
        try:
            os.close(read_end)
            answer = json.dumps(in_process(*args)).encode()
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(answer)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        ready, _, _ = select.select([pipe], [], [], timeout)
        answer = pipe.read() if ready else b""
    if not ready:
        os.kill(pid, signal.SIGKILL)
    _, code = os.waitpid(pid, 0)
    if os.WIFSIGNALED(code):
        name = signal.Signals(os.WTERMSIG(code)).name
        raise AssertionError(f"ccn-gis {' '.join(args)}: {'hung, ' if not ready else ''}"
                             f"killed by {name}")
    assert answer, f"ccn-gis {' '.join(args)}: the child gave no answer"
    status, out, err = json.loads(answer)
    return int(status), str(out), str(err)


def run(work: Path, *args: str, fork: bool = False) -> tuple[int, str, str]:
    """``ccn-gis ARGS`` in-process (``fork``: in a forked child), checked: status 0, 1 or 2,
    no traceback. A failing input is kept in ``work/failures``."""
    try:
        status, out, err = forked(*args) if fork else in_process(*args)
        text = out + err
        assert status != cli.EX_SOFTWARE, (
            f"ccn-gis {' '.join(args)}: a crash\n{err}\n{newest_report(work)}")
        assert status in (0, 1, 2), (args, status, text[-2000:])
        assert "Traceback" not in text, (args, text[-4000:])
    except AssertionError as failure:
        kept = keep_inputs(work, args)
        raise AssertionError(f"{failure}\ninputs kept: {kept}") from None
    return status, out, err


def keep_inputs(work: Path, args: tuple[str, ...]) -> list[str]:
    """Copy the files among ``args`` to ``work/failures``, named by their content."""
    kept = []
    for arg in args:
        path = Path(arg)
        if path.is_file() and work in path.parents:
            folder = work / "failures"
            folder.mkdir(exist_ok=True)
            copy = folder / f"{sha256(path)[:16]}{path.suffix}"
            shutil.copy(path, copy)
            kept.append(str(copy))
    return kept


def damaged(work: Path, name: str, content: bytes) -> Path:
    path = work / name
    path.write_bytes(content)
    for suffix in ("-journal", "-wal", "-shm"):  # left by an earlier example
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def overwrite(base: bytes, patches: list[tuple[int, bytes]]) -> bytes:
    data = bytearray(base)
    for offset, chunk in patches:
        at = offset % len(data)
        data[at:at + len(chunk)] = chunk
    return bytes(data[:len(base)])


patches = st.lists(st.tuples(st.integers(0, len(SAMPLE_BYTES) - 1),
                             st.binary(min_size=1, max_size=64)), min_size=1, max_size=8)
header_patches = st.lists(st.tuples(st.integers(0, 4 * SQLITE_PAGE),
                                    st.binary(min_size=1, max_size=16)), min_size=1, max_size=4)
READERS = [["validate"], ["stats", "--json"], ["settings"], ["scenario", "check"]]


def read_all(work: Path, path: Path) -> None:
    """Every command that reads ``path`` as the layers: checked, and the file unchanged."""
    before = sha256(path)
    for command in READERS:
        run(work, *command, "--layers", str(path), fork=True)
        assert sha256(path) == before, (command, "changed the file")


# ------------------------------------------------------------------ damaged layers
@FAST
@given(st.binary(max_size=8192))
@example(b"")
@example(b"SQLite format 3\x00")
@example(SAMPLE_BYTES[:100])
def test_random_bytes_as_the_layers(work, content):
    read_all(work, damaged(work, "random.gpkg", content))


@DAMAGE
@given(st.integers(0, len(SAMPLE_BYTES) - 1))
@example(SQLITE_PAGE)
@example(len(SAMPLE_BYTES) // 2)
@example(len(SAMPLE_BYTES) - 1)
def test_a_truncated_sample(work, length):
    read_all(work, damaged(work, "truncated.gpkg", SAMPLE_BYTES[:length]))


@DAMAGE
@given(header_patches)
def test_a_sample_with_its_first_pages_overwritten(work, changes):
    read_all(work, damaged(work, "header.gpkg", overwrite(SAMPLE_BYTES, changes)))


@DAMAGE
@given(patches)
def test_a_sample_with_bytes_overwritten(work, changes):
    read_all(work, damaged(work, "patched.gpkg", overwrite(SAMPLE_BYTES, changes)))


@pytest.mark.slow
@LONG
@given(st.one_of(patches.map(lambda p: ("patch", p)),
                 st.integers(0, len(SAMPLE_BYTES) - 1).map(lambda n: ("cut", n))))
def test_damaged_samples_longer(work, change):
    kind, how = change
    content = overwrite(SAMPLE_BYTES, how) if kind == "patch" else SAMPLE_BYTES[:how]
    read_all(work, damaged(work, "long.gpkg", content))


@DAMAGE
@given(patches)
def test_settings_set_on_a_damaged_file(work, changes):
    """A write into a damaged file: refused (file unchanged), or done and readable."""
    path = damaged(work, "set.gpkg", overwrite(SAMPLE_BYTES, changes))
    before = sha256(path)
    status, _, _ = run(work, "settings", "--layers", str(path), "--set", "province_code=99",
                       fork=True)
    if status != 0:
        assert sha256(path) == before


# ------------------------------------------------------------------ settings --set
def number_texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(-(10**40), 10**40).map(str),
        st.sampled_from(["nan", "-inf", "1e400", "-0", "0x10", "1_000", " 5 ", "5,5", "½",
                         "٣", "1e-400", "9" * 5000, "true", ""]),
    )


values = st.one_of(number_texts(), st.text(max_size=60),
                   st.sampled_from(["EPSG:9209", "EPSG:4326", "vi", "en", "mean",
                                    "area_weighted", "LUC,RPH", "LUC;RPH", "a\nb", "\x00"]))
keys = st.one_of(st.sampled_from(known_settings()), st.text(min_size=1, max_size=20))


@FAST
@given(st.lists(st.tuples(keys, values), min_size=1, max_size=4))
@example([("plan_total_ha", "nan")])
@example([("lease_lag_years", str(10**30))])
@example([("area_min_ha", "80"), ("area_max_ha", "70")])
@example([("province_name", "\udcff")])  # a byte that is not UTF-8, as argv gives it
def test_settings_set_writes_only_what_it_reads_back(work, tiny, changes):
    path = work / "settings.gpkg"
    shutil.copy(tiny, path)
    before = sha256(path)
    arguments = [a for key, value in changes for a in ("--set", f"{key}={value}")]
    status, _, err = run(work, "settings", "--layers", str(path), *arguments)
    if status != 0:
        assert sha256(path) == before, err
        return
    errors = [p for p in validate_store(path) if p.is_error]
    assert errors == [], (changes, errors)  # what was written is accepted when read
    run(work, "stats", "--layers", str(path))


# -------------------------------------------------------------------- scenario files
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30),
                    st.floats(allow_nan=True), st.text(max_size=20),
                    st.sampled_from(["TB-01", "C1", "C3", "D1", 2024, 2030, 0, -1, 1e400]))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(
            ["name", "horizon", "base_year", "changes", "rules", "absorption", "establish",
             "expand", "add", "remove", "year", "geometry", "file", "cluster_id",
             "admin_code", "type", "coordinates", "method", "years", "rate_ha_per_year",
             *RuleSettings.keys()]), st.text(max_size=8)), inner, max_size=5)),
    max_leaves=20)
yaml_texts = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=string.printable + "&*!<>:-[]{}|'\"#%@`ĐđệếằÀ", max_size=400),
    documents.map(lambda d: yaml.safe_dump(d, allow_unicode=True)),
    documents.map(lambda d: yaml.safe_dump({"name": "x", "rules": d, "changes": [d]})),
)


def check_scenario_text(work: Path, tiny: Path, content: str | bytes) -> None:
    path = work / "scenario.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    run(work, "scenario", "check", str(path), "--layers", str(tiny), "--json")


@FAST
@given(yaml_texts)
def test_random_scenario_files(work, tiny, text):
    check_scenario_text(work, tiny, text)


@FAST
@given(st.binary(max_size=2048))
def test_binary_scenario_files(work, tiny, content):
    check_scenario_text(work, tiny, content)


@pytest.mark.slow
@LONG
@given(yaml_texts)
def test_random_scenario_files_longer(work, tiny, text):
    check_scenario_text(work, tiny, text)


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n"
    for i in range(8))

SCENARIO_CASES: dict[str, str | bytes | Callable[[Path], Path]] = {
    "merge key": "base: &base {name: x, horizon: 2030}\nscenario:\n  <<: *base\n",
    "merge at the top": "_: &base {name: x, horizon: 2030}\n<<: *base\n",
    "python tag": "name: !!python/object:os.system x\n",
    "python apply": "name: !!python/object/apply:os.system [echo hi]\n",
    "unknown tag": "name: !secret x\n",
    "base year 0": "name: x\nbase_year: 0\n",
    "huge base year": f"name: x\nbase_year: {10**30}\n",
    "rules 1e400": "name: x\nrules: {area_max_ha: 1e400}\n",
    "rules 1.0e400": "name: x\nrules: {area_max_ha: 1.0e+400}\n",
    "rules huge int": "name: x\nrules: {lease_lag_years: 99999999999999999999999}\n",
    "rules 5000 digits": f"name: x\nrules: {{lease_lag_years: {'9' * 5000}}}\n",
    "rules yes": "name: x\nrules: {gate_occupancy: yes}\n",
    "rules a list": "name: x\nrules: [1, 2]\n",
    "horizon .inf": "name: x\nhorizon: .inf\n",
    "alias bomb": BOMB,
    "deep nesting": "[" * 50_000 + "]" * 50_000,
    "a list": "- a\n- b\n",
    "a number": "42\n",
    "binary": bytes(range(256)) * 64,
    "UTF-16": "name: Thái Bình\n".encode("utf-16"),
    "empty": "",
    "huge": lambda folder: _huge(folder),
    "a folder": lambda folder: folder,
    "missing": lambda folder: folder / "nowhere.yaml",
}


def _huge(folder: Path) -> Path:
    path = folder / "huge.yaml"
    with path.open("w", encoding="utf-8") as f:
        f.write("name: x\nchanges:\n")
        f.write("  - {establish: C3, year: 2024}\n" * 800_000)  # 25 MB
    return path


@pytest.mark.parametrize("case", sorted(SCENARIO_CASES))
def test_scenario_cases_of_the_audit(work, tiny, case):
    content = SCENARIO_CASES[case]
    if callable(content):
        path = content(work)
        run(work, "scenario", "check", str(path), "--layers", str(tiny))
    else:
        check_scenario_text(work, tiny, content)


# ----------------------------------------------------------------------- zone files
@DAMAGE
@given(st.one_of(st.binary(max_size=4096).map(lambda b: ("bytes", b)),
                 st.integers(0, len(SAMPLE_BYTES) - 1).map(lambda n: ("cut", n)),
                 patches.map(lambda p: ("patch", p))))
def test_damaged_zone_files(work, tiny, change):
    kind, how = change
    content = (how if kind == "bytes" else SAMPLE_BYTES[:how] if kind == "cut"
               else overwrite(SAMPLE_BYTES, how))
    path = damaged(work, "zones.gpkg", content)
    before = sha256(path)
    status, _, _ = run(work, "landuse", "--layers", str(tiny), "--zones", str(path), fork=True)
    assert status == 1  # never zones: tiny has no raster, or the file is refused first
    assert sha256(path) == before


@FAST
@given(st.text(max_size=300))
def test_random_geojson_zones(work, tiny, text):
    path = work / "zones.geojson"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    run(work, "landuse", "--layers", str(tiny), "--zones", str(path))


# ------------------------------------------------------------------- a real process
@pytest.mark.slow
@FEW
@given(st.one_of(st.integers(0, len(SAMPLE_BYTES) - 1).map(lambda n: SAMPLE_BYTES[:n]),
                 patches.map(lambda p: overwrite(SAMPLE_BYTES, p))))
def test_damaged_layers_in_a_real_process(work, content):
    path = damaged(work, "process.gpkg", content)
    before = sha256(path)
    for command in (["validate"], ["stats"]):
        done = subprocess.run([sys.executable, "-m", "ccn_gis.cli", *command, "--layers",
                               str(path)], capture_output=True, text=True, check=False,
                              timeout=300, env={**os.environ,
                                                "XDG_STATE_HOME": str(work / "state")})
        if done.returncode not in (0, 1, 2) or "Traceback" in done.stdout + done.stderr:
            raise AssertionError(f"{command}: status {done.returncode}\n{done.stderr[-3000:]}"
                                 f"\ninputs kept: {keep_inputs(work, (str(path),))}")
    assert sha256(path) == before


@pytest.mark.slow
@FEW
@given(yaml_texts)
def test_scenario_files_in_a_real_process(work, tiny, text):
    path = work / "process.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    done = subprocess.run([sys.executable, "-m", "ccn_gis.cli", "scenario", "check", str(path),
                           "--layers", str(tiny)], capture_output=True, text=True, check=False,
                          timeout=300)
    assert done.returncode in (0, 1, 2), done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
