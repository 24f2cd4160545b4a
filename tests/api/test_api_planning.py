"""/siting, /routing and the plan layers: real jobs on the Helsinki sample (TestClient)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import shapely
from api_helpers import A, B, make_app, run_job, wait_job
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape

from plan_checks import GENEROUS_S, assert_solved
from recyclenet_api.schemas import ROUTING_EXAMPLE, SITING_EXAMPLE_INLINE, SITING_EXAMPLE_OSM

GEOJSON = "application/geo+json"
PROBLEM = "application/problem+json"
SEA = {"type": "Feature", "id": "sea", "geometry": {"type": "Point", "coordinates": [24.80, 60.10]},
       "properties": {"items": {"tv": 1}}}  # fmt: skip


def siting_body(nid: str, **extra: Any) -> dict[str, Any]:
    # a generous limit: the solve returns once proven optimal (plan_checks)
    body = {**copy.deepcopy(SITING_EXAMPLE_OSM), "network_id": nid, "time_limit_s": GENEROUS_S}
    return {**body, **extra}


def routing_body(nid: str, **extra: Any) -> dict[str, Any]:
    body = copy.deepcopy(ROUTING_EXAMPLE)
    body.update(network_id=nid, engine="ortools", time_limit_s=2, **extra)
    return body


@pytest.fixture(scope="module")
def plans(shared: dict) -> dict[str, Any]:
    """One siting plan (OSM-derived demand and sites) and one routing plan of tenant A."""
    client, nid = shared["client"], shared["network"]["id"]
    siting = run_job(client, "/siting", siting_body(nid))
    body = routing_body(nid)
    body["orders"]["features"].append(SEA)
    routing = run_job(client, "/routing", body)
    assert siting["status"] == routing["status"] == "done", (siting, routing)
    return {**shared, "siting": siting, "routing": routing}


def layer(client: TestClient, plan_id: str, name: str, headers: dict = A) -> dict[str, Any]:
    r = client.get(f"/plans/{plan_id}/{name}.geojson", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == GEOJSON
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    ids = [f["id"] for f in fc["features"]]
    assert all(i is not None for i in ids) and len(set(ids)) == len(ids)
    return fc


# ---------------------------------------------------------------------- siting
@pytest.mark.both_dbs  # stored plans read back from PostgreSQL's jsonb too
def test_siting_plan_and_links(plans: dict) -> None:
    client, job = plans["client"], plans["siting"]
    assert job["kind"] == "siting" and job["plan"]["kind"] == "siting"
    data = job["plan"]["data"]
    assert "layers" not in data  # layers are served at their own URLs
    plan = data["plan"]
    assert plan["model"] == "p_median" and len(plan["open_ids"]) == 3
    assert_solved(plan)  # optimal, or the time limit's plan with its gap (a slow machine)
    assert data["demand_source"] == data["sites_source"] == "osm"
    pid = job["plan_id"]
    assert job["plan"]["links"] == {
        "self": f"/plans/{pid}", "indicators": f"/plans/{pid}/indicators",
        "stations": f"/plans/{pid}/stations.geojson",
        "assignments": f"/plans/{pid}/assignments.geojson",
        "coverage": f"/plans/{pid}/coverage.geojson",
    }  # fmt: skip
    assert client.get(f"/plans/{pid}", headers=A).json()["data"] == data


def test_siting_job_reports_solver_progress(plans: dict) -> None:
    # the job function's reports are what GET /jobs/{id} shows while the job runs (the
    # runner stores each one); rerun the stored job in process to see every report
    from recyclenet_api.tasks import job_argument
    from recyclenet_api.tasks.siting import siting_task

    job = plans["app"].state.ctx.store.get_job("tenant-a", plans["siting"]["id"])
    seen: list[dict] = []
    result = siting_task(job_argument(siting_task, job.payload), progress=seen.append)
    solving = [p for p in seen if p["phase"].startswith("solving: ")]
    phases = [p["phase"] for p in solving]
    assert phases[0] == "solving: heuristic" and phases[-1] == "solving: done"
    assert "solving: mip" in phases
    for p in solving:
        assert p["time_limit_s"] == GENEROUS_S and 0 <= p["share"] <= 1
        assert p["model"] == "p_median"
        assert {"elapsed_s", "engine", "best_objective", "bound", "gap"} <= set(p)
    plan = result.plan
    assert solving[-1]["best_objective"] == pytest.approx(plan.objective)
    assert solving[-1]["bound"] == pytest.approx(plan.bound)
    assert seen[-1]["phase"] == "writing layers"


@pytest.mark.both_dbs  # stored plans read back from PostgreSQL's jsonb too
def test_siting_layers(plans: dict) -> None:
    client, pid = plans["client"], plans["siting"]["plan_id"]
    plan = plans["siting"]["plan"]["data"]["plan"]
    stations = layer(client, pid, "stations")
    assert sorted(f["id"] for f in stations["features"]) == sorted(plan["open_ids"])
    assert {f["geometry"]["type"] for f in stations["features"]} == {"Point"}
    assignments = layer(client, pid, "assignments")
    served = {a["demand_id"] for a in plan["assignment"]}
    lines = [f for f in assignments["features"] if f["geometry"]["type"] == "LineString"]
    assert {f["properties"]["demand_id"] for f in lines} == served
    site_xy = {f["id"]: f["geometry"]["coordinates"] for f in stations["features"]}
    for f in lines:  # each line ends at its station
        assert f["geometry"]["coordinates"][-1] == site_xy[f["properties"]["site_id"]]
        assert f["id"] == f"{f['properties']['demand_id']}->{f['properties']['site_id']}"
    households = {f["id"]: f["properties"]["households"] for f in stations["features"]}
    total = sum(f["properties"]["households"] for f in lines)
    assert sum(households.values()) == pytest.approx(total, rel=1e-6)


def test_coverage_is_network_service_area(plans: dict) -> None:
    client, pid = plans["client"], plans["siting"]["plan_id"]
    stations = layer(client, pid, "stations")["features"]
    coverage = layer(client, pid, "coverage")["features"]
    assert [f["id"] for f in coverage] == [f["id"] for f in stations]
    for f, s in zip(coverage, stations):
        assert f["geometry"]["type"] == "Polygon"
        ring = f["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) >= 4
        poly = shape(f["geometry"])
        assert poly.is_valid and shapely.is_ccw(poly.exterior)  # RFC 7946 winding
        assert poly.contains(Point(s["geometry"]["coordinates"]))
        p = f["properties"]
        assert p["method"] == "network_service_area" and p["radius"] == 400
        assert p["radius_source"] == "plan_radius" and p["households"] > 0
        # a 400 m walk covers less than the 400 m disc (about 0.5 km²) plus the street margin
        assert 20_000 < p["area_m2"] < np.pi * 430**2


@pytest.mark.both_dbs  # stored plans read back from PostgreSQL's jsonb too
def test_siting_indicators(plans: dict) -> None:
    client, pid = plans["client"], plans["siting"]["plan_id"]
    r = client.get(f"/plans/{pid}/indicators", headers=A)
    assert r.status_code == 200
    body = r.json()
    assert body["plan_id"] == pid and body["kind"] == "siting"
    ind = body["indicators"]
    plan = plans["siting"]["plan"]["data"]["plan"]
    assert ind["stations_open"] == 3 and ind["objective"] == plan["objective"]
    assert 0 < ind["share_households_within_radius"] <= 1
    assert ind["access_distance_p95_m"] >= ind["access_distance_mean_m"] > 0
    assert ind["demand_points_assigned"] == len({a["demand_id"] for a in plan["assignment"]})
    ev = {i["key"]: i for i in body["evaluation"]}
    assert ev["stations_open"]["value"] == 3
    assert ev["share_within_radius"]["value"] == pytest.approx(
        100 * ind["share_households_within_radius"]
    )
    assert ev["stations_per_10k_households"]["unit"] and ev["share_within_radius"]["name"]["zh"]


def test_siting_inline_example_is_a_working_example(plans: dict) -> None:
    client, nid = plans["client"], plans["network"]["id"]
    body = {**copy.deepcopy(SITING_EXAMPLE_INLINE), "network_id": nid}
    job = run_job(client, "/siting", body)
    assert job["status"] == "done", job
    data = job["plan"]["data"]
    assert data["demand_source"] == data["sites_source"] == "request"
    plan = data["plan"]
    assert plan["model"] == "max_coverage" and len(plan["open_ids"]) == 2
    assert "s1" in plan["kept_ids"]  # the existing site stays open
    stations = layer(client, job["plan_id"], "stations")
    assert {f["properties"]["state"] for f in stations["features"]} <= {"opened", "kept"}


def test_siting_202_then_poll(plans: dict) -> None:
    client, nid = plans["client"], plans["network"]["id"]
    body = {**copy.deepcopy(SITING_EXAMPLE_INLINE), "network_id": nid}
    r = client.post("/siting", json=body, headers=A)
    assert r.status_code == 202 and r.headers["location"] == f"/jobs/{r.json()['id']}"
    job = wait_job(client, r.json()["id"])
    assert layer(client, job["plan_id"], "stations")["features"]


def test_siting_library_error_fails_job_with_422(plans: dict) -> None:
    client, nid = plans["client"], plans["network"]["id"]
    job = run_job(client, "/siting", siting_body(nid, p=5000))
    assert job["status"] == "failed" and job["plan_id"] is None
    assert job["error"]["status"] == 422 and "p = 5000" in job["error"]["detail"]


def test_siting_uncoverable_demand(plans: dict) -> None:
    client, nid = plans["client"], plans["network"]["id"]
    body = siting_body(nid, model="min_stations", radius=60, p=None)
    job = run_job(client, "/siting", body)
    assert job["status"] == "failed" and job["error"]["status"] == 422
    assert "full coverage is infeasible" in job["error"]["detail"]
    job = run_job(client, "/siting", {**body, "uncoverable": "leave"})
    assert job["status"] == "done", job
    plan = job["plan"]["data"]["plan"]
    assert plan["unassigned_ids"] and plan["assignment"]
    assert 0 < plan["indicators"]["share_households_within_radius"] < 1


# ---------------------------------------------------------------------- routing
@pytest.mark.both_dbs  # stored plans read back from PostgreSQL's jsonb too
def test_routing_plan_layers_and_indicators(plans: dict) -> None:
    client, job = plans["client"], plans["routing"]
    pid = job["plan_id"]
    data = job["plan"]["data"]
    assert data["kind"] == "routing" and data["fleet"] == "request"
    plan = data["plan"]
    assert set(job["plan"]["links"]) == {"self", "indicators", "routes", "stops"}
    unserved = {u["order_id"]: u["reason"] for u in plan["unserved"]}
    assert unserved == {"sea": "off_road"}  # in the sea, kilometres from any road
    sea = next(u for u in plan["unserved"] if u["order_id"] == "sea")
    assert "km from the nearest" in sea["message"]
    routes = layer(client, pid, "routes")["features"]
    assert sorted(f["id"] for f in routes) == sorted(r["vehicle_id"] for r in plan["routes"])
    for f in routes:
        coords = f["geometry"]["coordinates"]
        assert f["geometry"]["type"] == "LineString"
        r = next(r for r in plan["routes"] if r["vehicle_id"] == f["id"])
        assert len(coords) > len(r["visits"])  # follows the roads, not stop to stop
        assert f["properties"]["distance_m"] == pytest.approx(r["distance_m"])
    stops = layer(client, pid, "stops")["features"]
    served = [f for f in stops if f["properties"]["kind"] == "order"]
    assert sorted(f["properties"]["order_id"] for f in served) == [
        "o001", "o002", "o003", "o006", "o010"]  # fmt: skip
    assert next(f for f in stops if f["properties"]["kind"] == "unserved")["id"] == "unserved:sea"
    fridge = next(f for f in served if f["properties"]["order_id"] == "o002")
    assert fridge["id"].startswith("box_truck-")  # refrigerant skill: only the truck
    assert fridge["properties"]["items"] == [{"category": "refrigerator", "count": 1.0}]
    ind = client.get(f"/plans/{pid}/indicators", headers=A).json()["indicators"]
    assert ind["served_count"] == 5 and ind["unserved_count"] == 1 and ind["orders_total"] == 6
    assert ind["unserved_by_reason"] == {"off_road": 1}
    assert ind["vehicle_km"] == pytest.approx(sum(r["distance_m"] for r in plan["routes"]) / 1000)
    assert ind["kg_by_material"]["ferrous"] == 80 and ind["kg_total"] == pytest.approx(
        15 + 55 + 60 + 80 + 55
    )
    assert ind["cost"] == pytest.approx(plan["cost"]) and ind["vehicle_hours"] > 0
    ev = {i["key"]: i["value"] for i in client.get(f"/plans/{pid}/indicators", headers=A).json()[
        "evaluation"]}  # fmt: skip
    assert ev["vehicle_km"] == pytest.approx(ind["vehicle_km"])
    assert ev["tonnes_collected"] == pytest.approx(ind["kg_total"] / 1000)
    assert ev["co2e_kg"] > 0 and 0 <= ev["empty_running_share"] < 100


def test_routing_default_fleet(plans: dict) -> None:
    client, nid = plans["client"], plans["network"]["id"]
    body = routing_body(nid)
    del body["fleet"]
    body["depots"]["features"][0]["id"] = "yard"  # the default fleet starts at the first depot
    job = run_job(client, "/routing", body)
    assert job["status"] == "done", job
    data = job["plan"]["data"]
    assert data["fleet"] == "default" and data["profiles"] == ["box_truck_4_2m", "tricycle"]
    visits = [v for r in data["plan"]["routes"] for v in r["visits"]]
    assert {v["location_id"] for v in visits if v["kind"] in ("start", "end")} == {"yard"}


# ---------------------------------------------------------------------- kinds, tenants
def test_wrong_plan_kind_is_404(plans: dict) -> None:
    client = plans["client"]
    s, r = plans["siting"]["plan_id"], plans["routing"]["plan_id"]
    for pid, name in [(s, "routes"), (s, "stops"), (r, "stations"), (r, "assignments"),
                      (r, "coverage")]:  # fmt: skip
        resp = client.get(f"/plans/{pid}/{name}.geojson", headers=A)
        assert resp.status_code == 404 and resp.headers["content-type"] == PROBLEM
        assert "plan" in resp.json()["detail"]
    body = {"network_id": plans["network"]["id"],
            "origins": [{"id": "a", "lon": 24.9402, "lat": 60.1699}]}  # fmt: skip
    matrix = run_job(client, "/matrix", body)
    for name in ("stations", "routes"):
        url = f"/plans/{matrix['plan_id']}/{name}.geojson"
        assert client.get(url, headers=A).status_code == 404
    assert client.get(f"/plans/{matrix['plan_id']}/indicators", headers=A).status_code == 404
    assert client.get("/plans/nope/stations.geojson", headers=A).status_code == 404


@pytest.mark.both_dbs  # stored plans read back from PostgreSQL's jsonb too
def test_tenant_isolation_on_plans(plans: dict) -> None:
    client = plans["client"]
    urls = []
    for kind, names in (("siting", ("stations", "assignments", "coverage")),
                        ("routing", ("routes", "stops"))):  # fmt: skip
        pid = plans[kind]["plan_id"]
        urls += [f"/plans/{pid}", f"/plans/{pid}/indicators"]
        urls += [f"/plans/{pid}/{n}.geojson" for n in names]
    for url in urls:
        assert client.get(url, headers=A).status_code == 200  # A's reads warm the cache
        r = client.get(url, headers=B)
        assert r.status_code == 404, url
        assert r.headers["content-type"] == PROBLEM and "for this API key" in r.json()["detail"]
        assert client.get(url).status_code == 401
    r = client.get(f"/jobs/{plans['siting']['id']}", headers=B)
    assert r.status_code == 404
    # B cannot plan on A's network either
    r = client.post("/routing", json=routing_body(plans["network"]["id"]), headers=B)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.network_id"


# ---------------------------------------------------------------------- validation
def _feature(fid: Any, lon: float = 24.9402, lat: float = 60.1699, **props: Any) -> dict:
    f = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
         "properties": props}  # fmt: skip
    if fid is not None:
        f["id"] = fid
    return f


def _fc(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


SITING_ERRORS = [
    ({"p": None}, "body.p", "needs p"),
    ({"model": "min_stations", "radius": None}, "body.radius", "needs radius"),
    ({"model": "k_means"}, "body.model", None),
    ({"profile": "spaceship"}, "body.profile", "spaceship"),
    ({"time_limit_s": 10_000}, "body.time_limit_s", "limit"),
    ({"network_id": "missing"}, "body.network_id", "missing"),
    ({"metric": "miles"}, "body.metric", None),
    ({"unexpected": 1}, "body.unexpected", None),
    ({"demand": _fc(_feature("d1", 200, 60))}, "body.demand.features.0.geometry.coordinates",
     "lon first"),
    ({"demand": _fc(_feature("d1"), _feature("d1"))}, "body.demand.features.1", "'d1'"),
    ({"demand": _fc(_feature(None))}, "body.demand.features.0.id", "id"),
    ({"demand": _fc(_feature("d1", households=-1))},
     "body.demand.features.0.properties.households", None),
    ({"demand": {"type": "FeatureCollection", "features": []}}, "body.demand.features", None),
    ({"sites": _fc(_feature("s1", closing_cost=5)), "p": 1}, "body.sites.features.0", "'s1'"),
    ({"sites": _fc(_feature("s1"), _feature("s2", status="forbidden")), "p": 2}, "body.p",
     "usable"),
    ({"sites": _fc(_feature("s1", status="closed"))},
     "body.sites.features.0.properties.status", None),
]  # fmt: skip


@pytest.mark.parametrize(("change", "field", "text"), SITING_ERRORS)
def test_siting_validation_names_field(plans: dict, change: dict, field: str, text: str) -> None:
    client, nid = plans["client"], plans["network"]["id"]
    body = {k: v for k, v in {**siting_body(nid), **change}.items() if v is not None}
    r = client.post("/siting", json=body, headers=A)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    err = r.json()["errors"][0]
    assert err["field"] == field
    if text:
        assert text in err["message"]


def _order(fid: str, **props: Any) -> dict:
    return _feature(fid, 24.949451, 60.169883, **props)


ROUTING_ERRORS = [
    ({"orders": _fc(_order("o1", items={"piano": 1}))}, "body.orders.features.0", "piano"),
    ({"orders": _fc(_order("o1", time_windows=[[50000, 40000]]))}, "body.orders.features.0",
     "ends before it starts"),
    ({"orders": _fc(_order("o1", penalty=5))}, "body.orders.features.0", "'o1'"),
    ({"orders": _fc(_order("depot"))}, "body.orders.features.0", "'depot'"),
    ({"orders": _fc(_order("o1"), _order("o1"))}, "body.orders.features.1", "'o1'"),
    ({"orders": _fc(_order("o1", kind="teleport"))},
     "body.orders.features.0.properties.kind", None),
    ({"orders": _fc(_order("o1", time_windows=[[0, 1e9]]))},
     "body.orders.features.0.properties.time_windows.0.1", None),
    ({"orders": {"type": "FeatureCollection", "features": []}}, "body.orders.features", None),
    ({"depots": _fc()}, "body.depots.features", None),
    ({"fleet": []}, "body.fleet", None),
    ({"fleet": [{"id": "t", "start_id": "nowhere"}]}, "body.fleet.0.start_id", "'nowhere'"),
    ({"fleet": [{"id": "t", "start_id": "depot", "end_id": "x"}]}, "body.fleet.0.end_id", "'x'"),
    ({"fleet": [{"id": "t", "start_id": "depot", "profile": "rocket"}]},
     "body.fleet.0.profile", "rocket"),
    ({"fleet": [{"id": "t", "start_id": "depot", "break_s": 600}]}, "body.fleet.0",
     "break_window"),
    ({"fleet": [{"id": "t", "start_id": "depot", "shift": [64800, 28800]}]},
     "body.fleet.0.shift", "ends before"),
    ({"fleet": [{"id": "t", "start_id": "depot", "count": 0}]}, "body.fleet.0.count", None),
    ({"engine": "gurobi"}, "body.engine", None),
    ({"time_limit_s": 0}, "body.time_limit_s", None),
]  # fmt: skip


@pytest.mark.parametrize(("change", "field", "text"), ROUTING_ERRORS)
def test_routing_validation_names_field(plans: dict, change: dict, field: str, text: str) -> None:
    client, nid = plans["client"], plans["network"]["id"]
    r = client.post("/routing", json={**routing_body(nid), **change}, headers=A)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    err = r.json()["errors"][0]
    assert err["field"] == field
    assert err["pointer"] == "#/" + "/".join(field.split(".")[1:])
    if text:
        assert text in err["message"]


def test_swapped_lon_lat_is_a_422_before_any_job(shared: dict) -> None:
    client, nid = shared["client"], shared["network"]["id"]
    body = routing_body(nid, orders=_fc(_feature("o1", 60.169883, 24.949451)))  # lat, lon
    r = client.post("/routing", json=body, headers=A)
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == "body.orders"
    assert "latitude and longitude swapped: ['o1']" in err["message"]
    assert "give longitude first" in err["message"]


def test_point_and_vehicle_limits(tmp_path) -> None:
    with TestClient(make_app(tmp_path / "var", max_points=4, max_vehicles=3)) as client:
        nid = client.post("/networks", json={"sample": "helsinki"}, headers=A).json()["id"]
        r = client.post("/routing", json=routing_body(nid), headers=A)  # 5 orders + 2 sites
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.orders"
        assert "limit of 4" in r.json()["detail"]
        body = routing_body(nid)
        body["orders"]["features"] = body["orders"]["features"][:2]
        r = client.post("/routing", json=body, headers=A)  # 2 + 1 tricycles... 3 vehicles ok
        assert r.status_code == 202, r.text
        body["fleet"][0]["count"] = 3
        r = client.post("/routing", json=body, headers=A)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.fleet"
        r = client.post("/siting", json=siting_body(nid, demand=_fc(*[
            _feature(f"d{i}") for i in range(5)])), headers=A)  # fmt: skip
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.demand"


def test_openapi_has_examples_for_new_bodies(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/siting", "/routing"):
        content = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert content["examples"], path
    for name in ("stations", "assignments", "coverage", "routes", "stops"):
        op = spec["paths"][f"/plans/{{plan_id}}/{name}.geojson"]["get"]
        assert GEOJSON in op["responses"]["200"]["content"]


def test_two_tier_siting_with_budget_options(plans: dict) -> None:
    client = plans["client"]
    centres = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "c_west", "geometry": {"type": "Point",
         "coordinates": [24.93666, 60.164199]}, "properties": {"capacity": 60, "fixed_cost": 1e5}},
        {"type": "Feature", "id": "c_north", "geometry": {"type": "Point",
         "coordinates": [24.952246, 60.178364]}, "properties": {"capacity": 60, "fixed_cost": 9e4}},
    ]}  # fmt: skip
    body = {"network_id": plans["network"]["id"], "model": "min_stations", "radius": 500,
            "keep_existing": "allow_closing", "centres": centres,
            "time_limit_s": GENEROUS_S}  # fmt: skip
    job = run_job(client, "/siting", body)
    assert job["status"] == "done", job
    pid = job["plan_id"]
    data = client.get(f"/plans/{pid}", headers=A).json()["data"]["plan"]
    assert_solved(data["centres"])
    fed = {a["demand_id"] for a in data["centres"]["assignment"]}
    assert fed == set(data["open_ids"])
    layer_doc = client.get(f"/plans/{pid}/centres.geojson", headers=A)
    assert layer_doc.status_code == 200
    points = [f for f in layer_doc.json()["features"] if f["geometry"]["type"] == "Point"]
    assert {f["id"] for f in points} == set(data["centres"]["open_ids"])
    # a one-tier plan has no centres layer: 404 naming why
    other = client.get(f"/plans/{plans['siting']['plan_id']}/centres.geojson", headers=A)
    assert other.status_code == 404 and "no centres layer" in other.text


@pytest.mark.both_dbs  # stored plans read back from PostgreSQL's jsonb too
def test_plan_export_gpkg_xlsx_csv(plans: dict, tmp_path) -> None:
    import io
    import zipfile

    import openpyxl
    import pyogrio

    client = plans["client"]
    rid, sid = plans["routing"]["plan_id"], plans["siting"]["plan_id"]
    r = client.get(f"/plans/{rid}/export?f=gpkg", headers=A)
    assert r.status_code == 200 and r.headers["content-type"] == "application/geopackage+sqlite3"
    (tmp_path / "r.gpkg").write_bytes(r.content)
    layers = dict(pyogrio.list_layers(tmp_path / "r.gpkg"))
    assert layers["routes"] == "LineString" and layers["stops"] == "Point"
    assert layers["unserved"] == "Point"  # the sea order, apart from the stops
    unserved = pyogrio.read_dataframe(tmp_path / "r.gpkg", layer="unserved")
    assert unserved["order_id"].tolist() == ["sea"]
    r = client.get(f"/plans/{sid}/export?f=xlsx&lang=zh", headers=A)
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert {"summary", "stations", "assignments", "indicators"} <= set(book.sheetnames)
    assert "站点编号" in [c.value for c in book["stations"][1]]
    r = client.get(f"/plans/{sid}/export?f=csv", headers=A)
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert "stations.csv" in names and "indicators.csv" in names
    assert client.get(f"/plans/{sid}/export?f=kml", headers=A).status_code == 422
    assert client.get(f"/plans/{sid}/export?f=gpkg", headers=B).status_code == 404


def _zone(closed: str) -> dict[str, Any]:
    box = [[24.9485, 60.1692], [24.9505, 60.1692], [24.9505, 60.1705], [24.9485, 60.1705],
           [24.9485, 60.1692]]  # fmt: skip
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [box]},
        "properties": {"id": "限行区", "vehicles": "hgv", "closed": closed}}]}  # fmt: skip


def test_routing_with_restriction_zone(shared: dict) -> None:
    """o002 (a refrigerator: box truck only) lies in a zone closed to trucks all day."""
    client, nid = shared["client"], shared["network"]["id"]
    body = routing_body(nid, restriction_zones=_zone("06:00-22:00"))
    job = run_job(client, "/routing", body)
    assert job["status"] == "done", job
    unserved = {u["order_id"]: u for u in job["plan"]["data"]["plan"]["unserved"]}
    assert set(unserved) == {"o002"} and "限行区" in unserved["o002"]["message"]
    urban = routing_body(nid, speed_model="urban", period="peak")
    job = run_job(client, "/routing", urban)
    assert job["status"] == "done", job

    def drive_s(j: dict) -> float:  # seconds at the wheel per km driven
        routes = j["plan"]["data"]["plan"]["routes"]
        secs = sum(v["travel_from_previous_s"] for r in routes for v in r["visits"])
        return secs / sum(r["distance_m"] for r in routes)

    slow = drive_s(job)
    free = run_job(client, "/routing", routing_body(nid))
    fast = drive_s(free)
    assert slow > 1.3 * fast  # peak factors are 0.42-0.70 on every class but service roads
    r = client.post("/routing", json=routing_body(nid, period="rush"), headers=A)
    assert r.status_code == 422 and "body.period" in r.text
    r = client.post("/routing", json=routing_body(nid, restriction_zones=_zone("PH")),
                    headers=A)  # fmt: skip
    assert r.status_code == 422 and "body.restriction_zones" in r.text and "'PH'" in r.text


def test_siting_demand_options_calibrate_osm_demand(plans: dict) -> None:
    # the bureau's total and district totals reach the OSM demand estimate (#11's options)
    client, nid = plans["client"], plans["network"]["id"]
    job = run_job(client, "/siting", siting_body(nid, households_total=20_000,
                                                 urban_context="high_rise"))  # fmt: skip
    assert job["status"] == "done", job
    est = client.get(f"/plans/{job['plan_id']}", headers=A).json()["data"]["plan"]
    est = est["demand_estimate"]
    assert est["calibration"] == "households_total"
    assert est["households_total"] == pytest.approx(20_000, rel=1e-3)
    square = [[24.90, 60.14], [24.99, 60.14], [24.99, 60.20], [24.90, 60.20], [24.90, 60.14]]
    districts = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"id": "中心区", "households": 12_345},
        "geometry": {"type": "Polygon", "coordinates": [square]}}]}  # fmt: skip
    job = run_job(client, "/siting", siting_body(nid, demand_districts=districts))
    assert job["status"] == "done", job
    est = client.get(f"/plans/{job['plan_id']}", headers=A).json()["data"]["plan"]
    assert est["demand_estimate"]["calibration"] == "districts"
    assert set(est["demand_estimate"]["scale_by_district"]) == {"中心区"}


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"households_total": 1000, "demand_districts": {"type": "FeatureCollection",
                                                          "features": []}},
         "body.demand_districts", "not both"),
        ({"demand_districts": {"type": "FeatureCollection", "features": [{
            "type": "Feature", "properties": {"id": "d1", "households": "many"},
            "geometry": {"type": "Polygon", "coordinates": [[[24.9, 60.1], [25.0, 60.1],
                                                              [25.0, 60.2], [24.9, 60.1]]]}}]}},
         "body.demand_districts", "'households' must be a number"),
        ({"urban_context": "skyscrapers"}, "body.urban_context", "high_rise"),
        ({"households_total": True}, "body.households_total", ""),
    ],
)  # fmt: skip
def test_siting_demand_options_are_checked(plans: dict, change: dict, field: str,
                                           text: str) -> None:  # fmt: skip
    client, nid = plans["client"], plans["network"]["id"]
    r = client.post("/siting", json=siting_body(nid, **change), headers=A)
    assert r.status_code == 422, r.text
    assert field in r.text and text in r.text


def test_demand_options_need_derived_demand(plans: dict) -> None:
    client, nid = plans["client"], plans["network"]["id"]
    body = copy.deepcopy(SITING_EXAMPLE_INLINE)
    body.update(network_id=nid, households_total=5000)
    r = client.post("/siting", json=body, headers=A)
    assert r.status_code == 422 and "body.households_total" in r.text
    assert "derived from OSM only" in r.text
