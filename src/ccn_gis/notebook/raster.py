"""The land-use raster drawn for a map without a tile server: one PNG in Web Mercator.

leafmap's ``add_raster`` needs localtileserver, which the project does not install; a
notebook without ``ccn-gis serve`` puts this image on its map instead (an
``ipyleaflet.ImageOverlay`` with a ``data:`` URL).
"""

from __future__ import annotations

import base64
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.transform import array_bounds
from rasterio.warp import calculate_default_transform, reproject
from rasterio.warp import transform as warp_transform

from ccn_gis.crs import WGS84
from ccn_gis.dataset import Dataset
from ccn_gis.io.landuse import default_raster_path
from ccn_gis.io.raster import LandUseRaster
from ccn_gis.landuse import LandUseError

WEB_MERCATOR = "EPSG:3857"


@dataclass(frozen=True)
class LandUseImage:
    """The land-use raster as one PNG in Web Mercator, for a map's image overlay."""

    url: str
    """``data:image/png;base64,…``: the map needs neither a file nor a server."""
    bounds: tuple[tuple[float, float], tuple[float, float]]
    """``((south, west), (north, east))`` in degrees, as Leaflet takes them."""
    width: int
    height: int


def landuse_raster_path(dataset: Dataset, raster: str | Path | None, /) -> Path:
    """Return the land-use raster to read: ``raster``, else the province's.

    Raises
    ------
    ccn_gis.landuse.LandUseError
        When neither is given: the province names no raster and none lies beside it.
    """
    path = Path(raster) if raster else default_raster_path(dataset)
    if path is None:
        raise LandUseError(
            f"{dataset.source}: no land-use raster; give raster=PATH, set landuse_raster in "
            "the province settings, or use source='plan'")
    return path


def render_landuse(path: str | Path, /, *, max_size: int = 2048,
                   alpha: int = 200) -> LandUseImage:
    """Render the land-use raster ``path`` as a PNG in its class table's colours.

    The raster is reprojected (nearest neighbour, like the API's tiles) to EPSG:3857,
    the projection of the map, and scaled down so that its longer side has at most
    ``max_size`` pixels. Nodata and cells of no class are transparent; the classes
    are drawn with opacity ``alpha`` (0–255), so what lies under them shows through.
    """
    table = LandUseRaster.open(path).table
    with rasterio.open(path) as src:
        transform, width, height = calculate_default_transform(
            src.crs, WEB_MERCATOR, src.width, src.height, *src.bounds)
        scale = max(width, height) / max_size
        if scale > 1:
            width, height = max(1, round(width / scale)), max(1, round(height / scale))
            transform, width, height = calculate_default_transform(
                src.crs, WEB_MERCATOR, src.width, src.height, *src.bounds,
                dst_width=width, dst_height=height)
        values = {c.value for c in table.classes}
        fill = int(src.nodata) if src.nodata is not None else _unused(values)
        data = np.full((height, width), fill, dtype=src.dtypes[0])
        reproject(source=rasterio.band(src, 1), destination=data, dst_transform=transform,
                  dst_crs=WEB_MERCATOR, resampling=Resampling.nearest, src_nodata=src.nodata,
                  dst_nodata=fill)
    rgba = np.zeros((4, height, width), dtype=np.uint8)
    for c in table.classes:
        if c.value == fill:
            continue
        cells = data == c.value
        for band, level in enumerate((*_rgb(c.colour), alpha)):
            rgba[band][cells] = level
    west, south, east, north = array_bounds(height, width, transform)
    lons, lats = warp_transform(WEB_MERCATOR, WGS84, [west, east], [south, north])
    png = _png(rgba)
    return LandUseImage(f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}",
                        ((lats[0], lons[0]), (lats[1], lons[1])), width, height)


def _unused(values: set[int]) -> int:
    return next(v for v in range(256) if v not in values) if len(values) < 256 else -1


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _png(rgba: np.ndarray) -> bytes:
    _, height, width = rgba.shape
    with warnings.catch_warnings(), MemoryFile() as memory:  # a PNG has no georeference
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with memory.open(driver="PNG", width=width, height=height, count=4,
                         dtype="uint8") as dst:
            dst.write(rgba)
        return bytes(memory.read())
