"""The GeoPackage store: bulk reads with pyogrio, record by record with fiona on failure.

The file is only ever opened read-only; nothing here writes to it except
:func:`write_settings`, which a user calls on purpose.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import fiona
import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError
from pyogrio.errors import DataSourceError as _PyogrioSourceError
from pyproj import CRS

from ccn_gis.errors import DataSourceError, LayerNotFoundError
from ccn_gis.model import SETTINGS_TABLE
from ccn_gis.problems import Problem
from ccn_gis.stored import RawLayer


class GeoPackageStore:
    """Layers kept in one GeoPackage file.

    Parameters
    ----------
    path
        The ``.gpkg`` file.

    Raises
    ------
    DataSourceError
        When the file does not exist or is not a readable GeoPackage.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DataSourceError(
                f"{self.path}: no such file; give the GeoPackage with --layers PATH "
                "or the CCN_GIS_LAYERS environment variable"
            )
        try:
            listed = pyogrio.list_layers(self.path)
        except (_PyogrioSourceError, OSError) as err:
            raise DataSourceError(
                f"{self.path}: not a readable GeoPackage ({err}); open it in QGIS to check, "
                "or export the layers again with 'Save Features As… → GeoPackage'"
            ) from err
        self._geometry_types = {str(name): gtype for name, gtype in listed}

    @property
    def source(self) -> str:
        """The path of the file."""
        return str(self.path)

    def layer_names(self) -> tuple[str, ...]:
        """Return the names of the file's layers and tables."""
        return tuple(self._geometry_types)

    def read_layer(self, name: str) -> RawLayer:
        """Return layer ``name``, falling back to fiona to name unreadable features."""
        if name not in self._geometry_types:
            raise LayerNotFoundError(f"{self.path}: no layer {name!r}")
        geometry_type = self._geometry_types[name]
        try:
            frame = _read_arrow_frame(self.path, name)
        except (_PyogrioSourceError, DataLayerError, OSError, ValueError,
                shapely.errors.GEOSException) as err:
            return self._read_record_by_record(name, geometry_type, err)
        crs = _layer_crs(frame) if geometry_type is not None else None
        return RawLayer(name, frame, crs, geometry_type)

    def _read_record_by_record(
        self, name: str, geometry_type: str | None, err: Exception
    ) -> RawLayer:
        """Read what can be read with fiona, one problem per feature that cannot."""
        problems: list[Problem] = []
        rows: list[dict] = []
        fids: list[int] = []
        geoms = []
        crs: CRS | None = None
        try:
            with fiona.open(self.path, layer=name) as src:
                crs = CRS.from_user_input(src.crs.to_wkt()) if src.crs else None
                iterator = iter(src)
                position = 0
                while True:
                    position += 1
                    try:
                        feature = next(iterator)
                    except StopIteration:
                        break
                    except Exception as bad:  # noqa: BLE001 - fiona raises many kinds here
                        problems.append(
                            Problem(name, f"fid {position}", "geometry",
                                    f"the feature cannot be read ({bad})",
                                    "delete or redraw this feature in QGIS")
                        )
                        continue
                    fids.append(int(feature.id))
                    rows.append(dict(feature.properties))
                    geom = feature.geometry
                    geoms.append(shapely.geometry.shape(geom) if geom is not None else None)
        except Exception as bad:  # noqa: BLE001
            raise DataSourceError(
                f"{self.path}: layer {name!r} cannot be read ({err}; {bad}); open it in QGIS "
                "and export it again"
            ) from bad
        frame = pd.DataFrame(rows, index=pd.Index(fids, name="fid"))
        if geometry_type is not None:
            frame = gpd.GeoDataFrame(frame, geometry=geoms, crs=crs)
        if not problems:
            problems.append(
                Problem(name, None, None, f"the layer could not be read in bulk ({err})",
                        "open it in QGIS and export it again")
            )
        return RawLayer(name, frame, crs, geometry_type, tuple(problems))

    def read_settings(self) -> dict[str, str | None]:
        """Return the rows of the ``ccn_settings`` table, or ``{}`` when it is absent."""
        if SETTINGS_TABLE not in self._geometry_types:
            return {}
        frame = pyogrio.read_dataframe(self.path, layer=SETTINGS_TABLE, read_geometry=False)
        if "key" not in frame.columns or "value" not in frame.columns:
            return {}
        return {
            str(k): (None if pd.isna(v) else str(v))
            for k, v in zip(frame["key"], frame["value"], strict=True)
        }


def _read_arrow_frame(path: Path, name: str) -> pd.DataFrame:
    """Layer ``name`` as ``pyogrio.read_dataframe(use_arrow=True, fid_as_index=True)``
    returns it (``tests/test_validation.py`` compares them), a fifth faster on 500,000
    parcels: the WKB column is decoded straight from Arrow instead of passing through
    pandas first.
    """
    meta, table = pyogrio.read_arrow(path, layer=name, return_fids=True)
    geometry_name = meta["geometry_name"] or "wkb_geometry"
    wkb = table.column(geometry_name) if geometry_name in table.column_names else None
    if wkb is not None:
        table = table.drop_columns([geometry_name])
    frame = table.to_pandas().set_index(meta["fid_column"])
    frame.index.names = ["fid"]
    if wkb is None:
        return frame
    geometries = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False))
    return gpd.GeoDataFrame(frame, geometry=geometries, crs=meta["crs"])


def _layer_crs(frame: pd.DataFrame) -> CRS | None:
    crs = getattr(frame, "crs", None)
    return CRS.from_user_input(crs) if crs is not None else None


def write_settings(path: str | Path, rows: dict[str, str]) -> None:
    """Write (replace) the ``ccn_settings`` table of the GeoPackage at ``path``.

    Examples
    --------
    >>> write_settings("nam_dinh.gpkg", {"area_crs": "EPSG:9210"})  # doctest: +SKIP
    """
    frame = pd.DataFrame({"key": list(rows), "value": [rows[k] for k in rows]})
    if SETTINGS_TABLE in {str(n) for n, _ in pyogrio.list_layers(path)}:
        with sqlite3.connect(path) as con:  # GDAL cannot overwrite one table of a GeoPackage
            con.execute(f'DELETE FROM "{SETTINGS_TABLE}"')
            con.executemany(
                f'INSERT INTO "{SETTINGS_TABLE}" (key, value) VALUES (?, ?)', list(rows.items())
            )
        return
    pyogrio.write_dataframe(frame, path, layer=SETTINGS_TABLE, driver="GPKG", append=True)
