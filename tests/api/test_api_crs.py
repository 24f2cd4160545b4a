"""``?crs=wgs84|gcj02|bd09`` on the service: request coordinates are read in that datum
and converted to WGS-84 once, GeoJSON, ``bbox=`` and ``info.bbox`` are served in it.

The network is the hand-made town (tests/fixtures/town.osm) at 120°E 30°N, inside China,
where GCJ-02 moves points by ~450 m and BD-09 by ~1 km, more than the town is wide: a
request whose conversion were skipped would snap to other streets or to none, so each test
compares with the WGS-84 request and checks that the shifted numbers, read as WGS-84,
give another answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from api_helpers import A, coords, make_app
from fastapi.testclient import TestClient

from recyclenet.geo import (
    CRS_NOTE_KEY,
    bbox_from_wgs84,
    bbox_to_wgs84,
    from_wgs84,
    geojson_from_crs,
    geojson_to_crs,
)

GEOJSON = "application/geo+json"
PROBLEM = "application/problem+json"
TOL_DEG = 1e-8
SNAP_M = 100.0  # every WGS-84 point below is within ~15 m of a street of the town

# WGS-84 points on or next to the town's streets (as in tests/test_cli_crs.py)
DEMAND = [("d1", 120.0005, 30.0021, 200), ("d2", 120.0035, 30.0019, 300),
          ("d3", 120.0010, 29.9999, 150), ("d4", 120.0045, 30.0001, 250)]  # fmt: skip
SITES = [("s1", 120.0020, 30.0021), ("s2", 120.0040, 29.9999), ("s3", 120.0001, 30.0010)]
ORDERS = [("o1", 120.0005, 30.0021, {"tv": 1}, [28800, 43200]),
          ("o2", 120.0035, 30.0019, {"refrigerator": 1}, [32400, 46800]),
          ("o3", 120.0045, 30.0001, {"scrap_ferrous": 50}, [28800, 61200])]  # fmt: skip
DEPOT = ("depot", 120.0001, 30.0010)
CENTRE = ("centre", 120.0040, 29.9999)
POINTS = [("回收站1", 120.001, 30.0003), ("Q", 120.003, 30.0019), ("X", 120.0001, 30.001)]

SITING_LAYERS = ("stations", "assignments", "coverage")
ROUTING_LAYERS = ("routes", "stops")


# ---------------------------------------------------------------------- helpers
def shifted(lon: float, lat: float, crs: str) -> list[float]:
    x, y = from_wgs84(lon, lat, crs)
    return [x, y]


def collection(rows: list[tuple[Any, ...]], crs: str, **props: Any) -> dict[str, Any]:
    """Point features ``(id, lon, lat, ...)`` with lon/lat shifted into ``crs``."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": r[0], "geometry": {"type": "Point",
         "coordinates": shifted(r[1], r[2], crs)}, "properties": dict(props)}
        for r in rows]}  # fmt: skip


def siting_body(nid: str, crs: str) -> dict[str, Any]:
    demand = collection(DEMAND, crs)
    for feature, row in zip(demand["features"], DEMAND):
        feature["properties"]["households"] = row[3]
    return {"network_id": nid, "model": "p_median", "p": 2, "demand": demand,
            "sites": collection(SITES, crs), "max_snap_distance_m": SNAP_M,
            "time_limit_s": 5}  # fmt: skip


def routing_body(nid: str, crs: str) -> dict[str, Any]:
    orders = collection(ORDERS, crs)
    for feature, row in zip(orders["features"], ORDERS):
        feature["properties"].update(items=row[3], time_windows=[row[4]])
    return {"network_id": nid, "orders": orders, "depots": collection([DEPOT], crs),
            "facilities": collection([CENTRE], crs, unload_s=600), "engine": "ortools",
            "time_limit_s": 30, "deterministic": True, "seed": 3,  # same plan on any machine
            "max_snap_distance_m": SNAP_M}  # fmt: skip


def matrix_body(nid: str, crs: str) -> dict[str, Any]:
    pts = [{"id": pid, "lon": shifted(lon, lat, crs)[0], "lat": shifted(lon, lat, crs)[1]}
           for pid, lon, lat in POINTS]  # fmt: skip
    return {"network_id": nid, "origins": pts, "max_snap_distance_m": SNAP_M}


def get_geojson(client: TestClient, url: str, **params: Any) -> dict[str, Any]:
    r = client.get(url, params=params, headers=A)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == GEOJSON
    return r.json()


def solve(client: TestClient, path: str, body: dict[str, Any], crs: str | None) -> dict:
    """POST a job and wait for it; ``crs`` None sends no ``?crs=`` (WGS-84)."""
    params: dict[str, Any] = {"wait": 60}
    if crs is not None:
        params["crs"] = crs
    r = client.post(path, params=params, json=body, headers=A)
    assert r.status_code in (200, 422), r.text
    return r.json()


def bad_crs(response: Any, value: str = "EPSG:3857") -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["errors"][0]["field"] == "query.crs"
    assert problem["detail"].startswith("query.crs: unknown coordinate system")
    for needle in (repr(value), "wgs84", "gcj02", "bd09"):
        assert needle in problem["detail"]


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory, town_osm: Path) -> Iterator[dict[str, Any]]:
    app = make_app(tmp_path_factory.mktemp("crs") / "var")
    with TestClient(app) as client:
        r = client.post("/networks", files={"file": ("town.osm", town_osm.read_bytes())},
                        headers=A)  # fmt: skip
        assert r.status_code == 201, r.text
        yield {"app": app, "client": client, "nid": r.json()["id"]}


@pytest.fixture(scope="module")
def siting(town: dict[str, Any]) -> dict[str, dict]:
    """The same scenario sent in WGS-84, GCJ-02 and BD-09 (by an alias)."""
    client, nid = town["client"], town["nid"]
    jobs = {
        "wgs84": solve(client, "/siting", siting_body(nid, "wgs84"), None),
        "gcj02": solve(client, "/siting", siting_body(nid, "gcj02"), "gcj02"),
        "bd09": solve(client, "/siting", siting_body(nid, "bd09"), "BD-09"),
    }
    for job in jobs.values():
        assert job["status"] == "done", job
    return jobs


@pytest.fixture(scope="module")
def routing(town: dict[str, Any]) -> dict[str, dict]:
    client, nid = town["client"], town["nid"]
    jobs = {
        "wgs84": solve(client, "/routing", routing_body(nid, "wgs84"), "wgs84"),
        "gcj02": solve(client, "/routing", routing_body(nid, "gcj02"), "gcj02"),
    }
    for job in jobs.values():
        assert job["status"] == "done", job
    return jobs


# ---------------------------------------------------------------- (1) same plans
def test_siting_in_gcj02_and_bd09_gives_the_wgs84_plan(town: dict, siting: dict) -> None:
    want = siting["wgs84"]["plan"]["data"]
    assert want["input_crs"] == "wgs84" and len(want["plan"]["open_ids"]) == 2
    for crs in ("gcj02", "bd09"):
        got = siting[crs]["plan"]["data"]
        assert got["input_crs"] == crs
        assert got["plan"]["open_ids"] == want["plan"]["open_ids"]
        pairs = zip(got["plan"]["assignment"], want["plan"]["assignment"], strict=True)
        for g, w in pairs:
            assert (g["demand_id"], g["site_id"]) == (w["demand_id"], w["site_id"])
            assert g["distance_m"] == pytest.approx(w["distance_m"], abs=1e-3)
        assert got["plan"]["objective"] == pytest.approx(want["plan"]["objective"], abs=0.01)
    # the job stored the request as given, with its datum; the worker's converter turns
    # it into the WGS-84 points
    from recyclenet_api.converters.siting import siting_inputs
    from recyclenet_api.tasks import job_argument
    from recyclenet_api.tasks.siting import siting_task

    job = town["app"].state.ctx.store.get_job("tenant-a", siting["gcj02"]["id"])
    assert job.payload["crs"] == "gcj02"
    given = job.payload["request"]["demand"]["features"][0]["geometry"]["coordinates"]
    assert given != pytest.approx(list(DEMAND[0][1:3]), abs=1e-4)  # GCJ-02 is offset
    demand = siting_inputs(job_argument(siting_task, job.payload)).demand
    assert demand is not None
    stored = [(d.id, d.lon, d.lat) for d in demand]
    assert [s[0] for s in stored] == [d[0] for d in DEMAND]
    np.testing.assert_allclose([s[1:] for s in stored], [d[1:3] for d in DEMAND], rtol=0,
                               atol=1e-10)  # fmt: skip


def test_siting_in_gcj02_read_as_wgs84_is_another_answer(town: dict, siting: dict) -> None:
    # ~450 m east of the town: the demand lies outside the network's extent by more than
    # the 100 m snap distance, so the request is refused naming the points
    job = solve(town["client"], "/siting", siting_body(town["nid"], "gcj02"), None)
    want = siting["wgs84"]["plan"]["data"]["plan"]
    if job.get("status") == "done":
        got = job["plan"]["data"]["plan"]
        assert (got["open_ids"], got["objective"]) != (want["open_ids"], want["objective"])
    elif job.get("status") == 422:
        assert job["errors"][0]["field"].startswith("body.demand.features"), job
        assert "outside the network's extent" in job["detail"], job
    else:
        assert job["status"] == "failed" and job["error"]["status"] == 422, job


def test_routing_in_gcj02_gives_the_wgs84_routes(town: dict, routing: dict) -> None:
    def stops(job: dict) -> list[list[str]]:
        plan = job["plan"]["data"]["plan"]
        assert not plan["unserved"]
        return [[v["location_id"] for v in r["visits"]] for r in plan["routes"]]

    assert stops(routing["gcj02"]) == stops(routing["wgs84"])
    assert {stop for r in stops(routing["wgs84"]) for stop in r} >= {"o1", "o2", "o3"}
    want, got = routing["wgs84"]["plan"]["data"], routing["gcj02"]["plan"]["data"]
    assert got["plan"]["cost"] == pytest.approx(want["plan"]["cost"], abs=0.01)
    assert (want["input_crs"], got["input_crs"]) == ("wgs84", "gcj02")
    raw = solve(town["client"], "/routing", routing_body(town["nid"], "gcj02"), None)
    assert raw["status"] == "failed" or (
        raw["plan"]["data"]["plan"]["cost"] != pytest.approx(want["plan"]["cost"], abs=0.01)
    ), raw


def test_matrix_in_gcj02_is_the_wgs84_matrix(town: dict) -> None:
    client, nid = town["client"], town["nid"]
    wgs = solve(client, "/matrix", matrix_body(nid, "wgs84"), None)
    gcj = solve(client, "/matrix", matrix_body(nid, "gcj02"), "GCJ02")
    assert wgs["status"] == gcj["status"] == "done", (wgs, gcj)
    want, got = wgs["plan"]["data"], gcj["plan"]["data"]
    assert got["origin_ids"] == ["回收站1", "Q", "X"] and got["input_crs"] == "gcj02"
    for key in ("duration_s", "distance_m"):
        np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-3)
    raw = solve(client, "/matrix", matrix_body(nid, "gcj02"), None)
    if raw["status"] == "done":  # snapped ~450 m east: other streets, other distances
        assert np.abs(np.array(raw["plan"]["data"]["distance_m"]) - want["distance_m"]).max() > 50
    else:
        assert raw["status"] == "failed", raw


def test_request_errors_still_name_the_ids(town: dict) -> None:
    client, nid = town["client"], town["nid"]
    body = routing_body(nid, "gcj02")
    body["orders"]["features"][2]["id"] = "o1"
    r = client.post("/routing", params={"crs": "gcj02"}, json=body, headers=A)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.orders.features.2"
    assert "'o1'" in r.json()["detail"]
    # BD-09 on the antimeridian has no WGS-84 point in range: 422 naming the point as given
    body = {"network_id": nid, "origins": [{"id": "edge", "lon": -180, "lat": 10}]}
    r = client.post("/matrix", params={"crs": "bd09"}, json=body, headers=A)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert r.json()["errors"][0]["field"] == "body.origins.0"
    assert "edge (-180.0, 10.0)" in r.json()["detail"] and "bd09" in r.json()["detail"]


# ------------------------------------------------------------- (2) layers in crs
@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_plan_layers_in_crs(town: dict, siting: dict, routing: dict, crs: str) -> None:
    client = town["client"]
    for jobs, layers in ((siting, SITING_LAYERS), (routing, ROUTING_LAYERS)):
        pid = jobs["wgs84"]["plan_id"]
        for name in layers:
            url = f"/plans/{pid}/{name}.geojson"
            got = get_geojson(client, url, crs=crs)  # first, so a crs-blind cache would leak
            want = get_geojson(client, url)
            assert CRS_NOTE_KEY not in want and get_geojson(client, url, crs="wgs84") == want
            assert got == geojson_to_crs(want, crs)
            assert {"gcj02": "GCJ-02", "bd09": "BD-09"}[crs] in got[CRS_NOTE_KEY]
            assert len(got["features"]) == len(want["features"]) > 0
            shift = np.abs(coords(got) - coords(want)).max()
            assert shift > 3e-3  # ~450 m or more: really converted
            back = geojson_from_crs(got, crs)
            assert CRS_NOTE_KEY not in back
            np.testing.assert_allclose(coords(back), coords(want), rtol=0, atol=TOL_DEG)
            assert got == get_geojson(client, url, crs=crs.upper())  # aliases, cached


def test_layers_give_back_the_coordinates_sent(town: dict, siting: dict, routing: dict) -> None:
    client = town["client"]
    given = {sid: shifted(lon, lat, "gcj02") for sid, lon, lat in SITES}
    stations = get_geojson(client, f"/plans/{siting['gcj02']['plan_id']}/stations.geojson",
                           crs="gcj02")  # fmt: skip
    assert len(stations["features"]) == 2
    for f in stations["features"]:
        assert f["geometry"]["coordinates"] == pytest.approx(given[f["id"]], abs=TOL_DEG)
    given = {row[0]: shifted(row[1], row[2], "gcj02") for row in [*ORDERS, DEPOT, CENTRE]}
    stops = get_geojson(client, f"/plans/{routing['gcj02']['plan_id']}/stops.geojson",
                        crs="gcj02")  # fmt: skip
    assert len(stops["features"]) >= len(ORDERS) + 2
    for f in stops["features"]:
        where = given[f["properties"]["location_id"]]
        assert f["geometry"]["coordinates"] == pytest.approx(where, abs=TOL_DEG)


def test_plan_json_holds_no_coordinates(town: dict, siting: dict, routing: dict) -> None:
    """So GET /plans/{id} needs no conversion (and takes no ?crs=)."""

    def keys(value: Any) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        if isinstance(value, list):
            return {k for v in value for k in keys(v)}
        return set()

    for jobs in (siting, routing):
        r = town["client"].get(f"/plans/{jobs['gcj02']['plan_id']}", headers=A)
        assert r.status_code == 200
        found = keys(r.json()["data"])
        assert not found & {"lon", "lat", "coordinates", "geometry", "bbox", "x", "y"}


# ------------------------------------------------------------------ (3) bad crs
def test_bad_crs_is_a_422_naming_crs(town: dict, siting: dict) -> None:
    client, nid = town["client"], town["nid"]
    pid = siting["wgs84"]["plan_id"]
    jobs_before = client.get("/jobs", headers=A).json()["total"]
    params = {"crs": "EPSG:3857"}
    for url in (f"/plans/{pid}/stations.geojson", f"/networks/{nid}/roads.geojson",
                f"/networks/{nid}", "/networks"):  # fmt: skip
        bad_crs(client.get(url, params=params, headers=A))
    bad_crs(client.post("/siting", params=params, json=siting_body(nid, "wgs84"), headers=A))
    bad_crs(client.post("/routing", params=params, json=routing_body(nid, "wgs84"), headers=A))
    bad_crs(client.post("/matrix", params=params, json=matrix_body(nid, "wgs84"), headers=A))
    bad_crs(client.get("/networks", params={"crs": "wgs72"}, headers=A), "wgs72")
    assert client.get("/jobs", headers=A).json()["total"] == jobs_before  # nothing queued


def test_openapi_documents_crs_on_every_coordinate_endpoint(town: dict) -> None:
    spec = town["client"].get("/openapi.json").json()
    with_crs = set()
    for path, ops in spec["paths"].items():
        if path.startswith("/ogc"):  # OGC API - Features: its crs takes URIs (test_api_ogc)
            continue
        for method, op in ops.items():
            for param in op.get("parameters", []):
                if param["name"] == "crs":
                    assert param["in"] == "query" and not param["required"]
                    assert param["schema"]["enum"] == ["wgs84", "gcj02", "bd09"]
                    assert param["schema"]["default"] == "wgs84"
                    assert "BD-09" in param["description"]
                    with_crs.add(f"{method.upper()} {path}")
    layers = {f"GET /plans/{{plan_id}}/{name}.geojson"
              for name in (*SITING_LAYERS, "centres", *ROUTING_LAYERS)}  # fmt: skip
    assert with_crs == layers | {
        "POST /siting", "POST /routing", "POST /matrix", "POST /networks", "GET /networks",
        "GET /networks/{network_id}", "GET /networks/{network_id}/roads.geojson",
        "GET /plans/{plan_id}/export", "POST /uploads",
    }  # fmt: skip


# -------------------------------------------------------------- (4) roads, bbox
def test_roads_bbox_in_gcj02(town: dict) -> None:
    client, nid = town["client"], town["nid"]
    url = f"/networks/{nid}/roads.geojson"
    everything = get_geojson(client, url)
    every_gcj = get_geojson(client, url, crs="gcj02")
    assert every_gcj["features"] and every_gcj == {
        **geojson_to_crs({k: v for k, v in everything.items() if k != "links"}, "gcj02"),
        "links": everything["links"],
    }
    wgs_box = (120.0, 29.999, 120.0025, 30.0005)  # the south-west part of the town
    gcj_box = bbox_from_wgs84(wgs_box, "gcj02")
    gcj_text = ",".join(repr(v) for v in gcj_box)
    got = get_geojson(client, url, crs="gcj02", bbox=gcj_text)
    back = bbox_to_wgs84(gcj_box, "gcj02")
    same = get_geojson(client, url, bbox=",".join(repr(v) for v in back))
    ids = [f["id"] for f in got["features"]]
    assert ids == [f["id"] for f in same["features"]]
    assert got["features"] == geojson_to_crs(same, "gcj02")["features"]
    assert ids == [f["id"] for f in get_geojson(client, url, bbox=",".join(map(str, wgs_box)))[
        "features"]]  # fmt: skip
    assert 0 < len(ids) < len(everything["features"]) and got[CRS_NOTE_KEY]
    # every feature drawn in GCJ-02 that meets the box is selected
    for f in every_gcj["features"]:
        xy = np.array(f["geometry"]["coordinates"])
        meets = (xy[:, 0].min() <= gcj_box[2] and xy[:, 0].max() >= gcj_box[0]
                 and xy[:, 1].min() <= gcj_box[3] and xy[:, 1].max() >= gcj_box[1])  # fmt: skip
        assert not meets or f["id"] in ids
    # the same numbers as a WGS-84 box lie ~450 m east of that corner of the town
    raw = get_geojson(client, url, bbox=gcj_text)
    assert [f["id"] for f in raw["features"]] != ids


def test_roads_paging_keeps_crs(town: dict) -> None:
    client, nid = town["client"], town["nid"]
    whole = get_geojson(client, f"/networks/{nid}/roads.geojson", crs="bd09")
    pages, url = [], f"/networks/{nid}/roads.geojson?limit=3&crs=bd09"
    while url:
        r = client.get(url, headers=A)
        page = r.json()
        assert "BD-09" in page[CRS_NOTE_KEY] and page["numberReturned"] <= 3
        pages.extend(page["features"])
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = nxt[0] if nxt else None
        assert url is None or "crs=bd09" in url
    assert pages == whole["features"]


def test_network_info_bbox_in_crs(town: dict) -> None:
    client, nid = town["client"], town["nid"]
    wgs = client.get(f"/networks/{nid}", headers=A).json()["info"]
    got = client.get(f"/networks/{nid}", params={"crs": "gcj02"}, headers=A).json()["info"]
    assert got["crs"] == "gcj02" and "crs" not in wgs
    assert (got["nodes"], got["edges"]) == (wgs["nodes"], wgs["edges"])
    west, south, east, north = wgs["bbox"]
    corners = np.array(from_wgs84([west, east], [south, north], "gcj02")).T.ravel()
    assert got["bbox"] == pytest.approx(corners.tolist(), abs=5e-5)
    assert abs(got["bbox"][0] - west) > 3e-3
    # it holds every road as drawn in GCJ-02, so as a bbox= it selects them all
    xy = coords(get_geojson(client, f"/networks/{nid}/roads.geojson", crs="gcj02"))
    assert (xy.min(axis=0) >= np.array(got["bbox"][:2])).all()
    assert (xy.max(axis=0) <= np.array(got["bbox"][2:])).all()
    text = ",".join(repr(v) for v in got["bbox"])
    page = get_geojson(client, f"/networks/{nid}/roads.geojson", crs="gcj02", bbox=text)
    assert page["numberMatched"] == wgs["road_features"] == len(page["features"])
    listed = client.get("/networks", params={"crs": "gcj02"}, headers=A).json()["items"]
    assert [n["info"]["bbox"] for n in listed] == [got["bbox"]]
