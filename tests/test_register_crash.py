"""A writer killed with ``kill -9`` in the middle of its writes, fifty times: the file
always opens and validates, every acknowledged change set is there, none is half there."""

from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ccn_gis.io import load_dataset, validate_store
from ccn_gis.io.register import read_history, recover

SAMPLE = Path(__file__).resolve().parents[1] / "layers" / "thai_binh.gpkg"
KILLS = 50
PARCELS = 1513  # the sample's
WRITER = """
import sqlite3, sys
from ccn_gis.edits import ChangeSet, Edit, Operation
from ccn_gis.io.register import write_changes
path, start = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(path)
parcels = [p for (p,) in con.execute("SELECT parcel_id FROM parcels")]
con.close()
print("ready", flush=True)
for n in range(start, start + 10_000):
    # the two clusters' names, and every parcel's recovered flag: a long write
    write_changes(path, ChangeSet((
        Edit("clusters", Operation.UPDATE, "TB-01", {"name": f"A {n}"}),
        *(Edit("parcels", Operation.UPDATE, p, {"recovered": n % 2 == 1}) for p in parcels),
        Edit("clusters", Operation.UPDATE, "TB-02", {"name": f"B {n}"}),
    ), note=f"change {n}"), user="robot")
    print(n, flush=True)  # acknowledged: committed
"""

pytestmark = pytest.mark.slow


def test_kill_9_during_writes_loses_nothing_acknowledged(tmp_path):
    layers = tmp_path / "province.gpkg"
    shutil.copy(SAMPLE, layers)
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    rng = random.Random(20261202)
    acknowledged: list[int] = []
    recovered = 0
    start = 0
    for kill in range(KILLS):
        writer = subprocess.Popen([sys.executable, str(script), str(layers), str(start)],
                                  stdout=subprocess.PIPE, text=True)
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.2, 2.2))  # a write takes about a second
        writer.kill()  # SIGKILL: no clean-up of any kind
        out, _ = writer.communicate(timeout=30)
        acknowledged += [int(line) for line in out.split() if line.isdigit()]
        recovered += recover(layers)  # a journal left beside the file: a write was cut
        assert not [p for p in validate_store(layers) if p.is_error], f"after kill {kill}"
        history = read_history(layers, limit=1_000_000)
        notes = [h["note"] for h in history]
        edits = 2 + PARCELS
        for n in acknowledged:  # every acknowledged change set is in the history, whole
            assert notes.count(f"change {n}") == edits, (kill, n)
        by_change: dict[int, int] = {}
        for h in history:
            by_change[h["change_id"]] = by_change.get(h["change_id"], 0) + 1
        assert set(by_change.values()) <= {edits}, "a change set is half there"
        last = history[-1]["note"] if history else None
        names = load_dataset(layers).clusters.set_index("cluster_id")["name"]
        if last is not None:  # the layers are the last change set's, both edits of it
            n = int(last.split()[1])
            assert (names["TB-01"], names["TB-02"]) == (f"A {n}", f"B {n}")
            assert set(load_dataset(layers).parcels["recovered"]) == {n % 2 == 1}
            start = n + 1  # committed, acknowledged or not (killed before it could say so)
    assert acknowledged, "the writer wrote between the kills"
    assert recovered, "some kills fell inside a write (expected: about one in seven)"
    con = sqlite3.connect(layers)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    print(f"{len(acknowledged)} change sets acknowledged, {recovered} interrupted ones "
          "rolled back")
