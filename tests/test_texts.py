"""The text catalogue: one entry per label, both languages, every key used and known.

The web map reads the catalogue from ``GET /texts``: the keys it asks for (``t("…")``,
``data-i18n``, and the groups of its ``t(`group.${value}`)``) must all be there.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from ccn_gis import texts as catalogue
from ccn_gis.errors import UnknownValueError
from ccn_gis.model import (
    Approval,
    ClusterStage,
    LandUse,
    LeaseStatus,
    Programme,
    ProjectStatus,
)
from ccn_gis.publish import COLLECTIONS
from ccn_gis.rules import Rule, Severity
from ccn_gis.scenario import ChangeKind
from ccn_gis.styles import CATEGORY_TEXTS, qml
from ccn_gis.texts import CATALOGUE, UnknownTextError, text, texts

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"
MAP_JS = ROOT / "api" / "static" / "map.js"
MAP_HTML = ROOT / "api" / "static" / "map.html"
CATALOGUE_SOURCE = ROOT / "src" / "ccn_gis" / "texts.py"
SOURCES = sorted(p for folder in (ROOT / "src" / "ccn_gis", ROOT / "api")
                 for p in folder.rglob("*.py") if p != CATALOGUE_SOURCE)

VOCABULARIES = {
    "cluster_stage": ClusterStage, "approval": Approval, "lease_status": LeaseStatus,
    "land_use": LandUse, "project_status": ProjectStatus, "programme": Programme,
    "scenario_change": ChangeKind, "severity": Severity, "rule": Rule,
}
"""Closed vocabularies and the catalogue group that names each of their values."""

BEYOND_VOCABULARY = {"scenario_change": ("none",)}
"""Texts of a group for what its vocabulary leaves out: a cluster that no change touches."""

MAP_GROUPS = {
    "figure": ("planned", "established", "detailed_plan", "operating", "industrial_ha",
               "leased_ha", "occupancy", "recovered_industrial_ha", "occupancy_recovered",
               "registered_capital_bn_vnd", "implemented_capital_bn_vnd", "registered_workers",
               "workers"),
    "scenario_class": ("changed", "error", "warning", "flagged", "unchanged", "removed"),
}
"""Groups the map reads by a computed key that is no vocabulary: the values it uses."""

NOT_YET_SWITCHED = ("src/ccn_gis/notebook/scenarios.py",)
"""Issue 12 in progress: modules whose labels are in the catalogue but still hard-coded
there. While so, a key counts as used when its Vietnamese text is a literal of one of them.
Remove each entry when its module reads the catalogue."""


def _map_keys() -> tuple[set[str], set[str]]:
    """The literal keys and the groups of computed keys that the web map asks for."""
    script = MAP_JS.read_text(encoding="utf-8")
    page = MAP_HTML.read_text(encoding="utf-8")
    literal = set(re.findall(r'\bt\(\s*"([^"]+)"', script))
    for choice in re.findall(r'\bt\([^()`]*\? "([^"]+)" : "([^"]+)"\)', script):
        literal |= set(choice)  # t(cond ? "a.key" : "another.key")
    literal |= set(re.findall(r'data-i18n="([^"]+)"', page))
    groups = set(re.findall(r"\bt\(\s*`([\w.]+)\.\$\{", script))
    return literal, groups


def _python_uses() -> tuple[set[str], set[str]]:
    """String literals of the library and the app, and the groups of their f-string keys."""
    literals: set[str] = set()
    groups: set[str] = set(CATEGORY_TEXTS.values())  # ccn_gis.styles: f"{group}.{value}"
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                if isinstance(first, ast.Constant) and str(first.value).endswith("."):
                    groups.add(str(first.value)[:-1])
    return literals, groups


def _not_yet_switched_literals() -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        if any(path.relative_to(ROOT).as_posix().startswith(p) for p in NOT_YET_SWITCHED):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            found |= {n.value for n in ast.walk(tree)
                      if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return found


def _fields(label: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(label) if name}


# ------------------------------------------------------------------- the catalogue


def test_keys_are_unique_in_the_source():
    tree = ast.parse(CATALOGUE_SOURCE.read_text(encoding="utf-8"))
    table = next(n.value for n in ast.walk(tree) if isinstance(n, ast.AnnAssign)
                 and isinstance(n.target, ast.Name) and n.target.id == "_TEXTS")
    keys = [k.value for k in table.keys]
    assert len(keys) == len(CATALOGUE)
    assert not {k for k in keys if keys.count(k) > 1}


@pytest.mark.parametrize("key", list(CATALOGUE))
def test_every_text_has_both_languages_with_the_same_placeholders(key):
    entry = CATALOGUE[key]
    assert entry.vi.strip() and entry.en.strip()
    assert entry.vi == entry.vi.strip() and entry.en == entry.en.strip(), "padding is layout"
    assert _fields(entry.vi) == _fields(entry.en)
    assert re.fullmatch(r"[a-z_]+(\.[A-Za-z_0-9]+)*", key)


@pytest.mark.parametrize(("group", "vocabulary"), VOCABULARIES.items())
def test_every_value_of_a_vocabulary_has_a_text(group, vocabulary):
    missing = [m.value for m in vocabulary if f"{group}.{m.value}" not in CATALOGUE]
    assert not missing
    extra = {k for k in CATALOGUE if k.startswith(f"{group}.")} - {
        f"{group}.{v}" for v in (*(m.value for m in vocabulary), *BEYOND_VOCABULARY.get(group, ()))}
    assert not extra


def test_every_published_layer_has_its_titles():
    for name, collection in COLLECTIONS.items():
        assert collection.title_vi == text(f"collection.{name}")
        assert collection.title_en == text(f"collection.{name}", "en")
    assert COLLECTIONS["clusters"].title_vi == "Cụm công nghiệp"


def test_text_fills_placeholders_and_names_what_is_wrong():
    assert text("title", "vi", province="Thái Bình") == "Cụm công nghiệp Thái Bình"
    assert text("not_by", "en", horizon=2030) == "not by 2030"
    assert texts("vi")["title"] == "Cụm công nghiệp {province}"  # unfilled
    with pytest.raises(UnknownTextError, match="cluster_stage.operating") as err:
        text("cluster_stage.operatin")
    assert isinstance(err.value, KeyError)
    with pytest.raises(UnknownValueError, match="vi, en"):
        text("title", "fr")  # type: ignore[arg-type]
    with pytest.raises(UnknownValueError):
        texts("fr")  # type: ignore[arg-type]


def test_the_catalogue_is_read_only():
    with pytest.raises(TypeError):
        catalogue.CATALOGUE["title"] = catalogue.Text("x", "y")  # type: ignore[index]


# -------------------------------------------------------------------- its readers


def test_every_key_the_web_map_asks_for_exists():
    literal, groups = _map_keys()
    assert "map.as_of" in literal and "cluster_stage" in groups  # the parsing finds them
    assert not sorted(literal - set(CATALOGUE))
    known = set(VOCABULARIES) | set(MAP_GROUPS)
    assert not sorted(groups - known), "a group of computed keys nobody checks"
    for group in groups & set(MAP_GROUPS):
        assert not [v for v in MAP_GROUPS[group] if f"{group}.{v}" not in CATALOGUE]


def test_the_web_map_colours_the_vocabularies_it_names():
    script = MAP_JS.read_text(encoding="utf-8")

    def colours(name: str) -> list[str]:
        body = re.search(rf"\b{name}: \{{([^}}]*)\}}", script).group(1)
        return re.findall(r"(\w+): \"#", body)

    assert colours("clusterStage") == [s.value for s in ClusterStage]
    assert colours("approval") == [s.value for s in Approval]
    assert colours("lease_status") == [s.value for s in LeaseStatus]
    assert colours("land_use") == [s.value for s in LandUse]
    assert colours("scenario") == list(MAP_GROUPS["scenario_class"])


def test_the_web_map_reads_the_catalogue_once_and_hard_codes_no_label():
    script = MAP_JS.read_text(encoding="utf-8")
    assert script.count('getJSON("/texts")') == 1
    vietnamese = re.compile(r"[ăâđêôơưạ-ỹ]", re.IGNORECASE)
    strings = re.findall(r'"([^"\n]*)"|`([^`\n]*)`', script)
    assert not [s for pair in strings for s in pair if vietnamese.search(s)]
    page = MAP_HTML.read_text(encoding="utf-8")
    assert not re.findall(r'data-i18n="[^"]+">[^<]', page), "a label that the script replaces"


def test_every_key_is_used_somewhere():
    literal, groups = _map_keys()
    python, python_groups = _python_uses()
    groups |= python_groups
    waiting = _not_yet_switched_literals()
    unused = [k for k, entry in CATALOGUE.items()
              if k not in literal and k not in python and k.rpartition(".")[0] not in groups
              and entry.vi not in waiting]
    assert not unused


@pytest.mark.parametrize("layer", ["clusters", "approved_extents", "parcels"])
def test_styles_take_their_category_labels_from_the_catalogue(layer):
    style = qml(layer)
    categories = re.findall(r'<category value="([^"]*)" symbol="\d+" label="([^"]*)"', style)
    assert categories
    group = CATEGORY_TEXTS[layer]
    for value, label in categories:
        assert label == text(f"{group}.{value}" if value else "other")


# ------------------------------------------------------------------------ the API


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from ccn_gis.settings import AppSettings
    from ccn_gis_api import create_app

    return TestClient(create_app(AppSettings(layers=SAMPLE)))


def test_get_texts_serves_the_catalogue(client):
    from ccn_gis_api.routers.texts import TextCatalogue

    both = client.get("/texts")
    assert both.status_code == 200
    assert both.headers["content-type"].startswith("application/json")
    assert both.json() == {"vi": texts("vi"), "en": texts("en")}
    TextCatalogue.model_validate(both.json())
    english = client.get("/texts", params={"lang": "en"}).json()
    assert english == {"en": texts("en")}
    assert client.get("/texts", params={"lang": "fr"}).status_code == 400


def test_get_texts_is_documented(client):
    operation = client.get("/openapi.json").json()["paths"]["/texts"]["get"]
    assert operation["operationId"] == "getTexts"
    assert operation["tags"] == ["Capabilities"]
    assert operation["summary"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]
