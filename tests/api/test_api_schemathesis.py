"""Property-based requests generated from the app's own OpenAPI schema: never a 5xx.

Run on SQLite and on PostgreSQL. Schemathesis runs the app in-process over ASGI and owns
its lifespan (tables, job runner); the fixture ends that lifespan. Each operation gets a
small, derandomized budget so the whole run stays within a few seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_helpers import A, make_app, wait_job
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans

from recyclenet_api.schemas import SITING_EXAMPLE_INLINE

EXPECTED_PATHS = {
    "/networks", "/networks/{network_id}", "/networks/{network_id}/roads.geojson",
    "/jobs", "/jobs/{job_id}", "/plans", "/plans/{plan_id}", "/matrix", "/healthz", "/readyz",
    "/siting", "/routing", "/plans/{plan_id}/indicators", "/plans/{plan_id}/stations.geojson",
    "/plans/{plan_id}/assignments.geojson", "/plans/{plan_id}/coverage.geojson",
    "/plans/{plan_id}/routes.geojson", "/plans/{plan_id}/stops.geojson",
    "/plans/{plan_id}/centres.geojson", "/map", "/records", "/plans/{plan_id}/actuals",
    "/plans/{plan_id}/evaluation", "/plans/{plan_id}/export", "/plans/{plan_id}/report",
    "/parks", "/parks/{plan_id}/{layer}.geojson", "/parks/{plan_id}/manifests.csv", "/uploads",
    "/ogc", "/ogc/conformance", "/ogc/api", "/ogc/collections", "/ogc/collections/{collectionId}",
    "/ogc/collections/{collectionId}/items", "/ogc/collections/{collectionId}/items/{featureId}",
}  # fmt: skip


pytestmark = pytest.mark.both_dbs  # SQLite and PostgreSQL


@pytest.fixture(scope="module")
def api_schema(
    tmp_path_factory: pytest.TempPathFactory, module_database: dict[str, Any]
) -> Iterator[schemathesis.BaseSchema]:
    app = make_app(tmp_path_factory.mktemp("fuzz") / "var", max_wait_s=1.0, max_upload_mb=1.0,
                   **module_database)  # fmt: skip
    with TestClient(app) as client:  # a real network, so generated requests can hit it
        r = client.post("/networks", json={"sample": "helsinki"}, headers=A)
        assert r.status_code == 201
        nid = r.json()["id"]
        body = {**SITING_EXAMPLE_INLINE, "network_id": nid}  # a real plan for the plan paths
        job = wait_job(client, client.post("/siting", json=body, headers=A).json()["id"])
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.network_id = nid  # type: ignore[attr-defined]
    schema.plan_id = job["plan_id"]  # type: ignore[attr-defined]
    try:
        yield schema
    finally:
        shutdown_lifespans()


def _document_examples(spec: dict[str, Any], path: str, method: str) -> list[str]:
    """The JSON request body examples the OpenAPI document gives an operation (as
    canonical JSON text): its content's ``example``/``examples`` and its schema's."""
    content = (spec["paths"][path][method].get("requestBody", {}).get("content", {})
               .get("application/json", {}))  # fmt: skip
    found = [e["value"] for e in content.get("examples", {}).values()]
    found += [content["example"]] if "example" in content else []
    ref = content.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
    found += spec["components"]["schemas"].get(ref, {}).get("examples", [])
    return [json.dumps(e, sort_keys=True) for e in found]


def _cancel_active_jobs(client: TestClient) -> None:
    for status in ("queued", "running"):
        for job in client.get("/jobs", params={"status": status, "limit": 1000},
                              headers=A).json()["items"]:  # fmt: skip
            client.delete(f"/jobs/{job['id']}", headers=A)


def _send_example(case: schemathesis.Case, documented: list[str], ids: dict[str, str],
                  sent: list[tuple[str, str, int, bool]]) -> None:  # fmt: skip
    """Send one example case with the real ids; 2xx required where it is the document's."""
    op = case.operation
    method = op.method.lower()
    case.path_parameters = {**(case.path_parameters or {}),
                            **{k: v for k, v in ids.items() if k in op.path}}  # fmt: skip
    response = case.call_and_validate(headers=A, checks=[not_a_server_error])
    ours = method == "get" or (case.media_type == "application/json"
                               and json.dumps(case.body, sort_keys=True) in documented)  # fmt: skip
    sent.append((method, op.path, response.status_code, ours))
    if ours:
        assert 200 <= response.status_code < 300, (op.path, response.text[:500])


def _example_test(strategy: Any, documented: list[str], ids: dict[str, str],
                  sent: list[tuple[str, str, int, bool]]) -> Any:  # fmt: skip
    @given(case=strategy)
    @settings(max_examples=3, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def check(case: schemathesis.Case) -> None:
        _send_example(case, documented, ids, sent)

    return check


def test_examples_are_accepted(api_schema: schemathesis.BaseSchema) -> None:
    """(Before the fuzzing test, which deletes the fixture's network and plan at its end.)
    Schemathesis' examples phase: every example in the OpenAPI document (bodies and
    parameters, and the bodies schemathesis builds from the fields' own examples), sent
    with the real network and plan in place of path ids. None is a server error; each
    body the document gives as an example, and each GET built from parameter examples,
    is accepted (2xx): the examples name ids the API takes (issue #14)."""
    spec = api_schema.raw_schema
    client = TestClient(api_schema.app)  # the app is running (its lifespan is schemathesis')
    ids = {"network_id": api_schema.network_id,  # type: ignore[attr-defined]
           "plan_id": api_schema.plan_id}  # type: ignore[attr-defined]  # fmt: skip
    assert client.get(f"/plans/{ids['plan_id']}", headers=A).status_code == 200
    sent: list[tuple[str, str, int, bool]] = []
    for result in api_schema.get_all_operations():
        op = result.ok()
        if op.method.lower() == "delete":
            continue  # the real ids stay for the other examples
        documented = _document_examples(spec, op.path, op.method.lower())
        for strategy in op.get_strategies_from_examples():
            _example_test(strategy, documented, ids, sent)()
    accepted = {path for _, path, _, ours in sent if ours}
    assert {"/networks", "/siting", "/routing", "/matrix", "/parks", "/records", "/plans/{plan_id}",
            "/networks/{network_id}/roads.geojson"} <= accepted, sent  # fmt: skip
    _cancel_active_jobs(client)  # no solves left to run


def test_no_server_errors(api_schema: schemathesis.BaseSchema, tmp_path: Path) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} == EXPECTED_PATHS
    tried = 0
    runs = [(op, op.as_strategy()) for op in operations]
    runs += [(op, op.as_strategy(path_parameters={"network_id": api_schema.network_id}))
             for op in operations if "{network_id}" in op.path]  # fmt: skip
    runs += [(op, op.as_strategy(path_parameters={"plan_id": api_schema.plan_id}))
             for op in operations if "{plan_id}" in op.path]  # fmt: skip
    runs.sort(key=lambda run: run[0].method.upper() == "DELETE")  # the real ids stay till last
    for _op, strategy in runs:

        @given(case=strategy)
        @settings(max_examples=15, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def check(case: schemathesis.Case) -> None:
            nonlocal tried
            headers = dict(case.headers or {})
            headers["X-API-Key"] = A["X-API-Key"]  # auth failures are tested elsewhere
            case.call_and_validate(headers=headers, checks=[not_a_server_error])
            tried += 1

        check()
    assert tried >= len(runs)
