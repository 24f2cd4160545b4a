"""/parks: a park plan as a job on the Helsinki sample, its layers, manifests and errors."""

from __future__ import annotations

import copy
import csv
import io
from typing import Any

import pytest
from api_helpers import A, B, job_status, wait_for

from recyclenet.network import load_network
from recyclenet.parks.example import example_park_doc

GEOJSON = "application/geo+json"


def _wait(client: Any, job_id: str, statuses: tuple[str, ...]) -> dict[str, Any]:
    # a park job loads the network, plans a week of routes and draws its layers: allow
    # more than the helpers' 30 s on a loaded machine (bounded poll, not a timing check)
    return wait_for(
        lambda: (j := job_status(client, job_id))["status"] in statuses and j,
        timeout_s=180.0,
        what=f"park job {job_id}",
    )


@pytest.fixture(scope="module")
def park_doc() -> dict[str, Any]:
    return example_park_doc(load_network("helsinki", profile="truck_18t"))


@pytest.fixture(scope="module")
def done(shared: dict, park_doc: dict) -> dict[str, Any]:
    client, nid = shared["client"], shared["network"]["id"]
    body = {"network_id": nid, "park": park_doc, "time_limit_s": 8}
    r = client.post("/parks", json=body, headers=A)
    assert r.status_code == 202, r.text
    job = _wait(client, r.json()["id"], ("done", "failed"))
    assert job["status"] == "done", job
    return {**shared, "job": job}


def test_park_job_and_layers(done: dict) -> None:
    client, job = done["client"], done["job"]
    plan = client.get(f"/plans/{job['plan_id']}", headers=A).json()
    data = plan["data"]
    assert plan["kind"] == "park"
    assert data["plan"]["allocation"]["status"] == "optimal"
    assert data["indicators"]["park_hw_licensed_share"] == pytest.approx(100.0)
    flows = data["plan"]["allocation"]["flows"]
    for name in ("enterprises", "receivers", "flows", "routes", "sites"):
        r = client.get(f"/parks/{job['plan_id']}/{name}.geojson", headers=A)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == GEOJSON
        fc = r.json()
        ids = [f["id"] for f in fc["features"]]
        assert len(set(ids)) == len(ids) and all(ids)
        if name == "flows":
            assert len(fc["features"]) == len(flows)
            assert {f["properties"]["tonnes_per_year"] for f in fc["features"]} == {
                f["tonnes_per_year"] for f in flows
            }
    r = client.get(f"/parks/{job['plan_id']}/manifests.csv", headers=A)
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == len(data["manifests"]) > 10
    assert {"generator_id", "waste_code", "receiver_licence", "tonnes"} <= set(rows[0])
    # another tenant sees nothing
    assert client.get(f"/parks/{job['plan_id']}/flows.geojson", headers=B).status_code == 404


def test_bad_park_is_a_422_naming_the_row(shared: dict, park_doc: dict) -> None:
    client, nid = shared["client"], shared["network"]["id"]
    doc = copy.deepcopy(park_doc)
    doc["streams"][2]["code"] = "HW77"
    r = client.post("/parks", json={"network_id": nid, "park": doc}, headers=A)
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == "body.park"
    assert "stream 'S03'" in err["message"] and "HW77" in err["message"]
    for junk in ({"streams": "x.csv"}, {"settings": [1, 2]}, {"enterprises": [{"id": {}}]}):
        r = client.post("/parks", json={"network_id": nid, "park": {**doc, **junk}}, headers=A)
        assert r.status_code == 422, (junk, r.text)


def test_no_receiver_is_a_422_and_capacity_below_total_fails_the_job(
    shared: dict, park_doc: dict
) -> None:
    client, nid = shared["client"], shared["network"]["id"]
    doc = copy.deepcopy(park_doc)
    doc["streams"].append(
        {"id": "S99", "enterprise_id": "E01", "code": "HW10", "tonnes_per_month": 1}
    )
    r = client.post("/parks", json={"network_id": nid, "park": doc}, headers=A)
    assert r.status_code == 422, r.text
    assert "S99: no receiver accepts code HW10" in r.json()["errors"][0]["message"]
    doc = copy.deepcopy(park_doc)
    for rec in doc["receivers"]:
        if rec["id"] == "R09":  # the only battery recycler: 0.1 t/year for 6 t/year
            rec["capacity_t_per_year"] = 0.1
    r = client.post("/parks", json={"network_id": nid, "park": doc, "time_limit_s": 5}, headers=A)
    assert r.status_code == 202, r.text
    job = _wait(client, r.json()["id"], ("failed",))
    assert job["error"]["status"] == 422
    assert "S16" in job["error"]["detail"] and "'R09'" in job["error"]["detail"]
