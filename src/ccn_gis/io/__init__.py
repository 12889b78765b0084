"""Reading a province's layers: storage implementations and the loaders on top."""

from __future__ import annotations

from pathlib import Path

from ccn_gis.dataset import Dataset, build_dataset
from ccn_gis.errors import SettingsError, ValidationError
from ccn_gis.io.gpkg import GeoPackageStore, write_settings
from ccn_gis.io.store import LayerStore
from ccn_gis.model import LAYERS, SETTINGS_TABLE
from ccn_gis.problems import Problem
from ccn_gis.settings import ProvinceSettings
from ccn_gis.stored import RawLayer
from ccn_gis.validation import check_layers

__all__ = [
    "GeoPackageStore",
    "LayerStore",
    "RawLayer",
    "load_dataset",
    "open_store",
    "read_settings",
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


def _read_all(store: LayerStore) -> dict[str, RawLayer | None]:
    names = set(store.layer_names())
    return {name: store.read_layer(name) if name in names else None for name in LAYERS}


def validate_store(location: str | Path | LayerStore) -> list[Problem]:
    """Return every problem of the layers at ``location`` (an empty list when clean).

    Examples
    --------
    >>> [str(p) for p in validate_store("layers/thai_binh.gpkg") if p.is_error]  # doctest: +SKIP
    []
    """
    store = open_store(location)
    problems: list[Problem] = []
    try:
        settings = read_settings(store)
    except SettingsError as err:
        problems.append(Problem(SETTINGS_TABLE, None, "value", str(err),
                                "correct the value, or delete the row to take the default"))
        settings = ProvinceSettings()
    _, found = check_layers(_read_all(store), settings.area_crs)
    return problems + found


def load_dataset(location: str | Path | LayerStore) -> Dataset:
    """Read, check and normalise the layers at ``location``.

    Raises
    ------
    ValidationError
        With every problem found, when any is an error.
    DataSourceError
        When the file cannot be opened at all.
    """
    store = open_store(location)
    try:
        settings = read_settings(store)
    except SettingsError as err:
        raise ValidationError(
            [Problem(SETTINGS_TABLE, None, "value", str(err),
                     "correct the value, or delete the row to take the default")],
            store.source,
        ) from err
    return build_dataset(_read_all(store), settings, source=store.source)
