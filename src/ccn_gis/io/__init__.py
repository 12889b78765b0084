"""Reading a province's layers: storage implementations and the loaders on top."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from ccn_gis.dataset import Dataset, build_dataset
from ccn_gis.errors import SettingsError, ValidationError
from ccn_gis.io.gpkg import GeoPackageStore, write_settings
from ccn_gis.io.store import LayerStore
from ccn_gis.model import LAYERS, SETTINGS_TABLE
from ccn_gis.problems import Problem, Severity
from ccn_gis.settings import ProvinceSettings, check_settings
from ccn_gis.stored import RawLayer
from ccn_gis.validation import check_layers

__all__ = [
    "GeoPackageStore",
    "LayerStore",
    "RawLayer",
    "load_dataset",
    "open_store",
    "read_settings",
    "settings_problems",
    "validate_store",
    "write_settings",
]


def open_store(location: str | Path | LayerStore) -> LayerStore:
    """Return the store at ``location``: a GeoPackage path (PostGIS in its own issue)."""
    if isinstance(location, LayerStore):
        return location
    return GeoPackageStore(location)


def read_settings(store: LayerStore) -> ProvinceSettings:
    """Return the province settings kept with the layers (defaults when absent)."""
    return ProvinceSettings.from_table(store.read_settings())


def settings_problems(rows: Mapping[str, str | None]) -> list[Problem]:
    """The problems of the rows of a settings table, one per key (:func:`check_settings`).

    A malformed or out-of-range value, rule thresholds included, is an error; a key
    ccn-gis does not know is a warning (it is ignored).
    """
    problems = []
    for issue in check_settings(rows):
        if issue.is_error:
            problems.append(Problem(
                SETTINGS_TABLE, issue.key, "value", issue.message,
                f"correct it with ccn-gis settings --set {issue.key}=VALUE, or take the "
                f"default with --set {issue.key}=",
                message_vi=issue.message_vi,
                hint_vi=f"sửa bằng ccn-gis settings --set {issue.key}=GIÁ_TRỊ, hoặc dùng giá "
                f"trị mặc định với --set {issue.key}="))
        else:
            problems.append(Problem(
                SETTINGS_TABLE, issue.key, "key", issue.message,
                "correct the key if it is a typo, or delete the row",
                Severity.WARNING,
                message_vi=issue.message_vi,
                hint_vi="sửa tên khoá nếu gõ nhầm, hoặc xoá dòng này"))
    return problems


def _checked_settings(store: LayerStore) -> tuple[ProvinceSettings, list[Problem]]:
    """The store's settings, leaving out the malformed keys, and the problems of all of them."""
    rows = store.read_settings()
    problems = settings_problems(rows)
    bad = {p.feature for p in problems if p.is_error}
    try:
        settings = ProvinceSettings.from_table({k: v for k, v in rows.items() if k not in bad})
    except SettingsError as err:  # pragma: no cover - every key was checked on its own
        problems.append(Problem(SETTINGS_TABLE, None, "value", str(err),
                                "correct the value, or delete the row to take the default"))
        settings = ProvinceSettings()
    return settings, problems


def _read_all(store: LayerStore) -> dict[str, RawLayer | None]:
    names = set(store.layer_names())
    return {name: store.read_layer(name) if name in names else None for name in LAYERS}


def validate_store(location: str | Path | LayerStore) -> list[Problem]:
    """Return every problem of the layers at ``location`` (an empty list when clean).

    The settings are checked as :func:`load_dataset` and the web server use them: a rule
    threshold out of range is an error here exactly when it stops them.

    Examples
    --------
    >>> [str(p) for p in validate_store("layers/thai_binh.gpkg") if p.is_error]  # doctest: +SKIP
    []
    """
    store = open_store(location)
    settings, problems = _checked_settings(store)
    _, found = check_layers(_read_all(store), settings.area_crs)
    return problems + found


def load_dataset(location: str | Path | LayerStore) -> Dataset:
    """Read, check and normalise the layers at ``location``.

    Raises
    ------
    ValidationError
        With every problem found, when any is an error (a malformed setting, rule
        thresholds included, is one).
    DataSourceError
        When the file cannot be opened at all.
    """
    store = open_store(location)
    settings, problems = _checked_settings(store)
    if any(p.is_error for p in problems):
        raise ValidationError(problems, store.source)
    revision = store.revision  # before reading: a write meanwhile makes it stale, not wrong
    dataset = build_dataset(_read_all(store), settings, source=store.source,
                            revision=revision)
    if not problems:
        return dataset
    return dataclasses.replace(dataset, warnings=(*problems, *dataset.warnings))
