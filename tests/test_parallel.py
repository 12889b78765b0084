"""Geometry work split over threads gives exactly the answer of one vectorised call."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from ccn_gis import parallel


@pytest.fixture
def split_small(monkeypatch):
    """Split arrays of a few hundred geometries into 3 chunks, as 500,000 would be."""
    monkeypatch.setattr(parallel, "MIN_CHUNK", 50)
    monkeypatch.setenv("CCN_GIS_THREADS", "3")


def _squares(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 1_000, n), rng.uniform(0, 1_000, n)
    size = rng.uniform(5, 60, n)
    return shapely.box(x, y, x + size, y + size)


def test_threads_setting(monkeypatch):
    monkeypatch.setenv("CCN_GIS_THREADS", "5")
    assert parallel.threads() == 5
    monkeypatch.setenv("CCN_GIS_THREADS", "none")
    assert parallel.threads() >= 1


def test_map_chunks_equals_one_call(split_small):
    geoms = _squares(400)
    assert len(parallel._bounds(len(geoms))) == 3
    shrunk = parallel.map_chunks(shapely.buffer, geoms, distance=-1.0, quad_segs=1)
    assert shapely.equals(shrunk, shapely.buffer(geoms, -1.0, quad_segs=1)).all()
    others = _squares(400, seed=2)
    assert (parallel.map_chunks(shapely.intersects, geoms, others)
            == shapely.intersects(geoms, others)).all()


def test_query_pairs_equals_one_query(split_small):
    geoms = _squares(400)
    tree = shapely.STRtree(geoms)
    left, right = parallel.query_pairs(tree, geoms, predicate="intersects")
    expected = tree.query(geoms, predicate="intersects")
    assert len(left) > len(geoms), "squares overlap their neighbours, not only themselves"
    assert sorted(zip(left, right, strict=True)) == sorted(zip(*expected, strict=True))


def test_small_arrays_are_not_split(monkeypatch):
    monkeypatch.setenv("CCN_GIS_THREADS", "4")
    assert parallel._bounds(parallel.MIN_CHUNK - 1) == [(0, parallel.MIN_CHUNK - 1)]
    assert len(parallel._bounds(4 * parallel.MIN_CHUNK)) == 4
