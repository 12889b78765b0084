"""Validation on load: every problem of the layers at once, by layer, feature and field.

:func:`check_layers` takes the layers as stored (:class:`ccn_gis.stored.RawLayer`)
and returns them normalised — typed columns, geometries in the area CRS — together
with the list of problems found. It never modifies its input and never raises for
bad data: bad data is what it reports.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ccn_gis.crs import transform_geometries
from ccn_gis.errors import CcnGisError
from ccn_gis.formats import format_number
from ccn_gis.model import LAYERS, Field, FieldType, LandUse, LayerSpec, Stage
from ccn_gis.parallel import map_chunks, query_pairs
from ccn_gis.problems import Problem, Severity
from ccn_gis.stored import RawLayer

TOLERANCE_M = 0.05
"""How far (metres) parcels may cross each other or their cluster: layers stored in
different CRSs move shared edges by far less than this when reprojected."""

DATE_RANGE = (pd.Timestamp("1900-01-01"), pd.Timestamp("2199-12-31"))
"""Dates outside these years are reported: they stand for "unknown" or are typing errors."""

_POLYGON_TYPES = {"Polygon", "MultiPolygon"}
_POINT_TYPES = {"Point", "MultiPoint"}
_TYPE_IDS = {"polygon": [3, 6], "point": [0, 4], "": []}  # shapely.get_type_id

_FIX_GEOMETRY = (
    "repair it in QGIS (Processing ▸ Vector geometry ▸ Fix geometries, or the "
    "Geometry Checker) and save the layer again"
)
_FIX_GEOMETRY_VI = (
    "sửa trong QGIS (Processing ▸ Vector geometry ▸ Fix geometries, hoặc Geometry Checker) "
    "rồi lưu lại lớp"
)


def check_layers(
    raw: Mapping[str, RawLayer | None], area_crs: CRS | str
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Check and normalise the layers of the data model.

    Parameters
    ----------
    raw
        The stored layers by name; a missing layer is absent or ``None``.
    area_crs
        The CRS in which geometries are returned and areas computed.

    Returns
    -------
    frames, problems
        ``frames`` maps each readable layer to its normalised frame: text ids as
        ``str``, dates as ``datetime64`` (``NaT`` when empty), booleans as
        ``bool``, geometries reprojected to ``area_crs`` and an ``area_ha``
        column on polygon layers. ``problems`` lists every problem found.
    """
    found_in: dict[str, list[Problem]] = {}
    frames: dict[str, pd.DataFrame] = {}
    overlaps: Future[tuple[np.ndarray, np.ndarray]] | None = None
    # Parcels first: the search for overlapping parcels (shapely, without the GIL) runs
    # in the background while the other layers and the references are checked.
    with ThreadPoolExecutor(1) as background:
        for spec in sorted(LAYERS.values(), key=lambda spec: spec.name != "parcels"):
            layer = raw.get(spec.name)
            if layer is None:
                found_in[spec.name] = [_missing_layer(spec)]
                continue
            frame, found = _normalise_layer(layer, spec, area_crs)
            found_in[spec.name] = [*layer.problems, *found]
            if frame is None:
                continue
            frames[spec.name] = frame
            if spec.name == "parcels" and isinstance(frame, gpd.GeoDataFrame):
                overlaps = background.submit(
                    _overlapping_pairs, np.asarray(frame.geometry.array, dtype=object))
        frames = {name: frames[name] for name in LAYERS if name in frames}
        problems = [p for name in LAYERS for p in found_in.get(name, [])]
        problems.extend(_check_unique_ids(frames))
        problems.extend(_check_references(frames))
        if overlaps is not None:  # parcels with checked geometries
            problems.extend(_check_parcel_geometry(frames, overlaps.result()))
    problems.extend(_check_consistency(frames))
    return frames, problems


def feature_label(frame: pd.DataFrame, spec: LayerSpec, fid: object) -> str:
    """Return how a report names feature ``fid``: its id, or ``fid N`` without one."""
    if spec.id_field in frame.columns:
        value = frame.at[fid, spec.id_field]
        if isinstance(value, str) and value.strip():
            return value
    detail = ""
    if spec.name == "approved_extents" and "cluster_id" in frame.columns:
        cluster = frame.at[fid, "cluster_id"]
        decision = frame.at[fid, "decision"] if "decision" in frame.columns else None
        parts = [str(v) for v in (cluster, decision) if isinstance(v, str) and v]
        detail = f" ({', '.join(parts)})" if parts else ""
    return f"fid {fid}{detail}"


def _missing_layer(spec: LayerSpec) -> Problem:
    if spec.optional:
        return Problem(
            spec.name, None, None,
            "the layer is missing; its figures will be reported as empty",
            f"add a layer named {spec.name} (DATA_MODEL.md) if the province keeps this data",
            Severity.WARNING,
            "thiếu lớp này; số liệu của nó sẽ để trống",
            f"thêm lớp tên {spec.name} (DATA_MODEL.md) nếu tỉnh có dữ liệu này",
        )
    fields = ", ".join(f.name for f in spec.fields if f.required)
    return Problem(
        spec.name, None, None, "the layer is missing",
        f"add a layer named exactly {spec.name!r} with the fields {fields} (DATA_MODEL.md)",
        message_vi="thiếu lớp này",
        hint_vi=f"thêm lớp có tên đúng là {spec.name!r} với các trường {fields} (DATA_MODEL.md)",
    )


def _normalise_layer(
    layer: RawLayer, spec: LayerSpec, area_crs: CRS | str
) -> tuple[pd.DataFrame | None, list[Problem]]:
    problems: list[Problem] = []
    source = layer.frame
    missing = [f for f in spec.fields if f.required and f.name not in source.columns]
    for f in missing:
        present = [c for c in source.columns if c != "geometry"]
        close = difflib.get_close_matches(f.name, present, n=1)
        hint = f"rename {close[0]!r} to {f.name!r}" if close else f"add the field {f.name!r}"
        hint_vi = (f"đổi tên {close[0]!r} thành {f.name!r}" if close
                   else f"thêm trường {f.name!r}")
        listed = ", ".join(map(str, present))
        problems.append(
            Problem(spec.name, None, f.name, "the field is missing",
                    f"{hint}; fields present: {listed or 'none'}", Severity.ERROR,
                    "thiếu trường này", f"{hint_vi}; các trường hiện có: {listed or 'không có'}")
        )
    if missing:
        return None, problems

    frame = pd.DataFrame(index=source.index.copy())
    frame.index.name = "fid"
    for f in spec.fields:
        if f.name not in source.columns:
            frame[f.name] = _empty_column(f)
            continue
        column, found = _normalise_field(source, spec, f)
        frame[f.name] = column
        problems.extend(found)
    for extra in source.columns:  # extra fields are welcome; keep them as they are
        if extra not in frame.columns and extra != getattr(source, "_geometry_column_name", None):
            frame[extra] = source[extra].to_numpy()

    if spec.geometry is None:
        return frame, problems
    geometry, found = _normalise_geometry(layer, spec, frame, area_crs)
    problems.extend(found)
    if geometry is None:  # keep the attributes so that references are still checked
        return frame, problems
    result = gpd.GeoDataFrame(frame, geometry=geometry, crs=area_crs)
    if spec.geometry == "polygon":
        result["area_ha"] = shapely.area(geometry) / 10_000.0
    return result, problems


def _empty_column(f: Field) -> pd.Series | object:
    if f.type is FieldType.DATE:
        return pd.NaT
    return None


def _normalise_field(
    source: pd.DataFrame, spec: LayerSpec, f: Field
) -> tuple[np.ndarray | pd.Series, list[Problem]]:
    values = source[f.name]
    isnull = values.isna().to_numpy()
    problems: list[Problem] = []

    def report(mask: np.ndarray, message: str, hint: str, message_vi: str, hint_vi: str,
               severity: Severity = Severity.ERROR) -> None:
        for fid in source.index[mask]:
            shown = values.at[fid]
            problems.append(
                Problem(spec.name, feature_label(source, spec, fid), f.name,
                        message.format(value=shown), hint, severity,
                        message_vi.format(value=shown), hint_vi)
            )

    if not f.nullable:
        if f.type is FieldType.BOOL:
            report(isnull, "the value is empty; it is taken as false",
                   "set it to true (1) or false (0)", "giá trị trống; được coi là sai (false)",
                   "nhập true (1) hoặc false (0)", Severity.WARNING)
        else:
            report(isnull, "the value is empty", "fill it in; the field may not be empty",
                   "giá trị trống", "nhập giá trị; trường này không được để trống")

    if f.type is FieldType.TEXT:
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            column = values.astype(object)
        else:  # numbers, or a mix: codes stored as numbers read as text ("336", not "336.0")
            column = values.map(_as_text, na_action="ignore").astype(object)
        column = column.where(~isnull, None)
        if f.vocabulary is not None:
            valid = set(f.vocabulary.values())
            bad = ~isnull & ~column.isin(valid).to_numpy()
            for fid in source.index[bad]:
                value = column.at[fid]
                close = difflib.get_close_matches(str(value).strip().lower(), valid, n=1)
                suggestion = f"did you mean {close[0]!r}? " if close else ""
                suggestion_vi = f"có phải là {close[0]!r}? " if close else ""
                choices = ", ".join(f.vocabulary.values())
                problems.append(
                    Problem(spec.name, feature_label(source, spec, fid), f.name,
                            f"unknown value {value!r}", f"{suggestion}valid values: {choices}",
                            Severity.ERROR, f"giá trị không hợp lệ {value!r}",
                            f"{suggestion_vi}các giá trị hợp lệ: {choices}")
                )
        return column, problems

    if f.type is FieldType.DATE:
        parsed = _parse_dates(values)
        years = f"{DATE_RANGE[0].year}–{DATE_RANGE[1].year}"
        report(~isnull & parsed.isna().to_numpy(), f"{{value!r}} is not a date of {years}",
               "write dates as YYYY-MM-DD, or use a Date field",
               f"{{value!r}} không phải là ngày trong các năm {years}",
               "ghi ngày theo dạng YYYY-MM-DD, hoặc dùng trường kiểu Date")
        return parsed, problems

    if f.type is FieldType.BOOL:
        parsed, bad = _parse_bools(values)
        report(bad, "{value!r} is not a boolean", "use true/false, or the integers 1/0",
               "{value!r} không phải giá trị đúng/sai", "dùng true/false, hoặc số 1/0")
        return parsed, problems

    numbers = pd.to_numeric(values, errors="coerce")
    bad = ~isnull & numbers.isna().to_numpy()
    report(bad, "{value!r} is not a number", "enter a number (a dot as decimal separator)",
           "{value!r} không phải là số", "nhập một số (dấu chấm là dấu thập phân)")
    if f.type is FieldType.INTEGER:
        fractional = ~numbers.isna().to_numpy() & (numbers.fillna(0) % 1 != 0).to_numpy()
        report(fractional, "{value!r} is not a whole number", "enter a whole number",
               "{value!r} không phải số nguyên", "nhập một số nguyên")
    negative = (numbers.fillna(0) < 0).to_numpy()
    report(negative, "{value!r} is negative", "enter zero or a positive number",
           "{value!r} là số âm", "nhập số 0 hoặc số dương")
    if f.type is FieldType.INTEGER and not fractional.any():
        return numbers.astype("Int64"), problems
    return numbers.astype("float64"), problems


def _as_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # codes stored as numbers: 336.0 → "336"
    return str(value)


def _parse_dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    elif pd.api.types.infer_dtype(values, skipna=True) in ("date", "datetime", "empty"):
        parsed = pd.to_datetime(values, errors="coerce")  # Date fields, read by Arrow
    else:
        text = values.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v),
                          na_action="ignore")
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    # 0001-01-01 and the like stand for "unknown", not a day of a plan: report, do not overflow
    parsed = parsed.where((parsed >= DATE_RANGE[0]) & (parsed <= DATE_RANGE[1]))
    return parsed.dt.normalize().astype("datetime64[ns]")


def _parse_bools(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_bool_dtype(values) and not values.isna().any():
        return values.astype(bool), np.zeros(len(values), dtype=bool)

    def parse(v: object) -> object:
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        if isinstance(v, (int, np.integer, float, np.floating)) and v in (0, 1):
            return bool(v)
        return None

    parsed = values.map(parse, na_action="ignore")
    bad = (~values.isna() & parsed.isna()).to_numpy()
    return parsed.fillna(False).astype(bool), bad


def _normalise_geometry(
    layer: RawLayer, spec: LayerSpec, frame: pd.DataFrame, area_crs: CRS | str
) -> tuple[np.ndarray | None, list[Problem]]:
    if not layer.has_geometry:
        if spec.geometry_optional:
            return None, []
        return None, [
            Problem(spec.name, None, "geometry", "the layer has no geometry",
                    f"store {spec.name} as a polygon layer, not a table", Severity.ERROR,
                    "lớp không có hình học", f"lưu {spec.name} thành lớp vùng, không phải bảng")
        ]
    if layer.crs is None:
        return None, [
            Problem(spec.name, None, "geometry", "the layer has no coordinate reference system",
                    "set the layer's CRS (in QGIS: Layer Properties ▸ Source ▸ Set CRS, then "
                    "save) — ccn-gis never guesses one", Severity.ERROR,
                    "lớp không có hệ tọa độ",
                    "khai báo hệ tọa độ của lớp (QGIS: Layer Properties ▸ Source ▸ Set CRS, rồi "
                    "lưu) — ccn-gis không bao giờ tự đoán hệ tọa độ")
        ]
    problems: list[Problem] = []
    source = layer.frame
    geoms = np.asarray(source.geometry.array, dtype=object)

    def report(mask: np.ndarray, message: Any, hint: str, message_vi: Any, hint_vi: str) -> None:
        for fid, geom in zip(source.index[mask], geoms[mask], strict=True):
            text = message(geom) if callable(message) else message
            text_vi = message_vi(geom) if callable(message_vi) else message_vi
            problems.append(Problem(spec.name, feature_label(frame, spec, fid), "geometry",
                                    text, hint, Severity.ERROR, text_vi, hint_vi))

    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    report(missing, "the geometry is empty or unreadable", "draw the feature again or delete it",
           "hình học trống hoặc không đọc được", "vẽ lại đối tượng hoặc xóa nó")
    present = ~missing
    allowed = _POLYGON_TYPES if spec.geometry == "polygon" else _POINT_TYPES
    wrong = present & ~np.isin(shapely.get_type_id(geoms), _TYPE_IDS[spec.geometry or ""])
    kinds_text = " or ".join(sorted(allowed))
    report(wrong, lambda g: f"a {g.geom_type} where a {kinds_text} belongs",
           f"{spec.name} holds {kinds_text} features only",
           lambda g: f"đối tượng kiểu {g.geom_type}, lớp này cần {kinds_text}",
           f"{spec.name} chỉ chứa đối tượng {kinds_text}")
    invalid = present & ~wrong & ~map_chunks(shapely.is_valid, geoms)
    report(invalid, lambda g: f"the geometry is invalid ({shapely.is_valid_reason(g)})",
           _FIX_GEOMETRY, lambda g: f"hình học không hợp lệ ({shapely.is_valid_reason(g)})",
           _FIX_GEOMETRY_VI)
    if missing.any() or wrong.any() or invalid.any():
        return None, problems
    try:
        projected = transform_geometries(geoms, layer.crs, area_crs)
    except CcnGisError as err:
        return None, [Problem(spec.name, None, "geometry", str(err),
                              "store the layer in VN-2000 or WGS84", Severity.ERROR,
                              f"không chuyển được sang hệ tọa độ tính diện tích ({err})",
                              "lưu lớp theo VN-2000 hoặc WGS84")]
    # every source geometry is valid here; reprojection may still fold one over itself
    broken = (np.zeros(len(geoms), dtype=bool) if projected is geoms
              else ~map_chunks(shapely.is_valid, projected))
    unbounded = ~np.isfinite(shapely.bounds(projected)).all(axis=1)
    report(unbounded, "the geometry cannot be placed in the area CRS (coordinates out of range)",
           "check the layer's CRS: its coordinates do not fit it",
           "không đặt được hình học vào hệ tọa độ tính diện tích (tọa độ vượt phạm vi)",
           "kiểm tra hệ tọa độ của lớp: tọa độ không khớp với nó")
    if unbounded.any():
        return None, problems
    if broken.any():  # reprojection can fold a razor-thin part over itself: repair, do not fail
        projected = projected.copy()
        projected[broken] = shapely.make_valid(projected[broken])
    return projected, problems


def _check_unique_ids(frames: Mapping[str, pd.DataFrame]) -> list[Problem]:
    problems = []
    for name, frame in frames.items():
        spec = LAYERS[name]
        if spec.id_field not in frame.columns:
            continue
        ids = frame[spec.id_field]
        duplicated = ids.duplicated(keep=False) & ids.notna()
        for value, rows in frame[duplicated].groupby(spec.id_field).groups.items():
            problems.append(
                Problem(name, str(value), spec.id_field,
                        f"the id is used by {len(rows)} features (fid {', '.join(map(str, rows))})",
                        "give every feature its own id", Severity.ERROR,
                        f"mã này được dùng cho {len(rows)} đối tượng "
                        f"(fid {', '.join(map(str, rows))})", "đặt cho mỗi đối tượng một mã riêng")
            )
    return problems


_REFERENCES = (
    # layer, field, target layer, target field
    ("admin_units", "parent_code", "admin_units", "code"),
    ("clusters", "admin_code", "admin_units", "code"),
    ("approved_extents", "cluster_id", "clusters", "cluster_id"),
    ("parcels", "cluster_id", "clusters", "cluster_id"),
    ("parcels", "project_id", "projects", "project_id"),
    ("projects", "cluster_id", "clusters", "cluster_id"),
    ("promotion_activities", "admin_code", "admin_units", "code"),
)


def _check_references(frames: Mapping[str, pd.DataFrame]) -> list[Problem]:
    problems = []
    for name, field, target, target_field in _REFERENCES:
        if name not in frames or target not in frames:
            continue
        frame, known = frames[name], set(frames[target][target_field].dropna())
        values = frame[field]
        dangling = values.notna() & ~values.isin(known)
        for fid in frame.index[dangling.to_numpy()]:
            problems.append(
                Problem(name, feature_label(frame, LAYERS[name], fid), field,
                        f"{values.at[fid]!r} is not a {target_field} of {target}",
                        f"use an existing {target}.{target_field}, or add the missing feature "
                        f"to {target}", Severity.ERROR,
                        f"{values.at[fid]!r} không phải là {target_field} nào của {target}",
                        f"dùng một {target}.{target_field} có sẵn, hoặc thêm đối tượng còn thiếu "
                        f"vào {target}")
            )
    return problems


def _overlapping_pairs(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(i, j)``, ``i < j``, of parcels that overlap by more than the tolerance.

    Every parcel is shrunk by the tolerance once: neighbours that only touch (the rule)
    no longer meet, so the index finds nothing but real overlaps, at any scale. Both
    steps run on every core (shapely releases the GIL).
    """
    shrunk = map_chunks(shapely.buffer, geoms, distance=-TOLERANCE_M, quad_segs=1,
                        join_style="mitre")
    left, right = query_pairs(shapely.STRtree(shrunk), shrunk, predicate="intersects")
    keep = left < right
    return left[keep], right[keep]


def _check_parcel_geometry(
    frames: Mapping[str, pd.DataFrame], overlaps: tuple[np.ndarray, np.ndarray]
) -> list[Problem]:
    """Parcels of one cluster must not overlap and must lie inside their cluster.

    ``overlaps`` is what :func:`_overlapping_pairs` found for the parcels' geometries.
    """
    if "parcels" not in frames or "clusters" not in frames:
        return []
    parcels, clusters = frames["parcels"], frames["clusters"]
    if not isinstance(parcels, gpd.GeoDataFrame) or not isinstance(clusters, gpd.GeoDataFrame):
        return []
    spec = LAYERS["parcels"]
    problems: list[Problem] = []
    geoms = np.asarray(parcels.geometry.array, dtype=object)
    cluster_of = parcels["cluster_id"].to_numpy()

    left, right = overlaps
    keep = cluster_of[left] == cluster_of[right]
    left, right = left[keep], right[keep]
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    fids = parcels.index

    def label(position: int) -> str:
        return feature_label(parcels, spec, fids[position])

    for i, j, area in zip(left, right, shared, strict=True):
        problems.append(
            Problem("parcels", label(i), "geometry",
                    f"overlaps parcel {label(j)} of the same cluster by {area:,.2f} m²",
                    "redraw the shared edge so the parcels only touch (QGIS snapping helps)",
                    Severity.ERROR,
                    f"chồng lấn lô {label(j)} cùng cụm {format_number(area)} m²",
                    "vẽ lại cạnh chung để các lô chỉ tiếp giáp nhau (dùng chức năng bắt điểm "
                    "của QGIS)")
        )

    by_id = clusters.drop_duplicates("cluster_id").set_index("cluster_id").geometry
    position_of = pd.Index(by_id.index).get_indexer(cluster_of)
    known = position_of >= 0
    envelopes = shapely.buffer(np.asarray(by_id.array, dtype=object), TOLERANCE_M, quad_segs=2)
    inside = np.ones(len(geoms), dtype=bool)
    shapely.prepare(envelopes)  # each envelope is tested against all its parcels
    inside[known] = map_chunks(shapely.covers, envelopes[position_of[known]], geoms[known])
    for position in np.flatnonzero(~inside):
        cid = cluster_of[position]
        outside = shapely.area(shapely.difference(geoms[position], by_id[cid]))
        problems.append(
            Problem("parcels", label(int(position)), "geometry",
                    f"lies partly outside its cluster {cid} ({outside:,.2f} m² outside)",
                    "clip the parcel to the cluster boundary, or correct its cluster_id",
                    Severity.ERROR,
                    f"nằm một phần ngoài cụm {cid} ({format_number(outside)} m² bên ngoài)",
                    "cắt lô theo ranh giới cụm, hoặc sửa cluster_id của lô")
        )
    return problems


def _check_consistency(frames: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Warnings: the data can be used, but a figure may not mean what the user thinks."""
    problems: list[Problem] = []
    warn = Severity.WARNING
    extents = frames.get("approved_extents")
    clusters = frames.get("clusters")
    parcels = frames.get("parcels")
    projects = frames.get("projects")
    if parcels is not None and extents is not None:
        detailed = set(extents.loc[extents["stage"] == Stage.DETAILED_PLAN.value, "cluster_id"])
        orphan = parcels[~parcels["cluster_id"].isin(detailed)].groupby("cluster_id").size()
        for cid, count in orphan.items():
            problems.append(
                Problem("parcels", None, "cluster_id",
                        f"{count} parcel(s) of cluster {cid}, which has no detailed_plan extent, "
                        "are not counted (parcels exist from the first detailed-plan decision)",
                        f"add the detailed_plan extent of {cid} to approved_extents", warn,
                        f"{count} lô của cụm {cid} không được tính vì cụm chưa có phạm vi quy "
                        "hoạch chi tiết (lô chỉ tồn tại từ quyết định quy hoạch chi tiết đầu tiên)",
                        f"thêm phạm vi detailed_plan của {cid} vào approved_extents")
            )
    if parcels is not None:
        spec = LAYERS["parcels"]
        leased = parcels["project_id"].notna()
        undated = leased & parcels["leased_on"].isna()
        for fid in parcels.index[undated.to_numpy()]:
            problems.append(
                Problem("parcels", feature_label(parcels, spec, fid), "leased_on",
                        "has a project but no lease date; it counts as leased from the "
                        "cluster's first detailed plan", "fill in leased_on", warn,
                        "có dự án nhưng không có ngày thuê; được coi là đã thuê từ quy hoạch chi "
                        "tiết đầu tiên của cụm", "điền leased_on")
            )
        stray = ~leased & parcels["leased_on"].notna()
        for fid in parcels.index[stray.to_numpy()]:
            problems.append(
                Problem("parcels", feature_label(parcels, spec, fid), "project_id",
                        "has a lease date but no project; it counts as vacant",
                        "fill in project_id, or clear leased_on", warn,
                        "có ngày thuê nhưng không có dự án; được coi là còn trống",
                        "điền project_id, hoặc xóa leased_on")
            )
        non_industrial = leased & (parcels["land_use"] != LandUse.INDUSTRIAL.value)
        for fid in parcels.index[non_industrial.to_numpy()]:
            problems.append(
                Problem("parcels", feature_label(parcels, spec, fid), "land_use",
                        f"a {parcels.at[fid, 'land_use']} parcel has a project; only industrial "
                        "land counts towards occupancy", "check land_use", warn,
                        f"lô đất {parcels.at[fid, 'land_use']} có dự án; chỉ đất công nghiệp "
                        "được tính vào tỷ lệ lấp đầy", "kiểm tra land_use")
            )
        if projects is not None:
            cluster_of_project = projects.drop_duplicates("project_id").set_index("project_id")[
                "cluster_id"
            ]
            their = parcels["project_id"].map(cluster_of_project)
            mismatch = their.notna() & (their != parcels["cluster_id"])
            for fid in parcels.index[mismatch.to_numpy()]:
                problems.append(
                    Problem("parcels", feature_label(parcels, spec, fid), "project_id",
                            f"its project {parcels.at[fid, 'project_id']} belongs to cluster "
                            f"{their.at[fid]}, not {parcels.at[fid, 'cluster_id']}",
                            "correct the parcel's project_id or the project's cluster_id", warn,
                            f"dự án {parcels.at[fid, 'project_id']} của lô thuộc cụm "
                            f"{their.at[fid]}, không phải {parcels.at[fid, 'cluster_id']}",
                            "sửa project_id của lô hoặc cluster_id của dự án")
                )
    if clusters is not None and extents is not None:
        established = set(extents.loc[extents["stage"] == Stage.ESTABLISHMENT.value, "cluster_id"])
        spec = LAYERS["clusters"]
        lonely = clusters["operating_since"].notna() & ~clusters["cluster_id"].isin(established)
        for fid in clusters.index[lonely.to_numpy()]:
            problems.append(
                Problem("clusters", feature_label(clusters, spec, fid), "operating_since",
                        "operates but has no establishment extent; its operating area is 0",
                        "add its establishment decision to approved_extents", warn,
                        "đang hoạt động nhưng chưa có phạm vi thành lập; diện tích hoạt động là 0",
                        "thêm quyết định thành lập của cụm vào approved_extents")
            )
    return problems
