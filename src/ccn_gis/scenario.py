"""Expansion scenarios for the 2030 plan: what a scenario file says, checked against the layers.

A scenario is a list of changes to the plan (establish a planned cluster, expand one, add
a new one, remove one), an absorption assumption and rule overrides. Reading the YAML is
:mod:`ccn_gis.io.scenario_file`'s job; here the document is checked — every mistake
names its line — and turned into a :class:`Scenario`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from ccn_gis.crs import WGS84, transform_geometries
from ccn_gis.dataset import Dataset
from ccn_gis.errors import CcnGisError, SettingsError
from ccn_gis.model import ClusterKind
from ccn_gis.settings import RuleSettings


class ScenarioError(CcnGisError, ValueError):
    """A scenario file is malformed; the message names the file, the line and the key."""


class ChangeKind(str, Enum):
    ESTABLISH = "establish"
    EXPAND = "expand"
    ADD = "add"
    REMOVE = "remove"


@dataclass(frozen=True)
class Absorption:
    """How fast industrial land is leased: observed (``historical``) or given rates."""

    method: str = "historical"
    years: int = 5
    rates: Mapping[str, float] = field(default_factory=dict)  # cluster id or "default"


@dataclass(frozen=True)
class Change:
    """One change to the plan, in one year; geometries in the area CRS."""

    kind: ChangeKind
    cluster_id: str
    year: int | None
    geometry: Any = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    line: int | None = None


@dataclass(frozen=True)
class Scenario:
    """A checked scenario, ready to project."""

    name: str
    horizon: int
    base_year: int
    absorption: Absorption
    changes: tuple[Change, ...]
    rules: RuleSettings
    source: str = ""


Lines = Mapping[tuple, int]
"""Line of each key of a YAML document, by its path (``("changes", 2, "expand")``)."""

MAX_YEARS = 50
"""The longest projection a scenario may ask for."""

MAX_CHANGES = 500
"""The most changes a scenario may make (a province plans some tens of clusters)."""

MAX_RATE_HA = 10_000.0
"""The largest absorption rate a scenario may give, in hectares a year."""

YEARS = range(1900, 2201)
"""The years a scenario may name."""

_TOP = {"name", "description", "horizon", "base_year", "absorption", "changes", "rules"}
_ADD_FIELDS = {"cluster_id", "name", "admin_code", "kind", "investor"}


def latest_data_year(dataset: Dataset) -> int:
    """The year of the newest decision, lease or registration: the projection's base year."""
    dates = [dataset.approved_extents["decided_on"], dataset.parcels["leased_on"],
             dataset.projects["registered_on"], dataset.clusters["operating_since"]]
    years = [int(d.max().year) for d in dates if d.notna().any()]
    return max(years) if years else 2024


def build_scenario(
    document: Mapping[str, Any] | None,
    dataset: Dataset,
    /,
    *,
    lines: Lines | None = None,
    source: str = "",
    defaults: RuleSettings | None = None,
    geometries: Mapping[tuple, Any] | None = None,
) -> Scenario:
    """Check a scenario document against the dataset and return the :class:`Scenario`.

    ``document`` ``None`` is the plan as it stands: no change. ``geometries`` holds
    geometries loaded from files the document refers to, by their path in it.

    Raises
    ------
    ScenarioError
        For an unknown key, cluster id or value, an invalid geometry or a year outside
        the plan: the message names the file and the line; nothing is partly built.
    """
    lines = lines or {}
    doc = dict(document or {"name": "Quy hoạch hiện hành (the plan as it stands)"})

    def at(*path: Any) -> str:
        line = lines.get(tuple(path))
        return f"{source or 'scenario'}{f', line {line}' if line else ''}: "

    unknown = set(doc) - _TOP
    if unknown:
        key = sorted(unknown)[0]
        raise ScenarioError(f"{at(key)}unknown key {key!r}; known keys: {', '.join(sorted(_TOP))}")
    base = _int(doc.get("base_year", latest_data_year(dataset)), at("base_year"), "base_year")
    horizon = _int(doc.get("horizon", 2030), at("horizon"), "horizon")
    if not base < horizon <= base + MAX_YEARS:
        raise ScenarioError(f"{at('horizon')}horizon {horizon} must come after the base year "
                            f"{base} (the newest record of the data), by at most {MAX_YEARS} "
                            "years")
    try:
        rules = (defaults or RuleSettings()).updated(doc.get("rules") or {}, where=at("rules"))
    except SettingsError as err:
        raise ScenarioError(str(err)) from err
    absorption = _absorption(doc.get("absorption"), at("absorption"), dataset)
    known = set(dataset.clusters["cluster_id"])
    changes = []
    raw = doc.get("changes") or []
    if not isinstance(raw, list):
        raise ScenarioError(f"{at('changes')}changes must be a list")
    if len(raw) > MAX_CHANGES:
        raise ScenarioError(f"{at('changes')}{len(raw)} changes; at most {MAX_CHANGES}")
    for i, item in enumerate(raw):
        change = _change(item, i, dataset, known, base, horizon, at, geometries or {}, lines)
        if change.kind is ChangeKind.ADD:
            known.add(change.cluster_id)
        changes.append(change)
    name = str(doc.get("name") or source or "scenario")
    return Scenario(name, horizon, base, absorption, tuple(changes), rules, source)


def shorten(value: Any, most: int = 40) -> str:
    """``value`` as text for a message, cut to ``most`` characters (a pasted megabyte or a
    5,000-digit number must not come back whole)."""
    try:
        text = value if isinstance(value, str) else repr(value)
    except ValueError:  # an integer too long to write out
        text = f"<{type(value).__name__}>"
    return text if len(text) <= most else f"{text[:most - 1]}…"


def _int(value: Any, where: str, key: str, *, years: range | None = YEARS) -> int:
    """``value`` as a whole number (a year unless ``years`` is None), or a clear error."""
    shown = shorten(value if not isinstance(value, str) else repr(value))
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ScenarioError(f"{where}{key}: {shown} is not a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError) as err:
        raise ScenarioError(f"{where}{key}: {shown} is not a "
                            f"{'year' if years else 'whole number'}") from err
    if years is not None and number not in years:
        raise ScenarioError(f"{where}{key}: {shown} is not a year between {years.start} and "
                            f"{years.stop - 1}")
    return number


def _absorption(value: Any, where: str, dataset: Dataset) -> Absorption:
    if value is None:
        return Absorption()
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where}absorption: write {{method: historical, years: 5}} or "
                            "{rate_ha_per_year: {TB-01: 3.5, default: 2.0}}")
    if "rate_ha_per_year" in value:
        rates = value["rate_ha_per_year"]
        extra = set(value) - {"rate_ha_per_year"}
        if extra or not isinstance(rates, Mapping):
            raise ScenarioError(f"{where}absorption: rate_ha_per_year maps cluster ids (and "
                                "'default') to hectares per year")
        known = set(dataset.clusters["cluster_id"]) | {"default"}
        checked = {}
        for key, rate in rates.items():
            if str(key) not in known:
                raise ScenarioError(f"{where}absorption.rate_ha_per_year: unknown cluster "
                                    f"{key!r}")
            try:
                checked[str(key)] = float(rate)
            except (TypeError, ValueError, OverflowError) as err:
                raise ScenarioError(f"{where}absorption.rate_ha_per_year.{key}: {rate!r} is "
                                    "not a number") from err
            if not 0 <= checked[str(key)] <= MAX_RATE_HA:
                raise ScenarioError(f"{where}absorption.rate_ha_per_year.{key}: {rate!r}; give "
                                    f"0 to {MAX_RATE_HA:,.0f} hectares a year")
        return Absorption("rates", 0, checked)
    extra = set(value) - {"method", "years"}
    if extra or value.get("method", "historical") != "historical":
        raise ScenarioError(f"{where}absorption: the method is 'historical' (with 'years') or "
                            "give rate_ha_per_year")
    years = _int(value.get("years", 5), where, "absorption.years", years=None)
    if not 1 <= years <= MAX_YEARS:
        raise ScenarioError(f"{where}absorption.years: {years}; give 1 to {MAX_YEARS}")
    return Absorption("historical", years)


def _change(item: Any, i: int, dataset: Dataset, known: set[str], base: int, horizon: int,
            at: Any, geometries: Mapping[tuple, Any], lines: Lines) -> Change:
    if not isinstance(item, Mapping):
        raise ScenarioError(f"{at('changes', i)}changes[{i}]: each change is a mapping such as "
                            "{establish: TB-47, year: 2026}")
    kinds = [k for k in item if k in {c.value for c in ChangeKind}]
    if len(kinds) != 1:
        raise ScenarioError(f"{at('changes', i)}changes[{i}]: give exactly one of establish, "
                            "expand, add, remove")
    kind = ChangeKind(kinds[0])
    allowed = {kind.value, "year"} | ({"geometry"} if kind in (ChangeKind.EXPAND,
                                                               ChangeKind.ADD) else set())
    for key in item:
        if key not in allowed:
            raise ScenarioError(f"{at('changes', i, key)}changes[{i}].{key}: unknown key for "
                                f"{kind.value}; allowed: {', '.join(sorted(allowed))}")
    year = None
    if "year" in item or kind is not ChangeKind.REMOVE:
        if "year" not in item:
            raise ScenarioError(f"{at('changes', i)}changes[{i}]: {kind.value} needs a year")
        year = _int(item["year"], at("changes", i, "year"), f"changes[{i}].year")
        if not base < year <= horizon:
            raise ScenarioError(
                f"{at('changes', i, 'year')}changes[{i}].year: {year} is outside the plan "
                f"({base + 1}–{horizon})")
    target = item[kind.value]
    attributes: dict[str, Any] = {}
    if kind is ChangeKind.ADD:
        if not isinstance(target, Mapping):
            raise ScenarioError(f"{at('changes', i, 'add')}changes[{i}].add: give the new "
                                "cluster's cluster_id, name, admin_code and kind")
        for key in target:
            if key not in _ADD_FIELDS:
                raise ScenarioError(f"{at('changes', i, 'add', key)}changes[{i}].add.{key}: "
                                    f"unknown field; allowed: {', '.join(sorted(_ADD_FIELDS))}")
        missing = {"cluster_id", "name", "admin_code"} - set(target)
        if missing:
            raise ScenarioError(f"{at('changes', i, 'add')}changes[{i}].add: missing "
                                f"{', '.join(sorted(missing))}")
        cid = str(target["cluster_id"])
        if cid in known:
            raise ScenarioError(f"{at('changes', i, 'add', 'cluster_id')}changes[{i}].add."
                                f"cluster_id: {cid} already exists")
        units = set(dataset.admin_units["code"])
        if str(target["admin_code"]) not in units:
            raise ScenarioError(f"{at('changes', i, 'add', 'admin_code')}changes[{i}].add."
                                f"admin_code: unknown unit {target['admin_code']!r}")
        kind_value = str(target.get("kind", "general"))
        if kind_value not in ClusterKind.values():
            raise ScenarioError(f"{at('changes', i, 'add', 'kind')}changes[{i}].add.kind: "
                                f"{kind_value!r}; valid: {', '.join(ClusterKind.values())}")
        attributes = {"name": str(target["name"]), "admin_code": str(target["admin_code"]),
                      "kind": kind_value, "investor": target.get("investor")}
    else:
        cid = str(target)
        if cid not in known:
            raise ScenarioError(f"{at('changes', i, kind.value)}changes[{i}].{kind.value}: "
                                f"unknown cluster {cid!r}")
    geometry = None
    if kind in (ChangeKind.EXPAND, ChangeKind.ADD):
        path = ("changes", i, "geometry")
        raw = geometries.get(path, item.get("geometry"))
        if raw is None:
            raise ScenarioError(f"{at('changes', i)}changes[{i}]: {kind.value} needs a geometry")
        geometry = _geometry(raw, at(*path), f"changes[{i}].geometry", dataset)
    return Change(kind, cid, year, geometry, attributes, lines.get(("changes", i)))


def _geometry(raw: Any, where: str, key: str, dataset: Dataset) -> Any:
    """A GeoJSON polygon (WGS84 longitude/latitude) checked and carried into the area CRS."""
    if isinstance(raw, Mapping) and raw.get("type") == "Feature":
        raw = raw.get("geometry")
    if isinstance(raw, Mapping) and raw.get("type") == "FeatureCollection":
        features = raw.get("features") or []
        if len(features) != 1:
            raise ScenarioError(f"{where}{key}: the file must hold one feature, not "
                                f"{len(features)}")
        raw = features[0].get("geometry")
    try:
        geom = shape(raw)
    except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException) as err:
        raise ScenarioError(f"{where}{key}: not a GeoJSON geometry ({err})") from err
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        raise ScenarioError(f"{where}{key}: a {geom.geom_type}; give a Polygon or MultiPolygon")
    if not geom.is_valid:
        raise ScenarioError(f"{where}{key}: invalid geometry ({shapely.is_valid_reason(geom)})")
    west, south, east, north = geom.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ScenarioError(f"{where}{key}: coordinates are not longitude/latitude (GeoJSON "
                            "is WGS84)")
    return transform_geometries(np.array([geom]), WGS84, dataset.settings.area_crs)[0]
