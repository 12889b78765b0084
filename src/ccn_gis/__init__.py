"""ccn-gis: industrial clusters (cụm công nghiệp) of a Vietnamese province as GIS layers.

The library reads a province's layers (:func:`load_dataset`), checks them against
the data model (:func:`validate_store`) and derives the province's figures from
geometry (:func:`province_figures`, :func:`figures_by_admin`,
:func:`figures_by_cluster`), with areas in the VN-2000 plane system.
"""

from ccn_gis.dataset import Dataset
from ccn_gis.errors import (
    CcnGisError,
    CrsError,
    DataSourceError,
    LayerNotFoundError,
    SettingsError,
    UnknownValueError,
    ValidationError,
)
from ccn_gis.figures import Figures, figures_by_admin, figures_by_cluster, province_figures
from ccn_gis.io import load_dataset, open_store, validate_store
from ccn_gis.problems import Problem, Severity
from ccn_gis.settings import AppSettings, ProvinceSettings

__version__ = "0.1.0"

__all__ = [
    "AppSettings",
    "CcnGisError",
    "CrsError",
    "DataSourceError",
    "Dataset",
    "Figures",
    "LayerNotFoundError",
    "Problem",
    "ProvinceSettings",
    "SettingsError",
    "Severity",
    "UnknownValueError",
    "ValidationError",
    "figures_by_admin",
    "figures_by_cluster",
    "load_dataset",
    "open_store",
    "province_figures",
    "validate_store",
]
