"""Re-planning a plan in progress through POST /routing (TestClient, Helsinki sample).

One routing plan is solved per module; each re-plan is a new job whose plan links to its
parent, keeps the done stops in order and at their times, and serves or explains every
order. Bad re-planning requests are rejected before anything is queued.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from api_helpers import A, B, run_job
from fastapi.testclient import TestClient

from recyclenet.routing import REASONS
from recyclenet_api.converters.routing import plan_document
from recyclenet_api.routers.routing import parent_plan
from recyclenet_api.schemas import REPLAN_EXAMPLE, ROUTING_EXAMPLE, ReplanIn

PROBLEM = "application/problem+json"
URGENT = {"type": "Feature", "id": "o020",
          "geometry": {"type": "Point", "coordinates": [24.945611, 60.171214]},
          "properties": {"items": {"scrap_ferrous": 40}, "priority": 1}}  # fmt: skip


def routing_body(nid: str, **extra: Any) -> dict[str, Any]:
    body = copy.deepcopy(ROUTING_EXAMPLE)
    body.update(network_id=nid, engine="ortools", time_limit_s=1, **extra)
    return body


@pytest.fixture(scope="module")
def parent(shared: dict) -> dict[str, Any]:
    """Tenant A's routing plan of the example orders, and what a re-plan of it needs."""
    client, nid = shared["client"], shared["network"]["id"]
    job = run_job(client, "/routing", routing_body(nid))
    assert job["status"] == "done", job
    plan = job["plan"]["data"]["plan"]
    route = max(plan["routes"], key=lambda r: sum(v["kind"] == "order" for v in r["visits"]))
    orders = [v for v in route["visits"] if v["kind"] == "order"]
    done = orders[: min(2, len(orders))]
    return {
        **shared,
        "job": job,
        "plan_id": job["plan_id"],
        "plan": plan,
        "route": route,
        "done": [v["order_id"] for v in done],
        "now_s": done[-1]["departure_s"],
    }


def replan_body(p: dict[str, Any], **replan: Any) -> dict[str, Any]:
    body = routing_body(p["network"]["id"])
    body["replan"] = {"plan_id": p["plan_id"], "now_s": p["now_s"],
                      "done_order_ids": p["done"], **replan}  # fmt: skip
    return body


def post_error(client: TestClient, body: dict, status: int = 422, headers: dict = A) -> dict:
    r = client.post("/routing", json=body, headers=headers)  # refused before any job
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    return r.json()


# ---------------------------------------------------------------------- end to end
def test_replan_keeps_done_stops_and_serves_the_urgent_order(parent: dict) -> None:
    client, pid = parent["client"], parent["plan_id"]
    stored_before = client.get(f"/plans/{pid}", headers=A).json()
    now = parent["now_s"]
    done = parent["done"]
    visited = [v["order_id"] for r in parent["plan"]["routes"] for v in r["visits"]]
    others = [u for u in visited if u is not None and u not in done]
    cancel = others[0]
    urgent = copy.deepcopy(URGENT)
    urgent["properties"]["time_windows"] = [[now, now + 4 * 3600]]
    body = replan_body(parent, cancelled_order_ids=[cancel])
    body["orders"]["features"].append(urgent)
    job = run_job(client, "/routing", body)
    assert job["status"] == "done", job
    child = job["plan"]
    assert child["id"] != pid and child["links"]["parent"] == f"/plans/{pid}"
    data = child["data"]
    assert data["replan"]["parent_plan_id"] == pid
    assert data["replan"]["added_order_ids"] == ["o020"]
    assert data["replan"]["done_order_ids"] == done
    assert data["replan"]["cancelled_order_ids"] == [cancel]
    assert data["replan"]["now_s"] == pytest.approx(now)
    plan = data["plan"]
    assert plan["engine"] == "ortools" and plan["status"] == "feasible"

    # the done stops stay on their vehicle, in their order, at their planned times
    vid = parent["route"]["vehicle_id"]
    assert data["replan"]["fixed"] == {vid: done}
    kept = next(r for r in plan["routes"] if r["vehicle_id"] == vid)
    n = len(done) + 1  # the start and the done stops
    for old, new in zip(parent["route"]["visits"][:n], kept["visits"][:n], strict=True):
        assert new["location_id"] == old["location_id"]
        assert new["start_s"] == pytest.approx(old["start_s"], abs=1e-6)
        assert new["departure_s"] == pytest.approx(old["departure_s"], abs=1e-6)
    # nothing else starts before now
    for r in plan["routes"]:
        for v in r["visits"][1:]:
            if v["order_id"] not in done:
                assert v["start_s"] >= now - 1e-6, (r["vehicle_id"], v)

    served = [v["order_id"] for r in plan["routes"] for v in r["visits"] if v["order_id"]]
    unserved = {u["order_id"]: u for u in plan["unserved"]}
    assert "o020" in served  # an idle vehicle has hours left for it
    assert cancel not in served and cancel not in unserved
    expected = {f["id"] for f in body["orders"]["features"]} - {cancel}
    assert sorted(served + list(unserved)) == sorted(expected)  # each order once
    for u in unserved.values():  # anything left out says why
        assert u["reason"] in REASONS and u["order_id"] in u["message"]
    ind = client.get(f"/plans/{child['id']}/indicators", headers=A).json()["indicators"]
    assert ind["orders_total"] == len(expected) == ind["served_count"] + ind["unserved_count"]

    stops = client.get(f"/plans/{child['id']}/stops.geojson", headers=A).json()["features"]
    assert any(f["properties"]["order_id"] == "o020" for f in stops)
    assert client.get(f"/plans/{pid}", headers=A).json() == stored_before  # parent unchanged


def test_replan_inline_plan_json_links_its_parent(parent: dict) -> None:
    client, pid = parent["client"], parent["plan_id"]
    doc = client.get(f"/plans/{pid}", headers=A).json()
    body = routing_body(parent["network"]["id"])
    body["replan"] = {"plan": doc, "now_s": parent["now_s"], "done_order_ids": parent["done"]}
    job = run_job(client, "/routing", body)
    assert job["status"] == "done", job
    assert job["plan"]["data"]["replan"]["parent_plan_id"] == pid
    assert job["plan"]["links"]["parent"] == f"/plans/{pid}"
    kept = next(r for r in job["plan"]["data"]["plan"]["routes"]
                if r["vehicle_id"] == parent["route"]["vehicle_id"])  # fmt: skip
    assert [v["order_id"] for v in kept["visits"][1 : 1 + len(parent["done"])]] == parent["done"]


def test_inline_plan_is_a_parent_only_when_unchanged(parent: dict) -> None:
    ctx, pid = parent["app"].state.ctx, parent["plan_id"]
    network = ctx.store.get_network("tenant-a", parent["network"]["id"])
    doc = parent["client"].get(f"/plans/{pid}", headers=A).json()
    same = parent_plan(ctx, "tenant-a", ReplanIn(plan=doc, now_s=0), network)
    assert same.id == pid and plan_document(doc) == parent["plan"]
    assert same.plan is None  # an inline plan stays in the request, stored once
    just_plan = parent_plan(ctx, "tenant-a", ReplanIn(plan=doc["data"]["plan"], now_s=0),
                            network)  # fmt: skip
    assert just_plan.id is None and plan_document(doc["data"]["plan"]) == parent["plan"]
    edited = copy.deepcopy(doc)
    edited["data"]["plan"]["cost"] += 1
    out = parent_plan(ctx, "tenant-a", ReplanIn(plan=edited, now_s=0), network)
    assert out.id is None  # the client's own version: no parent link
    assert parent_plan(ctx, "tenant-b", ReplanIn(plan=doc, now_s=0), network).id is None
    by_id = parent_plan(ctx, "tenant-a", ReplanIn(plan_id=pid, now_s=0), network)
    assert by_id.id == pid and by_id.plan == parent["plan"]


def test_replan_example_works(parent: dict) -> None:
    client = parent["client"]
    spec = client.get("/openapi.json").json()
    examples = spec["paths"]["/routing"]["post"]["requestBody"]["content"]["application/json"][
        "examples"
    ]
    # it needs the id of a stored plan, so it is not an OpenAPI example (every one of
    # those is accepted as it is, see test_api_robust.py)
    assert "replan" not in examples and set(examples) == {"helsinki"}
    body = copy.deepcopy(REPLAN_EXAMPLE)
    body["network_id"] = parent["network"]["id"]
    body["replan"]["plan_id"] = parent["plan_id"]
    body["replan"]["done_order_ids"] = parent["done"][:1]  # the first stop of a route
    body["time_limit_s"] = 1
    job = run_job(client, "/routing", body)
    assert job["status"] == "done", job
    plan = job["plan"]["data"]["plan"]
    served = {v["order_id"] for r in plan["routes"] for v in r["visits"] if v["order_id"]}
    unserved = {u["order_id"]: u["reason"] for u in plan["unserved"]}
    assert served | set(unserved) == {f["id"] for f in body["orders"]["features"]}
    assert "o020" in served or unserved["o020"] in REASONS


# ---------------------------------------------------------------------- errors
def test_unknown_plan_id_is_404(parent: dict) -> None:
    err = post_error(parent["client"], replan_body(parent, plan_id="f" * 32), 404)
    assert "f" * 32 in err["detail"] and "for this API key" in err["detail"]


def test_other_tenants_plan_is_404(parent: dict) -> None:
    client = parent["client"]
    r = client.post("/networks", json={"sample": "helsinki"}, headers=B)
    assert r.status_code == 201, r.text
    body = replan_body(parent)
    body["network_id"] = r.json()["id"]
    err = post_error(client, body, 404, headers=B)
    assert parent["plan_id"] in err["detail"]


def test_plan_of_another_kind_is_422(parent: dict) -> None:
    client, nid = parent["client"], parent["network"]["id"]
    body = {"network_id": nid, "origins": [{"id": "a", "lon": 24.9402, "lat": 60.1699}]}
    matrix = run_job(client, "/matrix", body)
    assert matrix["status"] == "done", matrix
    err = post_error(client, replan_body(parent, plan_id=matrix["plan_id"]))
    assert err["errors"][0]["field"] == "body.replan.plan_id"
    assert "matrix plan" in err["detail"]


def test_visited_orders_missing_from_the_request_are_named(parent: dict) -> None:
    body = replan_body(parent)
    gone = parent["done"][0]
    body["orders"]["features"] = [f for f in body["orders"]["features"] if f["id"] != gone]
    err = post_error(parent["client"], body)
    assert err["errors"][0]["field"] == "body.orders"
    assert f"['{gone}']" in err["detail"] and "cancelled_order_ids" in err["detail"]


def test_fleet_that_does_not_match_the_plan_is_named(parent: dict) -> None:
    body = replan_body(parent)
    for vt in body["fleet"]:
        vt["id"] = "van" if vt["id"] == "box_truck" else "bike"
    err = post_error(parent["client"], body)
    assert err["errors"][0]["field"] == "body.replan.plan_id"
    assert parent["route"]["vehicle_id"] in err["detail"] and "not in the fleet" in err["detail"]


@pytest.mark.parametrize(
    ("replan", "text"),
    [
        ({"done_order_ids": ["zz"]}, "fixed order ids not in the problem: ['zz']"),
        ({"cancelled_order_ids": ["zz"]}, "cancelled order ids not in the problem: ['zz']"),
        ("both", "are both fixed (done or started) and cancelled"),
        ("gap", "must be a prefix"),
    ],
)
def test_done_and_cancelled_ids_are_checked(parent: dict, replan: Any, text: str) -> None:
    done = parent["done"]
    if replan == "both":
        replan = {"cancelled_order_ids": done[:1]}
    elif replan == "gap":
        if len(done) < 2:
            pytest.skip("the longest route has one order")
        replan = {"done_order_ids": done[1:2]}
    err = post_error(parent["client"], replan_body(parent, **replan))
    assert err["errors"][0]["field"] == "body.replan"
    assert text in err["detail"]


def test_bad_replan_bodies(parent: dict) -> None:
    client = parent["client"]
    body = replan_body(parent)
    body["replan"]["plan"] = {"routes": []}
    err = post_error(client, body)  # both plan_id and plan
    assert err["errors"][0]["field"] == "body.replan" and "exactly one" in err["detail"]
    body = replan_body(parent)
    del body["replan"]["plan_id"]
    assert post_error(client, body)["errors"][0]["field"] == "body.replan"  # neither
    body = replan_body(parent, plan_id=None, plan={"foo": 1})
    del body["replan"]["plan_id"]
    err = post_error(client, body)
    assert err["errors"][0]["field"] == "body.replan.plan" and "not a routing plan" in err["detail"]
    broken = copy.deepcopy(parent["plan"])
    del broken["routes"][0]["visits"][1]["start_s"]
    body = replan_body(parent, plan=broken)
    del body["replan"]["plan_id"]
    err = post_error(client, body)
    assert err["errors"][0]["field"] == "body.replan.plan"
    assert "routes[0].visits[1].start_s: missing" in err["detail"]
    err = post_error(client, replan_body(parent, now_s=-1))
    assert err["errors"][0]["field"] == "body.replan.now_s"
    body = replan_body(parent)
    body["engine"] = "pyvrp"
    err = post_error(client, body)
    assert err["errors"][0]["field"] == "body.engine" and "OR-Tools" in err["detail"]


def test_plan_of_another_network_is_422(parent: dict) -> None:
    client = parent["client"]
    r = client.post("/networks", json={"sample": "helsinki", "name": "again"}, headers=A)
    assert r.status_code == 201, r.text
    body = replan_body(parent)
    body["network_id"] = r.json()["id"]
    err = post_error(client, body)
    assert err["errors"][0]["field"] == "body.network_id"
    assert parent["network"]["id"] in err["detail"] and "same network" in err["detail"]
