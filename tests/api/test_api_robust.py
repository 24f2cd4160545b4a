"""No 5xx from any input: unstorable characters, deep JSON, strict types, far points,
the OpenAPI examples, ``Allow`` headers, and a 10 MB body that does not stall the server."""

from __future__ import annotations

import json
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import A, Server
from fastapi.testclient import TestClient

from recyclenet_api.bodies import check_body
from recyclenet_api.schemas import SITING_EXAMPLE_INLINE, MatrixCreate, SitingCreate

NUL_PATHS = [
    "/plans/a%00b", "/plans/a%00b/stations.geojson", "/plans/a%00b/indicators",
    "/jobs/a%00b", "/networks/a%00b", "/networks/a%00b/roads.geojson", "/map?plan=a%00b",
    "/jobs?status=%00", "/plans?network=a%00b", "/plans?name=a%00b", "/plans?tag=a%00b",
    "/plans?kind=a%00b", "/plans?cursor=a%00b", "/jobs?cursor=%00", "/networks?cursor=%00",
    "/ogc/collections/a%00b", "/ogc/collections/a%00b/items",
    "/ogc/collections/plan-a%00b-stations/items/x", "/parks/a%00b/sites.geojson",
    "/plans/a%00b/report", "/plans/a%00b/export", "/plans/a%00b/actuals",
]  # fmt: skip


@pytest.mark.both_dbs  # PostgreSQL refuses NUL: it must never get one
@pytest.mark.parametrize("path", NUL_PATHS)
def test_nul_in_url_is_422(shared: dict, path: str) -> None:
    r = shared["client"].get(path, headers=A)
    assert r.status_code == 422, r.text
    assert "NUL" in r.json()["detail"]


@pytest.mark.both_dbs  # PostgreSQL refuses NUL: it must never get one
def test_nul_in_delete_path_is_422(shared: dict) -> None:
    for path in ("/jobs/a%00b", "/plans/a%00b", "/networks/a%00b"):
        r = shared["client"].delete(path, headers=A)
        assert r.status_code == 422, (path, r.text)
    r = shared["client"].patch("/plans/a%00b", json={"name": "x"}, headers=A)
    assert r.status_code == 422, r.text


def _post(client: TestClient, path: str, body: Any) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, content=raw, headers={**A, "Content-Type": "application/json"})


@pytest.mark.both_dbs  # PostgreSQL refuses NUL: it must never get one
def test_nul_and_surrogates_in_bodies_are_422(shared: dict) -> None:
    client, nid = shared["client"], shared["network"]["id"]
    point = {"id": "a", "lon": 24.9402, "lat": 60.1699}
    cases = [
        ("/matrix", {"network_id": "a\x00b", "origins": [point]}, "body.network_id"),
        ("/matrix", {"network_id": nid, "origins": [{**point, "id": "x\x00"}]},
         "body.origins.0.id"),
        ("/siting", {**SITING_EXAMPLE_INLINE, "network_id": nid,
                     "demand": {"type": "FeatureCollection", "features": [
                         {"type": "Feature", "id": "d\x00", "properties": {},
                          "geometry": {"type": "Point", "coordinates": [24.94, 60.17]}}]}},
         "body.demand.features.0.id"),
        ("/networks", {"sample": "helsinki", "name": "n\x00"}, "body.name"),
        ("/networks", {"sample": "helsinki", "n\x00": 1}, "body.n\x00"),
    ]  # fmt: skip
    for path, body, field in cases:
        r = _post(client, path, body)
        assert r.status_code == 422, (path, r.text)
        err = r.json()["errors"][0]
        assert err["field"] == field and "NUL" in err["message"], r.text
    # a lone surrogate escape is refused; a surrogate pair (an emoji) is fine
    r = _post(client, "/networks", b'{"sample": "helsinki", "name": "x\\ud800y"}')
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.name"
    r = _post(client, "/networks", b'{"sample": "helsinki", "name": "\\ud83d\\ude00 \\\\u0000"}')
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "\U0001f600 \\u0000"  # an escaped backslash, not a NUL


def test_check_body_names_the_pointer() -> None:
    raw = json.dumps({"network_id": "n", "origins": [{"id": "ok", "lon": 0, "lat": 0},
                                                    {"id": "b\x00", "lon": 0, "lat": 0}]})
    value, errors = check_body(MatrixCreate, raw.encode())
    assert value is None and errors[0]["loc"] == ("body", "origins", "1", "id")


@pytest.mark.both_dbs  # PostgreSQL refuses NUL: it must never get one
def test_nul_in_uploaded_network_name_leaves_no_folder(client: TestClient, app: Any) -> None:
    osm = b"<?xml version='1.0'?><osm version='0.6'></osm>"
    for data in ({"name": "a\x00b"}, {"profile": "c\x00r"}):
        r = client.post("/networks", files={"file": ("town.osm", osm)}, data=data, headers=A)
        assert r.status_code == 422, r.text
        assert "NUL" in r.json()["detail"]
    r = client.post("/networks", files={"file": ("a\x00b.osm", osm)}, headers=A)
    assert r.status_code == 422, r.text
    networks = app.state.ctx.settings.data_dir / "networks"
    assert not networks.exists() or list(networks.iterdir()) == []
    assert client.get("/networks", headers=A).json()["total"] == 0


@pytest.mark.parametrize("path", ["/networks", "/siting", "/routing", "/matrix"])
def test_deep_json_is_422(shared: dict, path: str) -> None:
    depth = 100_000
    raw = b'{"network_id": ' + b"[" * depth + b"]" * depth + b"}"
    r = _post(shared["client"], path, raw)
    assert r.status_code == 422, r.text[:300]
    assert r.json()["errors"][0]["type"] == "json_invalid"
    assert "recursion" in r.json()["detail"]


def test_bool_is_not_a_number(shared: dict) -> None:
    client, nid = shared["client"], shared["network"]["id"]
    base = {"network_id": nid, "model": "max_coverage", "p": 1, "radius": 400}
    for field, value, kind in (("radius", True, "float_type"), ("p", True, "int_type"),
                               ("p", "3", "int_type"), ("radius", "400", "float_type")):
        r = _post(client, "/siting", {**base, field: value})
        assert r.status_code == 422, r.text
        err = r.json()["errors"][0]
        assert (err["field"], err["type"]) == (f"body.{field}", kind)
    point = {"id": True, "lon": 24.94, "lat": 60.17}
    r = _post(client, "/matrix", {"network_id": nid, "origins": [point]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("body.origins.0.id")
    r = _post(client, "/matrix", {"network_id": nid, "origins": [{**point, "id": 7}]})
    assert r.status_code == 202, r.text  # integers are ids; only bools are refused


def test_far_demand_point_is_422(shared: dict) -> None:
    client, nid = shared["client"], shared["network"]["id"]
    body = json.loads(json.dumps({**SITING_EXAMPLE_INLINE, "network_id": nid}))
    body["demand"]["features"][1]["geometry"]["coordinates"] = [24.94, 16.0]  # 4,900 km south
    r = _post(client, "/siting", body)
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == "body.demand.features.1"
    assert "d2 (4,883.4 km)" in err["message"], err
    body = json.loads(json.dumps({**SITING_EXAMPLE_INLINE, "network_id": nid}))
    body["sites"]["features"][2]["geometry"]["coordinates"] = [-24.95, 60.168]  # lon sign
    r = _post(client, "/siting", body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.sites.features.2"


@pytest.mark.both_dbs
def test_openapi_examples_are_accepted(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    tried = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if not content or "{" in path:  # examples cannot name a stored plan's id
                continue
            examples = [e["value"] for e in content.get("examples", {}).values()]
            if "example" in content:
                examples.append(content["example"])
            ref = content["schema"].get("$ref", "").rsplit("/", 1)[-1]
            examples += spec["components"]["schemas"].get(ref, {}).get("examples", [])
            for example in examples:
                r = client.request(method.upper(), path, json=example, headers=A)
                assert r.status_code in (200, 201, 202), (path, r.text)
                tried += 1
    assert tried >= 6
    for job in client.get("/jobs", headers=A).json()["items"]:  # no solves left running
        client.delete(f"/jobs/{job['id']}", headers=A)


def test_options_lists_every_method(client: TestClient) -> None:
    r = client.options("/jobs/abc")
    assert r.status_code == 204
    assert r.headers["allow"] == "DELETE, GET, HEAD, OPTIONS"
    r = client.put("/jobs/abc", headers=A)
    assert r.status_code == 405 and "DELETE" in r.headers["allow"]
    assert client.options("/networks").headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_head_is_answered_where_get_is(client: TestClient) -> None:
    get = client.get("/networks", headers=A)
    head = client.head("/networks", headers=A)
    assert head.status_code == get.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]
    assert client.head("/networks").status_code == 401  # the same checks as GET
    assert client.head("/jobs/abc", headers=A).status_code == 404
    r = client.head("/siting", headers=A)  # POST only: no HEAD either
    assert r.status_code == 405 and "HEAD" not in r.headers["allow"]


def test_big_body_does_not_stall_healthz(tmp_path: Path) -> None:
    """A ~9.5 MB scenario (just under the 10 MB body limit) is parsed and validated while
    /healthz keeps answering: no answer waits for the validation, and half of them take
    under 100 ms (on an idle machine every one does)."""
    feature = SITING_EXAMPLE_INLINE["demand"]["features"][0]
    n = 70_000
    features = [dict(feature, id=f"d{i}") for i in range(n)]
    features[-1] = dict(feature, id="d0")  # a duplicate id at the very end: 422 after all work
    body = {**SITING_EXAMPLE_INLINE, "network_id": "helsinki",
            "demand": {"type": "FeatureCollection", "features": features}}  # fmt: skip
    raw = json.dumps(body).encode()
    assert 9_000_000 < len(raw) < 10_000_000
    SitingCreate.model_validate_json(raw)  # the body itself is valid
    srv = Server(tmp_path / "var", RECYCLENET_MAX_POINTS="100000")
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as warm:
            warm.get("/healthz")
        result: dict[str, Any] = {}

        def post() -> None:
            with httpx.Client(base_url=srv.url, timeout=120) as c:
                t0 = time.perf_counter()
                result["response"] = c.post("/siting", content=raw, headers={
                    **A, "Content-Type": "application/json"})  # fmt: skip
                result["took_s"] = time.perf_counter() - t0

        worker = threading.Thread(target=post)
        latencies = []
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            worker.start()
            while worker.is_alive():
                t0 = time.perf_counter()
                assert c.get("/healthz").status_code == 200
                latencies.append(time.perf_counter() - t0)
                time.sleep(0.01)
        worker.join()
    finally:
        srv.stop()
    r = result["response"]
    assert r.status_code == 422, r.text[:500]
    assert r.json()["errors"][0]["field"].startswith(f"body.demand.features.{n - 1}")
    assert len(latencies) >= 10, (latencies, result["took_s"])
    # validated in a child process, so no request waits for it: before, one 9.6 MB body
    # stalled /healthz for 7.2 s, about the whole request. Measured against the request
    # itself, not the clock, so a slow or loaded machine scales both sides alike.
    ordered = sorted(latencies)
    assert ordered[-1] < 0.5 * result["took_s"], (ordered[-5:], result["took_s"])
    # issue #14's number: /healthz under 100 ms while the body is handled. The median,
    # so one scheduling hiccup of a loaded machine is not read as a stall (a stall, as
    # before, holds every answer of the request's duration: the median with them).
    median_s = statistics.median(latencies)
    assert median_s < 0.1, (median_s, ordered[-5:], result["took_s"])
