"""The data model of DATA_MODEL.md: layers, fields and closed vocabularies.

This module is the single place that knows layer and field names; the readers,
the validator and the figures take their names from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ccn_gis.errors import UnknownValueError


class _Vocabulary(str, Enum):
    """A closed vocabulary whose unknown values raise an error listing the valid ones."""

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """Return the valid values, in declaration order."""
        return tuple(m.value for m in cls)

    @classmethod
    def parse(cls, value: str) -> _Vocabulary:
        """Return the member for ``value`` or raise :class:`UnknownValueError`.

        Examples
        --------
        >>> Stage.parse("establishment")
        <Stage.ESTABLISHMENT: 'establishment'>
        """
        try:
            return cls(value)
        except ValueError as err:
            raise UnknownValueError(
                f"{value!r} is not a valid {cls.__name__}; valid values: {', '.join(cls.values())}"
            ) from err


class Level(_Vocabulary):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


class ClusterKind(_Vocabulary):
    GENERAL = "general"
    CRAFT_VILLAGE = "craft_village"


class Stage(_Vocabulary):
    ESTABLISHMENT = "establishment"
    DETAILED_PLAN = "detailed_plan"


class LandUse(_Vocabulary):
    INDUSTRIAL = "industrial"
    SERVICES = "services"
    INFRASTRUCTURE = "infrastructure"
    TRAFFIC = "traffic"
    GREEN = "green"
    WATER = "water"


class ProjectStatus(_Vocabulary):
    PRODUCING = "producing"
    UNDER_CONSTRUCTION = "under_construction"
    NOT_STARTED = "not_started"
    STOPPED = "stopped"


class Programme(_Vocabulary):
    SEWING_TRAINING = "sewing_training"
    MANAGEMENT_TRAINING = "management_training"
    DEMO_MODEL = "demo_model"
    MACHINERY_SUPPORT = "machinery_support"
    RURAL_PRODUCT_PROGRAMME = "rural_product_programme"
    CLUSTER_DETAILED_PLAN = "cluster_detailed_plan"


class FieldType(str, Enum):
    """How a field's values are checked and normalised."""

    TEXT = "text"
    DATE = "date"
    BOOL = "bool"
    INTEGER = "integer"
    NUMBER = "number"


Vocabulary = type[_Vocabulary]


@dataclass(frozen=True)
class Field:
    """One field of a layer.

    ``required`` fields must exist as columns; ``nullable`` says whether a
    feature may leave them empty. ``vocabulary`` closes the set of values.
    """

    name: str
    type: FieldType = FieldType.TEXT
    nullable: bool = False
    required: bool = True
    vocabulary: Vocabulary | None = None


@dataclass(frozen=True)
class LayerSpec:
    """A layer of the data model: its id field, fields and geometry kind."""

    name: str
    id_field: str
    fields: tuple[Field, ...]
    geometry: str | None  # "polygon", "point" or None for a table
    geometry_optional: bool = False  # promotion_activities may be a plain table
    optional: bool = False

    def field(self, name: str) -> Field:
        """Return the field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


ADMIN_UNITS = LayerSpec(
    "admin_units",
    "code",
    (
        Field("code"),
        Field("name"),
        Field("level", vocabulary=Level),
        Field("parent_code", nullable=True),
        Field("valid_from", FieldType.DATE, nullable=True, required=False),
        Field("valid_to", FieldType.DATE, nullable=True, required=False),
    ),
    "polygon",
)

CLUSTERS = LayerSpec(
    "clusters",
    "cluster_id",
    (
        Field("cluster_id"),
        Field("name"),
        Field("admin_code"),
        Field("kind", vocabulary=ClusterKind),
        Field("investor", nullable=True),
        Field("operating_since", FieldType.DATE, nullable=True),
        Field("infrastructure_complete", FieldType.BOOL),
    ),
    "polygon",
)

APPROVED_EXTENTS = LayerSpec(
    "approved_extents",
    "fid",
    (
        Field("cluster_id"),
        Field("stage", vocabulary=Stage),
        Field("decision", nullable=True),
        Field("decided_on", FieldType.DATE),
    ),
    "polygon",
)

PARCELS = LayerSpec(
    "parcels",
    "parcel_id",
    (
        Field("parcel_id"),
        Field("cluster_id"),
        Field("land_use", vocabulary=LandUse),
        Field("recovered", FieldType.BOOL),
        Field("project_id", nullable=True),
        Field("leased_on", FieldType.DATE, nullable=True),
    ),
    "polygon",
)

PROJECTS = LayerSpec(
    "projects",
    "project_id",
    (
        Field("project_id"),
        Field("cluster_id"),
        Field("name", nullable=True),
        Field("investor", nullable=True),
        Field("sector", nullable=True),
        Field("registered_on", FieldType.DATE),
        Field("status", vocabulary=ProjectStatus),
        Field("registered_capital_bn_vnd", FieldType.NUMBER, nullable=True),
        Field("implemented_capital_bn_vnd", FieldType.NUMBER, nullable=True),
        Field("registered_workers", FieldType.INTEGER, nullable=True),
        Field("workers", FieldType.INTEGER, nullable=True),
    ),
    None,
)

PROMOTION_ACTIVITIES = LayerSpec(
    "promotion_activities",
    "activity_id",
    (
        Field("activity_id"),
        Field("year", FieldType.INTEGER),
        Field("programme", vocabulary=Programme),
        Field("admin_code"),
        Field("participants", FieldType.INTEGER, nullable=True),
        Field("facilities", FieldType.INTEGER, nullable=True),
        Field("budget_mil_vnd", FieldType.NUMBER, nullable=True),
    ),
    "point",
    geometry_optional=True,
    optional=True,
)

LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (ADMIN_UNITS, CLUSTERS, APPROVED_EXTENTS, PARCELS, PROJECTS, PROMOTION_ACTIVITIES)
}

SETTINGS_TABLE = "ccn_settings"
"""The key/value table inside the GeoPackage that holds the province settings."""
