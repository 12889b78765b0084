"""The data model of DATA_MODEL.md: layers, fields and closed vocabularies.

This module is the single place that knows layer and field names and the closed sets
of values of fields and attributes; the readers, the validator, the figures and the
published layers take their names from here.

Most vocabularies are those of stored fields (:class:`Level`, :class:`LandUse`, …); two
are those of attributes that the published layers compute (:mod:`ccn_gis.publish`): a
parcel's :class:`LeaseStatus` and a cluster's :class:`ClusterStage`. "Stage" names two
vocabularies in the data: a cluster's **stage** (:class:`ClusterStage`: planned,
established, detailed plan, operating) is computed, the ``stage`` attribute of the
published ``clusters``; an approved extent's stored ``stage`` field holds its
**approval** (:class:`Approval`: establishment, detailed plan), the decision that
approved the extent.
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
        >>> Approval.parse("establishment")
        <Approval.ESTABLISHMENT: 'establishment'>
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


class Approval(_Vocabulary):
    """An approved extent's approval: the decision that approved it, stored as ``stage``.

    A founding (or expanding) decision, or an approved 1/500 detailed plan. Not to be
    confused with a cluster's computed stage, :class:`ClusterStage`.
    """

    ESTABLISHMENT = "establishment"
    DETAILED_PLAN = "detailed_plan"


Stage = Approval
"""The former name of :class:`Approval`, after the field ``approved_extents.stage``
that holds it; kept so that code written against it keeps working."""


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


class ClusterStage(_Vocabulary):
    """A cluster's stage on a date: the furthest it has reached, what maps colour it by.

    Computed (the ``stage`` attribute of the published ``clusters``), not stored: in the
    plan, established (a founding decision), with an approved detailed plan, operating.
    Not to be confused with an approved extent's stored ``stage`` field, the approval
    that the extent carries (:class:`Approval`).

    Examples
    --------
    >>> ClusterStage.values()
    ('planned', 'established', 'detailed_plan', 'operating')
    """

    PLANNED = "planned"
    ESTABLISHED = "established"
    DETAILED_PLAN = "detailed_plan"
    OPERATING = "operating"


class LeaseStatus(_Vocabulary):
    """A parcel's lease status: industrial and leased, industrial and free, or other land.

    Computed (the ``lease_status`` attribute of the published ``parcels``), not stored.
    """

    LEASED = "leased"
    VACANT = "vacant"
    NOT_FOR_LEASE = "not_for_lease"


class Role(_Vocabulary):
    """What a user of the register may do; each role may do everything of those before it.

    ``viewer`` reads, ``editor`` also writes the layers, ``admin`` also manages users,
    settings and restores. Not a field of the layers: users live in tables of their own
    (:mod:`ccn_gis.io.users`).

    Examples
    --------
    >>> Role.EDITOR.allows(Role.VIEWER), Role.EDITOR.allows(Role.ADMIN)
    (True, False)
    """

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"

    @classmethod
    def parse(cls, value: str) -> Role:
        """Return the role called ``value`` or raise :class:`UnknownValueError`."""
        return cls(super().parse(value).value)

    @property
    def rank(self) -> int:
        """0 for a viewer, 1 for an editor, 2 for an admin."""
        return tuple(Role).index(self)

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what ``needed`` may."""
        return self.rank >= needed.rank


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
        Field("stage", vocabulary=Approval),
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
