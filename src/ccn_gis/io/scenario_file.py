"""Reading scenario files: bounded YAML with the line of every key, and the GeoJSON they name.

A scenario may come from a stranger (``POST /scenarios/check``), so the reader bounds its
work before anything is built: the document is read from libyaml's event stream (no
recursion, however deep the nesting), every node is counted — an alias counts as many
nodes as the one it repeats, so a "billion laughs" document stops at the limit instead of
growing without end — and the nesting depth, the number of aliases and the length of
``changes`` are limited while reading. Scalars are resolved by YAML's safe rules (no
tags that build Python objects); merge keys (``<<: *base``) are honoured.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.resolver import Resolver

from ccn_gis.dataset import Dataset
from ccn_gis.scenario import (
    MAX_CHANGES,
    RuleSettings,
    Scenario,
    ScenarioError,
    build_scenario,
    shorten,
)

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed


@dataclass(frozen=True)
class YamlLimits:
    """How much a scenario document may hold; beyond, reading stops with an error.

    ``nodes`` counts every scalar, list and mapping, aliases expanded; a scenario of
    500 changes with geometries of a few hundred vertices holds about 400,000.
    """

    nodes: int = 500_000
    depth: int = 32
    aliases: int = 1_000
    changes: int = MAX_CHANGES


DEFAULT_LIMITS = YamlLimits()
MERGE = "<<"
_SCALAR_TAGS = {
    "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float", "tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp",
}


class _Frame:
    """A list or mapping being built, with the path of its place in the document."""

    __slots__ = ("anchor", "explicit", "key", "line", "path", "value")

    def __init__(self, value: list | dict, path: tuple, anchor: str | None, line: int) -> None:
        self.value = value
        self.path = path
        self.anchor = anchor
        self.key: Any = _NO_KEY  # a mapping's key waiting for its value
        self.explicit: set = set()  # a mapping's own keys (not merged in)
        self.line = line


_NO_KEY = object()


class _Reader:
    def __init__(self, source: str, limits: YamlLimits) -> None:
        self.source = source
        self.limits = limits
        self.nodes = 0
        self.aliases = 0
        self.anchors: dict[str, tuple[Any, int]] = {}  # value and its size in nodes
        self.lines: dict[tuple, int] = {}
        self.resolver = Resolver()
        self.constructor = SafeConstructor()
        self.opened: list[int] = []  # the node count when each open container began

    def fail(self, line: int | None, message: str) -> ScenarioError:
        where = f"{self.source}, line {line}" if line else self.source
        return ScenarioError(f"{where}: {message}")

    def count(self, nodes: int, line: int) -> None:
        self.nodes += nodes
        if self.nodes > self.limits.nodes:
            raise self.fail(line, f"the document holds more than {self.limits.nodes:,} values "
                            "(aliases counted as what they repeat); a scenario needs far fewer")

    def scalar(self, event: yaml.ScalarEvent) -> Any:
        line = event.start_mark.line + 1
        tag = event.tag
        if tag in (None, "!"):
            tag = self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag not in _SCALAR_TAGS:
            raise self.fail(line, f"the tag {tag!r} is not allowed; write plain values "
                            "(text, numbers, true/false, dates)")
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark)
        try:
            return self.constructor.construct_object(node, deep=True)
        except (ConstructorError, ValueError, OverflowError) as err:
            raise self.fail(line, f"{shorten(event.value)!r} is not a valid "
                            f"{tag.rsplit(':', 1)[-1]} ({shorten(str(err))})") from err

    def child_path(self, parent: _Frame | None) -> tuple:
        if parent is None:
            return ()
        if isinstance(parent.value, list):
            return (*parent.path, len(parent.value))
        return (*parent.path, parent.key)

    def add(self, stack: list[_Frame], value: Any, line: int) -> Any:
        """Put ``value`` into the frame on top of the stack; return it when it is the root."""
        if not stack:
            return value
        top = stack[-1]
        if isinstance(top.value, list):
            if top.path == ("changes",) and len(top.value) >= self.limits.changes:
                raise self.fail(top.line, f"changes: more than {self.limits.changes} changes; "
                                "split the scenario")
            top.value.append(value)
            return _NO_KEY
        if top.key is _NO_KEY:  # a key
            if not _hashable(value):
                raise self.fail(line, "a key must be plain text or a number, not a list or "
                                "mapping")
            if value in top.explicit:
                raise self.fail(line, f"the key {value!r} is given twice")
            if value != MERGE:
                top.explicit.add(value)
            top.key = value
            if value != MERGE:
                self.lines[(*top.path, value)] = line
            return _NO_KEY
        key, top.key = top.key, _NO_KEY
        if key == MERGE:
            self.merge(top, value, line)
        else:
            top.value[key] = value  # over a merged value of the same key
        return _NO_KEY

    def merge(self, top: _Frame, value: Any, line: int) -> None:
        """``<<: *base`` or ``<<: [*a, *b]``: keys not given in the mapping come from them."""
        target = top.value
        assert isinstance(target, dict)
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(s, dict) for s in sources):
            raise self.fail(line, "a merge key (<<) takes a mapping or a list of mappings")
        for source in sources:  # the mapping's own keys win, then the first source's
            for key, item in source.items():
                if key not in top.explicit:
                    target.setdefault(key, item)

    def read(self, text: str) -> Any:
        stack: list[_Frame] = []
        value: Any
        root: Any = None
        documents = 0
        try:
            events = yaml.parse(text, Loader=_Parser)
            for event in events:
                if isinstance(event, yaml.DocumentStartEvent):
                    documents += 1
                    if documents > 1:
                        raise self.fail(event.start_mark.line + 1, "more than one YAML "
                                        "document (---); a scenario is one document")
                    continue
                if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent,
                                      yaml.DocumentEndEvent)):
                    continue
                line = event.start_mark.line + 1
                if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                    tag = event.tag
                    if tag not in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
                        raise self.fail(line, f"the tag {tag!r} is not allowed")
                    self.count(1, line)
                    if len(stack) >= self.limits.depth:
                        raise self.fail(line, f"nested more than {self.limits.depth} levels "
                                        "deep")
                    path = self.child_path(stack[-1] if stack else None)
                    self.lines.setdefault(path, line)
                    container: list | dict = (
                        {} if isinstance(event, yaml.MappingStartEvent) else [])
                    stack.append(_Frame(container, path, event.anchor, line))
                    self.opened.append(self.nodes)
                    continue
                if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                    frame = stack.pop()
                    size = self.nodes - self.opened.pop() + 1
                    if frame.anchor is not None:
                        self.anchors[frame.anchor] = (frame.value, size)
                    value = frame.value
                    result = self.add(stack, value, frame.line)
                    if not stack:
                        root = result
                    continue
                if isinstance(event, yaml.AliasEvent):
                    self.aliases += 1
                    if self.aliases > self.limits.aliases:
                        raise self.fail(line, f"more than {self.limits.aliases:,} aliases (*name)")
                    if event.anchor not in self.anchors:
                        raise self.fail(line, f"the alias *{event.anchor} names no anchor "
                                        "defined before it")
                    value, size = self.anchors[event.anchor]
                    self.count(size, line)
                    path = self.child_path(stack[-1] if stack else None)
                    self.lines.setdefault(path, line)
                    result = self.add(stack, value, line)
                    if not stack:
                        root = result
                    continue
                if isinstance(event, yaml.ScalarEvent):
                    self.count(1, line)
                    path = self.child_path(stack[-1] if stack else None)
                    is_key = bool(stack) and isinstance(stack[-1].value, dict) and (
                        stack[-1].key is _NO_KEY)
                    if is_key and event.value == MERGE and event.tag is None:
                        value = MERGE
                    else:
                        value = self.scalar(event)
                    if not is_key:
                        self.lines.setdefault(path, line)
                    if event.anchor is not None:
                        self.anchors[event.anchor] = (value, 1)
                    result = self.add(stack, value, line)
                    if not stack:
                        root = result
                    continue
        except yaml.YAMLError as err:
            raise ScenarioError(f"{self.source}: not valid YAML ({err})") from err
        return root


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def load_yaml(
    text: str, *, source: str = "", limits: YamlLimits = DEFAULT_LIMITS
) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML within ``limits``; return the document and the line of every key by its path.

    Raises
    ------
    ScenarioError
        For malformed YAML, a tag other than the plain ones, or a document beyond
        ``limits``; the message names ``source`` and the line.

    Examples
    --------
    >>> document, lines = load_yaml("base: &b {horizon: 2030}\\nplan:\\n  <<: *b\\n  name: A")
    >>> document["plan"], lines[("plan", "name")]
    ({'horizon': 2030, 'name': 'A'}, 4)
    """
    reader = _Reader(source or "scenario", limits)
    document = reader.read(text)
    return document, reader.lines


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
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ScenarioError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes; a scenario "
                                "file is a few kilobytes")
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError(f"{path}: cannot be read ({err})") from err
    document, lines = load_yaml(text, source=str(path))
    if document is not None and not isinstance(document, Mapping):
        raise ScenarioError(f"{path}: a scenario is a mapping with name, horizon, changes…")
    geometries = {}
    changes = (document or {}).get("changes") or []
    for i, change in enumerate(changes if isinstance(changes, list) else []):
        reference = change.get("geometry") if isinstance(change, Mapping) else None
        if isinstance(reference, Mapping) and set(reference) == {"file"}:
            target = path.parent / str(reference["file"])
            line = lines.get(("changes", i, "geometry"))
            try:
                if target.stat().st_size > MAX_FILE_BYTES:
                    raise ScenarioError(f"{path}, line {line}: changes[{i}].geometry: {target} "
                                        f"is larger than {MAX_FILE_BYTES:,} bytes")
                geometries[("changes", i, "geometry")] = json.loads(
                    target.read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError) as err:
                raise ScenarioError(f"{path}, line {line}: changes[{i}].geometry: cannot read "
                                    f"{target} ({err})") from err
    return build_scenario(document, dataset, lines=lines, source=str(path), defaults=defaults,
                          geometries=geometries)


MAX_FILE_BYTES = 20_000_000
"""The largest scenario or geometry file read from disk."""
