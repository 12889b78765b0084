"""What the notebooks read and how they draw it: one place for both.

A notebook reads every layer and figure through these functions, so it runs the same
way against a running ``ccn-gis serve`` (``api_url``: GeoJSON pages and ``/stats``,
fetched as any client would) and, without a server, against the layers file through
the library (``layers``). Layers come back as GeoDataFrames in WGS84 with the same
columns either way: the stored fields and the computed ones of
:func:`ccn_gis.publish.layer_view`, dates as datetimes, the geometry last.

The package is small modules, each one concept:

- :mod:`~ccn_gis.notebook.source`: the :class:`Source` protocol that every reader asks,
  with its two implementations :class:`ApiSource` (``urllib`` on the web API) and
  :class:`LocalSource` (the library on a GeoPackage); :func:`source_for` picks one.
- :mod:`~ccn_gis.notebook.readers`: ``read_layer``, ``read_figures``, ``read_landuse``,
  ``read_scenario_result``… — the functions the notebooks call.
- :mod:`~ccn_gis.notebook.styles` and :mod:`~ccn_gis.notebook.maps`: the colours and
  Vietnamese labels of the maps (:data:`STAGE_STYLES`, :data:`LEASE_STYLES`…) and the
  helpers that put layers and legends on a leafmap map.
- :mod:`~ccn_gis.notebook.tables` and :mod:`~ccn_gis.notebook.landuse`: the figures,
  projects and land-use tables in Vietnamese number format.
- :mod:`~ccn_gis.notebook.raster`: the land-use raster as one PNG, for a map without a
  tile server.
- :mod:`~ccn_gis.notebook.scenarios`: a checked scenario's findings, the province year
  by year and the comparison of ``ccn-gis scenario compare``, computed from the
  check's JSON, the same from a server or a file.

Importing the package imports neither FastAPI nor leafmap.
"""

from __future__ import annotations

from ccn_gis.errors import DataSourceError
from ccn_gis.notebook.api_source import TIMEOUT_S, ApiSource
from ccn_gis.notebook.landuse import (
    RICE_CODES,
    UNCOVERED_COLOUR,
    UNCOVERED_LABEL,
    UNKNOWN_COLOUR,
    hectares_table,
    landuse_colours,
    landuse_comparison,
    landuse_labels,
    landuse_legend,
    landuse_pivot,
    landuse_totals,
    rice_ha,
    rice_land,
)
from ccn_gis.notebook.local_source import LocalSource
from ccn_gis.notebook.maps import (
    LANDUSE_LAYER,
    add_by_category,
    add_landuse,
    add_scenario_clusters,
)
from ccn_gis.notebook.raster import WEB_MERCATOR, LandUseImage
from ccn_gis.notebook.readers import (
    By,
    landuse_image,
    read_cluster_figures,
    read_figures,
    read_figures_by,
    read_landuse,
    read_landuse_classes,
    read_layer,
    read_scenario_clusters,
    read_scenario_list,
    read_scenario_result,
    read_timeline,
    source_for,
)
from ccn_gis.notebook.scenarios import (
    FINDING_COLUMNS,
    HORIZON_COLUMNS,
    PROVINCE,
    RATE_RULES,
    RULE_LABELS,
    SCENARIO_CLUSTER_COLUMNS,
    SEVERITY_LABELS,
    demand_supply,
    findings_by_rule,
    findings_table,
    scenario_comparison,
    scenario_id,
    scenario_status,
    scenario_years,
)
from ccn_gis.notebook.source import (
    CLASS_COLUMNS,
    LANDUSE_COLUMNS,
    PAGE_SIZE,
    TILE_MAX_ZOOM,
    LandUseSource,
    LandUseTiles,
    NotFoundError,
    QueryError,
    Scope,
    Source,
)
from ccn_gis.notebook.styles import (
    EXTENT_STYLES,
    FINDING_STYLES,
    LEASE_STYLES,
    OUTLINE,
    SCENARIO_COLOURS,
    SCENARIO_STYLES,
    STAGE_STYLES,
    Style,
    legend,
)
from ccn_gis.notebook.tables import (
    PROJECT_COLUMNS,
    TOTAL,
    figures_table,
    projects_table,
    scoped_table,
)

__all__ = [
    "CLASS_COLUMNS", "EXTENT_STYLES", "FINDING_COLUMNS", "FINDING_STYLES",
    "HORIZON_COLUMNS", "LANDUSE_COLUMNS", "LANDUSE_LAYER", "LEASE_STYLES", "OUTLINE",
    "PAGE_SIZE", "PROJECT_COLUMNS", "PROVINCE", "RATE_RULES", "RICE_CODES", "RULE_LABELS",
    "SCENARIO_CLUSTER_COLUMNS", "SCENARIO_COLOURS", "SCENARIO_STYLES", "SEVERITY_LABELS",
    "STAGE_STYLES", "TILE_MAX_ZOOM", "TIMEOUT_S", "TOTAL", "UNCOVERED_COLOUR",
    "UNCOVERED_LABEL", "UNKNOWN_COLOUR", "WEB_MERCATOR",
    "ApiSource", "By", "DataSourceError", "LandUseImage", "LandUseSource", "LandUseTiles",
    "LocalSource", "NotFoundError", "QueryError", "Scope", "Source", "Style",
    "add_by_category", "add_landuse", "add_scenario_clusters", "demand_supply",
    "figures_table", "findings_by_rule", "findings_table", "hectares_table", "landuse_colours",
    "landuse_comparison", "landuse_image", "landuse_labels", "landuse_legend", "landuse_pivot",
    "landuse_totals", "legend", "projects_table", "read_cluster_figures", "read_figures",
    "read_figures_by", "read_landuse", "read_landuse_classes", "read_layer",
    "read_scenario_clusters", "read_scenario_list", "read_scenario_result", "read_timeline",
    "rice_ha", "rice_land", "scenario_comparison", "scenario_id", "scenario_status",
    "scenario_years", "scoped_table", "source_for",
]
