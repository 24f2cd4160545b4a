"""/matrix, /jobs and /plans: the job lifecycle in real child processes, on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from api_helpers import (
    JOB_TIMEOUT_S,
    A,
    B,
    job_status,
    run_job,
    submit_sleep,
    wait_for,
    wait_job,
)
from fastapi import FastAPI
from fastapi.testclient import TestClient

import recyclenet as rn

pytestmark = pytest.mark.both_dbs

POINTS = [
    {"id": "depot", "lon": 24.9402, "lat": 60.1699},
    {"id": "station-1", "lon": 24.9460, "lat": 60.1720},
    {"id": 7, "lon": 24.9500, "lat": 60.1680},
]


def matrix_body(network_id: str, **extra: Any) -> dict[str, Any]:
    return {"network_id": network_id, "origins": POINTS, **extra}


def expected_matrix() -> rn.Matrix:
    net = rn.load_network("helsinki")
    return rn.build_matrix(net, rn.Points.from_records(POINTS))


def test_matrix_wait_returns_plan_equal_to_library(shared: dict) -> None:
    client, nid = shared["client"], shared["network"]["id"]
    # ?wait= up to the server's cap (make_settings: JOB_TIMEOUT_S): the plan in the answer
    r = client.post(f"/matrix?wait={JOB_TIMEOUT_S:g}", json=matrix_body(nid), headers=A)
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["status"] == "done" and job["progress"]["phase"] == "done"
    assert r.headers["location"] == f"/jobs/{job['id']}"
    data = job["plan"]["data"]
    want = expected_matrix()
    assert data["origin_ids"] == ["depot", "station-1", "7"] == data["destination_ids"]
    assert np.allclose(data["duration_s"], want.duration_s)
    assert np.allclose(data["distance_m"], want.distance_m)
    plan = client.get(f"/plans/{job['plan_id']}", headers=A).json()
    assert plan["data"] == data and plan["job_id"] == job["id"] and plan["kind"] == "matrix"
    assert job_status(client, job["id"])["links"]["plan"] == f"/plans/{job['plan_id']}"


def test_matrix_202_then_poll(shared: dict) -> None:
    client, nid = shared["client"], shared["network"]["id"]
    dest = [{"id": "centre", "lon": 24.95, "lat": 60.168}]
    r = client.post("/matrix", json=matrix_body(nid, destinations=dest), headers=A)
    assert r.status_code == 202 and r.json()["status"] in ("queued", "running")
    assert r.json()["plan"] is None
    job = wait_job(client, r.json()["id"])
    assert job["started_at"] and job["finished_at"] >= job["started_at"] >= job["created_at"]
    data = client.get(f"/plans/{job['plan_id']}", headers=A).json()["data"]
    assert data["destination_ids"] == ["centre"] and len(data["duration_s"]) == 3
    listing = client.get("/jobs?status=done", headers=A).json()
    assert job["id"] in [j["id"] for j in listing["items"]]


def test_matrix_input_error_fails_job_with_library_message(shared: dict) -> None:
    client, nid = shared["client"], shared["network"]["id"]
    far = [*POINTS, {"id": "sea", "lon": 24.80, "lat": 60.10}]  # kilometres from any road
    job = run_job(client, "/matrix", {"network_id": nid, "origins": far})
    assert job["status"] == "failed" and job["plan_id"] is None
    assert job["error"]["status"] == 422 and "sea" in job["error"]["detail"]
    # too_far='unreachable' keeps the point with null (unreachable) rows
    body = {"network_id": nid, "origins": far, "too_far": "unreachable"}
    data = run_job(client, "/matrix", body)["plan"]["data"]
    assert data["duration_s"][3] == [None, None, None, 0.0]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"origins": [{"id": "a", "lon": 200, "lat": 60}]}, "body.origins.0.lon"),
        ({"origins": []}, "body.origins"),
        ({"origins": [POINTS[0], POINTS[0]]}, "body.origins"),
        ({"network_id": "missing"}, "body.network_id"),
        ({"profile": "spaceship"}, "body.profile"),
        ({"time_limit_s": 10_000}, "body.time_limit_s"),
        ({"time_limit_s": -1}, "body.time_limit_s"),
        ({"too_far": "ignore"}, "body.too_far"),
        ({"destinations": []}, "body.destinations"),
        ({"unexpected": 1}, "body.unexpected"),
    ],
)
def test_matrix_validation_names_field(shared: dict, change: dict, field: str) -> None:
    client, nid = shared["client"], shared["network"]["id"]
    r = client.post("/matrix", json={**matrix_body(nid), **change}, headers=A)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == field


def test_matrix_point_limit(tmp_path) -> None:
    from api_helpers import make_app

    with TestClient(make_app(tmp_path / "var", max_points=2)) as client:
        r = client.post("/matrix", json=matrix_body("x"), headers=A)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.origins"
        assert "limit of 2" in r.json()["detail"]


def test_cancel_queued_and_running(new_app: Callable[..., FastAPI]) -> None:
    app = new_app(max_concurrent_solves=1)
    with TestClient(app) as client:
        running = submit_sleep(app, seconds=60)
        queued = submit_sleep(app, seconds=60)
        wait_for(lambda: job_status(client, running)["status"] == "running", what="start")
        pid = wait_for(lambda: [a.proc.pid for a in app.state.ctx.runner._active.values()])[0]
        assert job_status(client, queued)["status"] == "queued"  # only one solve at a time
        r = client.delete(f"/jobs/{queued}", headers=A)
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        r = client.delete(f"/jobs/{running}", headers=A)
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        wait_for(lambda: app.state.ctx.runner.running == 0, what="runner idle")
        wait_for(lambda: not _alive(pid), what="child killed")
        for job_id in (queued, running):
            job = job_status(client, job_id)
            assert job["status"] == "cancelled" and job["plan_id"] is None
        again = client.delete(f"/jobs/{running}", headers=A)  # finished now: removed
        assert again.status_code == 204
        assert client.get(f"/jobs/{running}", headers=A).status_code == 404
        assert client.delete("/jobs/unknown", headers=A).status_code == 404
        # the slot is free again: a new job runs to the end
        done = wait_job(client, submit_sleep(app, seconds=0.1))
        assert client.get(f"/plans/{done['plan_id']}", headers=A).json()["data"]["slept_s"] == 0.1
        r = client.delete(f"/jobs/{done['id']}", headers=A)  # a finished job: removed
        assert r.status_code == 204
        assert client.get(f"/plans/{done['plan_id']}", headers=A).status_code == 200  # kept


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_progress_time_limit_failure_and_crash(new_app: Callable[..., FastAPI]) -> None:
    app = new_app(job_grace_s=0.0)
    with TestClient(app) as client:
        slow = submit_sleep(app, seconds=30, time_limit_s=1.0)
        phase = ("sleeping", "failed")  # a slow start may hit the 1 s limit first
        wait_for(lambda: job_status(client, slow)["progress"].get("phase") in phase)
        job = wait_job(client, slow, ("failed",))
        assert job["error"]["title"] == "time limit exceeded"
        bad = wait_job(client, submit_sleep(app, fail="demand d7 has negative weight"),
                       ("failed",))  # fmt: skip
        assert bad["error"] == {"status": 422, "title": "invalid input",
                                "detail": "demand d7 has negative weight",
                                "error_type": "InputError"}  # fmt: skip
        crash = wait_job(client, submit_sleep(app, exit_code=7), ("failed",))
        assert crash["error"]["title"] == "job process died" and "7" in crash["error"]["detail"]


def test_other_tenant_sees_nothing(shared: dict) -> None:
    client, net = shared["client"], shared["network"]
    job = run_job(client, "/matrix", matrix_body(net["id"]))
    for url in (f"/networks/{net['id']}", f"/networks/{net['id']}/roads.geojson",
                f"/jobs/{job['id']}", f"/plans/{job['plan_id']}"):  # fmt: skip
        assert client.get(url, headers=A).status_code == 200
        r = client.get(url, headers=B)
        assert r.status_code == 404 and net["id"] not in r.json()["title"]
    assert client.delete(f"/jobs/{job['id']}", headers=B).status_code == 404
    assert client.get("/networks", headers=B).json() == {
        "items": [], "total": 0, "limit": 100, "offset": 0,
        "links": {"self": "/networks?limit=100"}}  # fmt: skip
    assert client.get("/jobs", headers=B).json()["total"] == 0
    # B cannot compute on A's network either: same answer as an unknown id
    r = client.post("/matrix", json=matrix_body(net["id"]), headers=B)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.network_id"
