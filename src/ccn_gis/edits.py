"""Edits to the register: what a change set says, and the layers as it leaves them.

A :class:`ChangeSet` is several :class:`Edit`\\ s applied all or nothing, with one note
(a decision number, say "Quyết định 1234/QĐ-UBND"). :func:`apply_changes` applies one to
the layers *as stored* (:class:`~ccn_gis.stored.RawLayer`) in memory and returns the
layers after it, and what each edit did (the values before and after, for the
history). Nothing here writes: a store (:mod:`ccn_gis.io.register`) checks the layers
after the change with the same checks as a file on load, and writes them only when
they pass.

A feature is named by its layer's id field (``cluster_id``, ``parcel_id``, ``code``,
``project_id``, ``activity_id``); an approved extent, which has none in the data
model, by its feature id (``extent_id``, the GeoPackage fid).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ccn_gis.crs import WGS84, transform_geometries
from ccn_gis.errors import CcnGisError
from ccn_gis.model import LAYERS
from ccn_gis.problems import Problem
from ccn_gis.publish import id_field
from ccn_gis.stored import RawLayer

MAX_EDITS = 10_000
"""Edits one change set may hold."""


class Operation(str, Enum):
    """What an edit does to a feature (OGC API – Features Part 4's four)."""

    CREATE = "create"
    REPLACE = "replace"
    UPDATE = "update"
    DELETE = "delete"


class EditError(CcnGisError, ValueError):
    """A change set that cannot be applied as it stands; ``problems`` name the layer,
    feature and field of each mistake, and what to do."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class FeatureNotFoundError(EditError, LookupError):
    """An edit names a feature the layer does not hold."""


@dataclass(frozen=True)
class Edit:
    """One edit of one feature.

    ``properties`` are the fields to set (an update sets only those; a replace or a
    create sets every field, the others empty); ``None`` empties a field. ``geometry``
    is set when ``set_geometry`` (a create or replace of a layer with geometry always
    sets it), given in ``crs`` (default WGS84, as GeoJSON is).
    """

    layer: str
    operation: Operation
    feature_id: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)
    geometry: BaseGeometry | None = None
    set_geometry: bool = False
    crs: Any = WGS84
    if_match: str | None = None
    """The feature's version the edit was made on (its ETag): a store refuses the edit
    when the feature has changed since (optimistic locking); None: no condition."""


@dataclass(frozen=True)
class ChangeSet:
    """Edits applied together or not at all, with the note that explains them."""

    edits: tuple[Edit, ...]
    note: str = ""


@dataclass(frozen=True)
class Applied:
    """What one edit did: the feature's stored values before and after (``None`` for a
    feature that did not exist, or no longer does), as JSON values."""

    layer: str
    operation: Operation
    fid: int
    feature_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    geometry_column: str | None


def apply_changes(
    raw: Mapping[str, RawLayer | None], changes: ChangeSet
) -> tuple[dict[str, RawLayer | None], list[Applied]]:
    """The layers after ``changes``, and what each edit did, in order.

    Raises
    ------
    EditError
        When an edit names an unknown layer or field, a feature that does not exist
        (:class:`FeatureNotFoundError`), creates one whose id is taken, or has no id;
        every mistake of the change set is listed. The layers given are unchanged.
    """
    if len(changes.edits) > MAX_EDITS:
        raise EditError([Problem("changes", None, "edits",
                                 f"{len(changes.edits):,} edits (at most {MAX_EDITS:,})",
                                 "send the edits in several change sets")])
    layers = dict(raw)
    frames: dict[str, pd.DataFrame] = {}
    indexes: dict[str, dict[str, int]] = {}  # by layer: feature id → fid
    applied: list[Applied] = []
    problems: list[Problem] = []
    missing: list[Problem] = []
    for edit in changes.edits:
        layer = layers.get(edit.layer)
        if edit.layer not in LAYERS or layer is None:
            problems.append(Problem(edit.layer, edit.feature_id, None,
                                    f"no editable layer {edit.layer!r}",
                                    f"use one of {', '.join(LAYERS)}"))
            continue
        frame = frames.get(edit.layer)
        if frame is None:
            frame = frames[edit.layer] = layer.frame.copy()
            indexes[edit.layer] = _index(frame, _key(edit.layer))
        try:
            frame, done = _apply(frame, layer, edit, indexes[edit.layer])
        except FeatureNotFoundError as err:
            missing.extend(err.problems)
            continue
        except EditError as err:
            problems.extend(err.problems)
            continue
        frames[edit.layer] = frame
        applied.append(done)
    if missing and not problems:
        raise FeatureNotFoundError(missing)
    if problems or missing:
        raise EditError(problems + missing)
    for name, frame in frames.items():
        before = layers[name]
        assert before is not None
        layers[name] = RawLayer(name, frame, before.crs, before.geometry_type, before.problems)
    return layers, applied


def _apply(frame: pd.DataFrame, layer: RawLayer, edit: Edit, index: dict[str, int]
           ) -> tuple[pd.DataFrame, Applied]:
    key = _key(layer.name)
    geometry_column = _geometry_column(frame) if layer.has_geometry else None
    fields = [c for c in frame.columns if c != geometry_column]
    unknown = [k for k in edit.properties if k not in fields]
    if unknown:
        raise EditError([Problem(layer.name, edit.feature_id, k, f"the layer has no field {k!r}",
                                 f"fields: {', '.join(fields)}") for k in unknown])
    if edit.operation is Operation.CREATE:
        wanted = edit.feature_id or (str(edit.properties.get(key)) if key and
                                     edit.properties.get(key) is not None else None)
        fid = int(frame.index.max()) + 1 if len(frame) else 1
        if key is None:
            wanted = str(fid)
        if not wanted:
            raise EditError([Problem(layer.name, None, key, f"a new feature needs its {key}",
                                     f"give {key} among the properties")])
        if key is not None and wanted in index:
            raise EditError([Problem(layer.name, wanted, key,
                                     f"{key} {wanted!r} is taken by another feature",
                                     f"choose another {key}, or update the feature")])
        row: dict[str, Any] = {c: None for c in frame.columns}
        row.update(edit.properties)
        if key is not None:
            row[key] = wanted
        if geometry_column is not None:
            row[geometry_column] = _in_layer_crs(edit, layer)
        frame = _with_row(frame, fid, row, geometry_column, layer)
        index[wanted] = fid
        return frame, Applied(layer.name, edit.operation, fid, wanted, None,
                              _json_row(frame, fid, geometry_column), geometry_column)

    fid = _find(index, layer.name, key, edit.feature_id)
    before = _json_row(frame, fid, geometry_column)
    if edit.operation is Operation.DELETE:
        frame = frame.drop(index=fid)
        del index[str(edit.feature_id)]
        return frame, Applied(layer.name, edit.operation, fid, str(edit.feature_id), before,
                              None, geometry_column)
    values: dict[str, Any]
    if edit.operation is Operation.REPLACE:
        values = {c: None for c in fields}
        values.update(edit.properties)
        if key is not None:
            values[key] = frame.at[fid, key]  # the id names the feature: it stays
    else:
        values = dict(edit.properties)
        if key is not None and key in values and str(values[key]) != str(edit.feature_id):
            raise EditError([Problem(layer.name, edit.feature_id, key,
                                     f"an update cannot change {key}",
                                     f"create a feature with the new {key} and delete this one")])
    frame = frame.copy() if frame is layer.frame else frame
    for column, value in values.items():
        frame = _set(frame, fid, column, value)
    if geometry_column is not None and (edit.set_geometry
                                        or edit.operation is Operation.REPLACE):
        frame = _set(frame, fid, geometry_column, _in_layer_crs(edit, layer))
    return frame, Applied(layer.name, edit.operation, fid, str(edit.feature_id), before,
                          _json_row(frame, fid, geometry_column), geometry_column)


def stored_row(layer: RawLayer, feature_id: str) -> dict[str, Any] | None:
    """Feature ``feature_id``'s stored values as JSON (as :class:`Applied` has them), or
    None when the layer has no such feature."""
    fid = _index(layer.frame, _key(layer.name)).get(str(feature_id))
    if fid is None:
        return None
    return _json_row(layer.frame, fid, _geometry_column(layer.frame) if layer.has_geometry
                     else None)


def same_row(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None,
             geometry_column: str | None) -> bool:
    """Whether two JSON rows hold the same values; their geometries (WKB in hex) the same
    shape, a polygon and the one-part multipolygon it is stored as alike."""
    if a is None or b is None:
        return a is None and b is None
    if {k for k in a if k != geometry_column} != {k for k in b if k != geometry_column}:
        return False
    if any(a[k] != b[k] for k in a if k != geometry_column):
        return False
    if geometry_column is None:
        return True
    first, second = a.get(geometry_column), b.get(geometry_column)
    if first is None or second is None:
        return first is None and second is None
    return bool(shapely.equals(shapely.from_wkb(bytes.fromhex(first)),
                               shapely.from_wkb(bytes.fromhex(second))))


def _key(layer: str) -> str | None:
    """The field that names a feature of ``layer`` (None: the feature id does)."""
    name = id_field(layer)
    return None if name == "extent_id" else name


def _geometry_column(frame: pd.DataFrame) -> str | None:
    return frame.geometry.name if isinstance(frame, pd.DataFrame) and hasattr(
        frame, "geometry") else None


def _index(frame: pd.DataFrame, key: str | None) -> dict[str, int]:
    """Feature id → fid: by the id field, or by the fid itself (approved extents)."""
    if key is None:
        return {str(fid): int(fid) for fid in frame.index}
    if key not in frame.columns:
        return {}
    ids = frame[key].astype("string")
    return {str(v): int(fid) for fid, v in zip(frame.index, ids, strict=True) if v is not pd.NA}


def _find(index: Mapping[str, int], layer: str, key: str | None,
          feature_id: str | None) -> int:
    found = index.get(str(feature_id)) if feature_id is not None else None
    if found is None:
        raise FeatureNotFoundError([Problem(layer, feature_id, key or "extent_id",
                                            f"no feature {feature_id!r} in {layer}",
                                            "check the id, or create the feature")])
    return found


def _in_layer_crs(edit: Edit, layer: RawLayer) -> BaseGeometry | None:
    if edit.geometry is None or layer.crs is None:
        return edit.geometry
    moved = transform_geometries(np.array([edit.geometry], dtype=object), edit.crs, layer.crs)
    return moved[0]  # type: ignore[no-any-return]


def _with_row(frame: pd.DataFrame, fid: int, row: Mapping[str, Any],
              geometry_column: str | None, layer: RawLayer) -> pd.DataFrame:
    added = pd.DataFrame([dict(row)], index=pd.Index([fid], name=frame.index.name))
    combined = pd.concat([pd.DataFrame(frame), added.astype(object)], axis=0)
    if geometry_column is not None:
        import geopandas as gpd

        return gpd.GeoDataFrame(combined, geometry=geometry_column, crs=layer.crs)
    return combined


def _set(frame: pd.DataFrame, fid: int, column: str, value: Any) -> pd.DataFrame:
    """``frame`` with ``value`` at (``fid``, ``column``); a column that cannot hold the
    value as it is (text in a date column, say) holds Python objects from then on, for
    the checks to judge the value."""
    try:
        frame.at[fid, column] = value
    except (TypeError, ValueError):
        frame[column] = frame[column].astype(object)
        frame.at[fid, column] = value
    return frame


def _json_row(frame: pd.DataFrame, fid: int, geometry_column: str | None) -> dict[str, Any]:
    """A stored row as JSON values; its geometry as WKB in hex (exact), in the layer CRS."""
    row = {}
    for column, value in frame.loc[fid].items():
        if column == geometry_column:
            row[str(column)] = None if value is None else shapely.to_wkb(value, hex=True)
        else:
            row[str(column)] = json_value(value)
    return row


def json_value(value: Any) -> Any:
    """A stored value as JSON has it: dates as ISO text, missing values as None."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.isoformat() if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return value
