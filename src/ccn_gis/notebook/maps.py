"""Layers and legends on a leafmap map: categories, land use, a scenario's clusters.

``map_`` is a ``leafmap.Map``; this module does not import leafmap (it stays optional),
and imports ipyleaflet, leafmap's map library, only to draw the land-use image.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ccn_gis.notebook.landuse import landuse_legend
from ccn_gis.notebook.readers import source_for
from ccn_gis.notebook.source import LandUseTiles
from ccn_gis.notebook.styles import FINDING_STYLES, SCENARIO_STYLES, Style, legend
from ccn_gis.texts import text

LANDUSE_LAYER = text("notebook.landuse_layer")
"""The name of the land-use layer on maps (:func:`add_landuse`)."""


def add_by_category(
    map_: Any, frame: gpd.GeoDataFrame, /, *, column: str, styles: Mapping[str, Style],
    title: str, fill_opacity: float = 0.6, weight: float = 1.0,
    legend_position: str = "bottomright",
) -> list[str]:
    """Add ``frame`` to a leafmap map as one layer per value of ``column``, with a legend.

    Each layer is named ``"{title} – {label}"`` and drawn in its style's colour, in
    the order of ``styles``, so each category can be switched on and off; empty
    categories are left out. ``map_`` is a ``leafmap.Map`` (this module does not
    import leafmap). Returns the names of the layers added.

    Raises
    ------
    ValueError
        When ``column`` holds a value that ``styles`` does not draw.
    """
    unknown = sorted(set(frame[column].dropna().astype(str)) - set(styles))
    if unknown:
        raise ValueError(f"{column}: no style for {', '.join(unknown)}; styles: "
                         f"{', '.join(styles)}")
    names = []
    for value, style in styles.items():
        part = frame[(frame[column] == value).to_numpy()]
        if len(part):
            name = f"{title} – {style.label}"
            map_.add_gdf(part, layer_name=name,
                         style=style.leaflet(fill_opacity=fill_opacity, weight=weight))
            names.append(name)
    if names:
        map_.add_legend(title=title, legend_dict=legend(styles), position=legend_position)
    return names


def add_landuse(
    map_: Any, classes: pd.DataFrame, /, *, api_url: str | None = None,
    layers: str | Path | None = None, raster: str | Path | None = None,
    name: str = LANDUSE_LAYER, title: str = text("field.land_use"),
    legend_position: str = "bottomright",
) -> str:
    """Add the land-use raster to a leafmap map as layer ``name``, with the classes' legend.

    With ``api_url`` the layer is the app's XYZ tiles
    (``{api_url}/landuse/tiles/{z}/{x}/{y}.png``), loaded by the browser. Without, the
    raster of ``layers`` (or ``raster``) is drawn by :func:`landuse_image` into one PNG
    held by the map itself (an ``ipyleaflet.ImageOverlay`` with a ``data:`` URL): it
    needs neither localtileserver nor a network. ``classes`` is
    :func:`read_landuse_classes`. Returns the layer's name.
    """
    picture = source_for(api_url=api_url, layers=layers).landuse_picture(raster=raster)
    if isinstance(picture, LandUseTiles):
        map_.add_tile_layer(url=picture.url, name=name, attribution="ccn-gis",
                            max_native_zoom=picture.max_native_zoom)
    else:
        import ipyleaflet  # leafmap's map library; imported only here

        map_.add(ipyleaflet.ImageOverlay(url=picture.url, bounds=picture.bounds, name=name))
    map_.add_legend(title=title, legend_dict=landuse_legend(classes), position=legend_position)
    return name


def add_scenario_clusters(
    map_: Any, clusters: gpd.GeoDataFrame, /, *, title: str = text("notebook.scenario_status"),
    findings_title: str = text("findings"), fill_opacity: float = 0.5,
) -> list[str]:
    """Add a scenario's clusters (:func:`read_scenario_clusters`) to a leafmap map.

    One layer per ``status`` in the colours of :data:`SCENARIO_STYLES`, then the outlines
    of the clusters with findings (:data:`FINDING_STYLES`: red for an error, orange for
    warnings only) on top, each with its legend. Returns the names of the layers added.
    """
    shown = gpd.GeoDataFrame(clusters[["cluster_id", "name", "change", "status", "severity",
                                       "errors", "warnings", "geometry"]].copy())
    shown["findings"] = [", ".join(f) for f in clusters["findings"]]
    names = add_by_category(map_, shown, column="status", styles=SCENARIO_STYLES, title=title,
                            fill_opacity=fill_opacity)
    names += add_by_category(map_, shown[shown["severity"].notna().to_numpy()], column="severity",
                             styles=FINDING_STYLES, title=findings_title, fill_opacity=0.0,
                             weight=3.0, legend_position="bottomleft")
    return names
