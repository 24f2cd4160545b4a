"""Property-based requests generated from the app's own OpenAPI schema: never a 5xx.

Run on SQLite and on PostgreSQL. Schemathesis runs the app in-process over ASGI and owns
its lifespan (tables, job runner); the fixture ends that lifespan. Each operation gets a
small, derandomized budget so the whole run stays within a few seconds.
"""

from __future__ import annotations

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
