"""Reading scenario files: YAML with the line of every key, and the GeoJSON files they name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ccn_gis.dataset import Dataset
from ccn_gis.scenario import RuleSettings, Scenario, ScenarioError, build_scenario


def _plain(node: yaml.Node, path: tuple, lines: dict[tuple, int]) -> Any:
    """Turn a composed YAML node into Python values, recording each key's line."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            if key in result:
                raise ScenarioError(f"line {key_node.start_mark.line + 1}: the key {key!r} is "
                                    "given twice")
            result[key] = _plain(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*path, i), lines) for i, item in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def load_yaml(text: str, *, source: str = "") -> tuple[Any, dict[tuple, int]]:
    """Parse YAML; return the document and the line of every key by its path."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        raise ScenarioError(f"{source}: not valid YAML ({err})") from err
    lines: dict[tuple, int] = {}
    if node is None:
        return None, lines
    try:
        return _plain(node, (), lines), lines
    except ScenarioError as err:
        raise ScenarioError(f"{source}, {err}") from err


def read_scenario(
    path: str | Path | None, dataset: Dataset, /, *, defaults: RuleSettings | None = None
) -> Scenario:
    """Read and check the scenario file at ``path`` (``None``: the plan as it stands).

    Geometries may be inline GeoJSON or ``{file: expansion.geojson}``, relative to the
    scenario file.

    Raises
    ------
    ScenarioError
        Naming the file, the line and the key of the first problem.
    """
    if path is None:
        return build_scenario(None, dataset, defaults=defaults)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError(f"{path}: cannot be read ({err})") from err
    document, lines = load_yaml(text, source=str(path))
    if document is not None and not isinstance(document, dict):
        raise ScenarioError(f"{path}: a scenario is a mapping with name, horizon, changes…")
    geometries = {}
    for i, change in enumerate((document or {}).get("changes") or []):
        reference = change.get("geometry") if isinstance(change, dict) else None
        if isinstance(reference, dict) and set(reference) == {"file"}:
            target = path.parent / str(reference["file"])
            try:
                geometries[("changes", i, "geometry")] = json.loads(
                    target.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                line = lines.get(("changes", i, "geometry"))
                raise ScenarioError(f"{path}, line {line}: changes[{i}].geometry: cannot read "
                                    f"{target} ({err})") from err
    return build_scenario(document, dataset, lines=lines, source=str(path), defaults=defaults,
                          geometries=geometries)
