"""Generate the synthetic Thái Bình sample GeoPackage ``layers/thai_binh.gpkg``.

Only the province outline is real (Natural Earth 1:10m, public domain). District
boundaries are schematic Voronoi cells; clusters, decisions, parcels, projects and
industrial-promotion activities are invented and placed so that the figures the
province published (66 clusters, 4,177.97 ha, 46 established on 2,508 ha, ...) come
out *by computation from geometry* in EPSG:9209.

The generator is deterministic (``numpy.random.default_rng(2030)``) and independent
of the ``ccn_gis`` package. After writing, it re-reads the file, prints a summary
and exits non-zero if any published figure or geometric rule is not met.

Run ``python scripts/make_sample.py [--out layers/thai_binh.gpkg]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

REPO_ROOT = Path(__file__).resolve().parent.parent
REGION_CANDIDATES = (
    REPO_ROOT / "layers" / "source" / "thai_binh_region.geojson",
    REPO_ROOT.parent / "shared" / "data" / "thai_binh_region.geojson",
)
SEED = 2030
AREA_CRS = "EPSG:9209"
GEO_CRS = "EPSG:4326"
HA = 10_000.0
END = dt.date(2024, 12, 31)

# The published table (Sở Công Thương Thái Bình), see shared/seed/BRIEF.md.
PLAN_HA, ESTABLISHED_HA, DETAILED_HA = 4177.97, 2508.00, 1794.00
N_PLANNED, N_ESTABLISHED, N_DETAILED, N_OPERATING = 66, 46, 44, 35
OCCUPANCY, OCCUPANCY_RECOVERED = 0.413, 0.666
STATUS_COUNTS = {"producing": 309, "under_construction": 48, "not_started": 33, "stopped": 27}
REGISTERED_BN, IMPLEMENTED_BN = 30129, 21662
REGISTERED_WORKERS, WORKERS = 82908, 54752
PROMOTION = {  # programme: (field, total, number of activities)
    "sewing_training": ("participants", 15520, 50),
    "management_training": ("participants", 3593, 60),
    "demo_model": ("facilities", 10, 10),
    "machinery_support": ("facilities", 520, 80),
    "rural_product_programme": ("facilities", 7, 7),
    "cluster_detailed_plan": ("facilities", 7, 7),
}
DISTRICT_NOTE = "schematic boundary (Voronoi), not official"


@dataclass(frozen=True)
class District:
    """A pre-2025 district: code, name, Voronoi seed (lon, lat) and cluster communes."""

    code: str
    name: str
    seed: tuple[float, float]
    communes: tuple[str, ...]


DISTRICTS = tuple(
    District(code, name, seed, tuple(communes.split(", ")))
    for code, name, seed, communes in (
        ("336", "Thành phố Thái Bình", (106.34, 20.45),
         "Phong Phú, Trần Lãm, Phú Xuân, Vũ Phúc, Tiền Phong, Đông Hòa"),
        ("338", "Huyện Quỳnh Phụ", (106.38, 20.64),
         "Quỳnh Côi, Quỳnh Giao, Quỳnh Hồng, Quỳnh Hoa, Quỳnh Hưng, An Đồng, An Bài, Đông Hải, "
         "An Thái"),
        ("339", "Huyện Hưng Hà", (106.22, 20.59),
         "Hưng Nhân, Thái Phương, Đoan Hùng, Điệp Nông, Tân Lễ, Thống Nhất, Văn Lang, Canh Tân, "
         "Minh Tân, Hồng Minh"),
        ("340", "Huyện Đông Hưng", (106.35, 20.55),
         "Đông La, Đông Phong, Mê Linh, Đông Sơn, Đông Lĩnh, Đông Động, Hồng Giang, Đông Xuân"),
        ("341", "Huyện Thái Thụy", (106.52, 20.57),
         "Thụy Tân, Thụy Sơn, Thụy Phong, Thụy Quỳnh, Diêm Điền, Thụy Liên, Thái Thọ, Thái Dương, "
         "Thụy Trình, Thái Hưng"),
        ("342", "Huyện Tiền Hải", (106.53, 20.40),
         "Tây An, Đông Lâm, Tây Giang, Tây Ninh, Nam Hà, Đông Hoàng, Vũ Lăng, Nam Thịnh"),
        ("343", "Huyện Kiến Xương", (106.42, 20.40),
         "Vũ Ninh, Thanh Nê, Bình Minh, Quang Bình, Vũ Quý, Lê Lợi, Vũ Lễ, Trà Giang"),
        ("344", "Huyện Vũ Thư", (106.27, 20.43),
         "Nguyên Xá, Minh Lãng, Vũ Hội, Tam Quang, Việt Hùng, Song An, Tân Lập"),
    )
)  # fmt: skip
NAME_HEADS = tuple("Hải Phú Hưng An Minh Thành Đại Hoàng Tân Việt Kim Bảo Phúc Trường Quang Đức "
                   "Thái Nam Thiên Hồng Tiến Gia Lộc Vạn".split())  # fmt: skip
NAME_TAILS = tuple("Long Phát Thịnh Hưng Minh Đạt Phong Sơn Thành Vinh Hà Anh Tiến Lợi Khang "
                   "Nguyên Quang Bình Xuân Cường".split())  # fmt: skip
FOREIGN = tuple("Youngone, Shin Sung, Kwang Jin, Sunrise Textile, Hanbit, Formosa Garment, Daewon, "
                "Minh Trí Vina, Yoshida, Tae Kwang".split(", "))  # fmt: skip
SECTORS = {  # sector: (share, project-name stem, investor stem, capital weight, labour weight)
    "Dệt may": (0.34, "Nhà máy may", "Công ty TNHH May", 0.7, 3.0),
    "Cơ khí": (0.15, "Xưởng cơ khí", "Công ty CP Cơ khí", 1.2, 0.8),
    "Điện tử": (0.10, "Nhà máy linh kiện điện tử", "Công ty TNHH Điện tử", 1.5, 2.0),
    "Chế biến nông sản, thực phẩm": (
        0.12,
        "Nhà máy chế biến nông sản",
        "Công ty CP Thực phẩm",
        1.0,
        0.8,
    ),
    "Vật liệu xây dựng": (
        0.10,
        "Nhà máy gạch không nung",
        "Công ty CP Vật liệu xây dựng",
        1.3,
        0.5,
    ),
    "Đồ gỗ mỹ nghệ": (0.07, "Xưởng đồ gỗ mỹ nghệ", "Công ty TNHH Đồ gỗ", 0.6, 1.0),
    "Da giày": (0.05, "Nhà máy giày", "Công ty TNHH Giày", 0.8, 3.0),
    "Bao bì, nhựa": (0.07, "Nhà máy bao bì", "Công ty CP Nhựa", 1.2, 0.6),
}


@dataclass
class Cluster:
    """A cluster being generated; geometry lives in a local frame until placed."""

    cluster_id: str
    name: str
    admin_code: str
    kind: str
    stage: str  # planned | established | detailed | operating
    shape: str = "rect"  # rect | split (two parts) | hole
    plan_m2: float = 0.0
    established_m2: float = 0.0
    detailed_m2: float = 0.0
    original_m2: float | None = None  # first establishment extent when there are two
    local: BaseGeometry | None = None
    matrix: tuple[float, ...] | None = None  # local frame -> EPSG:9209
    established_on: dt.date | None = None
    expanded_on: dt.date | None = None
    detailed_on: dt.date | None = None
    operating_since: dt.date | None = None


@dataclass(frozen=True)
class Parcel:
    """A lot of a detailed plan, as an axis-aligned box in its cluster's local frame."""

    cluster: int
    key: tuple[int, int]
    land_use: str
    geom: Polygon
    recovered: bool = False
    project_id: str | None = None
    leased_on: dt.date | None = None


# --------------------------------------------------------------------------- helpers
def allocate(total: int, weights: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Split an integer total into integer shares proportional to weights, within bounds.

    Parameters
    ----------
    total : int
        Sum the shares must reach exactly.
    weights : numpy.ndarray
        Positive weights; the part above ``lower`` is shared in proportion to them.
    lower, upper : numpy.ndarray
        Integer bounds per share (``upper`` may be ``inf``).

    Returns
    -------
    numpy.ndarray
        int64 shares with ``lower <= share <= upper`` and ``share.sum() == total``.
    """
    w, lo, hi = (np.asarray(a, dtype=float) for a in (weights, lower, upper))
    if not lo.sum() <= total <= hi.sum():
        raise ValueError(f"cannot allocate {total} within [{lo.sum()}, {hi.sum()}]")
    x, free = lo.copy(), hi > lo
    while total - x.sum() > 1e-9 and free.any():
        share = np.zeros_like(x)
        share[free] = (total - x.sum()) * w[free] / w[free].sum()
        x = np.minimum(x + share, hi)
        free &= x < hi
    units = np.floor(x + 1e-9).astype(np.int64)
    slack = [i for i in np.argsort(units - x, kind="stable") if units[i] < hi[i]]
    units[np.array(slack[: total - int(units.sum())], dtype=np.int64)] += 1
    return units


def brand_name(rng: np.random.Generator) -> str:
    """Draw a two-syllable Vietnamese trade name such as "Hưng Long"."""
    head, tail = rng.choice(NAME_HEADS), rng.choice(NAME_TAILS)
    return f"{head} {tail}" if head != tail else f"{head} Phát"


def random_date(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    """Return a uniformly drawn date in ``[start, end]``."""
    return start + dt.timedelta(days=int(rng.integers(0, max((end - start).days, 0) + 1)))


def cut_left(geom: BaseGeometry, area: float) -> tuple[float, BaseGeometry]:
    """Cut the part of ``geom`` left of a vertical line so that it has ``area`` (m²).

    Returns the line's x and the cut part (bisection to float precision).
    """
    x0, y0, x1, y1 = geom.bounds
    lo, hi = x0, x1
    for _ in range(80):
        mid = (lo + hi) / 2
        if geom.intersection(box(x0 - 1, y0 - 1, mid, y1 + 1)).area < area:
            lo = mid
        else:
            hi = mid
    return hi, geom.intersection(box(x0 - 1, y0 - 1, hi, y1 + 1))


def to_world(geom: BaseGeometry, cluster: Cluster) -> BaseGeometry:
    """Move a local-frame geometry to EPSG:9209 with its cluster's affine matrix."""
    return affinity.affine_transform(geom, cluster.matrix)


def as_multi(geom: BaseGeometry) -> MultiPolygon:
    """Return a polygonal geometry as a MultiPolygon (GeoPackage layers are MultiPolygon)."""
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])


# ------------------------------------------------------------------ admin_units
def load_outlines(region: Path) -> tuple[Polygon, Polygon]:
    """Read the real Thái Bình (role ``target``) and Hưng Yên outlines, EPSG:4326."""
    region_gdf = gpd.read_file(region).to_crs(GEO_CRS)
    thai_binh = region_gdf.loc[region_gdf["role"] == "target", "geometry"].iloc[0]
    hung_yen = region_gdf.loc[region_gdf["name"] == "Hung Yen", "geometry"].iloc[0]
    return thai_binh, hung_yen


def district_cells(province_m: Polygon) -> dict[str, Polygon]:
    """Voronoi cells of the district seeds clipped to the province, in EPSG:9209."""
    to_m = Transformer.from_crs(GEO_CRS, AREA_CRS, always_xy=True)
    seeds = [Point(to_m.transform(*d.seed)) for d in DISTRICTS]
    cells = shapely.voronoi_polygons(
        shapely.MultiPoint(seeds), extend_to=province_m.envelope.buffer(10_000)
    )
    out = {}
    for district, seed in zip(DISTRICTS, seeds, strict=True):
        cell = next(c for c in cells.geoms if c.contains(seed))
        out[district.code] = cell.intersection(province_m)
    return out


def admin_units_layer(
    thai_binh: Polygon, hung_yen: Polygon, cells_m: dict[str, Polygon]
) -> gpd.GeoDataFrame:
    """Build ``admin_units``: Thái Bình, its 8 schematic districts, post-2025 Hưng Yên."""
    cells = gpd.GeoSeries(list(cells_m.values()), crs=AREA_CRS).to_crs(GEO_CRS)
    until, since = dt.date(2025, 6, 30), dt.date(2025, 7, 1)
    rows = [
        (
            "34",
            "Tỉnh Thái Bình",
            "province",
            None,
            None,
            until,
            "Natural Earth 1:10m outline (pre-2025)",
            thai_binh,
        )
    ]
    rows += [
        (d.code, d.name, "district", "34", None, until, DISTRICT_NOTE, cell)
        for d, cell in zip(DISTRICTS, cells, strict=True)
    ]
    rows.append(
        (
            "33",
            "Tỉnh Hưng Yên",
            "province",
            None,
            since,
            None,
            "union of the Natural Earth outlines of Thái Bình and Hưng Yên (merged 2025-07-01)",
            shapely.union(thai_binh, hung_yen),
        )
    )
    cols = ["code", "name", "level", "parent_code", "valid_from", "valid_to", "note", "geometry"]
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry="geometry", crs=GEO_CRS)
    gdf["geometry"] = [as_multi(g) for g in gdf.geometry]
    return gdf


# --------------------------------------------------------------------- clusters
def draft_clusters(rng: np.random.Generator) -> list[Cluster]:
    """Name the 66 clusters, pick stages, kinds, shapes and the target areas."""
    communes = [(d.code, commune) for d in DISTRICTS for commune in d.communes]
    clusters = [
        Cluster(f"TB-{n + 1:02d}", f"CCN {commune}", code, "general", "planned")
        for n, (code, commune) in enumerate(communes)
    ]
    stages = (
        ["operating"] * N_OPERATING
        + ["detailed"] * (N_DETAILED - N_OPERATING)
        + ["established"] * (N_ESTABLISHED - N_DETAILED)
        + ["planned"] * (N_PLANNED - N_ESTABLISHED)
    )
    for cluster, stage in zip(clusters, rng.permutation(stages), strict=True):
        cluster.stage = str(stage)
    by_stage = {s: [c for c in clusters if c.stage == s] for s in set(stages)}
    split = [
        *rng.choice(by_stage["operating"], 1),
        *rng.choice(by_stage["detailed"], 1),
        *rng.choice(by_stage["planned"], 1),
    ]
    holes = [*rng.choice(by_stage["established"], 1), *rng.choice(by_stage["planned"], 1)]
    for c in split:
        c.shape = "split"
    for c in holes:
        c.shape = "hole"
    for c in rng.choice([c for c in clusters if c.shape != "hole"], 5, replace=False):
        c.kind = "craft_village"
    craft = np.array([c.kind == "craft_village" for c in clusters])
    craft_cents = rng.integers(800, 2500, craft.sum())  # hundredths of a hectare
    # General clusters: 74.80 ha (clear of the 75 ha limit) less a skewed deficit.
    n_general = int((~craft).sum())
    general_total = round(PLAN_HA * 100) - int(craft_cents.sum())
    deficit = allocate(
        n_general * 7480 - general_total,
        rng.exponential(1.0, n_general) + 0.05,
        np.zeros(n_general),
        np.full(n_general, 7480 - 3000),
    )
    plan = np.empty(craft.size, dtype=np.int64)
    plan[craft], plan[~craft] = craft_cents, 7480 - deficit
    for cluster, cents in zip(clusters, plan, strict=True):
        cluster.plan_m2 = cents * 100.0
    return clusters


def cluster_outline(cluster: Cluster, rng: np.random.Generator) -> BaseGeometry:
    """Plan geometry in the local frame: a rectangle, two parts split by a road, or a holed one."""
    aspect = rng.uniform(1.0, 1.4)
    hole = (90.0, 70.0) if cluster.shape == "hole" else (0.0, 0.0)
    height = math.sqrt((cluster.plan_m2 + hole[0] * hole[1]) / aspect)
    width = (cluster.plan_m2 + hole[0] * hole[1]) / height
    if cluster.shape == "split":
        left = width * rng.uniform(0.4, 0.6)
        return MultiPolygon([box(0, 0, left, height), box(left + 30.0, 0, width + 30.0, height)])
    if cluster.shape == "hole":
        hx, hy = width * 0.6, height * 0.45
        return Polygon(
            box(0, 0, width, height).exterior.coords,
            [box(hx, hy, hx + hole[0], hy + hole[1]).exterior.coords],
        )
    return box(0, 0, width, height)


def place_clusters(
    clusters: list[Cluster], cells_m: dict[str, Polygon], rng: np.random.Generator
) -> None:
    """Rotate and place every cluster inside its district, ≥ 400 m from the others."""
    placed: list[BaseGeometry] = []
    for cluster in clusters:
        cluster.local = cluster_outline(cluster, rng)
        x0, y0, x1, y1 = cluster.local.bounds
        radius = math.hypot(x1 - x0, y1 - y0) / 2
        cell = cells_m[cluster.admin_code]
        room, inside = cell.buffer(-(radius + 150)), cell.buffer(-150)
        for _ in range(5000):
            cx, cy = (
                rng.uniform(room.bounds[0], room.bounds[2]),
                rng.uniform(room.bounds[1], room.bounds[3]),
            )
            theta = rng.uniform(-math.pi / 2, math.pi / 2)
            if not room.contains(Point(cx, cy)):
                continue
            a, b, d, e = math.cos(theta), -math.sin(theta), math.sin(theta), math.cos(theta)
            mx, my = (x0 + x1) / 2, (y0 + y1) / 2
            cluster.matrix = (a, b, d, e, cx - (a * mx + b * my), cy - (d * mx + e * my))
            world = to_world(cluster.local, cluster)
            if world.within(inside) and all(world.distance(o) >= 400 for o in placed):
                placed.append(world)
                break
        else:
            raise RuntimeError(f"no room for {cluster.cluster_id} in district {cluster.admin_code}")


def clusters_layer(clusters: list[Cluster], rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Build ``clusters`` (EPSG:9209) with investors and operation attributes."""
    rows = []
    for cluster in clusters:
        investor = None
        if cluster.stage != "planned" or rng.random() < 0.6:
            stem = rng.choice(
                [
                    "Công ty CP Đầu tư hạ tầng",
                    "Công ty CP Phát triển hạ tầng CCN",
                    "Công ty TNHH Đầu tư và Xây dựng",
                ]
            )
            investor = f"{stem} {brand_name(rng)}"
        complete = cluster.stage == "operating" and rng.random() < 0.8
        rows.append(
            (
                cluster.cluster_id,
                cluster.name,
                cluster.admin_code,
                cluster.kind,
                investor,
                cluster.operating_since,
                complete,
                as_multi(to_world(cluster.local, cluster)),
            )
        )
    cols = [
        "cluster_id",
        "name",
        "admin_code",
        "kind",
        "investor",
        "operating_since",
        "infrastructure_complete",
        "geometry",
    ]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry="geometry", crs=AREA_CRS)


# ------------------------------------------------------------- approved_extents
def split_bounds(cluster: Cluster, lower: float, upper: float) -> tuple[float, float]:
    """Bounds (0.01 ha) for a cut from the left that leave no thin sliver of a second part.

    For a two-part cluster the cut either stays in the first part or takes at least
    10 ha of the second one.
    """
    if cluster.shape != "split":
        return lower, upper
    left = math.floor(cluster.local.geoms[0].area / 100)
    if upper >= left + 1000:
        return max(lower, left + 1000), upper
    return min(lower, left), min(upper, left)


def extent_areas(clusters: list[Cluster], rng: np.random.Generator) -> None:
    """Allocate established and detailed areas to hit 2,508 ha and 1,794 ha exactly."""
    est = [c for c in clusters if c.stage != "planned"]
    plan = np.array([c.plan_m2 / 100 for c in est])
    lower, upper = np.array(
        [split_bounds(c, math.floor(c.plan_m2 / 100 * 0.55), c.plan_m2 / 100) for c in est]
    ).T
    shares = allocate(
        round(ESTABLISHED_HA * 100), plan * rng.uniform(0.2, 1.0, len(est)), lower, upper
    )
    for c, cents in zip(est, shares, strict=True):
        c.established_m2 = cents * 100.0
    expanded = rng.choice(
        [c for c in est if c.stage in ("operating", "detailed") and c.shape == "rect"],
        6,
        replace=False,
    )
    for c in expanded:
        c.original_m2 = math.floor(c.established_m2 * rng.uniform(0.6, 0.75) / 100) * 100.0
    det = [c for c in est if c.stage in ("operating", "detailed")]
    cap = np.array([(c.original_m2 or c.established_m2) / 100 for c in det])
    lower, upper = np.array(
        [split_bounds(c, math.floor(m * 0.4), m) for c, m in zip(det, cap, strict=True)]
    ).T
    shares = allocate(round(DETAILED_HA * 100), cap * rng.uniform(0.2, 1.0, len(det)), lower, upper)
    for c, cents in zip(det, shares, strict=True):
        c.detailed_m2 = cents * 100.0


def extent_dates(clusters: list[Cluster], rng: np.random.Generator) -> None:
    """Date the decisions: establishment 2010–2024, detailed plan 1–3 years later."""
    windows = {"operating": (2010, 2018), "detailed": (2015, 2022), "established": (2021, 2024)}
    for c in clusters:
        if c.stage == "planned":
            continue
        first, last = windows[c.stage]
        c.established_on = random_date(rng, dt.date(first, 1, 1), dt.date(last, 12, 31))
        if c.stage in ("operating", "detailed"):
            c.detailed_on = random_date(
                rng,
                c.established_on + dt.timedelta(days=365),
                min(c.established_on + dt.timedelta(days=3 * 365), END),
            )
        if c.stage == "operating":
            c.operating_since = random_date(
                rng,
                c.detailed_on + dt.timedelta(days=180),
                min(c.detailed_on + dt.timedelta(days=900), dt.date(2024, 6, 30)),
            )
        if c.original_m2 is not None:
            c.expanded_on = random_date(
                rng,
                c.established_on + dt.timedelta(days=2 * 365),
                min(c.established_on + dt.timedelta(days=6 * 365), END),
            )


def extents_layer(clusters: list[Cluster], rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Build ``approved_extents``: establishment (and expansion) and detailed-plan extents."""
    numbers = iter(rng.choice(np.arange(100, 4000), 200, replace=False))
    rows = []
    for c in clusters:
        if c.stage == "planned":
            continue
        x_est, established = cut_left(c.local, c.established_m2)
        if c.original_m2 is None:
            parts = [(established, c.established_on)]
        else:
            x_orig, original = cut_left(c.local, c.original_m2)
            overlap = float(rng.choice([0.0, 0.0, 8.0, 15.0]))  # expansions may overlap a little
            expansion = c.local.intersection(
                box(x_orig - overlap, -1, x_est, c.local.bounds[3] + 1)
            )
            parts = [(original, c.established_on), (expansion, c.expanded_on)]
        for geom, when in parts:
            rows.append((c.cluster_id, "establishment", f"{next(numbers)}/QĐ-UBND", when, geom, c))
        if c.detailed_on is not None:
            rows.append(
                (
                    c.cluster_id,
                    "detailed_plan",
                    f"{next(numbers)}/QĐ-UBND",
                    c.detailed_on,
                    cut_left(c.local, c.detailed_m2)[1],
                    c,
                )
            )
    cols = ["cluster_id", "stage", "decision", "decided_on", "geometry"]
    frame = pd.DataFrame([r[:4] + (as_multi(to_world(r[4], r[5])),) for r in rows], columns=cols)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=AREA_CRS)


# ---------------------------------------------------------------------- parcels
def split_range(start: float, stop: float, sizes: np.ndarray, minimum: float) -> list[float]:
    """Cut ``[start, stop]`` at successive ``sizes``; a remainder below ``minimum`` is merged."""
    cuts = [start]
    for size in sizes:
        if stop - (cuts[-1] + size) < minimum:
            break
        cuts.append(cuts[-1] + size)
    return [*cuts, stop]


def tile_part(
    bounds: tuple[float, float, float, float], rng: np.random.Generator
) -> list[tuple[str, Polygon]]:
    """Tile one rectangular detailed-plan part: green band, roads, lots (land use per lot)."""
    x0, y0, x1, y1 = bounds
    if min(x1 - x0, y1 - y0) < 100:
        raise ValueError(f"detailed-plan part {bounds} is too narrow to tile")
    green, road = 12.0, 16.0
    ix0, iy0, ix1, iy1 = x0 + green, y0 + green, x1 - green, y1 - green
    out: list[tuple[str, Polygon]] = [
        (
            "green",
            Polygon(box(x0, y0, x1, y1).exterior.coords, [box(ix0, iy0, ix1, iy1).exterior.coords]),
        )
    ]
    mid = (iy0 + iy1) / 2 if iy1 - iy0 > 260 else iy0 + road / 2
    strips = [box(ix0, mid - road / 2, ix1, mid + road / 2)]
    n_cols = max(1, round((ix1 - ix0) / 320))
    col_edges = np.linspace(ix0, ix1, n_cols + 1)
    strips += [box(x - road / 2, iy0, x + road / 2, iy1) for x in col_edges[1:-1]]
    out.append(("traffic", shapely.union_all(strips)))
    row_bands = (
        [(iy0, mid - road / 2), (mid + road / 2, iy1)]
        if mid - road / 2 > iy0
        else [(mid + road / 2, iy1)]
    )
    for i in range(n_cols):
        bx0 = col_edges[i] + (road / 2 if i > 0 else 0.0)
        bx1 = col_edges[i + 1] - (road / 2 if i < n_cols - 1 else 0.0)
        for by0, by1 in row_bands:
            rows = np.linspace(by0, by1, max(1, round((by1 - by0) / 175)) + 1)
            for ry0, ry1 in zip(rows[:-1], rows[1:], strict=True):
                widths = rng.uniform(6000, 18000, 64) / (ry1 - ry0)  # lots of 0.6–1.8 ha
                xs = split_range(bx0, bx1, widths, minimum=3000 / (ry1 - ry0))
                out += [
                    ("industrial", box(a, ry0, b, ry1))
                    for a, b in zip(xs[:-1], xs[1:], strict=True)
                ]
    return out


def cluster_parcels(index: int, cluster: Cluster, rng: np.random.Generator) -> list[Parcel]:
    """Tile a cluster's detailed-plan extent and set aside services, wastewater, pond lots."""
    detailed = cut_left(cluster.local, cluster.detailed_m2)[1]
    pieces = []
    for part in getattr(detailed, "geoms", [detailed]):
        if abs(part.area - part.envelope.area) > 1e-6 * part.area:
            raise ValueError(f"{cluster.cluster_id}: detailed part is not a rectangle")
        pieces += tile_part(part.bounds, rng)
    lots = [i for i, (use, _) in enumerate(pieces) if use == "industrial"]
    uses = {lots[0]: "infrastructure"}
    services = [i for i in lots[1:] if pieces[i][1].area <= 0.1 * cluster.plan_m2]
    if services:
        uses[services[0]] = "services"
    if rng.random() < 0.3 and len(lots) > 6:
        uses[lots[-1]] = "water"
    return [Parcel(index, (n, 0), uses.get(n, use), geom) for n, (use, geom) in enumerate(pieces)]


def split_lot(parcel: Parcel, area: float) -> tuple[Parcel, Parcel]:
    """Split a box lot along x into a head of exactly ``area`` m² and the rest."""
    xa, ya, xb, yb = parcel.geom.bounds
    xs = xa + area / (yb - ya)
    head = replace(parcel, geom=box(xa, ya, xs, yb))
    return head, replace(parcel, key=(parcel.key[0], parcel.key[1] + 1), geom=box(xs, ya, xb, yb))


def select_area(parcels: list[Parcel], order: list[int], target: float) -> list[int]:
    """Pick parcels in ``order`` until their area is ``target``, splitting one lot if needed.

    A lot is taken whole only if at least 0.25 ha stays to be found, so that the last
    step can always split a lot into two pieces of at least 0.25 ha each.
    """
    chosen, total, piece = [], 0.0, 2500.0
    for i in order:
        rest, area = target - total, parcels[i].geom.area
        if rest <= 0:
            break
        if area <= rest - piece or area == rest:
            chosen.append(i)
            total += area
        elif rest >= piece and area - rest >= piece:
            parcels[i], tail = split_lot(parcels[i], rest)
            parcels.append(tail)
            chosen.append(i)
            break
    return chosen


def lease_and_recover(
    parcels: list[Parcel], clusters: list[Cluster], rng: np.random.Generator
) -> list[int]:
    """Choose leased (41.3 %) and recovered (leased ÷ recovered = 66.6 %) industrial land.

    Returns the indices of the leased parcels; leasing sits in operating clusters,
    with a few lots in clusters that only have a detailed plan.
    """
    industrial = [i for i, p in enumerate(parcels) if p.land_use == "industrial"]
    bias = {k: rng.uniform(-0.35, 0.35) for k, c in enumerate(clusters) if c.stage == "operating"}
    early = []
    for k, c in enumerate(clusters):
        if c.stage == "detailed" and rng.random() < 0.7:
            lots = sorted(
                (i for i in industrial if parcels[i].cluster == k),
                key=lambda i: parcels[i].geom.area,
            )
            early += lots[: int(rng.integers(1, 4))]
    priority = {
        i: rng.random() + bias[parcels[i].cluster] for i in industrial if parcels[i].cluster in bias
    }
    order = early + sorted(priority, key=priority.__getitem__)
    total = sum(parcels[i].geom.area for i in industrial)
    leased = select_area(parcels, order, OCCUPANCY * total)
    leased_area = sum(parcels[i].geom.area for i in leased)
    for i in leased:
        parcels[i] = replace(parcels[i], recovered=True)
    taken = set(leased)
    vacant = [i for i in order if i not in taken]
    recovered = select_area(parcels, vacant, leased_area / OCCUPANCY_RECOVERED - leased_area)
    for i in recovered:
        parcels[i] = replace(parcels[i], recovered=True)
    for i, p in enumerate(parcels):
        if p.land_use != "industrial" and clusters[p.cluster].stage == "operating":
            parcels[i] = replace(p, recovered=True)
    return leased


# --------------------------------------------------------------------- projects
def group_projects(
    leased: list[int], parcels: list[Parcel], rng: np.random.Generator
) -> list[list[int]]:
    """Group leased parcels into exactly 417 projects of one or two parcels of one cluster."""
    n_projects = sum(STATUS_COUNTS.values())
    by_cluster: dict[int, list[int]] = {}
    for i in leased:
        by_cluster.setdefault(parcels[i].cluster, []).append(i)
    slots = [k for k, lots in sorted(by_cluster.items()) for _ in range(len(lots) // 2)]
    doubles = len(leased) - n_projects
    if not 0 <= doubles <= len(slots):
        raise RuntimeError(f"{len(leased)} leased parcels cannot form {n_projects} projects")
    picked = rng.choice(len(slots), doubles, replace=False)
    pairs = {k: 0 for k in by_cluster}
    for s in picked:
        pairs[slots[s]] += 1
    groups = []
    for k, lots in sorted(by_cluster.items()):
        lots = list(rng.permutation(lots))
        groups += [lots[2 * j : 2 * j + 2] for j in range(pairs[k])]
        groups += [[i] for i in lots[2 * pairs[k] :]]
    return groups


def projects_table(
    groups: list[list[int]],
    parcels: list[Parcel],
    clusters: list[Cluster],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Build ``projects`` and stamp project ids and lease dates on the parcels."""
    in_operating = np.array([clusters[parcels[g[0]].cluster].stage == "operating" for g in groups])
    # Projects outside operating clusters can only be under construction or not started.
    pool = {s: [s] * n for s, n in STATUS_COUNTS.items()}
    early = rng.permutation(pool["under_construction"] + pool["not_started"])
    n_early = int((~in_operating).sum())
    statuses = np.empty(len(groups), dtype=object)
    statuses[~in_operating] = early[:n_early]
    statuses[in_operating] = rng.permutation(
        [*early[n_early:], *pool["producing"], *pool["stopped"]]
    )
    window = {
        "producing": (0.0, 0.8),
        "stopped": (0.0, 0.6),
        "under_construction": (0.5, 1.0),
        "not_started": (0.6, 1.0),
    }
    names = list(SECTORS)
    shares = np.array([SECTORS[s][0] for s in names])
    rows = []
    for g, status in zip(groups, statuses, strict=True):
        c = clusters[parcels[g[0]].cluster]
        span = (END - c.detailed_on).days
        lease = c.detailed_on + dt.timedelta(days=int(span * rng.uniform(*window[status])))
        registered = max(c.established_on, lease - dt.timedelta(days=int(rng.integers(0, 181))))
        sector = names[rng.choice(len(names), p=shares / shares.sum())]
        area = sum(parcels[i].geom.area for i in g) / HA
        if rng.random() < 0.1:  # a foreign-invested company
            brand = str(rng.choice(FOREIGN))
            investor = f"Công ty TNHH {brand} Việt Nam"
        else:
            brand = brand_name(rng)
            investor = f"{SECTORS[sector][2]} {brand}"
        rows.append(
            {
                "cluster_id": c.cluster_id,
                "name": f"{SECTORS[sector][1]} {brand}",
                "investor": investor,
                "sector": sector,
                "registered_on": registered,
                "status": status,
                "_lease": lease,
                "_area": area,
                "_parcels": g,
            }
        )
    frame = (
        pd.DataFrame(rows)
        .sort_values(["registered_on", "cluster_id"], kind="stable")
        .reset_index(drop=True)
    )
    frame.insert(0, "project_id", [f"DA-{i + 1:04d}" for i in range(len(frame))])
    frame["name"] = distinct_names(
        frame, {c.cluster_id: c.name.removeprefix("CCN ") for c in clusters}
    )
    add_money_and_people(frame, rng)
    for pid, lease, g in zip(frame["project_id"], frame["_lease"], frame["_parcels"], strict=True):
        for n, i in enumerate(g):
            later = lease + dt.timedelta(days=int(rng.integers(0, 400))) if n else lease
            parcels[i] = replace(parcels[i], project_id=pid, leased_on=min(later, END))
    return frame.drop(columns=["_lease", "_area", "_parcels"])


def distinct_names(frame: pd.DataFrame, places: dict[str, str]) -> list[str]:
    """Tell repeated project names apart: a later phase in one cluster, the place elsewhere."""
    seen: dict[str, list[str]] = {}
    names = []
    for name, cluster_id in zip(frame["name"], frame["cluster_id"], strict=True):
        where = seen.setdefault(name, [])
        if not where:
            names.append(name)
        elif cluster_id in where:
            names.append(f"{name} (giai đoạn {where.count(cluster_id) + 1})")
        else:
            names.append(f"{name} {places[cluster_id]}")
        where.append(cluster_id)
    return names


def add_money_and_people(frame: pd.DataFrame, rng: np.random.Generator) -> None:
    """Add capital (billion VND, one decimal) and workers that sum to the published totals."""
    n = len(frame)
    capital_w = np.array([SECTORS[s][3] for s in frame["sector"]]) * frame["_area"].to_numpy()
    labour_w = np.array([SECTORS[s][4] for s in frame["sector"]]) * frame["_area"].to_numpy()
    status = frame["status"].to_numpy()
    registered = allocate(
        REGISTERED_BN * 10, capital_w * rng.lognormal(0, 0.4, n), np.full(n, 30), np.full(n, np.inf)
    )
    ratio = {
        "producing": (0.75, 1.0),
        "stopped": (0.4, 0.9),
        "under_construction": (0.1, 0.5),
        "not_started": (0, 0),
    }
    done = np.array([rng.uniform(*ratio[s]) for s in status])
    implemented = allocate(
        IMPLEMENTED_BN * 10,
        done * registered + 1e-9,
        np.zeros(n),
        np.where(status == "not_started", 0, registered),
    )
    reg_workers = allocate(
        REGISTERED_WORKERS, labour_w * rng.lognormal(0, 0.3, n), np.full(n, 10), np.full(n, np.inf)
    )
    staff = {
        "producing": (0.6, 1.0),
        "under_construction": (0.0, 0.15),
        "stopped": (0, 0),
        "not_started": (0, 0),
    }
    share = np.array([rng.uniform(*staff[s]) for s in status])
    workers = allocate(
        WORKERS,
        share * reg_workers + 1e-9,
        np.zeros(n),
        np.where(np.isin(status, ["producing", "under_construction"]), reg_workers, 0),
    )
    frame["registered_capital_bn_vnd"] = registered / 10
    frame["implemented_capital_bn_vnd"] = implemented / 10
    frame["registered_workers"] = reg_workers.astype(np.int32)
    frame["workers"] = workers.astype(np.int32)


def parcels_layer(parcels: list[Parcel], clusters: list[Cluster]) -> gpd.GeoDataFrame:
    """Build ``parcels`` (EPSG:9209), numbered per cluster in tiling order."""
    ordered = sorted(parcels, key=lambda p: (p.cluster, p.key))
    rows, counter = [], {}
    for p in ordered:
        c = clusters[p.cluster]
        counter[p.cluster] = counter.get(p.cluster, 0) + 1
        rows.append(
            (
                f"{c.cluster_id}-P{counter[p.cluster]:03d}",
                c.cluster_id,
                p.land_use,
                p.recovered,
                p.project_id,
                p.leased_on,
                as_multi(to_world(p.geom, c)),
            )
        )
    cols = [
        "parcel_id",
        "cluster_id",
        "land_use",
        "recovered",
        "project_id",
        "leased_on",
        "geometry",
    ]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry="geometry", crs=AREA_CRS)


# ---------------------------------------------------------- promotion_activities
def promotion_layer(
    cells_m: dict[str, Polygon], clusters: list[Cluster], rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Build ``promotion_activities`` (points, EPSG:4326) reproducing the programme totals."""
    to_geo = Transformer.from_crs(AREA_CRS, GEO_CRS, always_xy=True)
    funded = rng.choice(
        [c for c in clusters if c.detailed_on and 2013 <= c.detailed_on.year <= 2022],
        7,
        replace=False,
    )
    budget = {
        "sewing_training": (0.8, 1.5),
        "management_training": (1.0, 2.0),
        "demo_model": (300, 900),
        "machinery_support": (60, 200),
        "rural_product_programme": (150, 400),
        "cluster_detailed_plan": (300, 700),
    }
    rows = []
    for programme, (field, total, count) in PROMOTION.items():
        amounts = allocate(
            total, rng.lognormal(0, 0.4, count), np.ones(count), np.full(count, np.inf)
        )
        for j, amount in enumerate(amounts):
            cluster = funded[j] if programme == "cluster_detailed_plan" else None
            code = cluster.admin_code if cluster else str(rng.choice([d.code for d in DISTRICTS]))
            year = cluster.detailed_on.year if cluster else int(rng.integers(2013, 2023))
            if cluster:
                point = to_world(cluster.local.representative_point(), cluster)
            else:
                point = random_point(cells_m[code].buffer(-300), rng)
            scale = amount if field == "participants" or programme == "machinery_support" else 1
            rows.append(
                {
                    "year": year,
                    "programme": programme,
                    "admin_code": code,
                    "participants": int(amount) if field == "participants" else 0,
                    "facilities": int(amount) if field == "facilities" else 0,
                    "budget_mil_vnd": round(scale * rng.uniform(*budget[programme]), 1),
                    "cluster_id": cluster.cluster_id if cluster else None,
                    "geometry": Point(to_geo.transform(point.x, point.y)),
                }
            )
    frame = (
        pd.DataFrame(rows)
        .sort_values(["year", "programme", "admin_code"], kind="stable")
        .reset_index(drop=True)
    )
    seq = frame.groupby("year").cumcount() + 1
    frame.insert(
        0, "activity_id", [f"KC-{y}-{n:03d}" for y, n in zip(frame["year"], seq, strict=True)]
    )
    frame[["year", "participants", "facilities"]] = frame[
        ["year", "participants", "facilities"]
    ].astype(np.int32)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=GEO_CRS)


def random_point(area: Polygon, rng: np.random.Generator) -> Point:
    """Draw a uniform random point inside a polygon by rejection."""
    x0, y0, x1, y1 = area.bounds
    while True:
        point = Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        if area.contains(point):
            return point


# ------------------------------------------------------------------------ write
def write_gpkg(path: Path, layers: dict[str, pd.DataFrame]) -> None:
    """Write every layer to a fresh GeoPackage (DATE and boolean fields via Arrow)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    for name, frame in layers.items():
        geometry_type = None
        if isinstance(frame, gpd.GeoDataFrame):
            geometry_type = "Point" if name == "promotion_activities" else "MultiPolygon"
        pyogrio.write_dataframe(
            frame,
            path,
            layer=name,
            driver="GPKG",
            use_arrow=True,
            geometry_type=geometry_type,
            append=path.exists(),
            layer_options={"DESCRIPTION": f"ccn-gis synthetic sample data: {name}"},
        )


# ----------------------------------------------------------------------- verify
class Sample(NamedTuple):
    """The written layers, re-read, with the per-cluster unions of each stage (EPSG:9209)."""

    layers: dict[str, pd.DataFrame]
    clusters: gpd.GeoDataFrame  # indexed by cluster_id
    districts: gpd.GeoSeries  # indexed by code, EPSG:9209
    province: BaseGeometry
    established: gpd.GeoSeries
    detailed: gpd.GeoSeries
    operating: pd.Index
    first: pd.DataFrame  # first decision per cluster (rows) and stage (columns)


def read_sample(path: Path) -> Sample:
    """Re-read the GeoPackage and derive what the checks need."""
    layers = {
        name: pyogrio.read_dataframe(path, layer=name) for name, _ in pyogrio.list_layers(path)
    }
    admin = layers["admin_units"].to_crs(AREA_CRS)
    clusters = layers["clusters"].set_index("cluster_id")
    extents = layers["approved_extents"]
    unions = {
        stage: gpd.GeoSeries(
            group.groupby("cluster_id")["geometry"].agg(shapely.union_all), crs=AREA_CRS
        )
        for stage, group in extents.groupby("stage")
    }
    return Sample(
        layers=layers,
        clusters=clusters,
        districts=admin[admin["level"] == "district"].set_index("code")["geometry"],
        province=admin.loc[admin["code"] == "34", "geometry"].iloc[0],
        established=unions["establishment"],
        detailed=unions["detailed_plan"],
        operating=clusters.index[clusters["operating_since"].notna()],
        first=extents.groupby(["cluster_id", "stage"])["decided_on"].min().unstack(),
    )


def expect(ok: bool | np.bool_, message: str) -> list[str]:
    """Return ``[message]`` when a check failed, else an empty list."""
    return [] if ok else [message]


def check_layers(s: Sample) -> list[str]:
    """CRS and validity of every layer, and the settings table."""
    fails = []
    for name, frame in s.layers.items():
        if isinstance(frame, gpd.GeoDataFrame):
            crs = GEO_CRS if name in ("admin_units", "promotion_activities") else AREA_CRS
            fails += expect(str(frame.crs) == crs, f"{name}: CRS {frame.crs}, expected {crs}")
            fails += expect(
                shapely.is_valid(frame.geometry.values).all(), f"{name}: invalid geometry"
            )
    settings = s.layers["ccn_settings"].set_index("key")["value"]
    return fails + expect(settings["plan_total_ha"] == f"{PLAN_HA:.2f}", "ccn_settings")


def check_clusters(s: Sample) -> list[str]:
    """Stage counts and areas, sizes, placement, and the order of the decisions."""
    figures = {
        "planned": (len(s.clusters), s.clusters.area.sum() / HA, PLAN_HA, N_PLANNED),
        "established": (
            len(s.established),
            s.established.area.sum() / HA,
            ESTABLISHED_HA,
            N_ESTABLISHED,
        ),
        "detailed_plan": (len(s.detailed), s.detailed.area.sum() / HA, DETAILED_HA, N_DETAILED),
    }
    fails = [
        f"{key}: {n} clusters, {ha:.4f} ha"
        for key, (n, ha, want_ha, want_n) in figures.items()
        if n != want_n or abs(ha - want_ha) >= 0.005
    ]
    fails += expect(len(s.operating) == N_OPERATING, f"{len(s.operating)} operating clusters")
    nested = set(s.operating) <= set(s.detailed.index) <= set(s.established.index)
    fails += expect(nested, "operating ⊂ detailed_plan ⊂ established does not hold")
    plan_ha = s.clusters.area / HA
    smallest = np.where(s.clusters["kind"] == "craft_village", 5, 10)
    odd = s.clusters.index[(plan_ha < smallest) | (plan_ha > 75)]
    fails += expect(odd.empty, f"cluster sizes out of range: {list(odd)}")
    for cid, geom in s.clusters.geometry.items():
        inside = geom.within(s.districts[s.clusters.at[cid, "admin_code"]]) and geom.within(
            s.province
        )
        fails += expect(inside, f"{cid}: outside its district or the province")
        gap = s.clusters.geometry.drop(cid).distance(geom).min()
        fails += expect(gap >= 300, f"{cid}: {gap:.0f} m from another cluster")
    for cid, geom in s.established.items():
        fails += expect(
            geom.within(s.clusters.geometry[cid].buffer(0.05)), f"{cid}: established outside plan"
        )
    for cid, geom in s.detailed.items():
        fails += expect(
            geom.within(s.established[cid].buffer(0.05)),
            f"{cid}: detailed plan outside established",
        )
    lag = (s.first["detailed_plan"] - s.first["establishment"]).dt.days.dropna()
    fails += expect(
        lag.between(365, 3 * 366).all(), "detailed plan not 1–3 years after establishment"
    )
    since = s.clusters.loc[s.operating, "operating_since"]
    return fails + expect(
        (since > s.first.loc[s.operating, "detailed_plan"]).all(), "operating too early"
    )


def check_parcels(s: Sample) -> list[str]:
    """Parcels inside their detailed plan and cluster, no overlaps, and both occupancy rates."""
    parcels = s.layers["parcels"]
    fails = []
    for cid, group in parcels.groupby("cluster_id"):
        geoms = group.geometry
        fails += expect(
            geoms.within(s.detailed[cid].buffer(0.05)).all(), f"{cid}: parcel outside detailed plan"
        )
        fails += expect(
            geoms.within(s.clusters.geometry[cid].buffer(0.05)).all(),
            f"{cid}: parcel outside cluster",
        )
        left, right = geoms.sindex.query(geoms, predicate="intersects")
        pairs = left < right
        overlap = shapely.area(
            shapely.intersection(geoms.values[left[pairs]], geoms.values[right[pairs]])
        )
        fails += expect(overlap.max(initial=0) < 1e-4, f"{cid}: parcels overlap")
        services = geoms[group["land_use"] == "services"].area.sum()
        fails += expect(
            services <= 0.1 * s.clusters.geometry[cid].area, f"{cid}: services above 10 %"
        )
    rates = occupancy(parcels)
    fails += expect(round(rates[0], 3) == OCCUPANCY, f"occupancy {rates[0]:.5f}")
    fails += expect(
        round(rates[1], 3) == OCCUPANCY_RECOVERED, f"occupancy_recovered {rates[1]:.5f}"
    )
    leased_recovered = parcels.loc[parcels["project_id"].notna(), "recovered"].all()
    return fails + expect(leased_recovered, "a leased parcel is not recovered")


def occupancy(parcels: gpd.GeoDataFrame) -> tuple[float, float]:
    """Occupancy of industrial land, and of recovered industrial land."""
    ind = parcels[parcels["land_use"] == "industrial"]
    area, leased, recovered = ind.area, ind["project_id"].notna(), ind["recovered"]
    return area[leased].sum() / area.sum(), area[leased & recovered].sum() / area[recovered].sum()


def check_projects(s: Sample) -> list[str]:
    """Project counts and sums, and their consistency with clusters and leases."""
    proj = s.layers["projects"].set_index("project_id")
    parcels = s.layers["parcels"]
    leased = parcels[parcels["project_id"].notna()]
    fails = expect(proj.index.is_unique, "duplicate project ids")
    fails += expect(proj["status"].value_counts().to_dict() == STATUS_COUNTS, "status counts")
    sums = proj[list(PUBLISHED_SUMS)].sum().round(6)
    fails += expect(sums.to_dict() == PUBLISHED_SUMS, f"capital/worker sums {sums.to_dict()}")
    fails += expect(
        set(proj["cluster_id"]) <= set(s.detailed.index), "project outside a detailed plan"
    )
    late = proj["status"].isin(["producing", "stopped"]) & ~proj["cluster_id"].isin(s.operating)
    fails += expect(not late.any(), "producing/stopped project outside operating clusters")
    idle = proj.loc[proj["status"] == "not_started", ["implemented_capital_bn_vnd", "workers"]]
    fails += expect(not idle.to_numpy().any(), "not_started project with capital or workers")
    by = leased.groupby("project_id").agg(
        cluster_id=("cluster_id", "first"), n=("cluster_id", "nunique"), first=("leased_on", "min")
    )
    fails += expect(
        set(by.index) == set(proj.index), "project without parcels, or unknown project id"
    )
    same = (by["n"] == 1) & (by["cluster_id"] == proj.loc[by.index, "cluster_id"])
    fails += expect(same.all(), "parcel leased by a project of another cluster")
    fails += expect(
        (proj.loc[by.index, "registered_on"] <= by["first"]).all(), "registered after lease"
    )
    est_on = s.first.loc[proj["cluster_id"], "establishment"].to_numpy()
    fails += expect((proj["registered_on"] >= est_on).all(), "registered before establishment")
    det_on = s.first.loc[leased["cluster_id"], "detailed_plan"].to_numpy()
    ok = (leased["leased_on"] >= det_on) & (leased["leased_on"] <= pd.Timestamp(END))
    return fails + expect(ok.all(), "lease before the detailed plan or after 2024")


PUBLISHED_SUMS = {
    "registered_capital_bn_vnd": REGISTERED_BN,
    "implemented_capital_bn_vnd": IMPLEMENTED_BN,
    "registered_workers": REGISTERED_WORKERS,
    "workers": WORKERS,
}


def check_promotion(s: Sample) -> list[str]:
    """Programme totals, years, and points inside their district."""
    promo = s.layers["promotion_activities"]
    totals = promo.groupby("programme")[["participants", "facilities"]].sum()
    fails = [
        f"promotion {p}: {totals.loc[p, field]} {field}"
        for p, (field, total, _) in PROMOTION.items()
        if totals.loc[p, field] != total
    ]
    points = promo.to_crs(AREA_CRS).geometry
    inside = [
        pt.within(s.districts[code]) for pt, code in zip(points, promo["admin_code"], strict=True)
    ]
    fails += expect(all(inside), "promotion point outside its district")
    return fails + expect(
        promo["year"].between(2013, 2022).all(), "promotion year outside 2013–2022"
    )


def print_summary(path: Path, s: Sample) -> None:
    """Print the province-level figures computed from the written file."""
    parcels, proj = s.layers["parcels"], s.layers["projects"]
    ind = parcels[parcels["land_use"] == "industrial"]
    rates = occupancy(parcels)
    sums = proj[list(PUBLISHED_SUMS)].sum()
    print(path)
    areas = {
        "planned": s.clusters.area,
        "established": s.established.area,
        "detailed_plan": s.detailed.area,
        "operating": s.established.reindex(s.operating).area,
    }
    for key, area in areas.items():
        print(f"  {key:<14} {len(area):>3} clusters {area.sum() / HA:>10.2f} ha")
    leased_ha = ind[ind["project_id"].notna()].area.sum() / HA
    recovered_ha = ind[ind["recovered"]].area.sum() / HA
    print(
        f"  industrial_ha {ind.area.sum() / HA:.2f}  leased_ha {leased_ha:.2f}"
        f"  recovered_industrial_ha {recovered_ha:.2f}"
    )
    print(f"  occupancy {rates[0]:.4f}  occupancy_recovered {rates[1]:.4f}")
    print(f"  parcels {len(parcels)} ({parcels['project_id'].notna().sum()} leased)")
    print(f"  projects {len(proj)} {proj['status'].value_counts().to_dict()}")
    print(
        f"  capital {sums.iloc[0]:.1f} registered, {sums.iloc[1]:.1f} implemented bn VND"
        f" (realisation {sums.iloc[1] / sums.iloc[0]:.3f})"
    )
    print(f"  workers {sums.iloc[2]:.0f} registered, {sums.iloc[3]:.0f} employed")
    promo = s.layers["promotion_activities"]
    for programme, (field, _, _) in PROMOTION.items():
        rows = promo[promo["programme"] == programme]
        print(f"  promotion {programme:<24} {len(rows):>3} activities  {field} {rows[field].sum()}")


def verify(path: Path) -> list[str]:
    """Re-read the GeoPackage, print the summary and return the failed checks."""
    sample = read_sample(path)
    print_summary(path, sample)
    checks = (check_layers, check_clusters, check_parcels, check_projects, check_promotion)
    return [fail for check in checks for fail in check(sample)]


# ------------------------------------------------------------------------- main
def find_region() -> Path:
    """Locate ``thai_binh_region.geojson`` (the real province outlines)."""
    for candidate in REGION_CANDIDATES:
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"thai_binh_region.geojson not found in {[str(c) for c in REGION_CANDIDATES]}"
    )


def build(region: Path) -> dict[str, pd.DataFrame]:
    """Generate every layer of the sample, keyed by GeoPackage layer name."""
    rng = np.random.default_rng(SEED)
    thai_binh, hung_yen = load_outlines(region)
    cells_m = district_cells(gpd.GeoSeries([thai_binh], crs=GEO_CRS).to_crs(AREA_CRS).iloc[0])
    clusters = draft_clusters(rng)
    place_clusters(clusters, cells_m, rng)
    extent_areas(clusters, rng)
    extent_dates(clusters, rng)
    parcels = [
        p for k, c in enumerate(clusters) if c.detailed_on for p in cluster_parcels(k, c, rng)
    ]
    leased = lease_and_recover(parcels, clusters, rng)
    projects = projects_table(group_projects(leased, parcels, rng), parcels, clusters, rng)
    cluster_gdf = clusters_layer(clusters, rng)
    extents = extents_layer(clusters, rng)
    promotion = promotion_layer(cells_m, clusters, rng)
    settings = pd.DataFrame(
        {
            "key": ["province_name", "province_code", "area_crs", "plan_total_ha", "lang"],
            "value": ["Thái Bình", "34", AREA_CRS, f"{PLAN_HA:.2f}", "vi"],
        }
    )
    return {
        "admin_units": admin_units_layer(thai_binh, hung_yen, cells_m),
        "clusters": cluster_gdf,
        "approved_extents": extents,
        "parcels": parcels_layer(parcels, clusters),
        "projects": projects,
        "promotion_activities": promotion,
        "ccn_settings": settings,
    }


def main(argv: list[str] | None = None) -> int:
    """Generate, write and verify the sample GeoPackage; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default="layers/thai_binh.gpkg", help="output path, relative to the repo root"
    )
    parser.add_argument("--region", type=Path, default=None, help="thai_binh_region.geojson")
    args = parser.parse_args(argv)
    out = REPO_ROOT / args.out
    write_gpkg(out, build(args.region or find_region()))
    fails = verify(out)
    for fail in fails:
        print(f"FAILED: {fail}", file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
