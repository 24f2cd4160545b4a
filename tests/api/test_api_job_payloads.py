"""The typed path from request to job: each job stores its validated request (a
``*Job`` model) and the worker rebuilds the library objects through the converter the
request was checked with; stored plans are served as typed models of their kind.

TestClient apps on temporary data directories, the Helsinki sample; jobs run in real
child processes.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from api_helpers import A, make_app, run_job, wait_job
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from recyclenet_api.converters.matrix import matrix_points
from recyclenet_api.converters.routing import routing_inputs
from recyclenet_api.converters.siting import siting_inputs
from recyclenet_api.schemas import (
    MATRIX_EXAMPLE,
    ROUTING_EXAMPLE,
    SITING_EXAMPLE_INLINE,
    MatrixCreate,
    MatrixJob,
    RoutingCreate,
    RoutingJob,
    SitingCreate,
    SitingJob,
)
from recyclenet_api.schemas.plans import OtherData, PlanData, plan_data
from recyclenet_api.schemas.routing import RoutingData
from recyclenet_api.tasks import job_argument, spec_type
from recyclenet_api.tasks.matrix import matrix_task
from recyclenet_api.tasks.routing import routing_task
from recyclenet_api.tasks.siting import siting_task


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # body_process_bytes=1000: the routing and siting examples are prepared in the child
    # process (the path of large bodies), the matrix example in a thread
    app = make_app(tmp_path_factory.mktemp("payloads") / "var", body_process_bytes=1000)
    with TestClient(app) as client:
        yield {"app": app, "client": client}


def _stored(world: dict, job_id: str) -> dict[str, Any]:
    job = world["app"].state.ctx.store.get_job("tenant-a", job_id)
    assert job is not None
    return job.payload


@pytest.mark.parametrize(
    ("path", "body", "model", "spec", "task"),
    [
        ("/routing", ROUTING_EXAMPLE, RoutingCreate, RoutingJob, routing_task),
        ("/siting", SITING_EXAMPLE_INLINE, SitingCreate, SitingJob, siting_task),
        ("/matrix", MATRIX_EXAMPLE, MatrixCreate, MatrixJob, matrix_task),
    ],
)
def test_job_stores_the_validated_request(
    world: dict, path: str, body: dict, model: Any, spec: Any, task: Any
) -> None:
    client = world["client"]
    body = {**copy.deepcopy(body), "time_limit_s": 5, "name": "  typed  ", "tags": ["a", "a"]}
    job = run_job(client, path, body)
    assert job["status"] == "done", job
    stored = _stored(world, job["id"])
    # the payload is the job model: the request as validated (name stripped, tags
    # de-duplicated, defaults filled), the network resolved, the time limit capped
    assert spec_type(task) is spec
    rebuilt = job_argument(task, stored)
    assert isinstance(rebuilt, spec)
    assert rebuilt.request == model.model_validate_json(json.dumps(body))
    assert rebuilt.request.name == "typed" and rebuilt.request.tags == ["a"]
    assert rebuilt.network.id == "helsinki" and rebuilt.time_limit_s == 5
    assert set(stored) == set(spec.model_fields)  # nothing else rides along
    assert job["name"] == "typed" and job["tags"] == ["a"]


def test_worker_rebuilds_what_the_request_checked(world: dict) -> None:
    # the converter that checked the request in the server gives the same library
    # objects from the stored payload in the worker
    client = world["client"]
    r = client.post("/routing", json={**ROUTING_EXAMPLE, "time_limit_s": 5}, headers=A)
    assert r.status_code == 202, r.text
    stored = _stored(world, r.json()["id"])
    inputs = routing_inputs(job_argument(routing_task, stored))
    assert [o.id for o in inputs.orders] == [f["id"] for f in
                                             ROUTING_EXAMPLE["orders"]["features"]]  # fmt: skip
    assert [o.load_kg > 0 for o in inputs.orders] == [True] * 5  # derived from items
    assert {vt.id: vt.profile for vt in inputs.fleet} == {"tricycle": "tricycle",
                                                          "box_truck": "box_truck_4_2m"}
    assert inputs.depots[0].lon == ROUTING_EXAMPLE["depots"]["features"][0]["geometry"][
        "coordinates"][0]  # fmt: skip
    wait_job(client, r.json()["id"], ("done",))
    siting = _stored(world, run_job(client, "/siting", SITING_EXAMPLE_INLINE)["id"])
    demand = siting_inputs(job_argument(siting_task, siting)).demand
    assert demand is not None and [d.households for d in demand] == [120, 80, 200, 60]
    matrix = _stored(world, run_job(client, "/matrix", MATRIX_EXAMPLE)["id"])
    origins, destinations = matrix_points(job_argument(matrix_task, matrix))
    assert list(origins.ids) == ["depot", "station-1"] and destinations is not None


def _records(features: list[dict], props_model: Any) -> list[dict]:
    """Features as the payload records of the earlier version (converted lon/lat, every
    property with its default)."""
    return [{"id": f["id"], "lon": f["geometry"]["coordinates"][0],
             "lat": f["geometry"]["coordinates"][1],
             **props_model.model_validate_json(json.dumps(f["properties"])).model_dump(exclude={"id"})}
            for f in features]  # fmt: skip


def _queue(app: Any, kind: str, payload: dict) -> str:
    job = app.state.ctx.store.add_job(tenant="tenant-a", kind=kind, payload=payload,
                                      time_limit_s=5)  # fmt: skip
    app.state.ctx.runner.wake()
    return job.id


def test_job_queued_by_the_earlier_version_still_runs(world: dict) -> None:
    # payloads of jobs queued before the upgrade (WGS-84 records, options beside them)
    # are rebuilt as job models: nothing queued is lost
    from recyclenet_api.schemas import VehicleTypeIn
    from recyclenet_api.schemas.geo import (
        DemandProperties,
        DepotProperties,
        FacilityProperties,
        OrderProperties,
        SiteProperties,
    )

    app, client = world["app"], world["client"]
    net = {"id": "helsinki", "source": "helsinki", "profile": "car"}
    ex = ROUTING_EXAMPLE
    routing = {
        "network": net,
        "orders": _records(ex["orders"]["features"], OrderProperties),
        "depots": _records(ex["depots"]["features"], DepotProperties),
        "facilities": _records(ex["facilities"]["features"], FacilityProperties),
        "fleet": [VehicleTypeIn.model_validate_json(json.dumps(vt)).model_dump()
                  for vt in ex["fleet"]],
        "engine": "auto", "max_snap_distance_m": 500.0, "order_snap_limit_m": 150.0,
        "time_limit_s": 5.0, "seed": 0, "crs": "gcj02", "speed_model": "free_flow",
    }  # fmt: skip
    matrix = {"network": net, "origins": MATRIX_EXAMPLE["origins"],
              "destinations": MATRIX_EXAMPLE["destinations"], "max_snap_distance_m": 500.0,
              "too_far": "raise", "crs": "wgs84"}  # fmt: skip
    si = SitingCreate.model_validate_json(json.dumps(SITING_EXAMPLE_INLINE))
    siting = {
        "network": net, **si.model_dump(include={
            "model", "profile", "metric", "p", "radius", "households_per_station", "budget",
            "keep_existing", "uncoverable", "cell_m", "road_spacing_m", "max_snap_distance_m",
            "seed", "urban_context", "households_total", "demand_districts"}),
        "time_limit_s": 5.0, "crs": "wgs84", "centres": None,
        "demand": _records(SITING_EXAMPLE_INLINE["demand"]["features"], DemandProperties),
        "sites": _records(SITING_EXAMPLE_INLINE["sites"]["features"], SiteProperties),
    }  # fmt: skip
    data = {}
    for kind, payload in (("routing", routing), ("matrix", matrix), ("siting", siting)):
        job = wait_job(client, _queue(app, kind, payload), ("done",))
        data[kind] = client.get(f"/plans/{job['plan_id']}", headers=A).json()["data"]
        assert data[kind]["kind"] == kind
    plan = data["routing"]["plan"]
    served = {v["order_id"] for r in plan["routes"] for v in r["visits"] if v["order_id"]}
    assert served | {u["order_id"] for u in plan["unserved"]} == {
        f["id"] for f in ex["orders"]["features"]}  # fmt: skip
    assert data["matrix"]["origin_ids"] == ["depot", "station-1"]
    assert len(data["siting"]["plan"]["open_ids"]) == 2  # max coverage, p = 2


def test_payload_of_no_known_shape_fails_the_job_naming_the_fix(world: dict) -> None:
    app, client = world["app"], world["client"]
    net = {"id": "helsinki", "source": "helsinki", "profile": "car"}
    failed = wait_job(client, _queue(app, "routing", {"network": net, "orders": "o1"}),
                      ("failed",))  # fmt: skip
    assert failed["error"]["status"] == 422, failed
    detail = failed["error"]["detail"]
    assert "RoutingJob" in detail and "submit the request again" in detail
    assert run_job(client, "/matrix", MATRIX_EXAMPLE)["status"] == "done"


def test_plans_are_served_as_typed_data(world: dict) -> None:
    client = world["client"]
    job = run_job(client, "/routing", {**ROUTING_EXAMPLE, "time_limit_s": 5})
    doc = client.get(f"/plans/{job['plan_id']}", headers=A).json()
    data = TypeAdapter(PlanData).validate_python(doc["data"])
    assert isinstance(data, RoutingData)
    assert data.indicators.orders_total == 5
    assert {v.kind for r in data.plan.routes for v in r.visits} <= {"start", "order", "unload",
                                                                    "end"}  # fmt: skip
    assert all(r.end_load_kg == 0 for r in data.plan.routes)  # every load unloaded
    spec = client.get("/openapi.json").json()
    plan_schema = spec["components"]["schemas"]["PlanPublic"]["properties"]["data"]
    refs = {s["$ref"].rsplit("/", 1)[-1] for s in plan_schema["oneOf"]}
    assert {"SitingData", "RoutingData", "MatrixData", "ParkData", "OtherData"} <= refs
    indicators = client.get(f"/plans/{job['plan_id']}/indicators", headers=A).json()
    assert indicators["indicators"]["served_count"] + indicators["indicators"][
        "unserved_count"] == 5  # fmt: skip
    assert all({"key", "value", "unit", "name"} <= set(e) for e in indicators["evaluation"])


def test_plan_of_an_earlier_shape_is_served_as_stored() -> None:
    # stored plans never change: one an earlier version stored in another shape is
    # served as it is rather than refused
    legacy = {"kind": "siting", "network_id": "n", "plan": {"open_ids": ["s1"]}}
    data = plan_data(legacy)
    assert isinstance(data, OtherData)
    assert data.model_dump() == legacy
    assert plan_data({"kind": "sleep", "slept_s": 1.0}).model_dump()["slept_s"] == 1.0

