"""Response models: they document the API in the generated OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Link(BaseModel):
    """A link of OGC API – Features (RFC 8288 fields)."""

    href: str
    rel: str
    type: str | None = None
    title: str | None = None
    hreflang: str | None = None
    length: int | None = None


class Landing(BaseModel):
    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    conformsTo: list[str]


class SpatialExtent(BaseModel):
    bbox: list[list[float]]
    crs: str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


class TemporalExtent(BaseModel):
    interval: list[list[str | None]]
    trs: str = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"


class Extent(BaseModel):
    spatial: SpatialExtent | None = None
    temporal: TemporalExtent | None = None


class CollectionInfo(BaseModel):
    id: str
    title: str
    description: str | None = None
    links: list[Link]
    extent: Extent | None = None
    itemType: str = "feature"
    crs: list[str]
    storageCrs: str


class Collections(BaseModel):
    links: list[Link]
    collections: list[CollectionInfo]


class Feature(BaseModel):
    """A GeoJSON feature (RFC 7946) with its id."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("Feature", pattern="^Feature$")
    id: str | int
    geometry: dict[str, Any] | None
    properties: dict[str, Any] | None


class FeatureCollection(BaseModel):
    """A page of features with the counts and links of OGC API – Features."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("FeatureCollection", pattern="^FeatureCollection$")
    features: list[Feature]
    numberMatched: int
    numberReturned: int
    timeStamp: str
    links: list[Link]


class TileLink(Link):
    """A link of OGC API – Tiles; ``templated`` marks a URL template."""

    templated: bool | None = None


class TileSetItem(BaseModel):
    """A tileset in a list (OGC API – Tiles): its tiling scheme and links."""

    title: str | None = None
    dataType: str
    crs: str
    tileMatrixSetURI: str
    links: list[TileLink]


class TileSets(BaseModel):
    """The tilesets of a collection."""

    links: list[Link]
    tilesets: list[TileSetItem]


class TileSet(TileSetItem):
    """A tileset's metadata: zooms and rows/columns covered, extent, the layers and fields."""

    model_config = ConfigDict(extra="allow")

    layers: list[dict[str, Any]]
    boundingBox: dict[str, Any] | None = None
    tileMatrixSetLimits: list[dict[str, Any]] | None = None


class Problem(BaseModel):
    """An error: what was wrong with the request and what is allowed."""

    code: str
    description: str


class StatsFigures(BaseModel):
    """The figures of ``ccn-gis stats --json`` (see DATA_MODEL.md, "Derived figures")."""

    model_config = ConfigDict(extra="allow")


class LandUseRow(BaseModel):
    """Hectares of one land-use class in one zone (no ``class_code``: land no map covers)."""

    zone_id: str
    class_code: str | None
    area_ha: float
    share: float | None = Field(description="the class's share of the zone, 0 to 1")


class LandUseClassInfo(BaseModel):
    """One class of the land-use raster: its value, code, names and colour (the legend)."""

    value: int
    code: str
    name_vi: str
    name_en: str
    colour: str
