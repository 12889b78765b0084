"""Scenario files checked as ``ccn-gis scenario check`` checks them.

A file is read with the province's rule settings as its defaults
(:func:`ccn_gis.settings.rule_settings`, :func:`ccn_gis.io.scenario_file.read_scenario`);
land use under its geometries is measured from the province's raster, else its
``landuse_plan`` layer (:func:`ccn_gis.io.landuse.land_use_measure`), opened once for all
the files checked together; then :func:`ccn_gis.scenario_check.check_scenario`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ccn_gis.dataset import Dataset
from ccn_gis.io.landuse import land_use_measure
from ccn_gis.io.scenario_file import read_scenario
from ccn_gis.io.store import LayerStore
from ccn_gis.language import Lang
from ccn_gis.scenario import Scenario
from ccn_gis.scenario_check import CheckedScenario, check_scenario
from ccn_gis.settings import rule_settings


def read_province_scenario(dataset: Dataset, path: str | Path | None, /) -> Scenario:
    """Return the scenario file ``path`` (``None``: the plan as it stands), the province's
    rule settings filling in the rules the file does not set.

    Raises
    ------
    ccn_gis.scenario.ScenarioError
        Naming the file, the line and what to fix.

    Examples
    --------
    >>> from ccn_gis.io import load_dataset
    >>> dataset = load_dataset("layers/thai_binh.gpkg")
    >>> scenario = read_province_scenario(dataset, "scenarios/fast_growth.yaml")
    >>> scenario.source, scenario.horizon
    ('scenarios/fast_growth.yaml', 2030)
    """
    return read_scenario(path, dataset, defaults=rule_settings(dataset.settings))


def check_scenario_files(
    dataset: Dataset, paths: Sequence[str | Path | None], store: LayerStore | None = None,
    /, *, lang: Lang = "vi",
) -> list[CheckedScenario]:
    """Return each scenario file of ``paths`` checked, in their order.

    Each is :func:`read_province_scenario`; land use comes from the province's raster,
    else from the ``landuse_plan`` layer of ``store`` (without either, PROTECTED_LAND is
    not checked and the rice land converted is ``None``). ``lang`` is the language of
    the findings' ``message``.

    Raises
    ------
    ccn_gis.scenario.ScenarioError
        At the first file that is not a valid scenario.
    """
    measure = land_use_measure(dataset, store)
    return [check_scenario(dataset, read_province_scenario(dataset, path),
                           land_use_under=measure, lang=lang) for path in paths]


def check_scenario_file(
    dataset: Dataset, path: str | Path | None, store: LayerStore | None = None, /, *,
    lang: Lang = "vi",
) -> CheckedScenario:
    """Return the scenario file ``path`` checked (:func:`check_scenario_files` of one).

    Examples
    --------
    >>> from ccn_gis.io import load_dataset, open_store
    >>> dataset = load_dataset("layers/thai_binh.gpkg")
    >>> checked = check_scenario_file(dataset, "scenarios/fast_growth.yaml",
    ...                               open_store("layers/thai_binh.gpkg"))
    >>> checked.scenario.name == checked.to_json()["scenario"]
    True
    >>> checked.answers.rice_converted_ha is not None  # measured on the raster
    True
    """
    return check_scenario_files(dataset, [path], store, lang=lang)[0]
