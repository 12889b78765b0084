"""Generate the synthetic land use of Thái Bình: a class raster and the 2030 plan layer.

Writes ``layers/thai_binh_landuse.tif`` (one band of uint8 classes, EPSG:9209, 20 m cells),
its class table ``layers/thai_binh_landuse.classes.csv`` and the ``landuse_plan`` layer of
``layers/thai_binh.gpkg``; the other layers of the GeoPackage are left as they are.

Only the province outline is real (Natural Earth 1:10m). The big rivers follow its real
edges, the Trà Lý and Diêm Hộ run roughly where they do, and roads join the real district
seats; every field, village, pond, cemetery and industrial park is invented. Clusters are
read from the sample GeoPackage, so run ``scripts/make_sample.py`` first: clusters with an
establishment decision up to 2024-12-31 are industrial-cluster land (SKN) on the union of
their establishment extents; the land of planned-only clusters stays rice.

The generator is deterministic (``numpy.random.default_rng(2030)``). After writing, it reads
the outputs back, prints the class table and exits non-zero if a check fails.

Run ``python scripts/make_landuse.py [--gpkg layers/thai_binh.gpkg]``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio import features
from rasterio.crs import CRS
from rasterio.io import MemoryFile
from rasterio.shutil import copy as copy_raster
from shapely import affinity, ops
from shapely.geometry import LineString, Point, Polygon, box, shape
from shapely.geometry.base import BaseGeometry

REPO_ROOT = Path(__file__).resolve().parent.parent
REGION = REPO_ROOT / "layers" / "source" / "thai_binh_region.geojson"
SEED = 2030
AREA_CRS = "EPSG:9209"
GEO_CRS = "EPSG:4326"
HA = 10_000.0
CELL = 20.0  # metres; the grid is aligned to multiples of 100 m
PLAN_FACTOR = 5  # the plan layer is generalised to 5 x 20 m = 100 m cells
MARGIN = 500.0  # metres of nodata around the province's bounding box
AS_OF = dt.date(2024, 12, 31)  # clusters established by then are SKN on the raster
SKN_SHARE = 0.3  # a cell is SKN when established extents cover this much of it
PLAN_LAYER = "landuse_plan"
MAX_RASTER_BYTES = 10_000_000
MAX_PLAN_BYTES = 3_000_000


@dataclass(frozen=True)
class LandUse:
    """A land-use class: raster value, code (Thông tư 08/2024/TT-BTNMT), names, colour."""

    value: int
    code: str
    name_vi: str
    name_en: str
    colour: str  # #rrggbb

    @property
    def rgb(self) -> tuple[int, int, int]:
        """The colour as an (r, g, b) triple."""
        c = self.colour
        return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


CLASSES = tuple(
    LandUse(*row)
    for row in (
        (1, "LUC", "Đất chuyên trồng lúa", "Specialised rice land (two or more rice crops)",
         "#ffff64"),
        (2, "LUK", "Đất trồng lúa còn lại", "Other rice land", "#ebe19b"),
        (3, "BHK", "Đất bằng trồng cây hàng năm khác", "Other annual crops on flat land",
         "#ffc878"),
        (4, "CLN", "Đất trồng cây lâu năm", "Perennial crops and gardens", "#b4d26e"),
        (5, "RPH", "Đất rừng phòng hộ", "Protection forest (coastal mangroves)", "#378c3c"),
        (6, "NTS", "Đất nuôi trồng thủy sản", "Aquaculture", "#8cd2f0"),
        (7, "ONT", "Đất ở tại nông thôn", "Rural residential land", "#ffb4d2"),
        (8, "ODT", "Đất ở tại đô thị", "Urban residential land", "#e6467d"),
        (9, "SKK", "Đất khu công nghiệp", "Industrial park", "#7832b4"),
        (10, "SKN", "Đất cụm công nghiệp", "Industrial cluster", "#b482e6"),
        (11, "DGT", "Đất công trình giao thông", "Transport (roads)", "#f08c28"),
        (12, "DTL", "Đất công trình thủy lợi", "Irrigation (canals)", "#1eaab4"),
        (13, "NTD", "Đất nghĩa trang, nhà tang lễ, cơ sở hỏa táng; đất cơ sở lưu trữ tro cốt",
         "Cemeteries", "#5a5a5a"),
        (14, "SON", "Đất sông, ngòi, kênh, rạch, suối", "Rivers, streams and channels", "#3c82dc"),
    )
)  # fmt: skip
V = {c.code: c.value for c in CLASSES}  # code -> raster value
RICE = (V["LUC"], V["LUK"])
PLANNED_LAND = (V["LUC"], V["LUK"], V["ONT"])  # what cluster land may be before it is SKN

# District seats (lon, lat), the schematic Voronoi seeds of make_sample.py.
SEATS = {
    "336": (106.34, 20.45), "338": (106.38, 20.64), "339": (106.22, 20.59),
    "340": (106.35, 20.55), "341": (106.52, 20.57), "342": (106.53, 20.40),
    "343": (106.42, 20.40), "344": (106.27, 20.43),
}  # fmt: skip
CITY = "336"
# Rivers on the province's edge: from, to, a point the section passes near (lon, lat), and
# the width of water inside the province (the boundary runs down the middle of the river).
EDGE_RIVERS = {
    "Sông Hồng": ((106.112, 20.632), (106.582, 20.264), (106.17, 20.53), 220.0),
    "Sông Luộc": ((106.112, 20.632), (106.417, 20.719), (106.21, 20.668), 130.0),
    "Sông Hóa": ((106.417, 20.719), (106.594, 20.647), (106.46, 20.61), 150.0),
}
# Rivers across the province: waypoints (lon, lat), width and meander amplitude (m).
# The Diêm Hộ leaves the Trà Lý at its first point.
INNER_RIVERS = {
    "Sông Trà Lý": (
        ((106.200, 20.482), (106.26, 20.472), (106.31, 20.468), (106.345, 20.464),
         (106.40, 20.470), (106.46, 20.468), (106.50, 20.463), (106.556, 20.462)),
        200.0, 250.0,
    ),
    "Sông Diêm Hộ": (
        ((106.30, 20.468), (106.32, 20.52), (106.37, 20.553), (106.43, 20.563),
         (106.48, 20.553), (106.515, 20.548), (106.55, 20.545)),
        80.0, 150.0,
    ),
}  # fmt: skip
# Roads between district seats (width m), and roads leaving the province to a bridge.
ROADS = (
    ("344", "336", 36.0), ("336", "340", 36.0), ("340", "338", 36.0), ("339", "340", 36.0),
    ("340", "341", 36.0), ("336", "343", 26.0), ("343", "342", 26.0), ("341", "342", 26.0),
    ("339", "338", 26.0), ("339", "344", 26.0), ("338", "341", 26.0), ("336", "342", 26.0),
)  # fmt: skip
ROAD_EXITS = (("344", (106.215, 20.405), 36.0), ("339", (106.12, 20.665), 26.0),
              ("338", (106.44, 20.70), 36.0))  # fmt: skip
# Invented industrial parks (SKK): near (lon, lat), area in ha.
PARKS = (((106.505, 20.418), 350.0), ((106.375, 20.488), 250.0), ((106.445, 20.655), 300.0))
CANAL_SPACING, CANAL_ANGLE = 2_000.0, 32.0  # metres, degrees anticlockwise from east


class Grid(NamedTuple):
    """A north-up raster grid: top-left corner, size in cells and cell size (m)."""

    west: float
    north: float
    width: int
    height: int
    cell: float

    @property
    def transform(self) -> Affine:
        """The affine transform of the grid."""
        return Affine(self.cell, 0.0, self.west, 0.0, -self.cell, self.north)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return self.height, self.width

    def coarsen(self, factor: int) -> Grid:
        """The grid of ``factor`` x ``factor`` blocks (the size must divide evenly)."""
        return Grid(
            self.west, self.north, self.width // factor, self.height // factor, self.cell * factor
        )

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y of every cell centre, each of shape ``(rows, columns)``."""
        xs = self.west + (np.arange(self.width) + 0.5) * self.cell
        ys = self.north - (np.arange(self.height) + 0.5) * self.cell
        return np.meshgrid(xs, ys)


class Inputs(NamedTuple):
    """What the generator reads: the province, its clusters and their establishment."""

    province: Polygon  # EPSG:9209
    neighbours: BaseGeometry  # union of the neighbouring provinces, EPSG:9209
    clusters: gpd.GeoDataFrame  # plan geometry per cluster_id, EPSG:9209
    established: gpd.GeoSeries  # union of establishment extents decided by AS_OF, by cluster


class Features(NamedTuple):
    """The vector features painted onto the raster, EPSG:9209."""

    edge_rivers: dict[str, BaseGeometry]
    inner_rivers: dict[str, BaseGeometry]
    parks: list[Polygon]
    roads: list[BaseGeometry]  # polygons (buffered roads)
    farm_roads: list[LineString]
    canals: list[LineString]
    coast: BaseGeometry


# ------------------------------------------------------------------------ inputs
@cache
def _to_metres() -> Transformer:
    return Transformer.from_crs(GEO_CRS, AREA_CRS, always_xy=True)


def metres(lon: float, lat: float) -> Point:
    """Return a (lon, lat) position as a point in EPSG:9209."""
    return Point(_to_metres().transform(lon, lat))


def read_inputs(region: Path, gpkg: Path) -> Inputs:
    """Read the province outline, its neighbours and the clusters of the sample GeoPackage."""
    region_gdf = gpd.read_file(region).to_crs(AREA_CRS)
    target = region_gdf["role"] == "target"
    clusters = pyogrio.read_dataframe(gpkg, layer="clusters").to_crs(AREA_CRS)
    extents = pyogrio.read_dataframe(gpkg, layer="approved_extents").to_crs(AREA_CRS)
    decided = pd.to_datetime(extents["decided_on"]).dt.date
    est = extents[(extents["stage"] == "establishment") & (decided <= AS_OF)]
    established = gpd.GeoSeries(
        est.groupby("cluster_id")["geometry"].agg(shapely.union_all), crs=AREA_CRS
    )
    return Inputs(
        province=region_gdf.loc[target, "geometry"].iloc[0],
        neighbours=shapely.union_all(region_gdf.loc[~target, "geometry"].values),
        clusters=clusters.set_index("cluster_id")[["geometry"]],
        established=established,
    )


def make_grid(province: Polygon) -> Grid:
    """The 20 m grid over the province's bounding box plus a margin, snapped to 100 m."""
    step = CELL * PLAN_FACTOR
    x0, y0, x1, y1 = province.bounds
    west, south = np.floor((x0 - MARGIN) / step) * step, np.floor((y0 - MARGIN) / step) * step
    east, north = np.ceil((x1 + MARGIN) / step) * step, np.ceil((y1 + MARGIN) / step) * step
    return Grid(
        float(west), float(north), round((east - west) / CELL), round((north - south) / CELL), CELL
    )


# ---------------------------------------------------------------- raster helpers
def gaussian_blur(array: np.ndarray, sigma: float) -> np.ndarray:
    """Blur an array with a Gaussian of ``sigma`` cells (FFT, wrapping at the edges).

    Parameters
    ----------
    array : numpy.ndarray
        2-D array of numbers.
    sigma : float
        Standard deviation of the kernel, in cells.

    Returns
    -------
    numpy.ndarray
        float64 array of the same shape.
    """
    fy = np.fft.fftfreq(array.shape[0])[:, None]
    fx = np.fft.rfftfreq(array.shape[1])[None, :]
    kernel = np.exp(-2.0 * (np.pi * sigma) ** 2 * (fx**2 + fy**2))
    return np.fft.irfft2(np.fft.rfft2(array) * kernel, s=array.shape)


def noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Smooth random field with zero mean and unit standard deviation.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the white noise.
    shape : tuple of int
        (rows, columns).
    sigma : float
        Correlation length in cells: patches are a few ``sigma`` across.

    Returns
    -------
    numpy.ndarray
        float64 array of ``shape``.
    """
    field = gaussian_blur(rng.standard_normal(shape), sigma)
    return (field - field.mean()) / field.std()


def burn(geoms: list[BaseGeometry], grid: Grid, *, all_touched: bool = False) -> np.ndarray:
    """Boolean mask of the cells whose centre is in the geometries (or that they touch)."""
    shapes = [(g, 1) for g in geoms if g is not None and not g.is_empty]
    if not shapes:
        return np.zeros(grid.shape, dtype=bool)
    burnt = features.rasterize(
        shapes,
        out_shape=grid.shape,
        transform=grid.transform,
        fill=0,
        all_touched=all_touched,
        dtype="uint8",
    )
    return burnt.astype(bool)


def burn_covered(geoms: list[BaseGeometry], grid: Grid, *, at_least: float) -> np.ndarray:
    """Boolean mask of the cells that the geometries cover at least a share of (exact overlap).

    Cells the outlines cross are weighed one by one; the others are all in or all out.
    With ``at_least=0.5`` the burnt area matches the polygons' area closely; lower shares
    burn a little more, so that less of the polygons is left on unburnt cells.
    """
    union = shapely.union_all(geoms)
    touched = burn([union], grid, all_touched=True)
    edge = burn([union.boundary], grid, all_touched=True)
    out = touched & ~edge
    rows, cols = np.nonzero(edge)
    x0, y1 = grid.west + cols * grid.cell, grid.north - rows * grid.cell
    cells = shapely.box(x0, y1 - grid.cell, x0 + grid.cell, y1)
    shapely.prepare(union)
    share = shapely.area(shapely.intersection(cells, union)) / grid.cell**2
    out[rows[share >= at_least], cols[share >= at_least]] = True
    return out


def upsample(array: np.ndarray, factor: int) -> np.ndarray:
    """Bilinear upsampling of a block grid to its cells (centres aligned, edges clamped)."""
    rows, cols = array.shape
    fx = (np.arange(cols * factor) + 0.5) / factor - 0.5
    fy = (np.arange(rows * factor) + 0.5) / factor - 0.5
    across = np.array([np.interp(fx, np.arange(cols), row) for row in array])
    return np.array([np.interp(fy, np.arange(rows), col) for col in across.T]).T


def distance_to(geom: BaseGeometry, grid: Grid, *, factor: int = PLAN_FACTOR) -> np.ndarray:
    """Distance (m) from every cell to ``geom``, exact on 100 m blocks, interpolated between."""
    coarse = grid.coarsen(factor)
    xs, ys = coarse.centres()
    dist = shapely.distance(shapely.points(xs.ravel(), ys.ravel()), geom)
    return upsample(dist.reshape(coarse.shape), factor).astype("float32")


def mode_blocks(array: np.ndarray, factor: int, values: list[int]) -> np.ndarray:
    """Most common of ``values`` in every ``factor`` x ``factor`` block (0 if none of them).

    Ties go to the value listed first.
    """
    rows, cols = array.shape[0] // factor, array.shape[1] // factor
    blocks = array[: rows * factor, : cols * factor].reshape(rows, factor, cols, factor)
    counts = np.stack([(blocks == v).sum(axis=(1, 3)) for v in values])
    best = np.asarray(values, dtype="uint8")[counts.argmax(axis=0)]
    return np.where(counts.max(axis=0) > 0, best, 0).astype("uint8")


def grow(mask: np.ndarray) -> np.ndarray:
    """A boolean mask grown by one cell in all 8 directions."""
    padded = np.pad(mask, 1)
    rows, cols = mask.shape
    return np.logical_or.reduce(
        [
            padded[1 + dy : 1 + dy + rows, 1 + dx : 1 + dx + cols]
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
        ]
    )


def fill_edge(array: np.ndarray, n_values: int) -> np.ndarray:
    """Give zero cells next to non-zero ones the most common value among their 8 neighbours."""
    padded = np.pad(array, 1)
    rows, cols = array.shape
    shifted = [
        padded[1 + dy : 1 + dy + rows, 1 + dx : 1 + dx + cols]
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
        if dy or dx
    ]
    counts = np.stack([sum((s == v).astype(int) for s in shifted) for v in range(1, n_values + 1)])
    best = (counts.argmax(axis=0) + 1).astype(array.dtype)
    return np.where((array == 0) & (counts.max(axis=0) > 0), best, array)


# ---------------------------------------------------------------- line helpers
def chaikin(line: LineString, iterations: int) -> LineString:
    """Smooth a line by corner cutting; the end points stay where they are."""
    pts = np.asarray(line.coords)[:, :2]
    for _ in range(iterations):
        cut = np.empty((2 * (len(pts) - 1), 2))
        cut[0::2] = 0.75 * pts[:-1] + 0.25 * pts[1:]
        cut[1::2] = 0.25 * pts[:-1] + 0.75 * pts[1:]
        pts = np.vstack([pts[:1], cut, pts[-1:]])
    return LineString(pts)


def wiggle(
    points: list[Point], rng: np.random.Generator, *, amplitude: float, wavelength: float
) -> LineString:
    """A smooth meandering line through ``points``: sideways sine waves, still at the ends.

    Parameters
    ----------
    points : list of shapely.Point
        Waypoints in EPSG:9209.
    rng : numpy.random.Generator
        Draws the wavelengths and phases.
    amplitude, wavelength : float
        Typical sideways offset and along-line wavelength, in metres.
    """
    line = LineString(points)
    along = np.append(np.arange(0.0, line.length, 50.0), line.length)
    pts = shapely.get_coordinates(shapely.line_interpolate_point(line, along))
    tangent = np.gradient(pts, axis=0)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    offset = np.zeros_like(along)
    for weight in (0.6, 0.3, 0.1):
        length = wavelength * rng.uniform(0.6, 1.6) * (1.0 + 2.0 * weight)
        offset += weight * np.sin(2 * np.pi * along / length + rng.uniform(0, 2 * np.pi))
    taper = np.sin(np.pi * along / line.length) ** 0.5
    pts += normal * (amplitude * offset * taper)[:, None]
    return chaikin(LineString(pts), 2)


def ring_arc(ring: LineString, start: float, end: float) -> LineString:
    """The part of a closed ring from distance ``start`` forward to ``end``, wrapping round."""
    if start <= end:
        return ops.substring(ring, start, end)
    head, tail = ops.substring(ring, start, ring.length), ops.substring(ring, 0.0, end)
    return LineString(list(head.coords) + list(tail.coords)[1:])


def boundary_section(ring: LineString, start: Point, end: Point, via: Point) -> LineString:
    """The part of a closed ring between two points that passes nearest ``via``.

    ``start`` and ``end`` are first moved to their nearest points on the ring.
    """
    a, b = ring.project(start), ring.project(end)
    forward, backward = ring_arc(ring, a, b), ring_arc(ring, b, a)
    return forward if forward.distance(via) <= backward.distance(via) else backward


def obstacles(geoms: list[BaseGeometry], clearance: float) -> list[Polygon]:
    """Hulls of the geometries grown by ``clearance``, merged where they touch, without holes."""
    hulls = shapely.buffer(shapely.convex_hull(np.asarray(geoms, dtype=object)), clearance)
    return [Polygon(p.exterior) for p in shapely.get_parts(shapely.union_all(hulls))]


def detour(line: LineString, blocks: list[Polygon]) -> LineString:
    """Route a line around obstacles along the shorter side of their outline.

    An obstacle that holds an end of the line is left alone (the caller checks clearances).
    """
    for _ in range(3):
        moved = False
        for block in blocks:
            if (
                not line.intersects(block)
                or block.contains(Point(line.coords[0]))
                or block.contains(Point(line.coords[-1]))
            ):
                continue
            ring = LineString(block.exterior.coords)
            hits = shapely.get_coordinates(line.intersection(ring))
            along = sorted(line.project(Point(xy)) for xy in hits)
            if len(along) < 2 or along[-1] - along[0] < 1e-6:
                continue
            a, b = along[0], along[-1]
            ra, rb = ring.project(line.interpolate(a)), ring.project(line.interpolate(b))
            forward = ring_arc(ring, ra, rb)
            backward = ring_arc(ring, rb, ra).reverse()
            arc = forward if forward.length <= backward.length else backward
            coords = (
                list(ops.substring(line, 0.0, a).coords)
                + list(arc.coords)
                + list(ops.substring(line, b, line.length).coords)
            )
            line = LineString(coords)
            moved = True
        if not moved:
            break
    return line


# ------------------------------------------------------------ vector features
def edge_rivers(inputs: Inputs) -> dict[str, BaseGeometry]:
    """Rivers on the province edge: a strip of water inside the boundary, clear of clusters."""
    ring = LineString(inputs.province.exterior.coords)
    keep_clear = shapely.union_all(inputs.clusters.geometry.buffer(40.0).values)
    rivers = {}
    for name, (start, end, via, width) in EDGE_RIVERS.items():
        section = boundary_section(ring, metres(*start), metres(*end), metres(*via))
        rivers[name] = section.buffer(width).intersection(inputs.province).difference(keep_clear)
    return rivers


def inner_rivers(inputs: Inputs, rng: np.random.Generator) -> dict[str, BaseGeometry]:
    """The Trà Lý and the Diêm Hộ: meandering, routed around clusters, clipped to the province."""
    rivers: dict[str, BaseGeometry] = {}
    centre_lines: list[LineString] = []
    for name, (waypoints, width, amplitude) in INNER_RIVERS.items():
        points = [metres(*p) for p in waypoints]
        if centre_lines:  # a branch starts on the river before it
            points[0] = centre_lines[0].interpolate(centre_lines[0].project(points[0]))
        line = wiggle(points, rng, amplitude=amplitude, wavelength=3_000.0)
        blocks = obstacles(list(inputs.clusters.geometry), width / 2 + 150.0)
        line = chaikin(detour(line, blocks), 3).simplify(1.0)
        centre_lines.append(line)
        rivers[name] = line.buffer(width / 2).intersection(inputs.province)
    return rivers


def coastline(inputs: Inputs) -> BaseGeometry:
    """The province's boundary that no neighbour shares: the sea coast and the river mouth."""
    ring = LineString(inputs.province.exterior.coords)
    return ring.difference(inputs.neighbours.buffer(200.0))


def place_parks(
    inputs: Inputs, rivers: list[BaseGeometry], rng: np.random.Generator
) -> list[Polygon]:
    """Put the invented industrial parks near their target points, clear of everything else.

    Candidates are tried on a 250 m lattice, nearest first; a park must lie 300 m inside
    the province, 400 m from every cluster, 100 m from rivers and 800 m from district seats.
    """
    room = inputs.province.buffer(-300.0)
    clusters = shapely.union_all(inputs.clusters.geometry.values)
    water = shapely.union_all(rivers).buffer(100.0)
    seats = shapely.MultiPoint([metres(*p) for p in SEATS.values()])
    steps = np.arange(-24, 25) * 250.0
    offsets = sorted(
        ((dx, dy) for dx in steps for dy in steps),
        key=lambda o: (round(np.hypot(*o)), np.arctan2(o[1], o[0])),
    )
    parks: list[Polygon] = []
    for (lon, lat), area_ha in PARKS:
        centre, angle = metres(lon, lat), rng.uniform(-40.0, 40.0)
        width = np.sqrt(area_ha * HA * 1.4)
        footprint = affinity.rotate(
            box(-width / 2, -width / 2.8, width / 2, width / 2.8), angle, origin=(0, 0)
        )
        for dx, dy in offsets:
            park = affinity.translate(footprint, centre.x + dx, centre.y + dy)
            if (
                park.within(room)
                and park.distance(clusters) >= 400.0
                and not park.intersects(water)
                and park.distance(seats) >= 800.0
                and all(park.distance(p) >= 1_000.0 for p in parks)
            ):
                parks.append(park)
                break
        else:
            raise RuntimeError(f"no room for the industrial park near ({lon}, {lat})")
    return parks


def road_network(
    inputs: Inputs, parks: list[Polygon], rng: np.random.Generator
) -> list[BaseGeometry]:
    """Roads between the district seats and out to the bridges, routed around clusters/parks."""
    blocks = obstacles([*inputs.clusters.geometry, *parks], 60.0)
    seat = {code: metres(*p) for code, p in SEATS.items()}
    legs = [(seat[a], seat[b], w) for a, b, w in ROADS]
    legs += [(seat[a], metres(*p), w) for a, p, w in ROAD_EXITS]
    roads = []
    for start, end, width in legs:
        line = LineString([start, end])
        length = line.length
        normal = np.array([start.y - end.y, end.x - start.x]) / length
        bends = [line.interpolate(f, normalized=True) for f in (0.25, 0.5, 0.75)]
        shift = rng.normal(0.0, 0.03 * length, 3).clip(-0.06 * length, 0.06 * length)
        bent = [
            Point(p.x + s * normal[0], p.y + s * normal[1])
            for p, s in zip(bends, shift, strict=True)
        ]
        line = chaikin(LineString([start, *bent, end]), 3)
        line = chaikin(detour(line, blocks), 1).simplify(1.0)
        roads.append(line.buffer(width / 2, cap_style="flat").intersection(inputs.province))
    return roads


def canal_grid(
    inputs: Inputs, parks: list[Polygon], rng: np.random.Generator
) -> tuple[list[LineString], list[LineString]]:
    """A sparse, tilted grid of irrigation canals with farm roads along some of them.

    Grid lines run 2 km apart both ways; each line is routed around clusters and parks and
    cut into 2 km pieces, a quarter of which are left out. Four in ten kept pieces get a
    farm road 40 m to one side.
    """
    blocks = obstacles([*inputs.clusters.geometry, *parks], 100.0)
    inside = inputs.province.buffer(-60.0)
    centre = inputs.province.centroid
    reach = 40_000.0
    canals: list[LineString] = []
    for turn in (0.0, 90.0):
        for k in np.arange(-reach, reach + 1, CANAL_SPACING):
            line = affinity.rotate(
                LineString([(-reach, k), (reach, k)]), CANAL_ANGLE + turn, origin=(0, 0)
            )
            line = affinity.translate(line, centre.x, centre.y)
            for part in shapely.get_parts(line.intersection(inside)):
                if part.geom_type != "LineString" or part.length < 500.0:
                    continue
                routed = detour(part, blocks)
                cuts = np.append(np.arange(0.0, routed.length, CANAL_SPACING), routed.length)
                canals += [
                    ops.substring(routed, a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)
                ]
    keep = rng.random(len(canals)) >= 0.25
    canals = [c for c, k in zip(canals, keep, strict=True) if k and c.length > 200.0]
    with_road = rng.random(len(canals)) < 0.4
    sides = rng.choice([-40.0, 40.0], len(canals))
    farm_roads = [c.offset_curve(s) for c, r, s in zip(canals, with_road, sides, strict=True) if r]
    return canals, [r for r in farm_roads if not r.is_empty]


def vector_features(inputs: Inputs, rng: np.random.Generator) -> Features:
    """Build every vector feature that the raster is painted from."""
    edges = edge_rivers(inputs)
    inner = inner_rivers(inputs, rng)
    parks = place_parks(inputs, [*edges.values(), *inner.values()], rng)
    roads = road_network(inputs, parks, rng)
    canals, farm_roads = canal_grid(inputs, parks, rng)
    return Features(edges, inner, parks, roads, farm_roads, canals, coastline(inputs))


# ---------------------------------------------------------------------- painting
def paint_farmland(
    lu: np.ndarray,
    inside: np.ndarray,
    free: np.ndarray,
    coast_m: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Paint rice everywhere, then other rice land, ponds, annual crops, fish farms, mangroves.

    Other rice land (LUK) is the top 14 % of a coarse noise field leaning towards the sea,
    with a few fish ponds in it; annual crops (BHK) take noisy patches 1.5–7 km from the
    coast, aquaculture (NTS) a band about 1.6 km wide along it and protection forest (RPH)
    its outer edge, about 60–460 m wide. ``free`` is False near clusters, where only rice
    and villages go.
    """
    lu[inside] = V["LUC"]
    seaward = np.exp(-coast_m / 8_000.0)
    luk = noise(rng, lu.shape, 30) + 0.8 * seaward
    lu[inside & (luk > np.quantile(luk[inside], 0.86))] = V["LUK"]
    ponds = noise(rng, lu.shape, 3)
    lu[free & (lu == V["LUK"]) & (ponds > 2.0)] = V["NTS"]
    bhk = noise(rng, lu.shape, 25)
    near_sea = (coast_m > 1_500.0) & (coast_m < 7_000.0)
    lu[free & inside & near_sea & (bhk > 0.6)] = V["BHK"]
    band = noise(rng, lu.shape, 20)
    lu[free & inside & (coast_m < 1_600.0 + 700.0 * band)] = V["NTS"]
    fringe = noise(rng, lu.shape, 15)
    lu[free & inside & (coast_m < 260.0 + 200.0 * fringe)] = V["RPH"]


def paint_settlements(
    lu: np.ndarray,
    inside: np.ndarray,
    free: np.ndarray,
    keep: np.ndarray,
    road_lines: np.ndarray,
    near_river: np.ndarray,
    coast_m: np.ndarray,
    grid: Grid,
    rng: np.random.Generator,
) -> None:
    """Villages (ONT) with gardens (CLN), the city and district towns (ODT).

    Villages are the top 7.5 % of a score mixing fine noise, a coarser density field and
    closeness to roads and rivers (villages string along roads and dikes); few stand by
    the sea or on cluster land. Towns are irregular blobs round the district seats that
    reach out along the roads.
    """
    near_road = np.clip(gaussian_blur(road_lines.astype(float), 12) * 6.0, 0.0, 1.0)
    by_road = gaussian_blur(road_lines.astype(float), 4) > 0.07
    fine, coarse = noise(rng, lu.shape, 4), noise(rng, lu.shape, 40)
    score = (
        fine
        + 0.5 * coarse
        + 1.5 * near_road
        + 1.0 * near_river
        - 2.0 * np.exp(-coast_m / 1_500.0)
        - 1.0 * keep
    )
    land = inside & np.isin(lu, (V["LUC"], V["LUK"], V["BHK"], V["NTS"]))
    village = land & (score > np.quantile(score[land], 0.925))
    lu[village] = V["ONT"]
    halo = gaussian_blur(village.astype(float), 2.5)
    garden = noise(rng, lu.shape, 3)
    gardens = free & ~village & (halo > 0.06) & (garden > -0.2)
    lu[gardens & np.isin(lu, RICE + (V["BHK"],))] = V["CLN"]
    xs, ys = grid.centres()
    blob = noise(rng, lu.shape, 12)
    for code, (lon, lat) in SEATS.items():
        seat = metres(lon, lat)
        radius = 2_400.0 if code == CITY else 600.0
        dist = np.hypot(xs - seat.x, ys - seat.y)
        reach = radius * (1.0 + 0.35 * blob)
        town = (dist < reach) | (by_road & (dist < 1.6 * reach))
        lu[free & inside & town] = V["ODT"]


def paint_cemeteries(
    lu: np.ndarray,
    free: np.ndarray,
    province: Polygon,
    coast_m: np.ndarray,
    grid: Grid,
    rng: np.random.Generator,
    count: int = 140,
) -> None:
    """Paint small cemeteries (0.4–2.5 ha, turned rectangles) in the rice fields."""
    room = province.buffer(-200.0)
    x0, y0, x1, y1 = room.bounds
    placed: list[Point] = []
    patches = []
    while len(patches) < count:
        p = Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        area, angle = rng.uniform(4_000.0, 25_000.0), rng.uniform(0.0, 90.0)
        if not room.contains(p) or any(p.distance(q) < 300.0 for q in placed):
            continue
        col, row = int((p.x - grid.west) // grid.cell), int((grid.north - p.y) // grid.cell)
        if not (free[row, col] and lu[row, col] in RICE and coast_m[row, col] > 1_500.0):
            continue
        side = np.sqrt(area)
        patch = affinity.rotate(
            box(p.x - side / 2, p.y - side / 3, p.x + side / 2, p.y + side / 3), angle
        )
        placed.append(p)
        patches.append(patch)
    lu[burn(patches, grid) & free] = V["NTD"]


def paint_landuse(
    inputs: Inputs, feats: Features, grid: Grid, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Paint the land-use raster, layer after layer; return it with and without the SKN.

    The version without SKN is what the 2030 plan is generalised from (its clusters are
    overlaid exactly afterwards).
    """
    inside = burn([inputs.province], grid)
    plan_land = burn(list(inputs.clusters.geometry), grid)
    keep = burn(list(inputs.clusters.geometry.buffer(60.0)), grid)
    free = inside & ~keep
    coast_m = distance_to(feats.coast, grid)
    road_lines = burn(feats.roads, grid)
    river_land = burn([*feats.edge_rivers.values(), *feats.inner_rivers.values()], grid)
    near_river = np.clip(gaussian_blur(river_land.astype(float), 15) * 3.0, 0.0, 1.0)
    lu = np.zeros(grid.shape, dtype="uint8")
    paint_farmland(lu, inside, free, coast_m, rng)
    paint_settlements(lu, inside, free, keep, road_lines, near_river, coast_m, grid, rng)
    paint_cemeteries(lu, free, inputs.province, coast_m, grid, rng)
    lu[inside & burn(feats.canals, grid)] = V["DTL"]
    lu[inside & burn(feats.parks, grid)] = V["SKK"]
    lu[inside & river_land] = V["SON"]
    lu[inside & (road_lines | burn(feats.farm_roads, grid))] = V["DGT"]
    lu = features.sieve(lu, size=6, connectivity=8, mask=inside).astype("uint8")
    lu[~inside] = 0
    stray = plan_land & ~np.isin(lu, PLANNED_LAND)
    lu[stray] = V["LUC"]  # cluster land not yet converted stays farmland
    print(f"  cluster cells reset to LUC: {int(stray.sum())}")
    without_skn = lu.copy()
    lu[inside & burn_covered(list(inputs.established), grid, at_least=SKN_SHARE)] = V["SKN"]
    return lu, without_skn


# ------------------------------------------------------------------- plan layer
def smooth_coverage(polygons: list[Polygon], tolerance: float) -> list[Polygon]:
    """Simplify and round a polygon coverage without making gaps or overlaps.

    The shared edges are merged into chains between junctions; each chain is simplified
    (``tolerance``), rounded by corner cutting and thinned again, with its ends kept in
    place; the faces are then rebuilt from the chains.
    """
    edges = shapely.union_all(shapely.boundary(np.asarray(polygons, dtype=object)))
    chains = shapely.get_parts(shapely.line_merge(edges))
    chains = shapely.simplify(chains, tolerance, preserve_topology=False)
    rounded = [chaikin(c, 2) for c in chains if not c.is_empty and len(c.coords) > 1]
    simple = shapely.simplify(np.asarray(rounded, dtype=object), 5.0, preserve_topology=False)
    noded = shapely.union_all(simple[~shapely.is_empty(simple)])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    return [f for f in faces if f.area > 0]


def plan_layer(
    without_skn: np.ndarray, grid: Grid, inputs: Inputs, feats: Features
) -> gpd.GeoDataFrame:
    """The 2030 plan: the land use generalised to 100 m, with every cluster's plan as SKN.

    Each 100 m block takes its most common class, leaving out parks, rivers, roads and canals;
    specks under 3 ha go; edges are simplified (50 m) and rounded; the result is clipped to
    the province. Industrial parks, rivers and main roads are then overlaid from their own
    polygons, and the clusters' plan geometries on top of everything, exactly, as SKN.
    """
    coarse = grid.coarsen(PLAN_FACTOR)
    drawn_later = (V["SKK"], V["DGT"], V["DTL"], V["SON"])
    areal = [c.value for c in CLASSES if c.value not in drawn_later]
    blocks = mode_blocks(without_skn, PLAN_FACTOR, areal)
    footprint = grow(mode_blocks(without_skn, PLAN_FACTOR, [c.value for c in CLASSES]) > 0)
    for _ in range(100):  # blocks of only park, river or road take their neighbours' class
        if not (footprint & (blocks == 0)).any():
            break
        blocks = fill_edge(blocks, len(CLASSES))
    blocks = features.sieve(blocks, size=3, connectivity=4, mask=blocks > 0).astype("uint8")
    pieces = [
        (shape(g), int(v))
        for g, v in features.shapes(
            blocks, mask=blocks > 0, connectivity=4, transform=coarse.transform
        )
    ]
    source = np.array([p for p, _ in pieces], dtype=object)
    values = np.array([v for _, v in pieces])
    faces = np.array(smooth_coverage(list(source), 50.0), dtype=object)
    tree = shapely.STRtree(source)
    face_idx, src_idx = tree.query(faces, predicate="intersects")
    overlap = shapely.area(shapely.intersection(faces[face_idx], source[src_idx]))
    best = pd.DataFrame({"face": face_idx, "value": values[src_idx], "area": overlap})
    best = best.groupby(["face", "value"])["area"].sum().reset_index()
    best = best.sort_values(["face", "area", "value"], ascending=[True, False, True])
    face_value = best.drop_duplicates("face").set_index("face")["value"]
    skn = shapely.union_all(inputs.clusters.geometry.values)
    skk = shapely.union_all(feats.parks).difference(skn)
    dgt = shapely.union_all(feats.roads).difference(skn)
    son = shapely.union_all([*feats.edge_rivers.values(), *feats.inner_rivers.values()])
    son = son.difference(skn).difference(dgt)  # roads cross rivers on bridges
    drawn = shapely.union_all([skn, skk, dgt, son])
    rows = []
    for value, group in face_value.groupby(face_value):
        merged = shapely.coverage_union_all(faces[group.index.to_numpy()])
        rows += [
            (int(value), p)
            for p in polygons(merged.intersection(inputs.province).difference(drawn))
        ]
    for code, geom in (("SKK", skk), ("DGT", dgt), ("SON", son)):
        rows += [(V[code], p) for p in polygons(geom)]
    rows += [(V["SKN"], geom) for geom in inputs.clusters.geometry]
    by_value = {c.value: c for c in CLASSES}
    return gpd.GeoDataFrame(
        {
            "code": [by_value[v].code for v, _ in rows],
            "name_vi": [by_value[v].name_vi for v, _ in rows],
        },
        geometry=[shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for _, g in rows],
        crs=AREA_CRS,
    )


def polygons(geom: BaseGeometry) -> list[Polygon]:
    """The non-empty polygons of a geometry (lines and points left by overlays are dropped)."""
    return [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]


# ------------------------------------------------------------------------ writing
def write_classes(path: Path) -> None:
    """Write the class table CSV (UTF-8, value,code,name_vi,name_en,colour)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["value", "code", "name_vi", "name_en", "colour"])
        writer.writerows((c.value, c.code, c.name_vi, c.name_en, c.colour) for c in CLASSES)


def write_raster(path: Path, lu: np.ndarray, grid: Grid) -> None:
    """Write a Cloud Optimised GeoTIFF: 256 x 256 tiles, DEFLATE, mode overviews, palette."""
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": "uint8",
        "crs": CRS.from_epsg(9209),
        "transform": grid.transform,
        "nodata": 0,
    }
    colormap = {0: (0, 0, 0, 0)} | {c.value: (*c.rgb, 255) for c in CLASSES}
    with MemoryFile() as memfile:
        with memfile.open(**profile) as tmp:
            tmp.write(lu, 1)
            tmp.write_colormap(1, colormap)
            tmp.set_band_description(1, "land-use class, see thai_binh_landuse.classes.csv")
            tmp.update_tags(
                DESCRIPTION="Synthetic land use of Thái Bình (ccn-gis sample data); "
                "not an official land-use map",
                CLASSES=",".join(f"{c.value}={c.code}" for c in CLASSES),
                SOURCE="scripts/make_landuse.py",
            )
        with memfile.open() as tmp:
            copy_raster(
                tmp,
                path,
                driver="COG",
                COMPRESS="DEFLATE",
                PREDICTOR="YES",
                LEVEL="9",
                BLOCKSIZE="256",
                OVERVIEW_RESAMPLING="MODE",
            )


def layer_digests(gpkg: Path, *, skip: str) -> dict[str, str]:
    """SHA-256 of the rows of every layer of a GeoPackage except ``skip``."""
    digests = {}
    with sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True) as db:
        tables = [t for (t,) in db.execute("SELECT table_name FROM gpkg_contents") if t != skip]
        for table in sorted(tables):
            h = hashlib.sha256()
            for row in db.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
                h.update(repr(row).encode())
            digests[table] = h.hexdigest()
    return digests


def write_plan(gpkg: Path, plan: gpd.GeoDataFrame) -> None:
    """Replace the ``landuse_plan`` layer of ``gpkg``; the other layers are not touched."""
    pyogrio.write_dataframe(
        plan,
        gpkg,
        layer=PLAN_LAYER,
        driver="GPKG",
        geometry_type="MultiPolygon",
        layer_options={
            "DESCRIPTION": "ccn-gis synthetic sample data: 2030 land-use plan "
            "(generalised to 100 m; clusters exact)"
        },
    )


# ------------------------------------------------------------------------- verify
def expect(ok: bool | np.bool_, message: str) -> list[str]:
    """Return ``[message]`` when a check failed, else an empty list."""
    return [] if ok else [message]


def check_raster(path: Path, inputs: Inputs) -> list[str]:
    """Read the raster back: size, CRS, grid, classes, palette, rice share and clusters."""
    size = path.stat().st_size
    fails = expect(size < MAX_RASTER_BYTES, f"{path.name}: {size} bytes")
    with rasterio.open(path) as src:
        lu, crs, transform, nodata = src.read(1), src.crs, src.transform, src.nodata
        colormap, overviews = src.colormap(1), src.overviews(1)
        blocks = src.block_shapes[0]
    fails += expect(crs.to_epsg() == 9209, f"CRS {crs}, expected EPSG:9209")
    fails += expect(nodata == 0, f"nodata {nodata}")
    fails += expect(
        transform.a == CELL
        and transform.e == -CELL
        and transform.c % CELL == 0
        and transform.f % CELL == 0,
        f"grid {transform}",
    )
    fails += expect(blocks == (256, 256) and len(overviews) >= 3, "tiling or overviews")
    unknown = set(np.unique(lu).tolist()) - {0} - set(V.values())
    fails += expect(not unknown, f"raster values not in the class table: {sorted(unknown)}")
    fails += expect(all(colormap[c.value][:3] == c.rgb for c in CLASSES), "colour table")
    counts = np.bincount(lu.ravel(), minlength=len(CLASSES) + 1)
    mapped = counts[1:].sum()
    rice = counts[list(RICE)].sum() / mapped
    fails += expect(rice > 0.5, f"LUC+LUK {rice:.1%} of the province")
    print_class_table(counts, cell_ha=CELL * CELL / HA)
    skn = shapely.union_all(
        [shape(g) for g, v in features.shapes(lu, mask=lu == V["SKN"], transform=transform)]
    )
    covered = shapely.area(shapely.intersection(inputs.established.values, skn))
    share = pd.Series(covered / inputs.established.area.to_numpy(), index=inputs.established.index)
    low = share[share < 0.95]
    fails += expect(low.empty, f"established clusters under 95 % SKN: {low.round(3).to_dict()}")
    planned = inputs.clusters.drop(index=inputs.established.index)
    on_planned = shapely.area(shapely.intersection(planned.geometry.values, skn))
    fails += expect(on_planned.max(initial=0) == 0, "SKN on a planned-only cluster")
    rice_planned = planned_rice(lu, transform, planned.geometry)
    print(
        f"  established clusters: {len(share)}, SKN cover min {share.min():.3f}; "
        f"planned-only clusters: {len(planned)}, SKN {on_planned.sum() / HA:.2f} ha, "
        f"rice {rice_planned:.1%}"
    )
    return fails


def planned_rice(lu: np.ndarray, transform: Affine, geoms: gpd.GeoSeries) -> float:
    """Share of LUC+LUK cells (by centre) inside the planned-only clusters."""
    mask = features.rasterize(
        [(g, 1) for g in geoms], out_shape=lu.shape, transform=transform, dtype="uint8"
    ).astype(bool)
    return float(np.isin(lu[mask], RICE).mean())


def print_class_table(counts: np.ndarray, *, cell_ha: float) -> None:
    """Print code, hectares and share of the province for every class."""
    total = counts[1:].sum()
    print(f"  {'value':>5} {'code':<4} {'ha':>10} {'%':>6}")
    for c in CLASSES:
        print(
            f"  {c.value:>5} {c.code:<4} {counts[c.value] * cell_ha:>10.1f} "
            f"{100 * counts[c.value] / total:>6.2f}"
        )
    print(f"  {'':>5} {'all':<4} {total * cell_ha:>10.1f} {100.0:>6.2f}")


def check_plan(gpkg: Path, inputs: Inputs, before: dict[str, str], size: int) -> list[str]:
    """Read the plan layer back: codes, CRS, validity, coverage, exact clusters, other layers."""
    plan = pyogrio.read_dataframe(gpkg, layer=PLAN_LAYER)
    fails = expect(str(plan.crs) == AREA_CRS, f"{PLAN_LAYER}: CRS {plan.crs}")
    unknown = set(plan["code"]) - set(V)
    fails += expect(not unknown, f"{PLAN_LAYER}: codes not in the class table {unknown}")
    fails += expect(shapely.is_valid(plan.geometry.values).all(), f"{PLAN_LAYER}: invalid")
    area = plan.area.sum()
    union = shapely.union_all(plan.geometry.values).area
    fails += expect(
        abs(area - inputs.province.area) < 1e-4 * inputs.province.area,
        f"{PLAN_LAYER}: {area / HA:.1f} ha against the province's "
        f"{inputs.province.area / HA:.1f} ha",
    )
    fails += expect(area - union < 1.0 * HA, f"{PLAN_LAYER}: overlaps of {(area - union):.0f} m²")
    skn = shapely.union_all(plan.loc[plan["code"] == "SKN", "geometry"].values)
    exact = shapely.union_all(inputs.clusters.geometry.values)
    fails += expect(
        skn.symmetric_difference(exact).area < 1.0,
        f"{PLAN_LAYER}: SKN differs from the clusters' plan geometries",
    )
    fails += expect(
        layer_digests(gpkg, skip=PLAN_LAYER) == before, "another layer of the GeoPackage changed"
    )
    fails += expect(size < MAX_PLAN_BYTES, f"{PLAN_LAYER}: {size} bytes on its own")
    counts = plan["code"].value_counts()
    print(
        f"  {PLAN_LAYER}: {len(plan)} features, {area / HA:.1f} ha, "
        f"SKN {skn.area / HA:.2f} ha, {size / 1e6:.2f} MB on its own; "
        f"features per code {counts.to_dict()}"
    )
    return fails


# ------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    """Generate, write and verify the land-use raster, class table and plan layer."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--gpkg",
        default="layers/thai_binh.gpkg",
        help="sample GeoPackage (read, and given a landuse_plan layer), relative to the repo root",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    gpkg = REPO_ROOT / args.gpkg
    raster = gpkg.with_name(f"{gpkg.stem}_landuse.tif")
    classes = raster.with_name(f"{raster.stem}.classes.csv")
    rng = np.random.default_rng(SEED)
    inputs = read_inputs(REGION, gpkg)
    grid = make_grid(inputs.province)
    print(f"{raster} ({grid.width} x {grid.height} cells of {CELL:.0f} m)")
    feats = vector_features(inputs, rng)
    lu, without_skn = paint_landuse(inputs, feats, grid, rng)
    plan = plan_layer(without_skn, grid, inputs, feats)
    write_classes(classes)
    write_raster(raster, lu, grid)
    before = layer_digests(gpkg, skip=PLAN_LAYER)
    write_plan(gpkg, plan)
    fails = check_raster(raster, inputs) + check_plan(gpkg, inputs, before, plan_bytes(plan))
    print(
        f"  raster {raster.stat().st_size / 1e6:.2f} MB, GeoPackage "
        f"{gpkg.stat().st_size / 1e6:.2f} MB; done in {time.perf_counter() - started:.0f} s"
    )
    for fail in fails:
        print(f"FAILED: {fail}", file=sys.stderr)
    return 1 if fails else 0


def plan_bytes(plan: gpd.GeoDataFrame) -> int:
    """Size of the plan layer on its own: the size of a scratch GeoPackage holding only it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.gpkg"
        write_plan(path, plan)
        return path.stat().st_size


if __name__ == "__main__":
    sys.exit(main())
