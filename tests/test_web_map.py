"""The web map in a real browser: Debian's Chromium, driven by Playwright, on ``ccn-gis serve``."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Response, expect, sync_playwright
from shapely.geometry import shape

import sample_figures as published

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "test-output"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

TIMEOUT = 30_000
"""How long (ms) a test waits for the map: long enough for a machine busy with other work."""

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="Chromium is not installed (scripts/setup.sh --test installs Debian's chromium)",
)

# The map page's Content-Security-Policy allows no eval: nothing here may make the page
# evaluate a string. ``page.wait_for_function("expression")`` does (its polling evals the
# expression in the page, and the CSP blocks it), so the tests wait with Playwright's own
# waits (locators, ``expect``) or with :func:`_until`. ``page.evaluate`` is fine: Playwright
# runs it through the DevTools protocol, which the page's CSP does not restrict.
expect.set_options(timeout=TIMEOUT)


def _strict_policy(response: Response | None) -> None:
    """The map page's scripts come from the app only: no inline script, no eval."""
    assert response is not None and response.ok
    policy = response.headers["content-security-policy"]
    assert re.search(r"(^|;)\s*script-src 'self'\s*(;|$)", policy), policy


def _until(page: Page, script: str, arg: Any = None, *, what: str,
           done: Callable[[Any], bool] = bool, timeout: float = TIMEOUT) -> Any:
    """Evaluate ``script`` (a function) in ``page`` until ``done`` of its value; return it.

    The polling is done from Python (each try is one ``page.evaluate``), so nothing is
    evaluated by the page itself.
    """
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(script, arg)
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout / 1000:g} s waiting for {what}; "
                                 f"last value: {value!r}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    _strict_policy(page.goto(f"{live_server}/"))
    _until(page, "() => window.ccn !== undefined", what="the map's script (window.ccn)")
    assert page.evaluate("() => window.ccn.ready") is True  # a promise: evaluate awaits it
    yield page
    context.close()


HIT = """([x, y, selector]) => {
    const el = document.elementFromPoint(x, y);
    const hit = el ? [el.tagName.toLowerCase(), ...el.classList].join(".") : null;
    return {ok: !!el && el.matches(selector), hit};
}"""
"""What a click at (x, y) would hit, and whether it matches ``selector``."""


def _click_on(page: Page, x: float, y: float, hit: str, arg: list[Any], *, what: str) -> None:
    """Click at (x, y) once ``hit`` (:data:`HIT`, :data:`TILED_HIT`), given ``[x, y, *arg]``,
    says the target is there: drawn, visible and on top.

    Any popup is closed first: it could cover the point, or be taken for the new one.
    """
    page.evaluate("() => { window.ccn.map.closePopup(); }")  # returns nothing: not the map
    _until(page, hit, [x, y, *arg], what=f"{what} under the mouse at ({x:.0f}, {y:.0f})",
           done=lambda v: v["ok"])
    page.mouse.click(x, y)


def _click_cluster(page: Page, *, with_parcels: bool) -> str:
    """Click a cluster (one with parcels, or one without, where nothing covers it); wait for
    its popup; return its id."""
    target = page.evaluate(
        """(withParcels) => {
            const m = window.ccn.map;
            const parcels = new Set(
                window.ccn.state.data.parcels.features.map(f => f.properties.cluster_id));
            let found = null;
            window.ccn.state.layers.clusters.eachLayer((l) => {
                const id = l.feature.properties.cluster_id;
                if (found || parcels.has(id) !== withParcels) return;
                m.fitBounds(l.getBounds(), {animate: false, maxZoom: 15});
                found = id;
            });
            let point = null;
            window.ccn.state.layers.clusters.eachLayer((l) => {
                if (l.feature.properties.cluster_id !== found) return;
                point = m.latLngToContainerPoint(l.getCenter());
            });
            const box = m.getContainer().getBoundingClientRect();
            return {id: found, x: point.x + box.left, y: point.y + box.top};
        }""",
        with_parcels,
    )
    # a cluster with parcels may be clicked on one of its parcels: their popup names it too
    paths = ".leaflet-overlay-pane path.ccn-clusters" + (
        ", .leaflet-overlay-pane path.ccn-parcels" if with_parcels else "")
    _click_on(page, target["x"], target["y"], HIT, [paths], what=f"cluster {target['id']}")
    expect(page.locator(".leaflet-popup-content")).to_contain_text(target["id"])
    return target["id"]


def test_the_map_draws_every_feature(page):
    counts = page.evaluate("() => window.ccn.counts()")
    assert counts == {"admin_units": 10, "approved_extents": 96, "clusters": published.CLUSTERS,
                      "parcels": 1513}
    assert page.locator("path.ccn-clusters").count() == published.CLUSTERS
    assert page.locator("path.ccn-parcels").count() == 1513
    assert page.locator("path.ccn-admin_units").count() == 10
    assert page.locator("path.ccn-approved_extents").count() == 0  # off until switched on
    page.locator('input[data-layer="approved_extents"]').check()
    expect(page.locator("path.ccn-approved_extents")).to_have_count(96)
    page.locator('input[data-layer="parcels"]').uncheck()
    expect(page.locator("path.ccn-parcels")).to_have_count(0)
    assert page.errors == []


def test_popup_panel_and_language(page):
    OUTPUT.mkdir(exist_ok=True)
    panel = page.locator("#figures-table").inner_text()
    assert "CCN trong quy hoạch" in panel and f"{published.PLANNED_HA_VI} ha" in panel
    assert published.OCCUPANCY_VI in panel
    legend = page.locator("#legend").inner_text()
    assert "Đang hoạt động" in legend and "Còn trống" in legend
    page.screenshot(path=str(OUTPUT / "web_map.png"))

    cid = _click_cluster(page, with_parcels=False)
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert cid in popup and "Diện tích quy hoạch" in popup
    assert re.search(r"\d{2},\d{2} ha", popup), popup
    expect(page.locator("#figures-title")).to_have_text(re.compile(r"^Số liệu cụm công nghiệp"))
    page.screenshot(path=str(OUTPUT / "web_map_popup.png"))

    page.locator("#lang-en").click()
    expect(page.locator("#figures-table")).to_contain_text("Clusters in the plan")
    _click_cluster(page, with_parcels=False)
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "Planned area" in popup and re.search(r"\d{2}\.\d{2} ha", popup), popup
    page.locator("#lang-vi").click()
    expect(page.locator("#layers")).to_contain_text("Lô đất")
    assert page.errors == []


def test_units_and_as_of(page):
    page.locator("#unit-select").select_option("342")
    expect(page.locator("#figures-title")).to_contain_text("Tiền Hải")
    expect(page.locator("#units-table tr.selected")).to_have_count(1)
    established = ("() => Object.values(window.ccn.state.clusterStats)"
                   ".filter(c => c.established.count).length")
    before = page.evaluate(established)
    page.locator("#unit-select").select_option("")
    page.fill("#as-of", "2015-12-31")
    page.locator("#as-of").dispatch_event("change")
    _until(page, "() => window.ccn.state.stats.as_of === '2015-12-31'",
           what="the figures as of 2015-12-31")
    after = page.evaluate(established)
    assert 0 < after < before == published.ESTABLISHED
    assert "31/12/2015" in page.locator("#figures-title").inner_text()
    assert page.errors == []


def test_downloads_for_the_visible_layer(page, live_server):
    options = page.locator("#download-layer option").all_inner_texts()
    assert options[0] == "Đơn vị hành chính" and "Lô đất" in options
    page.locator("#download-layer").select_option("clusters")
    links = page.locator("#download-links a")
    expect(links).to_have_count(8)  # GeoJSON, KML, and GeoPackage, Shapefile, CSV in two systems
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for href in hrefs:
        response = page.request.get(href)
        assert response.status == 200, href
        assert "attachment" in response.headers["content-disposition"]
    assert page.errors == []


def test_land_use_overlay_with_its_legend(page):
    page.locator('input[data-layer="landuse"]').check()
    page.locator(".leaflet-tile-pane img.leaflet-tile-loaded").first.wait_for()
    tiles = page.locator(".leaflet-tile-pane img").evaluate_all("imgs => imgs.map(i => i.src)")
    assert tiles and all("/landuse/tiles/" in src for src in tiles)
    legend = page.locator("#legend").inner_text()
    assert "LUC — Đất chuyên trồng lúa" in legend and "SKN" in legend
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "web_map_landuse.png"))
    cid = _click_cluster(page, with_parcels=True)
    page.locator("#cluster-landuse caption").wait_for()  # fetched once the cluster is chosen
    expect(page.locator("#cluster-landuse")).to_contain_text("Sử dụng đất trong cụm")
    assert cid in page.locator(".leaflet-popup-content").inner_text()
    assert page.errors == []


def test_scenario_layer_findings_and_language(page, live_server):
    options = page.locator("#scenario-select option").all_inner_texts()
    assert options[0] == "— Không hiển thị —" and "Mở rộng nhanh (fast growth)" in options
    assert page.locator("#scenarios h2").inner_text() == "Kịch bản 2030"
    page.locator("#scenario-select").select_option("fast_growth")
    _until(page, "() => window.ccn.state.scenario.loaded === 'fast_growth'",
           what="the fast_growth scenario")
    clusters = page.request.get(f"{live_server}/scenarios/fast_growth/clusters").json()
    assert page.locator("path.ccn-scenario").count() == len(clusters["features"]) == 68
    assert page.evaluate("() => window.ccn.scenarioCount()") == 68
    assert page.locator("path.ccn-scenario-changed").count() == 6  # 2 established, 1 grown, 3 new
    assert page.locator("path.ccn-scenario-removed").count() == 1  # TB-13
    plan = page.evaluate("() => window.ccn.counts().clusters")
    assert plan == published.CLUSTERS  # the plan as it stands

    findings = page.locator("#scenario-findings").inner_text()
    assert "AREA_MAX" in findings and "TB-08" in findings and "OVERLAP" in findings
    assert "vượt mức tối đa 75,00 ha" in findings
    answers = page.locator("#scenario-answers").inner_text()
    assert "Đất lúa chuyển mục đích đến 2030" in answers and "Huyện Kiến Xương" in answers
    assert "chưa đến 2030" in answers  # Kiến Xương's gate stays shut
    assert "Kịch bản 2030" in page.locator("#legend").inner_text()

    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "web_map_scenario.png"))

    before = page.evaluate("() => window.ccn.map.getZoom()")
    page.evaluate("() => { window.moved = 0; "
                  "window.ccn.map.once('moveend', () => { window.moved = 1; }); }")
    page.locator("#scenario-findings tbody tr", has_text="AREA_MAX").first.click()
    _until(page, "() => window.moved === 1", what="the map to move to the finding's cluster")
    assert page.evaluate("() => window.ccn.map.getZoom()") > before
    assert page.evaluate("() => window.ccn.state.scenario.focus") == "TB-08"
    assert page.locator("#scenario-findings tr.selected").count() >= 1
    page.screenshot(path=str(OUTPUT / "web_map_scenario_finding.png"))

    page.locator("#lang-en").click()
    expect(page.locator("#scenarios h2")).to_have_text("2030 scenarios")
    findings = page.locator("#scenario-findings").inner_text()
    assert "above the maximum of 75.00 ha" in findings and "vượt mức" not in findings
    assert "Rice land converted by 2030" in page.locator("#scenario-answers").inner_text()

    page.locator("#scenario-select").select_option("")
    expect(page.locator("path.ccn-scenario")).to_have_count(0)
    expect(page.locator("#scenario-findings")).to_have_text("")
    assert page.errors == []


TILE = re.compile(r"/collections/(\w+)/tiles/WebMercatorQuad/(\d+)/(\d+)/(\d+)$")


@pytest.fixture
def tiled_page(browser, live_server_tiled):
    """The map of a server that tiles layers above 1,000 features: the parcels."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.errors, page.tiles, page.urls = [], [], []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.urls.append(r.url))
    page.on("response", lambda r: page.tiles.append(r) if TILE.search(r.url) else None)
    _strict_policy(page.goto(f"{live_server_tiled}/"))
    _until(page, "() => window.ccn !== undefined", what="the map's script (window.ccn)")
    assert page.evaluate("() => window.ccn.ready") is True  # a promise: evaluate awaits it
    yield page
    context.close()


TILED_HIT = """([x, y, name, id]) => {
    const el = document.elementFromPoint(x, y);
    const hit = el ? [el.tagName.toLowerCase(), ...el.classList].join(".") : null;
    const layer = window.ccn.state.layers[name];
    const paths = Object.values(layer._vectorTiles || {})
        .map((tile) => (tile._features || {})[id]).filter(Boolean).map((f) => f.feature._path);
    return {ok: !!el && paths.includes(el), hit, drawn: paths.length};
}"""
"""Whether a click at (x, y) would hit a path of feature ``id`` of the tiled layer ``name``:
drawn (its tile loaded — a tile still loading is hidden) and on top."""


def _click_tiled(page: Page, name: str, feature_id: str, lat: float, lon: float) -> None:
    """Click feature ``feature_id`` of the tiled layer ``name`` at (lat, lon) once its
    vector tile has drawn it; wait for its popup (fetched from the server)."""
    x, y = page.evaluate(
        """([lat, lon]) => {
            const p = window.ccn.map.latLngToContainerPoint([lat, lon]);
            const box = window.ccn.map.getContainer().getBoundingClientRect();
            return [p.x + box.left, p.y + box.top];
        }""", [lat, lon])
    _click_on(page, x, y, TILED_HIT, [name, feature_id], what=f"the {name} path of {feature_id}")
    expect(page.locator(".leaflet-popup-content")).to_contain_text(feature_id)


def _tiles_loaded(page: Page, name: str, *, more_than: int) -> int:
    """Wait until the tiled layer ``name`` has loaded every tile on screen, and draws more
    than ``more_than`` features; return how many it draws."""
    return _until(page, """(name) => {
        const layer = window.ccn.state.layers[name];
        return layer.isLoading() ? 0 : window.ccn.counts()[name];
    }""", name, what=f"the {name} tiles on screen", done=lambda n: n > more_than)


def test_big_layers_come_as_vector_tiles(tiled_page, live_server_tiled):
    page = tiled_page
    assert page.evaluate("() => window.ccn.tiled()") == ["parcels"]
    counts = page.evaluate("() => window.ccn.counts()")
    assert counts["clusters"] == published.CLUSTERS  # small: GeoJSON
    assert counts["admin_units"] == 10
    assert not [u for u in page.urls if "/collections/parcels/items?limit=10000" in u]
    assert page.locator("path.ccn-parcels").count() == 0  # province view: below zoom 13

    parcel = page.request.get(f"{live_server_tiled}/collections/parcels/items/TB-35-P032").json()
    point = shape(parcel["geometry"]).representative_point()
    page.evaluate("([lat, lon]) => { window.ccn.map.setView([lat, lon], 16, {animate: false}); }",
                  [point.y, point.x])
    drawn_count = _tiles_loaded(page, "parcels", more_than=10)
    drawn = page.locator(".leaflet-ccnTiles-pane svg path.ccn-parcels")
    assert drawn.count() == drawn_count > 10
    loaded = [r for r in page.tiles if r.status == 200]
    assert loaded and all(r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
                          for r in loaded)
    assert {TILE.search(r.url).group(1) for r in page.tiles} == {"parcels"}
    assert all(int(TILE.search(r.url).group(2)) >= 13 for r in page.tiles)
    colours = set(drawn.evaluate_all("paths => paths.map(p => p.getAttribute('fill'))"))
    assert "#d7191c" in colours  # leased, as the GeoJSON parcels are coloured

    _click_tiled(page, "parcels", "TB-35-P032", point.y, point.x)
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "TB-35-P032" in popup and "Loại đất" in popup and "Đất công nghiệp" in popup
    assert "Tình trạng" in popup and re.search(r"\d,\d{2} ha", popup), popup
    expect(page.locator("#figures-title")).to_have_text(re.compile(r"^Số liệu cụm công nghiệp"))
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "web_map_tiles.png"))

    page.locator("#parcel-colour").select_option("land_use")
    page.locator('.leaflet-ccnTiles-pane path.ccn-parcels[fill="#9e6bd6"]').first.wait_for(
        state="attached")  # industrial: the tiles are drawn again in the new colours
    expect(page.locator("#legend")).to_contain_text("Lô đất — Loại đất")

    page.locator('input[data-layer="parcels"]').uncheck()
    expect(drawn).to_have_count(0)
    expect(page.locator("#legend")).not_to_contain_text("Lô đất")
    page.locator('input[data-layer="parcels"]').check()
    _tiles_loaded(page, "parcels", more_than=10)

    page.locator("#lang-en").click()
    expect(page.locator(".leaflet-popup")).to_have_count(0)
    _click_tiled(page, "parcels", "TB-35-P032", point.y, point.x)
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "TB-35-P032" in popup and "Land use" in popup and "Industrial" in popup, popup
    assert re.search(r"\d\.\d{2} ha", popup), popup
    assert page.errors == []


def test_a_save_that_breaks_the_rules_shows_a_banner(browser, live_server_of, layers, ogrinfo):
    """QGIS saves a value outside the data model: the map keeps the last valid version and
    says why, in Vietnamese and in English; mended, the banner goes."""
    import json
    import subprocess
    import urllib.request

    def health() -> dict:
        with urllib.request.urlopen(f"{live_server_of}/health", timeout=10) as answer:
            return json.loads(answer.read())

    def save(sql: str) -> None:
        done = subprocess.run([ogrinfo, str(layers), "-sql", sql], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr

    def until(state: str) -> None:
        deadline = time.monotonic() + 60
        while health()["status"] != state:
            assert time.monotonic() < deadline, f"/health never said {state}"
            time.sleep(0.2)

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server_of}/")
    _until(page, "() => window.ccn !== undefined", what="the map's script (window.ccn)")
    assert page.evaluate("() => window.ccn.ready") is True
    banner = page.locator("#health")
    expect(banner).to_be_hidden()
    save("UPDATE clusters SET kind = 'bogus' WHERE cluster_id = 'TB-01'")
    until("stale")
    page.reload()
    assert page.evaluate("() => window.ccn.ready") is True
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("phiên bản hợp lệ trước đó")
    expect(banner).to_contain_text("clusters, TB-01, kind")
    assert page.evaluate("() => window.ccn.counts().clusters") == published.CLUSTERS
    page.click("#lang-en")
    expect(banner).to_contain_text("the last valid version")
    save("UPDATE clusters SET kind = 'general' WHERE cluster_id = 'TB-01'")
    until("ok")
    page.reload()
    assert page.evaluate("() => window.ccn.ready") is True
    expect(banner).to_be_hidden()
    context.close()


def test_an_editor_signs_in_and_records_a_lease_on_the_map(browser, live_server_of, layers):
    """A planner who does not use QGIS: sign in, open a vacant parcel, pick the project and
    the date, record; the figures and the parcel change at once, the history names her."""
    import json
    import sqlite3
    import urllib.request

    from argon2 import PasswordHasher

    from ccn_gis.io.register import read_history
    from ccn_gis.io.users import add_user

    add_user(layers, "lan.editor", "editor", "mật khẩu của Lan",
             hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    con = sqlite3.connect(layers)
    parcel, project = con.execute(
        "SELECT p.parcel_id, j.project_id FROM parcels p JOIN projects j ON j.cluster_id = "
        "p.cluster_id WHERE p.project_id IS NULL AND p.land_use = 'industrial' "
        "LIMIT 1").fetchone()
    con.close()

    def leased_ha() -> float:
        with urllib.request.urlopen(f"{live_server_of}/stats", timeout=10) as answer:
            return float(json.loads(answer.read())["leased_ha"])

    before = leased_ha()
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(f"{live_server_of}/")
    _until(page, "() => window.ccn !== undefined", what="the map's script (window.ccn)")
    assert page.evaluate("() => window.ccn.ready") is True
    page.fill("#user-name", "lan.editor")
    page.fill("#password", "sai")
    page.click("#sign-in button")
    expect(page.locator("#sign-in-message")).to_contain_text("Sai tên đăng nhập")
    page.fill("#password", "mật khẩu của Lan")
    page.click("#sign-in button")
    expect(page.locator("#signed-in")).to_contain_text("lan.editor (editor)")
    page.evaluate("""(id) => window.ccn.state.layers.parcels.eachLayer((l) => {
        if (l.feature.properties.parcel_id === id) l.openPopup(); })""", parcel)
    form = page.locator("form.lease")
    expect(form).to_be_visible()
    expect(form.locator(f'select option[value="{project}"]')).to_have_count(1)
    form.locator("select").select_option(project)
    form.locator('input[name="leased_on"]').fill("2026-12-01")
    form.locator('input[name="note"]').fill("Hợp đồng 15/2026")
    form.locator("button").click()
    # the parcel's popup, opened again (the old one may still be fading out)
    opened = page.locator(".leaflet-popup-content", has_text="Đã ghi nhận.")
    expect(opened).to_be_visible()
    expect(opened).to_contain_text(project)
    expect(opened.locator("form.lease")).to_have_count(0)  # leased: nothing to record
    assert leased_ha() > before
    [entry] = read_history(layers)
    assert (entry["user"], entry["note"], entry["feature_id"]) == (
        "lan.editor", "Hợp đồng 15/2026", parcel)
    shown = page.evaluate("""(id) => { let p = null;
        window.ccn.state.layers.parcels.eachLayer((l) => {
            if (l.feature.properties.parcel_id === id) p = l.feature.properties; });
        return p; }""", parcel)
    assert shown["project_id"] == project and shown["lease_status"] == "leased"
    assert page.errors == []
    context.close()
