"""HTTP hygiene before the server opens to an office network: escaping, headers, methods,
cache validators, the datetime filter on dates, any field name as a filter, and errors."""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from builders import tiny_layers, write_layers
from ccn_gis.settings import AppSettings
from ccn_gis_api import create_app
from ccn_gis_api.limits import Busy

SAMPLE = Path(__file__).resolve().parents[1] / "layers" / "thai_binh.gpkg"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
XSS = "</title><script>alert(1)</script>"
RAW = "<script>alert(1)</script>"
LANDUSE_TILE = "/landuse/tiles/10/814/452.png"  # over Thái Bình city


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(AppSettings(layers=SAMPLE)))


@pytest.fixture(scope="module")
def xss_client(tmp_path_factory):
    """The sample, its province named with a script."""
    path = tmp_path_factory.mktemp("xss") / "thai_binh.gpkg"
    shutil.copy(SAMPLE, path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE ccn_settings SET value = ? WHERE key = 'province_name'", (XSS,))
    return TestClient(create_app(AppSettings(layers=path)))


RESERVED_FIELDS = ("path", "request", "params", "lang", "as_of", "format", "f", "limit",
                   "offset", "bbox", "datetime", "crs", "bbox-crs", "collection_id")


@pytest.fixture(scope="module")
def extra_client(tmp_path_factory):
    """The tiny province, its clusters with extra fields named like parameters."""
    layers = tiny_layers()
    for name in RESERVED_FIELDS:
        layers["clusters"][name] = ["x", "y", "x"]  # C1, C2, C3
    path = write_layers(tmp_path_factory.mktemp("extra") / "tiny.gpkg", layers)
    return TestClient(create_app(AppSettings(layers=path)))


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


# ------------------------------------------------------------------------- stored XSS
@pytest.mark.parametrize("url", [
    "/?f=html", "/docs", "/conformance?f=html", "/collections?f=html",
    "/collections/clusters?f=html", "/collections/clusters/items?f=html&limit=3",
    "/collections/clusters/items/TB-01?f=html",
])
def test_the_province_name_is_escaped_in_every_page(xss_client, url):
    page = xss_client.get(url, headers={"accept": BROWSER})
    assert page.status_code == 200
    assert RAW not in page.text and "</title><script>" not in page.text


def test_the_web_map_passes_the_name_escaped_in_data_attributes(xss_client):
    page = xss_client.get("/", headers={"accept": BROWSER}).text
    assert RAW not in page and "</title><script>" not in page
    assert f'data-province="{html.escape(XSS, quote=True)}"' in page
    assert f"<title>Cụm công nghiệp {html.escape(XSS, quote=True)}</title>" in page
    assert xss_client.get("/", headers={"accept": "application/json"}).json()["title"].endswith(
        XSS)  # JSON carries the name as it is


def test_links_built_from_the_request_are_escaped(client):
    # Starlette refuses a Host with " or <, but not with ': every attribute is escaped
    page = client.get("/collections/clusters/items", params={"f": "html", "limit": 5,
                                                             "offset": 5},
                      headers={"host": "a'b"})
    assert page.status_code == 200
    assert "http://a'b/" not in page.text and "http://a&#x27;b/collections" in page.text


# --------------------------------------------------------------------- security headers
@pytest.mark.parametrize("method,url", [
    ("GET", "/"), ("GET", "/collections"), ("GET", "/static/map.js"),
    ("GET", "/static/leaflet/leaflet.js"), ("GET", "/collections/nope"),
    ("GET", "/collections/clusters/items?limit=abc"), ("OPTIONS", "/collections"),
    ("HEAD", "/stats"), ("GET", LANDUSE_TILE),
])
def test_security_headers_on_every_answer(client, method, url):
    response = client.request(method, url, headers={"accept": BROWSER})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    policy = response.headers["content-security-policy"]
    scripts = policy.split("script-src")[1].split(";")[0]
    assert scripts.split()[0] == "'self'" and "'unsafe-inline'" not in scripts
    if response.headers.get("content-type", "").startswith("text/html"):
        assert scripts.strip() == "'self'"  # every page, the web map too: no eval
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy


def test_the_web_map_fits_its_policy(client):
    page = client.get("/", headers={"accept": BROWSER})
    policy = page.headers["content-security-policy"]
    assert "img-src 'self' data: https://tile.openstreetmap.org" in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text), "an inline script"
    assert not re.search(r"\sstyle=|\son\w+=", page.text), "an inline style or handler"
    script = client.get("/static/map.js").text
    assert "style=" not in script, "innerHTML with a style attribute breaks under the CSP"


def test_html_pages_allow_their_stylesheet_by_hash(client):
    page = client.get("/?f=html")
    style = re.search(r"<style>(.*?)</style>", page.text, re.DOTALL).group(1)
    assert _csp_hash(style) in page.headers["content-security-policy"]


def test_docs_has_its_own_policy_for_its_inline_script(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    policy = page.headers["content-security-policy"]
    scripts = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    assert scripts and all(_csp_hash(s) in policy for s in scripts)
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert page.headers["x-frame-options"] == "DENY"


# ---------------------------------------------------------------------- HEAD, OPTIONS
HEAD_URLS = ["/", "/collections", "/collections/clusters/items?limit=2", "/static/map.js",
             "/stats?by=admin", LANDUSE_TILE, "/collections/clusters/download?format=geojson",
             "/openapi.json", "/docs", "/collections/nope"]


@pytest.mark.parametrize("url", HEAD_URLS)
def test_head_is_get_without_the_body(client, url):
    get = client.get(url, headers={"accept-encoding": "identity"})
    head = client.head(url, headers={"accept-encoding": "identity"})
    assert head.status_code == get.status_code
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "cache-control", "vary",
                 "content-disposition"):
        assert head.headers.get(name) == get.headers.get(name), name


@pytest.mark.parametrize("url,methods", [
    ("/collections", {"GET", "HEAD", "OPTIONS"}),
    ("/collections/clusters/items", {"GET", "HEAD", "OPTIONS"}),
    ("/static/map.js", {"GET", "HEAD", "OPTIONS"}),
    ("/stats", {"GET", "HEAD", "OPTIONS"}),
    ("/scenarios/check", {"POST", "OPTIONS"}),
])
def test_options_lists_the_methods(client, url, methods):
    response = client.options(url)
    assert response.status_code == 204 and response.content == b""
    assert methods <= {m.strip() for m in response.headers["allow"].split(",")}


def test_options_of_no_route_is_404(client):
    assert client.options("/no/such/thing").status_code == 404


# ----------------------------------------------------------------------- validators
@pytest.mark.parametrize("url", ["/collections", "/stats", LANDUSE_TILE, "/static/map.js",
                                 "/collections/clusters/items?f=html"])
def test_304_keeps_cache_control_and_vary(client, url):
    first = client.get(url)
    assert first.status_code == 200 and first.headers.get("cache-control")
    again = client.get(url, headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == first.headers["cache-control"]
    names = {v.strip().lower() for v in first.headers["vary"].split(",")}
    assert {v.strip().lower() for v in again.headers["vary"].split(",")} == names
    assert {"accept", "accept-encoding"} <= names


def test_tiles_may_be_kept_and_the_rest_revalidated(client):
    assert client.get(LANDUSE_TILE).headers["cache-control"] == "public, max-age=3600"
    assert client.get("/collections").headers["cache-control"] == "no-cache"
    # the register's features change with every edit: their tiles are asked again
    tile = client.get("/collections/clusters/tiles/WebMercatorQuad/8/114/203")
    assert tile.headers["cache-control"] == "no-cache"


def test_the_tag_depends_on_the_host(client):
    one = client.get("/collections", headers={"host": "one.example"})
    two = client.get("/collections", headers={"host": "two.example:8000"})
    assert one.json()["links"][0]["href"].startswith("http://one.example/")
    assert two.json()["links"][0]["href"].startswith("http://two.example:8000/")
    assert one.headers["etag"] != two.headers["etag"]
    assert one.headers["etag"].startswith('W/"') and two.headers["etag"].startswith('W/"')
    stale = client.get("/collections", headers={"host": "two.example:8000",
                                                "if-none-match": one.headers["etag"]})
    assert stale.status_code == 200  # the other host's links are not this answer
    same = client.get("/collections", headers={"host": "one.example",
                                               "if-none-match": one.headers["etag"]})
    assert same.status_code == 304


def test_if_none_match_lists_and_strong_forms(client):
    tag = client.get("/conformance").headers["etag"]
    listed = client.get("/conformance", headers={"if-none-match": f'"other", {tag}'})
    assert listed.status_code == 304
    strong = client.get("/conformance", headers={"if-none-match": tag.removeprefix("W/")})
    assert strong.status_code == 304  # weak comparison
    assert client.get("/conformance", headers={"if-none-match": '"nope"'}).status_code == 200


# ------------------------------------------------------------------ datetime on dates
def _matched(client, collection, when):
    response = client.get(f"/collections/{collection}/items", params={"datetime": when})
    assert response.status_code == 200, response.text
    return {f["id"] for f in response.json()["features"]}


def test_an_instant_with_an_offset_matches_the_local_day(extra_client):
    # the tiny province's extents are decided on 2015…2020; E* dated 2018-01-01 is one
    day = _matched(extra_client, "approved_extents", "2018-01-01")
    assert day
    for instant in ("2018-01-01T00:30:00+07:00", "2017-12-31T17:30:00Z",
                    "2018-01-01T23:59:59+07:00", "2018-01-01T12:00:00",
                    "2018-01-01T10:00:00+07:00/2018-01-01T11:00:00+07:00"):
        assert _matched(extra_client, "approved_extents", instant) == day, instant
    assert _matched(extra_client, "approved_extents", "2017-12-31T16:59:59Z") == _matched(
        extra_client, "approved_extents", "2017-12-31")  # 23:59:59 in Vietnam
    assert _matched(extra_client, "approved_extents", "2018-01-01T17:00:00Z") == _matched(
        extra_client, "approved_extents", "2018-01-02")  # already the 2nd in Vietnam


def test_an_interval_of_instants_is_ordered_as_instants(extra_client):
    response = extra_client.get("/collections/approved_extents/items", params={
        "datetime": "2018-01-01T11:00:00+07:00/2018-01-01T10:00:00+07:00"})
    assert response.status_code == 400 and "start" in response.json()["description"]
    same_day = "2018-01-01T10:00:00+07:00/2018-01-01"  # the end date lasts the whole day
    assert _matched(extra_client, "approved_extents", same_day) == _matched(
        extra_client, "approved_extents", "2018-01-01")


# --------------------------------------------------------------- fields as filters
@pytest.mark.parametrize("name", RESERVED_FIELDS)
@pytest.mark.parametrize("url,params", [
    ("/collections/clusters/items", {}),
    ("/collections/clusters/items", {"f": "html"}),
    ("/collections/clusters/download", {"format": "geojson"}),
])
def test_any_field_name_as_a_filter_works_or_is_a_400(extra_client, name, url, params):
    if name in params:
        pytest.skip("the parameter itself")
    response = extra_client.get(url, params={**params, name: "x"})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200 and not params.get("f"):
        # a filter: C1 and C3 have x (a name never silently ignored)
        assert sorted(f["id"] for f in response.json()["features"]) == ["C1", "C3"]


@pytest.mark.parametrize("name", ["path", "request", "params", "lang", "as_of",
                                  "collection_id"])
def test_fields_named_like_python_names_filter(extra_client, name):
    items = extra_client.get("/collections/clusters/items", params={name: "x", "limit": 1})
    assert items.status_code == 200, items.text
    body = items.json()
    assert body["numberMatched"] == 2 and body["features"][0]["id"] == "C1"
    nxt = next(link for link in body["links"] if link["rel"] == "next")
    assert f"{name}=x" in nxt["href"]
    download = extra_client.get("/collections/clusters/download",
                                params={name: "y", "format": "geojson"})
    assert [f["id"] for f in download.json()["features"]] == ["C2"]


def test_a_filter_on_no_field_is_a_400_on_downloads_too(extra_client):
    for url, params in (("/collections/clusters/items", {}),
                        ("/collections/clusters/download", {"format": "csv"})):
        response = extra_client.get(url, params={**params, "no_such_field": "1"})
        assert response.status_code == 400 and "no_such_field" in response.text


# --------------------------------------------------------------------------- errors
def test_an_unexpected_error_is_a_500_problem_with_a_reference(client, caplog):
    def boom() -> None:
        raise RuntimeError("secret detail of the server")

    client.app.add_api_route("/test-only/boom", boom)
    with caplog.at_level(logging.ERROR, logger="ccn_gis_api"):
        response = client.get("/test-only/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "ServerError"
    reference = re.fullmatch(r"internal error; the server's log has the details "
                             r"\(reference ([0-9a-f]{8})\)", body["description"]).group(1)
    assert "secret" not in response.text and "Traceback" not in response.text
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info and "secret detail" in str(logged[0].exc_info[1])
    assert response.headers["x-content-type-options"] == "nosniff"


def test_busy_is_a_503_with_retry_after(client):
    def busy() -> None:
        raise Busy("downloads", 7)

    client.app.add_api_route("/test-only/busy", busy)
    response = client.get("/test-only/busy")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert response.json()["code"] == "ServiceUnavailable"
    assert response.json()["description"].endswith(
        "the server is busy with other downloads; try again in 7 s")
