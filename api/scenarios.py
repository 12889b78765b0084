"""Expansion scenarios over HTTP: the example scenarios, a user's own, and their clusters.

The example scenarios are the ``*.yaml`` files of a ``scenarios/`` folder beside the
GeoPackage or, when the GeoPackage lies in a folder named ``layers``, beside that folder
(the repository's layout: ``layers/thai_binh.gpkg`` and ``scenarios/fast_growth.yaml``);
the app's settings have no field for it. ``current`` is the plan as it stands (no change).
The files are read when the app starts; each scenario is checked (projection, rules,
answers: :func:`ccn_gis.scenario_check.check_scenario`) on its first request, then its
JSON is kept.

A user's scenario is posted as YAML (or JSON) to ``/scenarios/check``; its geometries must
be inline GeoJSON (a server reads no file a client names). Every mistake in it is a 400
that names the line (:mod:`ccn_gis_api.scenario_upload`).

Checks are heavy and a stranger may send one, so they are bounded (``docs/security.md``):
the body's size and media type (:mod:`ccn_gis_api.scenario_upload`); the YAML's values,
depth and aliases while it is read (:mod:`ccn_gis.io.scenario_file`); the number of
changes; the findings listed per rule; the answer's size; the time and how many checks
run at once (:mod:`ccn_gis_api.scenario_runner`). The response models are in
:mod:`ccn_gis_api.scenario_models`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccn_gis.dataset import Dataset
from ccn_gis.io.landuse import land_use_measure
from ccn_gis.io.scenarios import read_province_scenario
from ccn_gis.io.store import LayerStore
from ccn_gis.projection import project
from ccn_gis.scenario import Scenario, ScenarioError, build_scenario
from ccn_gis.scenario_check import (
    CheckedScenario,
    check_scenario,
    cluster_changes,
    cluster_findings,
)
from ccn_gis.settings import Lang, RuleSettings, rule_settings
from ccn_gis_api.catalog import rfc7946_geometries
from ccn_gis_api.limits import SingleFlight
from ccn_gis_api.scenario_models import ScenarioCheck, ScenarioClusters, ScenarioInfo

__all__ = ["CURRENT", "ScenarioBook", "ScenarioCheck", "ScenarioClusters", "ScenarioInfo",
           "scenario_clusters", "scenarios_dir"]

CURRENT = "current"


def scenarios_dir(layers: str | Path) -> Path | None:
    """The folder of example scenarios for the GeoPackage ``layers``, if there is one.

    ``scenarios/`` beside the GeoPackage, else beside its folder when that is named
    ``layers``.

    Examples
    --------
    >>> scenarios_dir("layers/thai_binh.gpkg").name
    'scenarios'
    """
    folder = Path(layers).parent
    for candidate in (folder / "scenarios",
                      folder.parent / "scenarios" if folder.resolve().name == "layers" else None):
        if candidate is not None and candidate.is_dir():
            return candidate
    return None


@dataclass
class _Entry:
    info: ScenarioInfo
    scenario: Scenario | None


def _read_examples(dataset: Dataset, folder: Path | None,
                   defaults: RuleSettings) -> dict[str, _Entry]:
    current = build_scenario(None, dataset, defaults=defaults)
    entries = {CURRENT: _Entry(ScenarioInfo(id=CURRENT, name=current.name,
                                            horizon=current.horizon), current)}
    if folder is None:
        return entries
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    for path in files:
        if path.stem == CURRENT or path.stem in entries:
            continue
        shown = f"{folder.name}/{path.name}"
        try:
            scenario = read_province_scenario(dataset, path)
        except ScenarioError as err:
            entries[path.stem] = _Entry(ScenarioInfo(
                id=path.stem, name=path.stem, source=shown,
                error=str(err).replace(str(path), shown)), None)
            continue
        entries[path.stem] = _Entry(ScenarioInfo(id=path.stem, name=scenario.name, source=shown,
                                                 horizon=scenario.horizon), scenario)
    return entries


def scenario_clusters(
    dataset: Dataset, checked: CheckedScenario, /, *, removed: bool = False,
) -> dict[str, Any]:
    """The clusters of a checked scenario at its horizon as a GeoJSON FeatureCollection
    (RFC 7946): their figures then, the scenario's change and the rules they break.

    With ``removed``, clusters the scenario takes out of the plan are included too
    (``in_plan`` false).
    """
    scenario = checked.scenario
    plan = project(dataset, scenario).plan
    horizon = {r.cluster_id: r for r in checked.years if r.year == scenario.horizon}
    changes = cluster_changes(scenario.changes)  # the most telling: add, remove, …
    found = cluster_findings(checked.findings)
    ids = [cid for cid in plan.index if cid in horizon and (horizon[cid].in_plan or removed)]
    geoms = rfc7946_geometries(np.asarray([plan.at[cid, "geometry"] for cid in ids],
                                          dtype=object), dataset.settings.area_crs)
    features = []
    for cid, geom in zip(ids, geoms, strict=True):
        row = horizon[cid]
        change = changes.get(cid)
        broken = found.get(cid)
        kind = plan.at[cid, "kind"]
        features.append({
            "type": "Feature", "id": cid,
            "geometry": orjson.loads(shapely.to_geojson(geom)),
            "properties": {
                "cluster_id": cid, "name": str(plan.at[cid, "name"]),
                "admin_code": str(plan.at[cid, "admin_code"]),
                "kind": None if kind is None else str(kind),
                "in_plan": bool(row.in_plan), "established": bool(row.established),
                "plan_ha": row.plan_ha, "established_ha": row.established_ha,
                "industrial_ha": row.industrial_ha, "leased_ha": row.leased_ha,
                "occupancy": row.occupancy,
                "change": None if change is None else change.kind.value,
                "change_year": None if change is None else change.year,
                "findings": [] if broken is None else [r.value for r in broken.rules],
                "severity": None if broken is None else broken.severity.value,
            },
        })
    return {"type": "FeatureCollection", "scenario": scenario.name,
            "horizon": scenario.horizon, "features": features}


class ScenarioBook:
    """The scenarios of one revision of the layers: the plan as it stands and the
    examples, read against that revision, and the answers computed from it (kept).

    Checks run in the server's
    :class:`~ccn_gis_api.scenario_runner.ScenarioRunner`.
    """

    def __init__(self, dataset: Dataset, store: LayerStore, folder: Path | None) -> None:
        self.dataset = dataset
        self.defaults = rule_settings(dataset.settings)
        self.entries = _read_examples(dataset, folder, self.defaults)
        # one check per scenario and language, shared by concurrent requests; examples are few
        self.answers: SingleFlight[tuple[str, Lang], bytes] = SingleFlight(
            maxsize=4 * len(self.entries))
        self.geojson: SingleFlight[tuple[str, bool], bytes] = SingleFlight(
            maxsize=4 * len(self.entries))
        measure = land_use_measure(dataset, store)
        lock = threading.Lock()  # the land-use raster is one open dataset

        def measured(geoms: list[object]) -> Any:
            with lock:
                return measure(geoms)  # type: ignore[misc]

        self.measure = measured if measure is not None else None

    def language(self, lang: Lang | None) -> Lang:
        """``lang``, else the province's language."""
        return lang or self.dataset.settings.lang

    def scenario(self, scenario_id: str) -> Scenario:
        """The scenario ``scenario_id``; 404 when there is none or its file is wrong."""
        entry = self.entries.get(scenario_id)
        if entry is None:
            raise StarletteHTTPException(
                404, f"no scenario {scenario_id!r}; scenarios: {', '.join(self.entries)}")
        if entry.scenario is None:
            raise StarletteHTTPException(
                404, f"scenario {scenario_id!r} cannot be checked: {entry.info.error}; fix "
                "the file and restart the server")
        return entry.scenario

    def check(self, scenario: Scenario, lang: Lang) -> CheckedScenario:
        """The check itself, in the calling thread (under the caller's deadline)."""
        return check_scenario(self.dataset, scenario, land_use_under=self.measure, lang=lang)

    def checked(self, scenario_id: str, lang: Lang) -> CheckedScenario:
        """Example ``scenario_id`` checked, naming the file it came from."""
        checked = self.check(self.scenario(scenario_id), lang)
        return checked.with_source(self.entries[scenario_id].info.source or "")

    def clusters(self, scenario_id: str, answered: bytes, lang: Lang, *,
                 removed: bool) -> bytes:
        """The clusters of example ``scenario_id`` at its horizon, from its kept answer."""
        checked = CheckedScenario.from_json(self.scenario(scenario_id),
                                            orjson.loads(answered), lang=lang)
        return dumps(scenario_clusters(self.dataset, checked, removed=removed))


def dumps(value: Any) -> bytes:
    """``value`` as JSON bytes; NaN and infinity as null."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
