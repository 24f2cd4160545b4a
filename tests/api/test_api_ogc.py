"""``/ogc``: OGC API - Features over the stored layers (Part 1 Core + GeoJSON, Part 2 CRS).

Tenant A has the Helsinki sample registered, a siting, a routing and a park plan on it, and
the hand-made town in China (tests/fixtures/town.osm, 120°E 30°N) with a siting plan, where
GCJ-02 and BD-09 move points by hundreds of metres; tenant B has a network of its own.
The features of every collection are compared with the layer's existing GeoJSON URL, and
``ogrinfo OAPIF:`` (GDAL) reads them from a real server as a GIS client would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import numpy as np
import pytest
import shapely
from api_helpers import KEY_A, A, B, Server, coords, make_app, stored_siting_plan, wait_job
from fastapi.testclient import TestClient
from shapely.geometry import shape

from recyclenet.geo import bbox_from_wgs84, from_wgs84, geojson_swap_axes
from recyclenet_api.ogc_catalog import BD09, CRS84, EPSG4326, GCJ02
from recyclenet_api.schemas import PARK_EXAMPLE, ROUTING_EXAMPLE, SITING_EXAMPLE_INLINE

GEOJSON = "application/geo+json"
PAGE_MAX = 50  # the app's max_page_features: a larger limit is read as this
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
SITING_LAYERS = ("stations", "assignments", "coverage")
ROUTING_LAYERS = ("routes", "stops")
PARK_LAYERS = ("enterprises", "receivers", "flows", "routes", "sites")

# the town's WGS-84 demand and sites (as in test_api_crs.py), on or next to its streets
TOWN_DEMAND = [("d1", 120.0005, 30.0021, 200), ("d2", 120.0035, 30.0019, 300),
               ("d3", 120.0010, 29.9999, 150), ("d4", 120.0045, 30.0001, 250)]  # fmt: skip
TOWN_SITES = [("s1", 120.0020, 30.0021), ("s2", 120.0040, 29.9999), ("s3", 120.0001, 30.0010)]


def _points(rows: list[tuple[Any, ...]], **props: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": r[0], "geometry": {"type": "Point", "coordinates": [r[1], r[2]]},
         "properties": dict(props)} for r in rows]}  # fmt: skip


def _solve(client: TestClient, path: str, body: dict[str, Any]) -> str:
    r = client.post(path, json=body, headers=A)
    assert r.status_code in (200, 202), r.text
    job = wait_job(client, r.json()["id"], ("done", "failed"))
    assert job["status"] == "done", job
    return str(job["plan_id"])


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, town_osm: Path, module_database: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """The module's app: on SQLite, and on PostgreSQL for the tests marked ``both_dbs``."""
    app = make_app(tmp_path_factory.mktemp("ogc") / "var", max_page_features=PAGE_MAX,
                   **module_database)  # fmt: skip
    with TestClient(app) as c:
        r = c.post("/networks", json={"sample": "helsinki", "name": "Helsinki"}, headers=A)
        assert r.status_code == 201, r.text
        nid = r.json()["id"]
        r = c.post("/networks", files={"file": ("town.osm", town_osm.read_bytes())}, headers=A)
        assert r.status_code == 201, r.text
        town = r.json()["id"]
        r = c.post("/networks", json={"sample": "helsinki", "name": "B's"}, headers=B)
        assert r.status_code == 201, r.text
        demand = _points(TOWN_DEMAND)
        for f, row in zip(demand["features"], TOWN_DEMAND, strict=True):
            f["properties"]["households"] = row[3]
        town_body = {"network_id": town, "model": "p_median", "p": 2, "demand": demand,
                     "sites": _points(TOWN_SITES), "max_snap_distance_m": 100.0,
                     "time_limit_s": 5}  # fmt: skip
        yield {
            "client": c,
            "app": app,
            "network": nid,
            "town": town,
            "b_network": r.json()["id"],
            "siting": _solve(c, "/siting", {**SITING_EXAMPLE_INLINE, "network_id": nid}),
            "routing": _solve(c, "/routing", {**ROUTING_EXAMPLE, "network_id": nid}),
            "park": _solve(c, "/parks", {**PARK_EXAMPLE, "network_id": nid}),
            "town_siting": _solve(c, "/siting", town_body),
        }


def _get(client: TestClient, url: str, headers: dict[str, str] = A, **params: Any) -> Any:
    r = client.get(url, params=params or None, headers=headers)  # {} drops the URL's query
    assert r.status_code == 200, r.text
    return r


def _all_items(client: TestClient, coll: str, **params: Any) -> tuple[list[dict], list[dict]]:
    """Every feature of a collection, following ``next`` links; and each page."""
    pages = [_get(client, f"/ogc/collections/{coll}/items", **params).json()]
    while nxt := [link for link in pages[-1]["links"] if link["rel"] == "next"]:
        pages.append(_get(client, nxt[0]["href"]).json())
        assert len(pages) < 1000
    return [f for p in pages for f in p["features"]], pages


def _bad(response: httpx.Response, param: str) -> str:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"][0]["field"] == f"query.{param}"
    assert problem["detail"].startswith(f"query.{param}: ")
    return str(problem["detail"])


# ---------------------------------------------------------------------- landing, conformance
def test_landing_page_and_conformance_need_no_key(world: dict) -> None:
    c = world["client"]
    doc = _get(c, "/ogc", headers={}).json()
    links = {link["rel"]: link for link in doc["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(links)
    assert links["data"]["href"] == "http://testserver/ogc/collections"  # absolute
    assert links["conformance"]["href"] == "http://testserver/ogc/conformance"
    assert links["service-desc"]["href"] == "http://testserver/ogc/api"
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    r = _get(c, links["service-desc"]["href"], headers={})
    assert r.headers["content-type"] == links["service-desc"]["type"]
    spec = r.json()
    assert spec["openapi"].startswith("3.0")  # hence the oas30 class below
    assert spec["servers"] == [{"url": "http://testserver/ogc"}]  # paths relative to /ogc
    assert set(spec["paths"]) == {"/", "/conformance", "/api", "/collections",
                                  "/collections/{collectionId}",
                                  "/collections/{collectionId}/items",
                                  "/collections/{collectionId}/items/{featureId}"}  # fmt: skip
    items = spec["paths"]["/collections/{collectionId}/items"]["get"]
    params = {p["name"]: p for p in items["parameters"]}
    assert {"limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "f"} <= set(params)
    # this server's limits: at most max_page_features, by default 100 or that if smaller
    assert params["limit"]["schema"] == {"type": "integer", "minimum": 1,
                                         "default": PAGE_MAX, "maximum": PAGE_MAX}  # fmt: skip
    assert params["crs"]["schema"]["enum"] == [CRS84, EPSG4326, GCJ02, BD09]
    assert "neither datum has an EPSG code" in params["crs"]["description"]
    assert "422" not in items["responses"]  # OGC parameters answer 400
    assert c.get("/ogc/api", headers={"Accept": "text/html"}).status_code == 406
    assert _get(c, "/ogc/api", headers={"Accept": "application/json"}).json() == spec
    classes = _get(c, "/ogc/conformance", headers={}).json()["conformsTo"]
    assert classes == [CORE, "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
                       "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
                       "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"]  # fmt: skip


# ---------------------------------------------------------------------- auth
def test_collections_need_a_key_and_the_401_says_how_to_send_it(world: dict) -> None:
    c, coll = world["client"], f"plan-{world['siting']}-stations"
    for url in ("/ogc/collections", f"/ogc/collections/{coll}", f"/ogc/collections/{coll}/items",
                f"/ogc/collections/{coll}/items/s1"):  # fmt: skip
        r = c.get(url)
        assert r.status_code == 401, r.text
        assert r.headers["www-authenticate"].startswith("ApiKey")
        detail = r.json()["detail"]
        for needle in ("X-API-Key", "GDAL_HTTP_HEADERS", "QGIS", "?api_key="):
            assert needle in detail
        assert c.get(url, headers={"X-API-Key": "nope"}).status_code == 401


@pytest.mark.both_dbs
def test_each_tenant_lists_only_its_own_collections(world: dict) -> None:
    c = world["client"]
    ids_a = {coll["id"] for coll in _get(c, "/ogc/collections").json()["collections"]}
    want = ({f"plan-{world['siting']}-{layer}" for layer in SITING_LAYERS}
            | {f"plan-{world['routing']}-{layer}" for layer in ROUTING_LAYERS}
            | {f"plan-{world['park']}-{layer}" for layer in PARK_LAYERS}
            | {f"plan-{world['town_siting']}-{layer}" for layer in SITING_LAYERS}
            | {f"network-{world['network']}-roads", f"network-{world['town']}-roads"})  # fmt: skip
    assert ids_a == want
    ids_b = {coll["id"] for coll in _get(c, "/ogc/collections", headers=B).json()["collections"]}
    assert ids_b == {f"network-{world['b_network']}-roads"}
    for ident in want:  # A's collections do not exist for B
        assert c.get(f"/ogc/collections/{ident}", headers=B).status_code == 404
        assert c.get(f"/ogc/collections/{ident}/items", headers=B).status_code == 404


def test_api_key_as_query_parameter_is_kept_in_every_link(world: dict) -> None:
    c = world["client"]
    for url in ("/ogc", "/ogc/collections", f"/ogc/collections/network-{world['network']}-roads",
                f"/ogc/collections/network-{world['network']}-roads/items"):  # fmt: skip
        doc = _get(c, url, headers={}, api_key=KEY_A, limit=5).json() if url.endswith(
            "items") else _get(c, url, headers={}, api_key=KEY_A).json()  # fmt: skip
        links = doc["links"] + [ln for coll in doc.get("collections", []) for ln in coll["links"]]
        for link in links:
            if link["rel"] != "service-doc":
                assert parse_qs(urlsplit(link["href"]).query)["api_key"] == [KEY_A], link


# ---------------------------------------------------------------------- collections
def test_collection_metadata(world: dict) -> None:
    c, nid, pid = world["client"], world["network"], world["siting"]
    listed = {coll["id"]: coll for coll in _get(c, "/ogc/collections").json()["collections"]}
    roads = _get(c, f"/ogc/collections/network-{nid}-roads").json()
    assert roads == listed[f"network-{nid}-roads"]
    info = _get(c, f"/networks/{nid}").json()["info"]
    assert roads["extent"]["spatial"] == {"bbox": [info["bbox"]], "crs": CRS84}
    assert roads["crs"] == [CRS84, EPSG4326]  # Helsinki: the Chinese datums mean nothing there
    assert roads["storageCrs"] == CRS84
    rels = {link["rel"]: link for link in roads["links"]}
    assert rels["items"]["type"] == GEOJSON
    assert rels["items"]["href"] == f"http://testserver/ogc/collections/network-{nid}-roads/items"
    assert rels["related"]["href"] == f"http://testserver/networks/{nid}/roads.geojson"
    stations = listed[f"plan-{pid}-stations"]
    feats = _get(c, f"/plans/{pid}/stations.geojson").json()["features"]
    lon = [f["geometry"]["coordinates"][0] for f in feats]
    lat = [f["geometry"]["coordinates"][1] for f in feats]
    assert stations["extent"]["spatial"]["bbox"] == [[min(lon), min(lat), max(lon), max(lat)]]
    assert stations["numberOfFeatures"] == len(feats)
    town = listed[f"plan-{world['town_siting']}-stations"]
    assert town["crs"] == [CRS84, EPSG4326, GCJ02, BD09]  # in China they matter


def test_unknown_collections_and_features_are_404(world: dict) -> None:
    c, pid, nid = world["client"], world["siting"], world["network"]
    for ident in ("nope", f"plan-{pid}-routes", f"plan-{pid}-centres", f"plan-{pid}-roads",
                  f"network-{pid}-roads", f"network-{nid}-stations", f"plan-{'0' * 32}-stations",
                  f"plan-{world['routing']}-stations"):  # fmt: skip
        for suffix in ("", "/items", "/items/x"):
            r = c.get(f"/ogc/collections/{ident}{suffix}", headers=A)
            assert r.status_code == 404, (ident, r.text)
            assert repr(ident) in r.json()["detail"]
    r = c.get(f"/ogc/collections/plan-{pid}-stations/items/no-such-site", headers=A)
    assert r.status_code == 404
    assert "no-such-site" in r.json()["detail"]


@pytest.mark.both_dbs
def test_names_tags_and_deletes_show_at_once(world: dict) -> None:
    """Titles carry a plan's name as it is now and its tags are the keywords; a deleted
    plan's layers and a deleted network's roads are gone from the next request on."""
    c = world["client"]
    body = {**SITING_EXAMPLE_INLINE, "network_id": world["network"], "name": "District 3",
            "tags": ["draft", "2025"]}  # fmt: skip
    pid = _solve(c, "/siting", body)
    coll = f"plan-{pid}-stations"
    doc = _get(c, f"/ogc/collections/{coll}").json()
    assert doc["title"].endswith("siting plan 'District 3' (" + pid + ")")
    assert doc["keywords"] == ["draft", "2025"]
    r = c.patch(f"/plans/{pid}", json={"name": "District 3, final", "tags": ["final"]}, headers=A)
    assert r.status_code == 200, r.text
    listed = {x["id"]: x for x in _get(c, "/ogc/collections").json()["collections"]}
    assert "'District 3, final'" in listed[coll]["title"]
    assert listed[coll]["keywords"] == ["final"]
    assert _get(c, f"/ogc/collections/{coll}/items").json()["numberMatched"] > 0  # cached now
    assert c.delete(f"/plans/{pid}", headers=A).status_code == 204
    for url in (f"/ogc/collections/{coll}", f"/ogc/collections/{coll}/items",
                f"/ogc/collections/{coll}/items/s1"):  # fmt: skip
        assert c.get(url, headers=A).status_code == 404, url
    ids = {x["id"] for x in _get(c, "/ogc/collections").json()["collections"]}
    assert not any(pid in i for i in ids)

    r = c.post("/networks", json={"sample": "helsinki", "name": "short-lived"}, headers=A)
    nid = r.json()["id"]
    roads = f"network-{nid}-roads"
    assert _get(c, f"/ogc/collections/{roads}/items", limit=1).json()["numberMatched"] > 0
    assert c.delete(f"/networks/{nid}", headers=A).status_code == 204
    assert c.get(f"/ogc/collections/{roads}/items", headers=A).status_code == 404
    assert roads not in {x["id"] for x in _get(c, "/ogc/collections").json()["collections"]}


# ---------------------------------------------------------------------- items: same data
@pytest.mark.both_dbs
@pytest.mark.parametrize("kind", ["siting", "routing", "park", "town_siting"])
def test_items_are_the_features_of_the_layer_url(world: dict, kind: str) -> None:
    c, pid = world["client"], world[kind]
    layers = {"siting": SITING_LAYERS, "routing": ROUTING_LAYERS, "park": PARK_LAYERS,
              "town_siting": SITING_LAYERS}[kind]  # fmt: skip
    root = "parks" if kind == "park" else "plans"
    for layer in layers:
        want = _get(c, f"/{root}/{pid}/{layer}.geojson").json()["features"]
        got, pages = _all_items(c, f"plan-{pid}-{layer}", limit=3)
        assert got == want, layer
        assert len(pages) == max(1, -(-len(want) // 3))
        assert all(p["numberMatched"] == len(want) for p in pages)
        for feature in want:  # and each one by its id ("d1->s1", "v-1:0", ...)
            url = f"/ogc/collections/plan-{pid}-{layer}/items/{quote(str(feature['id']), safe='')}"
            one = _get(c, url)
            assert one.headers["content-type"] == GEOJSON
            doc = one.json()
            links = doc.pop("links")
            assert doc == feature
            assert {link["rel"] for link in links} == {"self", "collection"}


def test_roads_are_the_features_of_roads_geojson(world: dict) -> None:
    c, nid = world["client"], world["network"]
    want = _get(c, f"/networks/{nid}/roads.geojson", limit=PAGE_MAX).json()
    got, pages = _all_items(c, f"network-{nid}-roads", limit=PAGE_MAX)
    assert len(got) == want["numberMatched"] == pages[0]["numberMatched"] > PAGE_MAX
    assert got[:PAGE_MAX] == want["features"]
    ids = [f["id"] for f in got]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    last = got[-1]
    assert _get(c, f"/ogc/collections/network-{nid}-roads/items/{last['id']}").json()["geometry"] \
        == last["geometry"]  # fmt: skip


# ---------------------------------------------------------------------- paging, limit
def test_paging_links_and_numbers(world: dict) -> None:
    c, nid = world["client"], world["network"]
    url = f"/ogc/collections/network-{nid}-roads/items"
    total = _get(c, url, limit=1).json()["numberMatched"]
    page = _get(c, url, limit=7, offset=14).json()
    assert (page["numberMatched"], page["numberReturned"]) == (total, 7)
    links = {link["rel"]: link for link in page["links"]}
    assert links["self"]["type"] == GEOJSON and links["next"]["type"] == GEOJSON
    query = {rel: parse_qs(urlsplit(links[rel]["href"]).query) for rel in ("self", "next", "prev")}
    assert query["self"] == {"limit": ["7"], "offset": ["14"]}
    assert query["next"] == {"limit": ["7"], "offset": ["21"]}
    assert query["prev"] == {"limit": ["7"], "offset": ["7"]}
    assert links["collection"]["href"] == f"http://testserver/ogc/collections/network-{nid}-roads"
    assert _get(c, links["prev"]["href"]).json()["features"] == _get(
        c, url, limit=7, offset=7).json()["features"]  # fmt: skip
    first = _get(c, url, limit=7).json()
    assert "prev" not in {link["rel"] for link in first["links"]}
    last = _get(c, url, limit=7, offset=total - 3).json()
    assert last["numberReturned"] == 3 and "next" not in {lk["rel"] for lk in last["links"]}
    past = _get(c, url, offset=total + 5).json()
    assert (past["numberReturned"], past["features"]) == (0, [])
    default = _get(c, url).json()
    assert default["numberReturned"] == min(PAGE_MAX, total)  # default 100, capped at 50 here


def test_limit_above_the_maximum_is_read_as_the_maximum(world: dict) -> None:
    c, nid = world["client"], world["network"]
    page = _get(c, f"/ogc/collections/network-{nid}-roads/items", limit=10**9).json()
    assert page["numberReturned"] == PAGE_MAX  # Part 1: no error; the maximum is used
    nxt = next(link for link in page["links"] if link["rel"] == "next")
    assert parse_qs(urlsplit(nxt["href"]).query)["limit"] == [str(PAGE_MAX)]


@pytest.mark.parametrize("query", ["limit=0", "limit=-1", "limit=abc", "limit=1.5", "limit=",
                                   "offset=-1", "offset=x"])  # fmt: skip
def test_bad_limit_or_offset_is_a_400_naming_it(world: dict, query: str) -> None:
    r = world["client"].get(f"/ogc/collections/network-{world['network']}-roads/items?{query}",
                            headers=A)  # fmt: skip
    _bad(r, query.split("=")[0])


def test_unknown_or_repeated_parameters_are_a_400(world: dict) -> None:
    c, nid = world["client"], world["network"]
    url = f"/ogc/collections/network-{nid}-roads/items"
    detail = _bad(c.get(url + "?highway=primary", headers=A), "highway")
    assert "limit, offset, bbox, bbox-crs, crs, datetime, f" in detail
    _bad(c.get(url + "?limit=1&limit=2", headers=A), "limit")
    _bad(c.get("/ogc/collections?limit=3", headers=A), "limit")
    _bad(c.get(f"/ogc/collections/network-{nid}-roads/items/0?bbox=1,2,3,4", headers=A), "bbox")


# ---------------------------------------------------------------------- bbox
def test_bbox_selects_the_roads_whose_geometry_meets_it(world: dict) -> None:
    """The roads of roads.geojson?bbox= (their boxes meet it) less those whose line passes
    the box by (Part 1 /req/core/fc-bbox-response: the geometry must intersect)."""
    c, nid = world["client"], world["network"]
    box = "24.940,60.165,24.945,60.170"
    west, south, east, north = (float(v) for v in box.split(","))
    url, by_box, total = f"/networks/{nid}/roads.geojson", [], 1
    while len(by_box) < total:
        page = _get(c, url, bbox=box, limit=PAGE_MAX, offset=len(by_box)).json()
        by_box, total = by_box + page["features"], page["numberMatched"]
    area = shapely.box(west, south, east, north)
    want = [f for f in by_box if shapely.intersects(area, shape(f["geometry"]))]
    assert 0 < len(want) < len(by_box) < 894  # some roads pass the box by
    got, _ = _all_items(c, f"network-{nid}-roads", bbox=box, limit=PAGE_MAX)
    assert got == want
    # the same box with heights, and in EPSG:4326 (lat/lon order)
    assert _all_items(c, f"network-{nid}-roads", bbox="24.940,60.165,0,24.945,60.170,10",
                      limit=PAGE_MAX)[0] == got  # fmt: skip
    latlon = _all_items(c, f"network-{nid}-roads", bbox="60.165,24.940,60.170,24.945",
                        limit=PAGE_MAX, **{"bbox-crs": EPSG4326})[0]  # fmt: skip
    assert latlon == got
    # read as lon/lat, that lat/lon box lies in the Arabian Sea: nothing
    assert _get(c, f"/ogc/collections/network-{nid}-roads/items",
                bbox="60.165,24.940,60.170,24.945").json()["numberMatched"] == 0  # fmt: skip


def test_bbox_across_the_antimeridian(world: dict) -> None:
    c, nid = world["client"], world["network"]
    url = f"/ogc/collections/network-{nid}-roads/items"
    total = _get(c, url, limit=1).json()["numberMatched"]
    # from 20°E eastwards across 180° to 170°W: Helsinki is inside
    assert _get(c, url, bbox="20,59,-170,61", limit=1).json()["numberMatched"] == total
    # from 170°E across 180° to 20°E: Helsinki (24.9°E) is not
    assert _get(c, url, bbox="170,59,20,61", limit=1).json()["numberMatched"] == 0


@pytest.mark.parametrize("box", ["1,2,3", "1,2,3,4,5", "a,b,c,d", "nan,60,25,61",
                                 "24,61,25,60", "24,60,25,91", "190,60,25,61", ""])  # fmt: skip
def test_bad_bbox_is_a_400(world: dict, box: str) -> None:
    r = world["client"].get(f"/ogc/collections/network-{world['network']}-roads/items",
                            params={"bbox": box}, headers=A)  # fmt: skip
    _bad(r, "bbox")


# ---------------------------------------------------------------------- CRS (Part 2)
def test_crs_epsg_4326_swaps_the_axes(world: dict) -> None:
    c, pid = world["client"], world["siting"]
    url = f"/ogc/collections/plan-{pid}-assignments/items"
    plain = _get(c, url)
    assert plain.headers["content-crs"] == f"<{CRS84}>"
    for name in (EPSG4326, "[EPSG:4326]", "urn:ogc:def:crs:EPSG::4326"):
        r = _get(c, url, crs=name)
        assert r.headers["content-crs"] == f"<{EPSG4326}>"
        assert r.json()["features"] == geojson_swap_axes(plain.json())["features"]
        np.testing.assert_array_equal(coords(r.json()), coords(plain.json())[:, ::-1])
    one = _get(c, f"/ogc/collections/plan-{pid}-stations/items/s1", crs=EPSG4326)
    assert one.headers["content-crs"] == f"<{EPSG4326}>"
    lon, lat = _get(c, f"/ogc/collections/plan-{pid}-stations/items/s1").json()["geometry"][
        "coordinates"]  # fmt: skip
    assert one.json()["geometry"]["coordinates"] == [lat, lon]
    assert _get(c, url, crs="[OGC:CRS84]").headers["content-crs"] == f"<{CRS84}>"


def test_crs_not_offered_by_the_collection_is_a_400(world: dict) -> None:
    c, pid = world["client"], world["siting"]
    url = f"/ogc/collections/plan-{pid}-stations/items"
    for value in ("http://www.opengis.net/def/crs/EPSG/0/3857", "wgs84", GCJ02, BD09):
        offered = _bad(c.get(url, params={"crs": value}, headers=A), "crs").split("use one of")[1]
        assert CRS84 in offered and EPSG4326 in offered and GCJ02 not in offered  # Helsinki
        _bad(c.get(url, params={"bbox-crs": value, "bbox": "24,60,25,61"}, headers=A),
             "bbox-crs")  # fmt: skip
    _bad(c.get(url + "/s1", params={"crs": GCJ02}, headers=A), "crs")


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_chinese_datums_in_china(world: dict, crs: str) -> None:
    c, pid = world["client"], world["town_siting"]
    uri = {"gcj02": GCJ02, "bd09": BD09}[crs]
    for layer in SITING_LAYERS:
        want = _get(c, f"/plans/{pid}/{layer}.geojson", crs=crs).json()
        r = _get(c, f"/ogc/collections/plan-{pid}-{layer}/items", crs=uri)
        assert r.headers["content-crs"] == f"<{uri}>"
        got = r.json()
        assert got["features"] == want["features"]
        assert got["crs_note"] == want["crs_note"]  # says these are not WGS-84
    # the shift is real: hundreds of metres at 30°N
    wgs = coords(_get(c, f"/ogc/collections/plan-{pid}-stations/items").json())
    shifted = coords(_get(c, f"/ogc/collections/plan-{pid}-stations/items", crs=uri).json())
    assert np.abs(shifted - wgs).max() > 0.003
    # a bbox in the datum selects what its WGS-84 image selects, and not what the same
    # numbers read as WGS-84 select
    stations = _get(c, f"/plans/{pid}/stations.geojson").json()["features"]
    lon, lat = stations[0]["geometry"]["coordinates"]
    x, y = from_wgs84(lon, lat, crs)
    box = f"{x - 1e-4},{y - 1e-4},{x + 1e-4},{y + 1e-4}"
    url = f"/ogc/collections/plan-{pid}-stations/items"
    hit = _get(c, url, bbox=box, **{"bbox-crs": uri}).json()
    assert [f["id"] for f in hit["features"]] == [stations[0]["id"]]
    assert _get(c, url, bbox=box).json()["numberMatched"] == 0
    one = _get(c, f"{url}/{stations[0]['id']}", crs=uri).json()
    np.testing.assert_allclose(one["geometry"]["coordinates"], [x, y], rtol=0, atol=1e-9)
    # the collection's WGS-84 extent, carried into the datum, holds every shifted feature
    west, south, east, north = bbox_from_wgs84(
        tuple(_get(c, f"/ogc/collections/plan-{pid}-stations").json()["extent"]["spatial"]
              ["bbox"][0]), crs)  # fmt: skip
    assert (shifted[:, 0] >= west).all() and (shifted[:, 0] <= east).all()
    assert (shifted[:, 1] >= south).all() and (shifted[:, 1] <= north).all()


# ---------------------------------------------------------------------- f, Accept, datetime
def test_f_and_accept(world: dict) -> None:
    c, nid = world["client"], world["network"]
    url = f"/ogc/collections/network-{nid}-roads/items"
    assert _get(c, url, limit=1).headers["content-type"] == GEOJSON
    assert _get(c, url, headers={**A, "Accept": GEOJSON}, limit=1).headers[
        "content-type"] == GEOJSON  # fmt: skip
    r = _get(c, url, headers={**A, "Accept": "application/json"}, limit=1)
    assert r.headers["content-type"] == "application/json"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert _get(c, url, headers={**A, "Accept": browser}, limit=1).headers[
        "content-type"] == GEOJSON  # fmt: skip
    r = c.get(url, headers={**A, "Accept": "text/html"})
    assert r.status_code == 406 and "f=json" in r.json()["detail"]
    r = c.get(url, headers={**A, "Accept": f"{GEOJSON};q=0, text/csv"})
    assert r.status_code == 406
    assert _get(c, url, headers={**A, "Accept": "text/html"}, f="json", limit=1).headers[
        "content-type"] == GEOJSON  # fmt: skip
    assert _get(c, "/ogc/collections", f="json").headers["content-type"] == "application/json"
    _bad(c.get(url, params={"f": "html"}, headers=A), "f")
    _bad(c.get("/ogc", params={"f": "xml"}), "f")


def test_datetime_keeps_features_without_time_and_must_be_valid(world: dict) -> None:
    """Part 1 /req/core/fc-time-response: features without a temporal geometry (all of
    ours) are matched by any datetime."""
    c, nid = world["client"], world["network"]
    url = f"/ogc/collections/network-{nid}-roads/items"
    plain = _get(c, url, limit=5).json()
    assert plain["numberMatched"] > 5
    for ok in ("2024-05-01T00:00:00Z", "2024-05-01T00:00:00Z/..", "../2024-06-01",
               "2024-05-01/2024-06-01"):  # fmt: skip
        page = _get(c, url, datetime=ok, limit=5).json()  # the roads have no time
        assert (page["numberMatched"], page["features"]) == (plain["numberMatched"],
                                                             plain["features"])  # fmt: skip
        nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
        assert parse_qs(urlsplit(nxt).query)["datetime"] == [ok]  # paging keeps it
    for bad in ("yesterday", "../..", "/", "2024-05-01/2024-06-01/2024-07-01", "2024-13-01"):
        _bad(c.get(url, params={"datetime": bad}, headers=A), "datetime")


# ---------------------------------------------------------------------- the declared classes
@pytest.mark.both_dbs
def test_every_collection_meets_the_declared_classes(world: dict) -> None:
    """A walk over every collection of tenant A against the requirements of the classes
    /ogc/conformance declares (Part 1 core, geojson; Part 2 crs), as the OGC test suite
    checks them: links, media types, counts, limit, ids, and each listed CRS."""
    c = world["client"]
    assert set(_get(c, "/ogc/conformance").json()["conformsTo"]) == {
        CORE, "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"}  # fmt: skip
    listing = _get(c, "/ogc/collections")
    assert listing.headers["content-type"] == "application/json"
    doc = listing.json()
    assert [link["rel"] for link in doc["links"]] == ["self"]
    assert CRS84 in doc["crs"]
    assert len(doc["collections"]) == 3 + 2 + 5 + 3 + 2  # the plans and networks of A
    for coll in doc["collections"]:
        ident = coll["id"]
        # /req/core/sfc-md-op, /req/core/sfc-md-items: links, extent, items link
        assert _get(c, f"/ogc/collections/{ident}").json() == coll
        rels = {link["rel"]: link for link in coll["links"]}
        assert rels["self"]["href"] == f"http://testserver/ogc/collections/{ident}"
        assert rels["items"]["type"] == GEOJSON
        if "extent" not in coll:  # no feature has a geometry: the park has no shared site
            assert coll["numberOfFeatures"] == 0
            assert _get(c, rels["items"]["href"]).json()["numberMatched"] == 0
            continue
        west, south, east, north = coll["extent"]["spatial"]["bbox"][0]
        assert -180 <= west <= east <= 180 and -90 <= south <= north <= 90
        # /req/crs/fc-md-crs-list, fc-md-storageCrs: CRS84 listed, storage CRS listed
        assert coll["crs"][0] == CRS84 and coll["storageCrs"] in coll["crs"]
        # /req/core/fc-response, fc-limit-response-1, /req/geojson/content
        page = _get(c, rels["items"]["href"], limit=2)
        assert page.headers["content-type"] == GEOJSON
        fc = page.json()
        assert fc["type"] == "FeatureCollection"
        assert fc["numberReturned"] == len(fc["features"]) == min(2, fc["numberMatched"])
        assert fc["numberMatched"] == coll["numberOfFeatures"] > 0
        assert {"self", "collection"} <= {link["rel"] for link in fc["links"]}
        assert ("next" in {link["rel"] for link in fc["links"]}) == (fc["numberMatched"] > 2)
        for f in fc["features"]:
            assert f["type"] == "Feature" and "properties" in f and "geometry" in f
            # /req/core/f-op: the feature by its id is the same feature
            one = _get(c, f"{rels['items']['href']}/{quote(str(f['id']), safe='')}").json()
            assert {k: v for k, v in one.items() if k != "links"} == f
        # /req/core/fc-bbox-response: the collection's own extent selects every feature
        box = ",".join(str(v) for v in (west, south, east, north))
        assert _get(c, rels["items"]["href"], bbox=box, limit=1).json()["numberMatched"] \
            == fc["numberMatched"]  # fmt: skip
        # /req/crs/fc-crs-action, ogc-crs-header, fc-bbox-crs-action: each listed CRS
        for uri in coll["crs"]:
            r = _get(c, rels["items"]["href"], crs=uri, limit=2)
            assert r.headers["content-crs"] == f"<{uri}>"
            assert len(r.json()["features"]) == fc["numberReturned"]
            image = bbox_from_wgs84((west, south, east, north), {GCJ02: "gcj02", BD09: "bd09"}
                                    .get(uri, "wgs84"))  # fmt: skip
            if uri == EPSG4326:
                image = (image[1], image[0], image[3], image[2])
            hit = _get(c, rels["items"]["href"], bbox=",".join(map(str, image)),
                       limit=1, **{"bbox-crs": uri}).json()  # fmt: skip
            assert hit["numberMatched"] == fc["numberMatched"], (ident, uri)
        # /req/crs/fc-crs-valid-value: a CRS not listed is a 400
        _bad(c.get(rels["items"]["href"], params={"crs": "http://www.opengis.net/def/crs/EPSG/0/3857"},
                   headers=A), "crs")  # fmt: skip


# ---------------------------------------------------------------------- a real GIS client
def _ogrinfo() -> str:
    path = shutil.which("ogrinfo")
    if path is None:
        message = "gdal-bin (ogrinfo) is not installed: `make system-deps` installs it"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)  # CI must run the real-client test
        pytest.skip(message)
    return path


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})  # fmt: skip


def test_ogrinfo_lists_collections_and_reads_a_stored_plan(tmp_path: Path) -> None:
    ogrinfo = _ogrinfo()
    server = Server(tmp_path / "var")
    try:
        api = httpx.Client(base_url=server.url, headers=A, timeout=120)
        nid, pid = stored_siting_plan(api)
        stations = api.get(f"/plans/{pid}/stations.geojson").json()["features"]
        url = f"OAPIF:{server.url}/ogc"
        header = {"GDAL_HTTP_HEADERS": f"X-API-Key: {KEY_A}"}

        # the collections, with the key from the environment
        out = _run(ogrinfo, "-ro", "-so", url, env=header)
        assert out.returncode == 0, out.stderr
        for layer in SITING_LAYERS:
            assert f"plan-{pid}-{layer} (title: " in out.stdout
        assert f"network-{nid}-roads (title: Roads: network 'helsinki'" in out.stdout

        # a stored plan's stations, with the key as a --config option: every feature
        out = _run(ogrinfo, "-ro", "-al", "--config", "GDAL_HTTP_HEADERS",
                   f"X-API-Key: {KEY_A}", url, f"plan-{pid}-stations")  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert f"Feature Count: {len(stations)}" in out.stdout
        assert out.stdout.count("OGRFeature(") == len(stations)
        for f in stations:
            lon, lat = f["geometry"]["coordinates"]
            assert f"id (String) = {f['id']}" in out.stdout
            assert f"POINT ({lon} {lat})" in out.stdout

        # the roads, through GDAL's paging (next links) with the key in the URL
        out = _run(ogrinfo, "-ro", "-al", "-oo", "PAGE_SIZE=100", f"{url}?api_key={KEY_A}",
                   f"network-{nid}-roads")  # fmt: skip
        assert out.returncode == 0, out.stderr
        total = api.get(f"/ogc/collections/network-{nid}-roads/items",
                        params={"limit": 1}).json()["numberMatched"]  # fmt: skip
        assert total > 100 and out.stdout.count("OGRFeature(") == total

        # no key: GDAL fails and shows the service's reason
        out = _run(ogrinfo, "-ro", "-so", url)
        assert out.returncode != 0
        assert "401" in out.stderr and "GDAL_HTTP_HEADERS" in out.stderr
    finally:
        server.stop()


def test_ogrinfo_reads_a_large_layer_at_its_default_page_size(tmp_path: Path) -> None:
    """GDAL before 3.8 reads 10 features a page (GDAL 3.6: the Helsinki roads are 90
    pages). With ordinary requests limited to 40 a minute, those pages still go through
    on their own limit (rate_limit_page_requests, 10 times as many), and every road
    arrives: as a network ten times larger would on the default limits (600 and 6000).
    Counted as ordinary requests (the page limit set to 40 too), GDAL stops at the 429
    and still exits 0 with the layer cut short: what this limit prevents."""
    ogrinfo = _ogrinfo()
    runs = {}
    for pages in ("400", "40"):
        server = Server(tmp_path / f"var{pages}", RECYCLENET_RATE_LIMIT_REQUESTS="40",
                        RECYCLENET_RATE_LIMIT_PAGE_REQUESTS=pages)  # fmt: skip
        try:
            api = httpx.Client(base_url=server.url, headers=A, timeout=120)
            nid = api.post("/networks", json={"sample": "helsinki"}).json()["id"]
            total = api.get(f"/ogc/collections/network-{nid}-roads/items",
                            params={"limit": 1000}).json()["numberMatched"]  # fmt: skip
            out = _run(ogrinfo, "-ro", "-al", "--debug", "on", f"OAPIF:{server.url}/ogc",
                       f"network-{nid}-roads",
                       env={"GDAL_HTTP_HEADERS": f"X-API-Key: {KEY_A}"})  # fmt: skip
            runs[pages] = (out, total)
        finally:
            server.stop()
    out, total = runs["400"]
    assert out.returncode == 0, out.stderr[-2000:]
    pages = len(re.findall(r"/items\?limit=10[&)]", out.stderr))  # this GDAL's page size
    if pages == 0:
        pytest.skip("this GDAL reads more than 10 features a page: no small pages to count")
    assert pages > 40 and total > 800, (pages, total)
    assert out.stdout.count("OGRFeature(") == total and "429" not in out.stderr
    cut, _ = runs["40"]
    assert cut.returncode == 0 and "HTTP error code : 429" in cut.stderr
    assert cut.stdout.count("OGRFeature(") < total
