"""The web map in a real browser: Debian's Chromium, driven by Playwright, on ``ccn-gis serve``."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "test-output"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="Chromium is not installed (scripts/setup.sh --test installs Debian's chromium)",
)


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
    page.goto(f"{live_server}/")
    page.wait_for_function("window.ccn !== undefined")
    assert page.evaluate("window.ccn.ready") is True
    yield page
    context.close()


def _click_cluster(page: Page, *, with_parcels: bool) -> str:
    """Click a cluster where nothing covers it; return its id."""
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
    page.mouse.click(target["x"], target["y"])
    page.wait_for_selector(".leaflet-popup-content")
    return target["id"]


def test_the_map_draws_every_feature(page):
    counts = page.evaluate("window.ccn.counts()")
    assert counts == {"admin_units": 10, "approved_extents": 96, "clusters": 66, "parcels": 1513}
    assert page.locator("path.ccn-clusters").count() == 66
    assert page.locator("path.ccn-parcels").count() == 1513
    assert page.locator("path.ccn-admin_units").count() == 10
    assert page.locator("path.ccn-approved_extents").count() == 0  # off until switched on
    page.locator('input[data-layer="approved_extents"]').check()
    assert page.locator("path.ccn-approved_extents").count() == 96
    page.locator('input[data-layer="parcels"]').uncheck()
    assert page.locator("path.ccn-parcels").count() == 0
    assert page.errors == []


def test_popup_panel_and_language(page):
    OUTPUT.mkdir(exist_ok=True)
    panel = page.locator("#figures-table").inner_text()
    assert "CCN trong quy hoạch" in panel and "4.177,97 ha" in panel and "41,3 %" in panel
    legend = page.locator("#legend").inner_text()
    assert "Đang hoạt động" in legend and "Còn trống" in legend
    page.screenshot(path=str(OUTPUT / "web_map.png"))

    cid = _click_cluster(page, with_parcels=False)
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert cid in popup and "Diện tích quy hoạch" in popup
    assert re.search(r"\d{2},\d{2} ha", popup), popup
    assert page.locator("#figures-title").inner_text().startswith("Số liệu cụm công nghiệp")
    page.screenshot(path=str(OUTPUT / "web_map_popup.png"))

    page.locator("#lang-en").click()
    assert "Clusters in the plan" in page.locator("#figures-table").inner_text()
    _click_cluster(page, with_parcels=False)
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "Planned area" in popup and re.search(r"\d{2}\.\d{2} ha", popup), popup
    page.locator("#lang-vi").click()
    assert "Lô đất" in page.locator("#layers").inner_text()
    assert page.errors == []


def test_units_and_as_of(page):
    page.locator("#unit-select").select_option("342")
    title = page.locator("#figures-title").inner_text()
    assert "Tiền Hải" in title
    assert page.locator("#units-table tr.selected").count() == 1
    before = page.evaluate("Object.values(window.ccn.state.clusterStats)"
                           ".filter(c => c.established.count).length")
    page.locator("#unit-select").select_option("")
    page.fill("#as-of", "2015-12-31")
    page.locator("#as-of").dispatch_event("change")
    page.wait_for_function("window.ccn.state.stats.as_of === '2015-12-31'")
    after = page.evaluate("Object.values(window.ccn.state.clusterStats)"
                          ".filter(c => c.established.count).length")
    assert 0 < after < before == 46
    assert "31/12/2015" in page.locator("#figures-title").inner_text()
    assert page.errors == []


def test_downloads_for_the_visible_layer(page, live_server):
    options = page.locator("#download-layer option").all_inner_texts()
    assert options[0] == "Đơn vị hành chính" and "Lô đất" in options
    page.locator("#download-layer").select_option("clusters")
    links = page.locator("#download-links a")
    assert links.count() == 8  # GeoJSON, KML, and GeoPackage, Shapefile, CSV in two systems
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for href in hrefs:
        response = page.request.get(href)
        assert response.status == 200, href
        assert "attachment" in response.headers["content-disposition"]
    assert page.errors == []


def test_land_use_overlay_with_its_legend(page):
    page.locator('input[data-layer="landuse"]').check()
    page.wait_for_function(
        "document.querySelectorAll('.leaflet-tile-pane img.leaflet-tile-loaded').length > 0")
    tiles = page.evaluate(
        "[...document.querySelectorAll('.leaflet-tile-pane img')].map(i => i.src)")
    assert tiles and all("/landuse/tiles/" in src for src in tiles)
    legend = page.locator("#legend").inner_text()
    assert "LUC — Đất chuyên trồng lúa" in legend and "SKN" in legend
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "web_map_landuse.png"))
    cid = _click_cluster(page, with_parcels=True)
    page.wait_for_function("document.querySelector('#cluster-landuse caption') !== null")
    assert "Sử dụng đất trong cụm" in page.locator("#cluster-landuse").inner_text()
    assert cid in page.locator(".leaflet-popup-content").inner_text()
    assert page.errors == []


def test_scenario_layer_findings_and_language(page, live_server):
    options = page.locator("#scenario-select option").all_inner_texts()
    assert options[0] == "— Không hiển thị —" and "Mở rộng nhanh (fast growth)" in options
    assert page.locator("#scenarios h2").inner_text() == "Kịch bản 2030"
    page.locator("#scenario-select").select_option("fast_growth")
    page.wait_for_function("window.ccn.state.scenario.loaded === 'fast_growth'")
    clusters = page.request.get(f"{live_server}/scenarios/fast_growth/clusters").json()
    assert page.locator("path.ccn-scenario").count() == len(clusters["features"]) == 68
    assert page.evaluate("window.ccn.scenarioCount()") == 68
    assert page.locator("path.ccn-scenario-changed").count() == 6  # 2 established, 1 grown, 3 new
    assert page.locator("path.ccn-scenario-removed").count() == 1  # TB-13
    assert page.evaluate("window.ccn.counts().clusters") == 66  # the plan as it stands stays

    findings = page.locator("#scenario-findings").inner_text()
    assert "AREA_MAX" in findings and "TB-08" in findings and "OVERLAP" in findings
    assert "vượt mức tối đa 75,00 ha" in findings
    answers = page.locator("#scenario-answers").inner_text()
    assert "Đất lúa chuyển mục đích đến 2030" in answers and "Huyện Kiến Xương" in answers
    assert "chưa đến 2030" in answers  # Kiến Xương's gate stays shut
    assert "Kịch bản 2030" in page.locator("#legend").inner_text()

    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "web_map_scenario.png"))

    before = page.evaluate("window.ccn.map.getZoom()")
    page.evaluate("window.moved = 0; window.ccn.map.once('moveend', () => { window.moved = 1; })")
    page.locator("#scenario-findings tbody tr", has_text="AREA_MAX").first.click()
    page.wait_for_function("window.moved === 1")
    assert page.evaluate("window.ccn.map.getZoom()") > before
    assert page.evaluate("window.ccn.state.scenario.focus") == "TB-08"
    assert page.locator("#scenario-findings tr.selected").count() >= 1
    page.screenshot(path=str(OUTPUT / "web_map_scenario_finding.png"))

    page.locator("#lang-en").click()
    findings = page.locator("#scenario-findings").inner_text()
    assert "above the maximum of 75.00 ha" in findings and "vượt mức" not in findings
    assert page.locator("#scenarios h2").inner_text() == "2030 scenarios"
    assert "Rice land converted by 2030" in page.locator("#scenario-answers").inner_text()

    page.locator("#scenario-select").select_option("")
    assert page.locator("path.ccn-scenario").count() == 0
    assert page.locator("#scenario-findings").inner_text() == ""
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
    page.goto(f"{live_server_tiled}/")
    page.wait_for_function("window.ccn !== undefined")
    assert page.evaluate("window.ccn.ready") is True
    yield page
    context.close()


def _click_at(page: Page, lat: float, lon: float) -> None:
    x, y = page.evaluate(
        """([lat, lon]) => {
            const p = window.ccn.map.latLngToContainerPoint([lat, lon]);
            const box = window.ccn.map.getContainer().getBoundingClientRect();
            return [p.x + box.left, p.y + box.top];
        }""", [lat, lon])
    page.mouse.click(x, y)


def test_big_layers_come_as_vector_tiles(tiled_page, live_server_tiled):
    page = tiled_page
    assert page.evaluate("window.ccn.tiled()") == ["parcels"]
    counts = page.evaluate("window.ccn.counts()")
    assert counts["clusters"] == 66 and counts["admin_units"] == 10  # small: GeoJSON
    assert not [u for u in page.urls if "/collections/parcels/items?limit=10000" in u]
    assert page.locator("path.ccn-parcels").count() == 0  # province view: below zoom 13

    parcel = page.request.get(f"{live_server_tiled}/collections/parcels/items/TB-35-P032").json()
    point = shape(parcel["geometry"]).representative_point()
    page.evaluate(f"window.ccn.map.setView([{point.y}, {point.x}], 16, {{animate: false}})")
    page.wait_for_function("window.ccn.counts().parcels > 10")
    drawn = page.locator(".leaflet-ccnTiles-pane svg path.ccn-parcels")
    page.wait_for_function("document.querySelectorAll('.leaflet-ccnTiles-pane svg').length > 0")
    assert drawn.count() == page.evaluate("window.ccn.counts().parcels") > 10
    loaded = [r for r in page.tiles if r.status == 200]
    assert loaded and all(r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
                          for r in loaded)
    assert {TILE.search(r.url).group(1) for r in page.tiles} == {"parcels"}
    assert all(int(TILE.search(r.url).group(2)) >= 13 for r in page.tiles)
    colours = set(drawn.evaluate_all("paths => paths.map(p => p.getAttribute('fill'))"))
    assert "#d7191c" in colours  # leased, as the GeoJSON parcels are coloured

    _click_at(page, point.y, point.x)
    page.wait_for_selector(".leaflet-popup-content")
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "TB-35-P032" in popup and "Loại đất" in popup and "Đất công nghiệp" in popup
    assert "Tình trạng" in popup and re.search(r"\d,\d{2} ha", popup), popup
    assert page.locator("#figures-title").inner_text().startswith("Số liệu cụm công nghiệp")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "web_map_tiles.png"))

    page.locator("#parcel-colour").select_option("land_use")
    page.wait_for_function(
        """() => [...document.querySelectorAll('.leaflet-ccnTiles-pane path.ccn-parcels')]
                 .some(p => p.getAttribute('fill') === '#9e6bd6')""")  # industrial
    assert "Lô đất — Loại đất" in page.locator("#legend").inner_text()

    page.locator('input[data-layer="parcels"]').uncheck()
    assert drawn.count() == 0 and "Lô đất" not in page.locator("#legend").inner_text()
    page.locator('input[data-layer="parcels"]').check()
    page.wait_for_function("window.ccn.counts().parcels > 10")

    page.locator("#lang-en").click()
    page.wait_for_function("document.querySelectorAll('.leaflet-popup').length === 0")
    _click_at(page, point.y, point.x)
    page.wait_for_selector(".leaflet-popup-content")
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "TB-35-P032" in popup and "Land use" in popup and "Industrial" in popup, popup
    assert re.search(r"\d\.\d{2} ha", popup), popup
    assert page.errors == []
