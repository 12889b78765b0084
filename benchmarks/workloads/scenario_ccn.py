"""ccn-gis: a scenario checked to 2030 over the whole dataset (``ccn-gis scenario check``).

``python scenario_ccn.py GPKG SCENARIO.yaml``: load, the land-use measure (raster beside
the file), read the scenario, ``check_scenario``; time of each phase and peak memory.
"""

from __future__ import annotations

import sys

from _common import Phases, report, run


def main(argv: list[str]) -> None:
    gpkg, scenario_path = argv
    phases = Phases()
    with phases("import"):
        from ccn_gis.io import load_dataset, open_store
        from ccn_gis.io.landuse import land_use_measure
        from ccn_gis.io.scenario_file import read_scenario
        from ccn_gis.scenario_check import check_scenario
        from ccn_gis.settings import rule_settings
    with phases("load_dataset"):
        dataset = load_dataset(gpkg)
    with phases("land_use_measure"):
        measure = land_use_measure(dataset, open_store(gpkg))
    with phases("read_scenario"):
        scenario = read_scenario(scenario_path, dataset,
                                 defaults=rule_settings(dataset.settings))
    with phases("check_scenario"):
        result = check_scenario(dataset, scenario, land_use_under=measure, lang="en")
    report(phases, changes=len(result.scenario.changes), findings=len(result.findings),
           years_rows=len(result.years), rice_converted_ha=result.answers.rice_converted_ha)


if __name__ == "__main__":
    run(main, sys.argv[1:])
