"""Schema migrations: an upgraded database is exactly the models; databases of the
schema before migrations upgrade with every plan readable; N processes upgrading one new
database at once never race; a failed start exits non-zero."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from api_helpers import KEY_A, A, make_app
from fastapi.testclient import TestClient
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    create_engine,
    inspect,
)
from sqlalchemy.dialects.postgresql import JSONB

from recyclenet_api.migrate import current, head, models, upgrade
from recyclenet_api.store import make_engine


def _diff(url: str) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), models())
    finally:
        engine.dispose()


def test_upgrade_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert current(engine) is None
        assert upgrade(engine) == head() == current(engine)
        assert upgrade(engine) == head()  # a second run is a no-op
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"networks", "jobs", "plans", "collection_records", "alembic_version"} <= tables
    assert _diff(db_url) == []  # every model change has its migration


# The schema as create_all made it from the models before migrations (frozen: do not
# edit): NOT NULL unless Optional, an index on each tenant column.
LEGACY = MetaData()
JSON = JSON().with_variant(JSONB(), "postgresql")  # type: ignore[misc]


def _c(name: str, kind: object, null: bool = False, **kw: object) -> Column:
    return Column(name, kind, nullable=null, **kw)  # type: ignore[call-overload]


Table("networks", LEGACY, _c("id", String(32), primary_key=True),
      _c("tenant", String(200), index=True), _c("name", String(200)),
      _c("source", String(1000)), _c("profile", String(100)), _c("info", JSON),
      _c("created_at", DateTime(timezone=True)))  # fmt: skip
LEGACY_PLANS = Table(
    "plans", LEGACY, _c("id", String(32), primary_key=True),
    _c("tenant", String(200), index=True), _c("kind", String(50)),
    _c("job_id", String(32), True), _c("data", JSON),
    _c("created_at", DateTime(timezone=True)))  # fmt: skip
Table("jobs", LEGACY, _c("id", String(32), primary_key=True),
      _c("tenant", String(200), index=True), _c("kind", String(50)),
      _c("status", String(20)), _c("progress", JSON), _c("payload", JSON),
      _c("error", JSON, True), _c("time_limit_s", Float), _c("owner", String(200), True),
      Column("plan_id", String(32), ForeignKey("plans.id"), nullable=True),
      _c("created_at", DateTime(timezone=True)),
      _c("started_at", DateTime(timezone=True), True),
      _c("finished_at", DateTime(timezone=True), True),
      _c("updated_at", DateTime(timezone=True)),
      _c("heartbeat_at", DateTime(timezone=True), True),
      Index("ix_jobs_status_created", "status", "created_at"))  # fmt: skip

OLD_PLANS = [
    {"id": "a" * 32, "tenant": "tenant-a", "kind": "matrix", "job_id": None,
     "data": {"kind": "matrix", "origin_ids": ["p1", "站点"], "duration_s": [[0.0, 1.5]]}},
    {"id": "b" * 32, "tenant": "tenant-a", "kind": "siting", "job_id": None,
     "data": {"kind": "siting", "network_id": "n", "plan": {"open_ids": ["s1"]},
              "indicators": {"stations_open": 1},
              "layers": {"stations": {"type": "FeatureCollection", "features": [
                  {"type": "Feature", "id": "s1", "properties": {"site_id": "s1"},
                   "geometry": {"type": "Point", "coordinates": [24.94, 60.17]}}]}}}},
]  # fmt: skip


def _every_plan_readable(client: TestClient, plans: list[dict]) -> None:
    """Each plan as stored, with no name and no tags; the siting plan's layer too."""
    for plan in plans:
        r = client.get(f"/plans/{plan['id']}", headers=A)
        assert r.status_code == 200, r.text
        body = r.json()
        data = {k: v for k, v in plan["data"].items() if k != "layers"}
        assert body["data"] == data and body["kind"] == plan["kind"]
        assert body["name"] is None and body["tags"] == []
    fc = client.get(f"/plans/{'b' * 32}/stations.geojson", headers=A).json()
    assert fc == OLD_PLANS[1]["data"]["layers"]["stations"]


def test_legacy_database_upgrades_with_every_plan_readable(db_url: str, tmp_path: Path) -> None:
    engine = create_engine(db_url)
    LEGACY.create_all(engine)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(LEGACY_PLANS.insert(), [{**p, "created_at": now} for p in OLD_PLANS])
    engine.dispose()
    app = make_app(tmp_path / "var", database_url=db_url)
    with TestClient(app) as client:  # the app's start upgrades the database
        _every_plan_readable(client, OLD_PLANS)
    assert current(app.state.ctx.store.engine) == head()
    assert _diff(db_url) == []


def test_database_at_0002_upgrades_with_every_plan_readable(db_url: str, tmp_path: Path) -> None:
    """Plans stored by the 0002 schema (before names, tags and plans' network ids) stay
    readable, have no name and no tags, get their network id from their data, and the
    jobs that made them stay linked."""
    from sqlalchemy import text

    engine = make_engine(db_url)
    assert upgrade(engine, "0002") == "0002"
    now = datetime(2026, 11, 2, tzinfo=UTC)
    plans = [{**p, "created_at": now} for p in OLD_PLANS]
    plans[0]["data"] = {**plans[0]["data"], "network_id": "net-9"}
    job = {"id": "c" * 32, "tenant": "tenant-a", "kind": "siting", "status": "done",
           "progress": {}, "payload": {"network": {"id": "n"}}, "time_limit_s": 10.0,
           "plan_id": "b" * 32, "created_at": now, "updated_at": now}  # fmt: skip
    jobs = LEGACY.tables["jobs"]
    with engine.begin() as conn:
        conn.execute(LEGACY_PLANS.insert(), plans)
        conn.execute(jobs.insert(), [job])
        assert "name" not in {c["name"] for c in inspect(conn).get_columns("plans")}
        assert conn.execute(text("SELECT count(*) FROM plans")).scalar() == 2
    engine.dispose()
    app = make_app(tmp_path / "var", database_url=db_url)
    with TestClient(app) as client:  # the app's start upgrades the database
        _every_plan_readable(client, plans)
        listed = client.get("/plans", headers=A).json()
        assert {p["id"]: (p["name"], p["tags"], p["network_id"]) for p in listed["items"]} == {
            "a" * 32: (None, [], "net-9"), "b" * 32: (None, [], "n")}  # fmt: skip
        assert [p["id"] for p in client.get("/plans?network=n", headers=A).json()["items"]] == [
            "b" * 32]  # fmt: skip
        j = client.get(f"/jobs/{'c' * 32}", headers=A).json()
        assert j["plan_id"] == "b" * 32 and j["name"] is None and j["tags"] == []
        r = client.patch(f"/plans/{'b' * 32}", json={"name": "old", "tags": ["t"]}, headers=A)
        assert r.status_code == 200 and r.json()["tags"] == ["t"]
    assert current(app.state.ctx.store.engine) == head()
    assert _diff(db_url) == []


UPGRADE = """
import sys
from sqlalchemy.dialects.postgresql import JSONB

from recyclenet_api.migrate import upgrade
from recyclenet_api.store import make_engine
print(upgrade(make_engine(sys.argv[1])))
"""


def test_concurrent_upgrades_never_race(db_url: str) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", UPGRADE, db_url], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]  # fmt: skip
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [o[1][-2000:] for o in outs]
    assert [o[0].strip() for o in outs] == [head()] * 4
    assert _diff(db_url) == []


def test_serve_with_two_workers_on_a_new_database(db_url: str, tmp_path: Path) -> None:
    """`recyclenet serve --workers 2` on a new database, SQLite and PostgreSQL (before
    migrations, 2 starts in 5 died on SQLite and 3 in 3 on PostgreSQL, each worker racing
    to create the tables): both workers start and answer, and it exits 0."""
    import httpx
    from api_helpers import free_port, terminate, wait_for

    port = free_port()
    env = {**os.environ, "RECYCLENET_DATA_DIR": str(tmp_path / "var"),
           "RECYCLENET_API_KEYS": f"{KEY_A}:tenant-a",
           "RECYCLENET_DATABASE_URL": db_url}  # fmt: skip
    log = tmp_path / "serve.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "recyclenet.cli", "serve", "--port",
                                 str(port), "--workers", "2"], env=env, cwd=tmp_path,
                                stdout=fh, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            assert proc.poll() is None, "serve exited: " + log.read_text()[-3000:]
            try:
                return httpx.get(url + "/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, timeout_s=400, what="two workers")  # minutes on a loaded machine
        for _ in range(20):
            assert httpx.get(url + "/networks", headers=A, timeout=10).json()["total"] == 0
    finally:
        terminate(proc)
    text = log.read_text()
    assert proc.returncode == 0, text[-3000:]
    assert text.count("Application startup complete") == 2, text[-3000:]
    assert "Traceback" not in text and "already exists" not in text, text[-3000:]


def test_failed_start_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "notadb"
    bad.mkdir()  # a directory where the SQLite file should be
    env = {**os.environ, "RECYCLENET_DATABASE_URL": f"sqlite:///{bad}",
           "RECYCLENET_API_KEYS": f"{KEY_A}:tenant-a"}  # fmt: skip
    r = subprocess.run([sys.executable, "-m", "recyclenet.cli", "serve", "--workers", "2",
                        "--port", "1"], env=env, capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)  # fmt: skip
    assert r.returncode != 0, r.stdout + r.stderr
    assert "unable to open database" in r.stderr


def test_db_cli(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run = [sys.executable, "-m", "recyclenet.cli", "db"]
    out = subprocess.run([*run, "upgrade", "--url", url], capture_output=True, text=True,
                         timeout=120, check=True).stdout  # fmt: skip
    assert f"database at revision {head()} (was None)" in out
    out = subprocess.run([*run, "current", "--url", url], capture_output=True, text=True,
                         timeout=120, check=True).stdout  # fmt: skip
    assert out.strip() == f"current {head()}, head {head()}"
    assert json.dumps(out)
