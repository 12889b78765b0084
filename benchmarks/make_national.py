"""Generate a synthetic national-scale dataset for the benchmarks (DATA_MODEL.md).

At ``--scale 1`` (the default): 1,500 clusters in 10 synthetic provinces (a 5 x 2 grid
of warped squares, each cut into 12 district units), 500,000 parcels tiling the
clusters' detailed-plan extents, 5,000 projects leasing them, the approved extents,
about 2,000 promotion activities, and a 10 m land-use raster of the first province
(about 30 million cells, uint8, 256 x 256 tiles, DEFLATE, overviews) with its class
table. ``--scale 0.01`` shrinks every count (and the provinces' area) proportionally.

Written to ``--out`` (default ``benchmarks/data/scale-<scale>/``):

- ``national.gpkg``: every layer of DATA_MODEL.md and ``ccn_settings``; clusters,
  extents and parcels in EPSG:9209, admin units and promotion activities in WGS84,
  as a province's file would hold them. It passes ``ccn-gis validate``.
- ``national_landuse.tif`` and ``national_landuse.classes.csv`` beside it (found by
  ``ccn-gis`` by its name), covering the first province (``P01``).
- ``landuse_zones.gpkg``: the parcels of that province (``parcel_id``), the zones of
  the land-use benchmark.
- ``national_2030.yaml``: a scenario establishing a fifth of the planned clusters.
- ``manifest.json``: the scale, counts, the first province's bbox and map views
  (WGS84 bboxes around detailed clusters) for the API benchmarks. Written last: a
  folder without it is incomplete.

The generator is deterministic (``numpy.random.default_rng(SEED)``), vectorised
(numpy arrays of corners, ``shapely.polygons``) and writes through pyogrio with Arrow.
It does not import ``ccn_gis``.

Run ``.venv/bin/python benchmarks/make_national.py [--scale 1.0] [--out DIR] [--validate]``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import rasterio
import shapely
from pyproj import Transformer
from rasterio import features
from rasterio.enums import Resampling
from rasterio.transform import from_origin

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED = 14_2024  # Circular 14/2024/TT-BCT
VERSION = 2  # bump when the generated data changes; run.py regenerates older folders
AREA_CRS = "EPSG:9209"
GEO_CRS = "EPSG:4326"
HA = 10_000.0
END = dt.date(2024, 12, 31)

# At scale 1
N_CLUSTERS = 1_500
N_PARCELS = 500_000
N_PROJECTS = 5_000
N_PROVINCES = 10
N_PROMOTION = 2_000
CLUSTERS_PER_PROVINCE = 150
PROVINCE_M2 = 3.0e9  # 3,000 km²: a 10 m raster of one province is ~30 million cells
CLUSTERS_PER_DISTRICT = 12.5
CELL = 10.0
CENTRE = (587_448.56, 2_262_291.73)  # EPSG:9209 of (106.34 E, 20.45 N), Thái Bình

STAGE_SHARES = {"operating": 0.55, "detailed": 0.12, "established": 0.08, "planned": 0.25}
LAND_USES = ("industrial", "services", "infrastructure", "green", "water")
LAND_USE_SHARES = (0.82, 0.03, 0.05, 0.06, 0.04)
STATUSES = ("producing", "under_construction", "not_started", "stopped")
STATUS_SHARES = (0.70, 0.15, 0.08, 0.07)
SECTORS = ("Dệt may", "Cơ khí", "Điện tử", "Chế biến nông sản, thực phẩm",
           "Vật liệu xây dựng", "Đồ gỗ mỹ nghệ", "Da giày", "Bao bì, nhựa")
PROGRAMMES = ("sewing_training", "management_training", "demo_model", "machinery_support",
              "rural_product_programme", "cluster_detailed_plan")
SYLLABLES = ("Hải Phú Hưng An Minh Thành Đại Hoàng Tân Việt Kim Bảo Phúc Trường Quang Đức "
             "Thái Nam Thiên Hồng Tiến Gia Lộc Vạn Long Phát Thịnh Đạt Phong Sơn Vinh Hà "
             "Anh Lợi Khang Nguyên Bình Xuân Cường").split()
CLASSES = (  # value, code, name_vi, name_en, colour, weight in the farmland mosaic
    (1, "LUC", "Đất chuyên trồng lúa", "Specialised rice land", "#ffff64", 0.46),
    (2, "LUK", "Đất trồng lúa còn lại", "Other rice land", "#ebe19b", 0.10),
    (3, "BHK", "Đất bằng trồng cây hàng năm khác", "Other annual crops", "#ffc878", 0.08),
    (4, "CLN", "Đất trồng cây lâu năm", "Perennial crops and gardens", "#b4d26e", 0.10),
    (5, "RPH", "Đất rừng phòng hộ", "Protection forest", "#378c3c", 0.01),
    (6, "NTS", "Đất nuôi trồng thủy sản", "Aquaculture", "#8cd2f0", 0.06),
    (7, "ONT", "Đất ở tại nông thôn", "Rural residential land", "#ffb4d2", 0.14),
    (8, "ODT", "Đất ở tại đô thị", "Urban residential land", "#e6467d", 0.03),
    (9, "SKK", "Đất khu công nghiệp", "Industrial park", "#7832b4", 0.01),
    (10, "SKN", "Đất cụm công nghiệp", "Industrial cluster", "#b482e6", 0.0),
    (11, "DGT", "Đất công trình giao thông", "Transport (roads)", "#f08c28", 0.0),
    (12, "DTL", "Đất công trình thủy lợi", "Irrigation (canals)", "#1eaab4", 0.0),
    (13, "NTD", "Đất nghĩa trang, nhà tang lễ", "Cemeteries", "#5a5a5a", 0.01),
    (14, "SON", "Đất sông, ngòi, kênh, rạch, suối", "Rivers and channels", "#3c82dc", 0.0),
)
V = {c[1]: c[0] for c in CLASSES}


@dataclass(frozen=True)
class Sizes:
    """Every count of a dataset at one scale."""

    scale: float
    clusters: int
    parcels: int
    projects: int
    provinces: int
    promotion: int
    province_side_m: float
    districts_per_province: tuple[int, int]  # rows, columns

    @classmethod
    def at(cls, scale: float) -> Sizes:
        """Sizes at ``scale`` (1.0 = the national dataset of the issue)."""
        clusters = max(3, round(N_CLUSTERS * scale))
        provinces = max(1, min(round(N_PROVINCES * scale), clusters // 3))
        per_province = clusters / provinces
        side = math.sqrt(PROVINCE_M2 * per_province / CLUSTERS_PER_PROVINCE)
        districts = max(1, round(per_province / CLUSTERS_PER_DISTRICT))
        rows = max(1, round(math.sqrt(districts * 0.75)))
        cols = max(1, round(districts / rows))
        return cls(scale, clusters, max(40, round(N_PARCELS * scale)),
                   max(3, round(N_PROJECTS * scale)), provinces,
                   max(6, round(N_PROMOTION * scale)), side, (rows, cols))


# ------------------------------------------------------------------ helpers
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from make_sample import allocate  # noqa: E402  (one implementation, shared with the sample)


def days(rng: np.random.Generator, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """A uniformly drawn day in ``[start, stop]`` (datetime64[D] arrays), element-wise."""
    span = np.maximum((stop - start).astype(np.int64), 0)
    return start + (rng.random(len(span)) * (span + 1)).astype(np.int64).astype("timedelta64[D]")


def day(text: str) -> np.datetime64:
    return np.datetime64(text, "D")


def names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Two-syllable Vietnamese place names ("Hưng Long")."""
    a = rng.integers(0, len(SYLLABLES), n)
    b = (a + 1 + rng.integers(0, len(SYLLABLES) - 1, n)) % len(SYLLABLES)
    return np.array([f"{SYLLABLES[i]} {SYLLABLES[j]}" for i, j in zip(a, b, strict=True)])


class Warp:
    """A smooth near-identity map of the plane: regular grids become plausible borders."""

    def __init__(self, side: float, rng: np.random.Generator) -> None:
        self.a = 0.015 * side
        self.k1, self.k2 = 2 * math.pi / (0.61 * side), 2 * math.pi / (0.83 * side)
        self.phase = rng.uniform(0, 2 * math.pi, 4)

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        p = self.phase
        dx = self.a * np.sin(self.k1 * y + p[0]) * np.cos(self.k2 * x + p[1])
        dy = self.a * np.sin(self.k1 * x + p[2]) * np.cos(self.k2 * y + p[3])
        return np.column_stack([x + dx, y + dy])


def warped_boxes(bounds: np.ndarray, warp: Warp, step: float) -> np.ndarray:
    """Boxes (n x 4 bounds), densified every ``step`` metres and warped."""
    boxes = shapely.segmentize(shapely.box(*bounds.T), step)
    return shapely.transform(boxes, warp)


def multi(polygons: np.ndarray) -> np.ndarray:
    """Polygons as one-part MultiPolygons (GeoPackage layers are MultiPolygon)."""
    return shapely.multipolygons(polygons, indices=np.arange(len(polygons)))


def rotated_rectangles(x0, y0, x1, y1, cx, cy, w, h, angle) -> np.ndarray:
    """Axis-aligned boxes in a local frame ([0, w] x [0, h]) rotated about the frame's
    centre by ``angle`` and moved to ``(cx, cy)``; one polygon per row, all arrays."""
    xs = np.stack([x0, x1, x1, x0, x0], axis=1) - (w / 2)[:, None]
    ys = np.stack([y0, y0, y1, y1, y0], axis=1) - (h / 2)[:, None]
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    wx = cx[:, None] + c * xs - s * ys
    wy = cy[:, None] + s * xs + c * ys
    return shapely.polygons(np.stack([wx, wy], axis=2))


# ---------------------------------------------------------------- geography
@dataclass
class Geography:
    province_codes: list[str]
    provinces: np.ndarray  # warped polygons, EPSG:9209
    district_codes: list[str]
    district_province: np.ndarray  # index of the province
    districts: np.ndarray
    district_boxes: np.ndarray  # unwarped bounds (n x 4)
    warp: Warp


def make_geography(sizes: Sizes, rng: np.random.Generator) -> Geography:
    side = sizes.province_side_m
    rows = max(1, math.floor(math.sqrt(sizes.provinces / 2)))
    cols = math.ceil(sizes.provinces / rows)
    x0 = CENTRE[0] - cols * side / 2
    y0 = CENTRE[1] - rows * side / 2
    warp = Warp(side, rng)
    p_bounds, d_bounds, d_prov, d_codes = [], [], [], []
    dr, dc = sizes.districts_per_province
    for p in range(sizes.provinces):
        r, c = divmod(p, cols)
        px, py = x0 + c * side, y0 + (rows - 1 - r) * side
        p_bounds.append((px, py, px + side, py + side))
        for i in range(dr):
            for j in range(dc):
                w, h = side / dc, side / dr
                d_bounds.append((px + j * w, py + (dr - 1 - i) * h,
                                 px + (j + 1) * w, py + (dr - i) * h))
                d_prov.append(p)
                d_codes.append(f"{p + 1:02d}{i * dc + j + 1:02d}")
    step = max(side / 200, 50.0)
    return Geography(
        province_codes=[f"{p + 1:02d}" for p in range(sizes.provinces)],
        provinces=warped_boxes(np.array(p_bounds), warp, step),
        district_codes=d_codes,
        district_province=np.array(d_prov),
        districts=warped_boxes(np.array(d_bounds), warp, step),
        district_boxes=np.array(d_bounds),
        warp=warp,
    )


# ----------------------------------------------------------------- clusters
@dataclass
class Clusters:
    ids: np.ndarray
    names: np.ndarray
    district: np.ndarray  # index into Geography.district_codes
    province: np.ndarray
    kind: np.ndarray
    stage: np.ndarray  # planned | established | detailed | operating
    w: np.ndarray  # plan rectangle in the local frame: [0, w] x [0, h]
    h: np.ndarray
    cx: np.ndarray  # centre in EPSG:9209
    cy: np.ndarray
    angle: np.ndarray
    w_est: np.ndarray  # established: [0, w_est]; detailed plan: [0, w_det] (0: none)
    w_orig: np.ndarray  # first establishment extent when expanded later (0: not expanded)
    w_det: np.ndarray
    established_on: np.ndarray
    expanded_on: np.ndarray
    detailed_on: np.ndarray
    operating_since: np.ndarray

    def rectangles(self, x0, x1, index=None) -> np.ndarray:
        """The part ``[x0, x1] x [0, h]`` of each cluster's frame, in EPSG:9209."""
        i = np.arange(len(self.ids)) if index is None else index
        return rotated_rectangles(x0, np.zeros(len(i)), x1, self.h[i], self.cx[i], self.cy[i],
                                  self.w[i], self.h[i], self.angle[i])


def make_clusters(sizes: Sizes, geo: Geography, rng: np.random.Generator) -> Clusters:
    n = sizes.clusters
    n_districts = len(geo.district_codes)
    district = np.sort(np.arange(n) % n_districts)
    province = geo.district_province[district]
    kind = np.where(rng.random(n) < 0.05, "craft_village", "general")
    plan_ha = np.where(kind == "general", rng.uniform(30.0, 74.5, n), rng.uniform(6.0, 25.0, n))
    aspect = rng.uniform(1.0, 1.5, n)
    h = np.sqrt(plan_ha * HA / aspect)
    w = plan_ha * HA / h
    angle = rng.uniform(0, math.pi / 2, n)
    cx, cy = np.empty(n), np.empty(n)
    spacing = 2_200.0
    for d in range(n_districts):  # slots on a grid inside the district, well clear of borders
        members = np.flatnonzero(district == d)
        if not len(members):
            continue
        bx0, by0, bx1, by1 = geo.district_boxes[d]
        margin = min(1_500.0, 0.2 * min(bx1 - bx0, by1 - by0))
        gx = np.arange(bx0 + margin, bx1 - margin + 1e-6, spacing)
        gy = np.arange(by0 + margin, by1 - margin + 1e-6, spacing)
        slots = np.array([(x, y) for x in gx for y in gy])
        if len(slots) < len(members):
            raise ValueError(f"district {geo.district_codes[d]}: {len(slots)} slots for "
                             f"{len(members)} clusters")
        chosen = slots[rng.choice(len(slots), len(members), replace=False)]
        chosen = geo.warp(chosen + rng.uniform(-0.05, 0.05, chosen.shape) * spacing)
        cx[members], cy[members] = chosen[:, 0], chosen[:, 1]
    per_stage = allocate(n, np.array(list(STAGE_SHARES.values())), np.array([1, 1, 0, 0]),
                         np.full(4, n))
    stage = rng.permutation(np.repeat(list(STAGE_SHARES), per_stage))
    est = stage != "planned"
    det = np.isin(stage, ["detailed", "operating"])
    w_est = np.where(est, w * rng.uniform(0.6, 1.0, n), 0.0)
    expanded = det & (rng.random(n) < 0.05) & (w_est > 0.8 * w)
    w_orig = np.where(expanded, w_est * rng.uniform(0.6, 0.75, n), 0.0)
    w_det = np.where(det, np.where(expanded, w_orig, w_est) * rng.uniform(0.55, 1.0, n), 0.0)
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    windows = {"operating": ("2008-01-01", "2018-12-31"), "detailed": ("2014-01-01", "2021-12-31"),
               "established": ("2019-01-01", "2024-12-31")}
    established_on = nat.copy()
    for s, (a, b) in windows.items():
        m = stage == s
        established_on[m] = days(rng, np.full(m.sum(), day(a)), np.full(m.sum(), day(b)))
    detailed_on = nat.copy()
    detailed_on[det] = days(rng, established_on[det] + 365,
                            np.minimum(established_on[det] + 3 * 365, day(str(END))))
    operating_since = nat.copy()
    op = stage == "operating"
    operating_since[op] = days(rng, detailed_on[op] + 180,
                               np.minimum(detailed_on[op] + 900, day("2024-06-30")))
    expanded_on = nat.copy()
    expanded_on[expanded] = days(rng, established_on[expanded] + 2 * 365,
                                 np.minimum(established_on[expanded] + 6 * 365, day(str(END))))
    per_province = np.zeros(sizes.provinces, dtype=int)
    ids = []
    for p in province:
        per_province[p] += 1
        ids.append(f"P{p + 1:02d}-{per_province[p]:03d}")
    return Clusters(np.array(ids), np.char.add("CCN ", names(rng, n)), district, province,
                    kind, stage, w, h, cx, cy, angle, w_est, w_orig, w_det, established_on,
                    expanded_on, detailed_on, operating_since)


def check_placement(c: Clusters, geo: Geography) -> None:
    """Clusters lie inside their district (200 m clear) and 300 m apart from each other."""
    plans = c.rectangles(np.zeros(len(c.ids)), c.w)
    inner = shapely.buffer(geo.districts[c.district], -200.0)
    outside = ~shapely.covered_by(plans, inner)
    if outside.any():
        raise ValueError(f"clusters outside their district: {c.ids[outside][:5]}")
    grown = shapely.buffer(plans, 150.0)
    left, right = shapely.STRtree(grown).query(grown, predicate="intersects")
    if (left != right).any():
        raise ValueError("clusters closer than 300 m to each other")


# ------------------------------------------------------------------ parcels
@dataclass
class Parcels:
    cluster: np.ndarray  # index of the cluster
    x0: np.ndarray  # local frame of the cluster
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    land_use: np.ndarray
    ids: np.ndarray


def make_parcels(sizes: Sizes, c: Clusters, rng: np.random.Generator) -> Parcels:
    """Tile each detailed-plan extent with rows of lots; every fourth row is a road."""
    detailed = np.flatnonzero(c.w_det > 0)
    area = c.w_det[detailed] * c.h[detailed]
    counts = allocate(sizes.parcels, area, np.full(len(detailed), 8),
                      np.maximum(np.floor(area / 150.0), 8))  # lots of at least ~150 m²
    out = {k: [] for k in ("cluster", "x0", "y0", "x1", "y1", "road")}
    for k, n in zip(detailed, counts, strict=True):
        width, height = c.w_det[k], c.h[k]
        rows = min(max(2, round(math.sqrt(n * height / width))), n // 2)
        roads = np.zeros(rows, dtype=bool)
        roads[3::4] = True
        roads[-1] = False
        lots = n - int(roads.sum())
        lot_rows = np.flatnonzero(~roads)
        per_row = np.zeros(rows, dtype=np.int64)
        per_row[lot_rows] = allocate(lots, np.ones(len(lot_rows)), np.ones(len(lot_rows)),
                                     np.full(len(lot_rows), lots))
        per_row[roads] = 1
        heights = np.where(roads, 14.0, rng.uniform(0.8, 1.2, rows))
        free = height - heights[roads].sum()
        heights[~roads] *= free / heights[~roads].sum()
        y_edges = np.concatenate([[0.0], np.cumsum(heights)])
        y_edges[-1] = height
        row_of = np.repeat(np.arange(rows), per_row)
        widths = rng.uniform(0.7, 1.3, len(row_of))
        totals = np.bincount(row_of, weights=widths, minlength=rows)
        right = np.cumsum(widths)
        starts = np.concatenate([[0], np.cumsum(per_row)[:-1]])
        offset = np.repeat(right[starts] - widths[starts], per_row)
        right = (right - offset) / totals[row_of] * width
        left = np.concatenate([[0.0], right[:-1]])
        left[starts] = 0.0
        right[np.cumsum(per_row) - 1] = width  # each row ends exactly at the extent's edge
        out["cluster"].append(np.full(len(row_of), k))
        out["x0"].append(left)
        out["x1"].append(right)
        out["y0"].append(y_edges[row_of])
        out["y1"].append(y_edges[row_of + 1])
        out["road"].append(roads[row_of])
    cols = {k: np.concatenate(v) for k, v in out.items()}
    land_use = rng.choice(LAND_USES, len(cols["cluster"]), p=LAND_USE_SHARES).astype(object)
    land_use[cols["road"]] = "traffic"
    number = np.arange(len(cols["cluster"])) - np.repeat(
        np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + 1
    ids = np.char.add(np.char.add(c.ids[cols["cluster"]].astype(str), "-L"),
                      np.char.zfill(number.astype(str), 4))
    return Parcels(cols["cluster"], cols["x0"], cols["y0"], cols["x1"], cols["y1"],
                   land_use.astype(str), ids)


# -------------------------------------------------------- leases, projects
@dataclass
class Leases:
    project_index: np.ndarray  # per parcel, -1 = vacant
    leased_on: np.ndarray  # per parcel
    recovered: np.ndarray  # per parcel
    projects: dict[str, np.ndarray]


def make_leases(sizes: Sizes, c: Clusters, p: Parcels, rng: np.random.Generator) -> Leases:
    """Lease a share of each cluster's industrial lots to projects, in runs of lots."""
    n = len(p.ids)
    industrial = p.land_use == "industrial"
    occupancy = np.where(c.stage == "operating", rng.uniform(0.3, 0.95, len(c.ids)),
                         rng.uniform(0.0, 0.4, len(c.ids)))
    candidates = np.flatnonzero(industrial)
    cluster_of = p.cluster[candidates]
    leased = candidates[rng.random(len(candidates)) < occupancy[cluster_of]]
    leased = leased[np.lexsort((leased, p.cluster[leased]))]
    by_cluster = np.bincount(p.cluster[leased], minlength=len(c.ids))
    with_leases = np.flatnonzero(by_cluster)
    n_projects = min(max(sizes.projects, len(with_leases)), len(leased))
    counts = allocate(n_projects, by_cluster[with_leases].astype(float),
                      np.ones(len(with_leases)), by_cluster[with_leases])
    project_of = np.empty(len(leased), dtype=np.int64)
    start, first = 0, 0
    for k, m in zip(with_leases, counts, strict=True):  # m runs of a cluster's leased lots
        size = by_cluster[k]
        cuts = np.sort(rng.choice(np.arange(1, size), m - 1, replace=False)) if m > 1 else []
        run = np.zeros(size, dtype=np.int64)
        run[np.asarray(cuts, dtype=np.int64)] = 1
        project_of[start:start + size] = first + np.cumsum(run)
        start += size
        first += m
    project_cluster = np.repeat(with_leases, counts)
    lease_from = np.maximum(c.detailed_on[project_cluster], day("2010-01-01"))
    project_leased_on = days(rng, lease_from, np.full(len(project_cluster), day(str(END))))
    registered_on = np.maximum(project_leased_on - rng.integers(0, 240, len(project_cluster)),
                               c.established_on[project_cluster])
    project_index = np.full(n, -1, dtype=np.int64)
    project_index[leased] = project_of
    leased_on = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    leased_on[leased] = project_leased_on[project_of]
    recovered = industrial & ((project_index >= 0) | (rng.random(n) < 0.5))
    lots = np.bincount(project_of, minlength=len(project_cluster))
    ha = np.bincount(project_of, weights=((p.x1 - p.x0) * (p.y1 - p.y0))[leased],
                     minlength=len(project_cluster)) / HA
    status = rng.choice(STATUSES, len(project_cluster), p=STATUS_SHARES)
    registered = np.round(ha * rng.lognormal(3.0, 0.5, len(ha)), 1)
    done = {"producing": (0.6, 1.0), "under_construction": (0.1, 0.6), "not_started": (0.0, 0.0),
            "stopped": (0.2, 0.8)}
    share = np.zeros(len(ha))
    for s, (lo, hi) in done.items():
        m = status == s
        share[m] = rng.uniform(lo, hi, m.sum())
    reg_workers = np.maximum(1, np.round(ha * rng.uniform(30, 120, len(ha)))).astype(np.int32)
    workers = np.round(reg_workers * np.where(np.isin(status, ["producing", "stopped"]),
                                              share, 0.0)).astype(np.int32)
    sector = rng.choice(SECTORS, len(ha))
    brand = names(rng, len(ha))
    projects = {
        "project_id": np.char.add("DA-", np.char.zfill(np.arange(1, len(ha) + 1).astype(str), 5)),
        "cluster_id": c.ids[project_cluster],
        "name": np.char.add(np.char.add(np.char.add("Nhà máy ", sector), " "), brand),
        "investor": np.char.add("Công ty TNHH ", brand),
        "sector": sector,
        "registered_on": registered_on,
        "status": status,
        "registered_capital_bn_vnd": registered,
        "implemented_capital_bn_vnd": np.round(registered * share, 1),
        "registered_workers": reg_workers,
        "workers": workers,
        "_lots": lots,
    }
    return Leases(project_index, leased_on, recovered, projects)


# ------------------------------------------------------------------ layers
def text(values) -> pa.Array:
    return pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)


def dates(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype="datetime64[D]"), type=pa.date32(), from_pandas=True)


def wkb(geoms: np.ndarray) -> pa.Array:
    return pa.array(shapely.to_wkb(geoms), type=pa.binary())


def admin_layer(geo: Geography, to_geo: Transformer) -> pa.Table:
    def lonlat(geoms: np.ndarray) -> np.ndarray:
        return shapely.transform(
            geoms, lambda xy: np.column_stack(to_geo.transform(xy[:, 0], xy[:, 1])))

    n_p = len(geo.province_codes)
    codes = geo.province_codes + geo.district_codes
    names_ = [f"Tỉnh Tổng Hợp {c}" for c in geo.province_codes] + [
        f"Huyện {c}" for c in geo.district_codes]
    levels = ["province"] * n_p + ["district"] * len(geo.district_codes)
    parents = [None] * n_p + [geo.province_codes[p] for p in geo.district_province]
    geoms = multi(lonlat(np.concatenate([geo.provinces, geo.districts])))
    return pa.table({
        "code": text(codes), "name": text(names_), "level": text(levels),
        "parent_code": text(parents),
        "valid_from": dates(np.full(len(codes), np.datetime64("NaT"), dtype="datetime64[D]")),
        "valid_to": dates(np.full(len(codes), np.datetime64("NaT"), dtype="datetime64[D]")),
        "note": text(["synthetic benchmark unit (warped grid), not official"] * len(codes)),
        "geometry": wkb(geoms),
    })


def clusters_layer(c: Clusters, geo: Geography, rng: np.random.Generator) -> pa.Table:
    n = len(c.ids)
    investor = np.where((c.stage != "planned") | (rng.random(n) < 0.5),
                        np.char.add("Công ty CP Đầu tư hạ tầng ", names(rng, n)), None)
    complete = (c.stage == "operating") & (rng.random(n) < 0.8)
    return pa.table({
        "cluster_id": text(c.ids), "name": text(c.names),
        "admin_code": text(np.array(geo.district_codes)[c.district]),
        "kind": text(c.kind), "investor": text(investor),
        "operating_since": dates(c.operating_since),
        "infrastructure_complete": pa.array(complete, type=pa.bool_()),
        "geometry": wkb(multi(c.rectangles(np.zeros(n), c.w))),
    })


def extents_layer(c: Clusters, rng: np.random.Generator) -> pa.Table:
    parts = []  # (cluster index, stage, x0, x1, date)
    est = np.flatnonzero(c.w_est > 0)
    single = est[c.w_orig[est] == 0]
    expanded = est[c.w_orig[est] > 0]
    parts.append((single, "establishment", np.zeros(len(single)), c.w_est[single],
                  c.established_on[single]))
    parts.append((expanded, "establishment", np.zeros(len(expanded)), c.w_orig[expanded],
                  c.established_on[expanded]))
    overlap = rng.choice([0.0, 0.0, 8.0, 15.0], len(expanded))  # expansions may overlap a bit
    parts.append((expanded, "establishment", c.w_orig[expanded] - overlap, c.w_est[expanded],
                  c.expanded_on[expanded]))
    det = np.flatnonzero(c.w_det > 0)
    parts.append((det, "detailed_plan", np.zeros(len(det)), c.w_det[det], c.detailed_on[det]))
    index = np.concatenate([p[0] for p in parts])
    order = np.argsort(index, kind="stable")
    index = index[order]
    stage = np.concatenate([np.full(len(p[0]), p[1]) for p in parts])[order]
    x0 = np.concatenate([p[2] for p in parts])[order]
    x1 = np.concatenate([p[3] for p in parts])[order]
    when = np.concatenate([p[4] for p in parts])[order]
    decision = np.char.add(rng.integers(100, 9999, len(index)).astype(str), "/QĐ-UBND")
    return pa.table({
        "cluster_id": text(c.ids[index]), "stage": text(stage), "decision": text(decision),
        "decided_on": dates(when), "geometry": wkb(multi(c.rectangles(x0, x1, index))),
    })


def parcels_layer(c: Clusters, p: Parcels, leases: Leases) -> pa.Table:
    k = p.cluster
    geoms = rotated_rectangles(p.x0, p.y0, p.x1, p.y1, c.cx[k], c.cy[k], c.w[k], c.h[k],
                               c.angle[k])
    project = np.where(leases.project_index >= 0,
                       leases.projects["project_id"][np.maximum(leases.project_index, 0)], None)
    return pa.table({
        "parcel_id": text(p.ids), "cluster_id": text(c.ids[k]), "land_use": text(p.land_use),
        "recovered": pa.array(leases.recovered, type=pa.bool_()), "project_id": text(project),
        "leased_on": dates(leases.leased_on), "geometry": wkb(multi(geoms)),
    })


def projects_table(leases: Leases) -> pa.Table:
    cols = {}
    for k, v in leases.projects.items():
        if k.startswith("_"):
            continue
        if np.issubdtype(np.asarray(v).dtype, np.datetime64):
            cols[k] = dates(v)
        elif np.asarray(v).dtype.kind in "US":
            cols[k] = text(v)
        else:
            cols[k] = pa.array(v)
    return pa.table(cols)


def promotion_layer(sizes: Sizes, geo: Geography, c: Clusters, to_geo: Transformer,
                    rng: np.random.Generator) -> pa.Table:
    n = sizes.promotion
    district = rng.integers(0, len(geo.district_codes), n)
    inner = shapely.buffer(geo.districts, -300.0)
    x, y = np.empty(n), np.empty(n)
    todo = np.arange(n)
    while len(todo):  # rejection sampling inside each district, vectorised
        b = geo.district_boxes[district[todo]]
        px = rng.uniform(b[:, 0], b[:, 2])
        py = rng.uniform(b[:, 1], b[:, 3])
        ok = shapely.contains_xy(inner[district[todo]], px, py)
        x[todo[ok]], y[todo[ok]] = px[ok], py[ok]
        todo = todo[~ok]
    lon, lat = to_geo.transform(x, y)
    programme = rng.choice(PROGRAMMES, n)
    year = rng.integers(2013, 2025, n).astype(np.int32)
    training = np.isin(programme, ["sewing_training", "management_training"])
    participants = np.where(training, rng.integers(20, 600, n), 0).astype(np.int32)
    facilities = np.where(training, 0, rng.integers(1, 15, n)).astype(np.int32)
    budget = np.round(rng.uniform(50, 900, n), 1)
    order = np.lexsort((district, programme, year))
    seq = np.zeros(n, dtype=int)
    for yv in np.unique(year):
        m = year[order] == yv
        seq[order[m]] = np.arange(1, m.sum() + 1)
    ids = [f"KC-{yv}-{s:04d}" for yv, s in zip(year, seq, strict=True)]
    return pa.table({
        "activity_id": text(ids), "year": pa.array(year),
        "programme": text(programme),
        "admin_code": text(np.array(geo.district_codes)[district]),
        "participants": pa.array(participants), "facilities": pa.array(facilities),
        "budget_mil_vnd": pa.array(budget),
        "geometry": wkb(shapely.points(np.column_stack([lon, lat]))),
    }).take(pa.array(order))


def write_layers(path: Path, layers: dict[str, tuple[pa.Table, str | None, str | None]]) -> None:
    """Write each ``name: (table, geometry type, crs)`` to a fresh GeoPackage with Arrow."""
    path.unlink(missing_ok=True)
    for name, (table, geometry_type, crs) in layers.items():
        pyogrio.write_arrow(
            table, path, layer=name, driver="GPKG", append=path.exists(),
            geometry_name="geometry" if geometry_type else None,
            geometry_type=geometry_type, crs=crs,
            layer_options={"DESCRIPTION": f"ccn-gis synthetic benchmark data: {name}"},
        )


# ------------------------------------------------------------------- raster
def make_raster(path: Path, geo: Geography, c: Clusters, rng: np.random.Generator) -> dict:
    """A 10 m land-use raster of the first province: farmland mosaic, villages, roads,
    canals, a river; established clusters SKN, planned clusters still rice."""
    province = geo.provinces[0]
    west, south, east, north = (math.floor(v / CELL) * CELL if i < 2 else
                                math.ceil(v / CELL) * CELL
                                for i, v in enumerate(shapely.bounds(province)[[0, 1, 2, 3]]))
    width, height = int(round((east - west) / CELL)), int(round((north - south) / CELL))
    transform = from_origin(west, north, CELL, CELL)
    weights = np.array([c_[5] for c_ in CLASSES])
    values = np.array([c_[0] for c_ in CLASSES], dtype=np.uint8)
    block = 20  # 200 m fields
    coarse = rng.choice(values, (height // block + 2, width // block + 2),
                        p=weights / weights.sum())
    lu = np.repeat(np.repeat(coarse, block, axis=0), block, axis=1)
    sy, sx = rng.integers(0, block, 2)
    lu = np.ascontiguousarray(lu[sy:sy + height, sx:sx + width])
    hamlets = rng.random((height // 5 + 1, width // 5 + 1)) < 0.04  # 50 m hamlets
    hamlets = np.repeat(np.repeat(hamlets, 5, axis=0), 5, axis=1)[:height, :width]
    lu[hamlets] = V["ONT"]
    del hamlets
    spacing = max(int(3_000 / CELL), 50)
    for start in range(int(rng.integers(0, spacing)), height, spacing):  # roads
        lu[start:start + 2, :] = V["DGT"]
    for start in range(int(rng.integers(0, spacing)), width, spacing):
        lu[:, start:start + 2] = V["DGT"]
    for start in range(int(rng.integers(0, spacing // 2)), width, spacing // 2):  # canals
        lu[:, start + spacing // 4:start + spacing // 4 + 1] = V["DTL"]
    cols = np.arange(width)
    phase = rng.uniform(0, 6)
    centre = height / 2 + 0.18 * height * np.sin(cols / width * 2 * math.pi * 1.3 + phase)
    rows = np.arange(height)[:, None]
    lu[np.abs(rows - centre[None, :]) < 6] = V["SON"]  # a 120 m river
    mine = np.flatnonzero(c.province == 0)
    planned = mine[c.w_est[mine] == 0]
    if len(planned):  # planned-only clusters stand on rice land
        shapes = c.rectangles(np.zeros(len(planned)), c.w[planned], planned)
        lu[features.rasterize(shapes, out_shape=lu.shape, transform=transform,
                              dtype="uint8") > 0] = V["LUC"]
    est = mine[c.w_est[mine] > 0]
    if len(est):
        shapes = c.rectangles(np.zeros(len(est)), c.w_est[est], est)
        lu[features.rasterize(shapes, out_shape=lu.shape, transform=transform,
                              dtype="uint8") > 0] = V["SKN"]
    inside = features.rasterize([province], out_shape=lu.shape, transform=transform,
                                dtype="uint8") > 0
    lu[~inside] = 0
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "uint8",
               "crs": AREA_CRS, "transform": transform, "nodata": 0, "tiled": True,
               "blockxsize": 256, "blockysize": 256, "compress": "DEFLATE", "zlevel": 6,
               "interleave": "band"}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(lu, 1)
        dst.write_colormap(1, {0: (0, 0, 0, 0)} | {
            v: (int(col[1:3], 16), int(col[3:5], 16), int(col[5:7], 16), 255)
            for v, _, _, _, col, _ in CLASSES})
        dst.update_tags(DESCRIPTION="Synthetic land use (ccn-gis benchmark data); not official",
                        SOURCE="benchmarks/make_national.py")
        factors = [f for f in (2, 4, 8, 16, 32, 64) if min(width, height) // f >= 64]
        if factors:
            dst.build_overviews(factors, Resampling.nearest)
    with path.with_name(f"{path.stem}.classes.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["value", "code", "name_vi", "name_en", "colour"])
        writer.writerows(cl[:5] for cl in CLASSES)
    return {"width": width, "height": height, "cells": width * height,
            "bounds": [west, south, east, north]}


# ----------------------------------------------------------------- scenario
def write_scenario(path: Path, c: Clusters, rng: np.random.Generator) -> int:
    planned = np.flatnonzero(c.stage == "planned")
    chosen = np.sort(rng.choice(planned, max(1, len(planned) // 5), replace=False)) if len(
        planned) else np.array([], dtype=int)
    years = rng.integers(2026, 2031, len(chosen))
    lines = [
        "# Synthetic national benchmark scenario (benchmarks/make_national.py): a fifth of",
        "# the planned clusters are established between 2026 and 2030.",
        "name: Quốc gia 2030 (benchmark)",
        "horizon: 2030",
        "absorption: {method: historical, years: 5}",
        "changes:",
    ]
    lines += [f"  - {{establish: {c.ids[k]}, year: {y}}}" for k, y in zip(chosen, years,
                                                                          strict=True)]
    if not len(chosen):
        lines[-1] = "changes: []"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(chosen)


# --------------------------------------------------------------------- main
def map_views(c: Clusters, to_geo: Transformer, rng: np.random.Generator, n: int = 200) -> list:
    """WGS84 bboxes of about 4.4 x 3.1 km (a map at zoom ~14) centred near detailed clusters."""
    detailed = np.flatnonzero(c.w_det > 0)
    picks = rng.choice(detailed, n, replace=len(detailed) < n)
    lon, lat = to_geo.transform(c.cx[picks] + rng.uniform(-400, 400, n),
                                c.cy[picks] + rng.uniform(-300, 300, n))
    half_w, half_h = 0.021, 0.014
    return [[round(x - half_w, 6), round(y - half_h, 6), round(x + half_w, 6), round(y + half_h, 6)]
            for x, y in zip(lon, lat, strict=True)]


def generate(scale: float, out: Path, *, log=print) -> dict:
    """Write the dataset for ``scale`` into ``out``; return the manifest."""
    started = time.perf_counter()
    sizes = Sizes.at(scale)
    rng = np.random.default_rng(SEED)
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").unlink(missing_ok=True)
    to_geo = Transformer.from_crs(AREA_CRS, GEO_CRS, always_xy=True)
    geo = make_geography(sizes, rng)
    c = make_clusters(sizes, geo, rng)
    check_placement(c, geo)
    p = make_parcels(sizes, c, rng)
    leases = make_leases(sizes, c, p, rng)
    log(f"  {len(c.ids)} clusters, {len(p.ids)} parcels, "
        f"{len(leases.projects['project_id'])} projects generated "
        f"({time.perf_counter() - started:.1f} s)")
    parcels = parcels_layer(c, p, leases)
    plan_ha = float((c.w * c.h).sum() / HA)
    settings = pa.table({
        "key": text(["province_name", "area_crs", "plan_total_ha", "lang"]),
        "value": text(["Cả nước (dữ liệu tổng hợp cho benchmark)", AREA_CRS,
                       f"{math.ceil(plan_ha) + 1:.2f}", "vi"]),
    })
    gpkg = out / "national.gpkg"
    write_layers(gpkg, {
        "admin_units": (admin_layer(geo, to_geo), "MultiPolygon", GEO_CRS),
        "clusters": (clusters_layer(c, geo, rng), "MultiPolygon", AREA_CRS),
        "approved_extents": (extents_layer(c, rng), "MultiPolygon", AREA_CRS),
        "parcels": (parcels, "MultiPolygon", AREA_CRS),
        "projects": (projects_table(leases), None, None),
        "promotion_activities": (promotion_layer(sizes, geo, c, to_geo, rng), "Point", GEO_CRS),
        "ccn_settings": (settings, None, None),
    })
    log(f"  {gpkg.name}: {gpkg.stat().st_size / 1e6:.0f} MB "
        f"({time.perf_counter() - started:.1f} s)")
    first = np.flatnonzero(c.province[p.cluster] == 0)
    zones = out / "landuse_zones.gpkg"
    write_layers(zones, {"parcels": (parcels.select(["parcel_id", "geometry"]).take(
        pa.array(first)), "MultiPolygon", AREA_CRS)})
    raster = make_raster(out / "national_landuse.tif", geo, c, rng)
    log(f"  national_landuse.tif: {raster['width']} x {raster['height']} cells "
        f"({(out / 'national_landuse.tif').stat().st_size / 1e6:.0f} MB, "
        f"{time.perf_counter() - started:.1f} s)")
    established = write_scenario(out / "national_2030.yaml", c, rng)
    pw, ps, pe, pn = shapely.bounds(geo.provinces[0])
    lon, lat = to_geo.transform([pw, pe, pw, pe], [ps, ps, pn, pn])
    manifest = {
        "generator": "benchmarks/make_national.py", "version": VERSION, "seed": SEED,
        "scale": scale,
        "counts": {"provinces": sizes.provinces, "districts": len(geo.district_codes),
                   "clusters": len(c.ids), "clusters_detailed": int((c.w_det > 0).sum()),
                   "parcels": len(p.ids), "projects": len(leases.projects["project_id"]),
                   "promotion_activities": sizes.promotion, "scenario_changes": established,
                   "landuse_zones": len(first), "raster_cells": raster["cells"]},
        "plan_ha": plan_ha,
        "raster": raster,
        "first_province": {"code": geo.province_codes[0], "parcels": len(first),
                           "bbox_wgs84": [min(lon), min(lat), max(lon), max(lat)],
                           "cluster_prefix": "P01-"},
        "map_views": map_views(c, to_geo, rng),
        "files": {"gpkg": "national.gpkg", "raster": "national_landuse.tif",
                  "zones": "landuse_zones.gpkg", "scenario": "national_2030.yaml"},
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    log(f"  done in {manifest['seconds']} s")
    return manifest


def default_out(scale: float) -> Path:
    return HERE / "data" / f"scale-{scale:g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1.0: 1,500 clusters, 500,000 parcels (default); 0.01: a hundredth")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default benchmarks/data/scale-<scale>/)")
    parser.add_argument("--validate", action="store_true",
                        help="run 'ccn-gis validate' on the result (slow at full scale)")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 10:
        parser.error("--scale must lie in (0, 10]")
    out = args.out or default_out(args.scale)
    print(f"make_national: scale {args.scale:g} -> {out}")
    generate(args.scale, out)
    if args.validate:
        cli = shutil.which("ccn-gis", path=str(Path(sys.executable).parent)) or "ccn-gis"
        return subprocess.call([cli, "validate", "--layers", str(out / "national.gpkg"),
                                "--lang", "en"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
