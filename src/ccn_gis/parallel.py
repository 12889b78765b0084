"""Vectorised geometry work split across the machine's cores.

shapely 2 releases the GIL inside its vectorised functions, so chunks of one array run
truly in parallel on threads: on two cores a buffer, a validity check or an index query
of 500,000 parcels takes a little over half the time (``docs/performance.md``). Small
arrays are not split; threads would cost more than they save.

The number of threads is the number of cores this process may use, or
``CCN_GIS_THREADS`` when set (``1`` turns the splitting off).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import shapely

MIN_CHUNK = 20_000
"""Geometries below which a chunk is not worth a thread of its own."""


def threads() -> int:
    """The number of threads to split geometry work over (at least 1)."""
    configured = os.environ.get("CCN_GIS_THREADS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _bounds(n: int) -> list[tuple[int, int]]:
    parts = max(1, min(threads(), n // MIN_CHUNK))
    edges = np.linspace(0, n, parts + 1).astype(int)
    return list(zip(edges[:-1], edges[1:], strict=True))


def map_chunks(func: Callable[..., np.ndarray], *arrays: np.ndarray, **kwargs: Any
               ) -> np.ndarray:
    """``func(*arrays, **kwargs)`` computed on chunks of the arrays in parallel.

    ``func`` must be element-wise (a vectorised shapely function); the arrays have one
    length and the result is the same as one call on the whole arrays.

    Examples
    --------
    >>> import shapely
    >>> map_chunks(shapely.area, np.array([shapely.box(0, 0, 2, 2)]))
    array([4.])
    """
    n = len(arrays[0])
    bounds = _bounds(n)
    if len(bounds) == 1:
        return np.asarray(func(*arrays, **kwargs))
    with ThreadPoolExecutor(len(bounds)) as pool:
        parts = list(pool.map(
            lambda b: np.asarray(func(*(a[b[0]:b[1]] for a in arrays), **kwargs)), bounds))
    return np.concatenate(parts)


def query_pairs(tree: shapely.STRtree, geoms: np.ndarray, predicate: str | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """``tree.query(geoms, predicate)`` in parallel: positions in ``geoms`` and in the tree."""
    bounds = _bounds(len(geoms))
    if len(bounds) == 1:
        left, right = tree.query(geoms, predicate=predicate)
        return left, right

    def query(b: tuple[int, int]) -> np.ndarray:
        found = tree.query(geoms[b[0]:b[1]], predicate=predicate)
        found[0] += b[0]
        return found

    with ThreadPoolExecutor(len(bounds)) as pool:
        pairs = np.concatenate(list(pool.map(query, bounds)), axis=1)
    return pairs[0], pairs[1]
