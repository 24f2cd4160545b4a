"""Auth, health, CORS, problem+json on every error, settings, OpenAPI."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_helpers import KEY_A, A, make_app, run_job
from fastapi.testclient import TestClient

from recyclenet_api.settings import Settings

PROBLEM = "application/problem+json"
PROTECTED = [
    ("GET", "/networks"),
    ("POST", "/networks"),
    ("GET", "/networks/x"),
    ("GET", "/networks/x/roads.geojson"),
    ("GET", "/jobs"),
    ("GET", "/jobs/x"),
    ("DELETE", "/jobs/x"),
    ("GET", "/plans/x"),
    ("POST", "/matrix"),
    ("POST", "/siting"),
    ("POST", "/routing"),
    ("GET", "/plans/x/indicators"),
    ("GET", "/plans/x/stations.geojson"),
    ("GET", "/plans/x/assignments.geojson"),
    ("GET", "/plans/x/coverage.geojson"),
    ("GET", "/plans/x/routes.geojson"),
    ("GET", "/plans/x/stops.geojson"),
]


def test_health(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "detail": {}}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ok" and ready["detail"]["max_concurrent_solves"] == 2


def test_readyz_503_when_runner_stopped(app) -> None:
    with TestClient(app) as client:
        app.state.ctx.runner._stop.set()
        app.state.ctx.runner._thread.join(5)
        r = client.get("/readyz")
        assert r.status_code == 503 and r.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(("method", "url"), PROTECTED)
@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_api_key_required(client: TestClient, method: str, url: str, key: str | None) -> None:
    headers = {"X-API-Key": key} if key else {}
    r = client.request(method, url, headers=headers, json={"sample": "helsinki"})
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["www-authenticate"].startswith("ApiKey")
    body = r.json()
    assert (
        body["status"] == 401 and body["title"] == "Unauthorized" and "X-API-Key" in body["detail"]
    )


def test_query_key_only_for_reads(client: TestClient) -> None:
    assert client.get("/networks", params={"api_key": KEY_A}).status_code == 200
    r = client.post("/networks", params={"api_key": KEY_A}, json={"sample": "helsinki"})
    assert r.status_code == 401


def test_query_key_can_be_disabled(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path / "var", allow_query_api_key=False)) as client:
        assert client.get("/networks", params={"api_key": KEY_A}).status_code == 401


def test_unknown_route_and_method_are_problems(client: TestClient) -> None:
    r = client.get("/nowhere")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    assert r.json()["instance"] == "/nowhere"
    r = client.put("/jobs/x", headers=A)
    assert r.status_code == 405 and r.headers["content-type"] == PROBLEM


def test_cors(tmp_path: Path) -> None:
    app = make_app(tmp_path / "var", cors_origins=["https://gis.example.org"])
    with TestClient(app) as client:
        r = client.options("/networks", headers={
            "Origin": "https://gis.example.org", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-API-Key"})  # fmt: skip
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://gis.example.org"
        r = client.get("/healthz", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in r.headers


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RECYCLENET_API_KEYS", "k1:tenantA, k2:tenantB")
    monkeypatch.setenv("RECYCLENET_CORS_ORIGINS", "https://a.example,https://b.example")
    monkeypatch.setenv("RECYCLENET_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("RECYCLENET_MAX_CONCURRENT_SOLVES", "3")
    s = Settings(_env_file=None)
    assert s.api_keys == {"k1": "tenantA", "k2": "tenantB"}
    assert s.cors_origins == ["https://a.example", "https://b.example"]
    assert s.max_concurrent_solves == 3
    assert s.sqlalchemy_url == f"sqlite:///{(tmp_path / 'd' / 'recyclenet.db').resolve()}"
    monkeypatch.setenv("RECYCLENET_DATABASE_URL", "postgresql+psycopg://u:p@db/recyclenet")
    assert Settings(_env_file=None).sqlalchemy_url.startswith("postgresql+psycopg://")
    monkeypatch.setenv("RECYCLENET_API_KEYS", "no-tenant-here")
    with pytest.raises(ValueError, match="key:tenant"):
        Settings(_env_file=None)


def test_settings_from_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("RECYCLENET_API_KEYS=abc:t1\nRECYCLENET_MAX_POINTS=7\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RECYCLENET_API_KEYS", raising=False)
    s = Settings()
    assert s.api_keys == {"abc": "t1"} and s.max_points == 7


def test_sqlite_wal_mode(client: TestClient, app) -> None:
    with app.state.ctx.store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_openapi_examples_and_problem_schema(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "ProblemDetail" in spec["components"]["schemas"]
    bodies = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if "requestBody" not in op:
                continue
            for media, content in op["requestBody"]["content"].items():
                bodies += 1
                schema = content.get("schema", {})
                ref = schema.get("$ref", "").rsplit("/", 1)[-1]
                examples = content.get("example") or content.get("examples") or (
                    spec["components"]["schemas"].get(ref, {}).get("examples"))  # fmt: skip
                assert examples, f"{method.upper()} {path} {media} has no example"
    assert bodies >= 3
    assert client.get("/docs").status_code == 200


def test_plans_are_immutable(shared: dict) -> None:
    from sqlalchemy.orm import Session

    from recyclenet_api.store import Plan

    client, nid = shared["client"], shared["network"]["id"]
    body = {"network_id": nid, "origins": [{"id": "a", "lon": 24.9402, "lat": 60.1699}]}
    plan_id = run_job(client, "/matrix", body)["plan_id"]
    store = shared["app"].state.ctx.store
    with Session(store.engine) as s:
        plan = s.get(Plan, plan_id)
        plan.data = {"tampered": True}
        with pytest.raises(PermissionError, match="immutable"):
            s.commit()
    assert client.get(f"/plans/{plan_id}", headers=A).json()["data"]["origin_ids"] == ["a"]
