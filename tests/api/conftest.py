"""Fixtures of the service tests (helpers live in api_helpers.py)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import A, make_app
from fastapi import FastAPI
from fastapi.testclient import TestClient

PG_ADMIN_URL = os.environ.get(
    "RECYCLENET_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
"""A PostgreSQL server the tests may create a database on (libpq URL)."""
_schemas = itertools.count(1)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database ``recyclenet_test_<pid>`` for this test session (SQLAlchemy URL),
    dropped at the end. Skipped when PostgreSQL is not reachable, except under CI=true,
    where that fails: CI must test PostgreSQL (``.ci/run`` starts it)."""
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except Exception as exc:
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    name = f"recyclenet_test_{os.getpid()}"
    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        try:
            yield f"{base}/{name}"
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def fresh_schema(pg_url: str) -> str:
    """A new empty schema in the session database, as a URL whose search_path is it."""
    import psycopg

    schema = f"t{os.getpid()}_{next(_schemas)}"
    with psycopg.connect(pg_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{pg_url}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return fresh_schema(request.getfixturevalue("pg_database"))


DB_KINDS = ("sqlite", "postgresql")


def _marks_both(obj: object) -> bool:
    marks = getattr(obj, "pytestmark", [])
    return any(m.name == "both_dbs" for m in (marks if isinstance(marks, list) else [marks]))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_dbs`` (or in a module with ``pytestmark = pytest.mark.both_dbs``)
    that use the app fixtures run once on SQLite and once on PostgreSQL. In a module where
    only some tests are marked, the others get the ``sqlite`` parameter too, so that they
    share the module's SQLite fixtures (``shared``) with the marked ones."""
    if "db_kind" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("both_dbs"):
        metafunc.parametrize("db_kind", DB_KINDS, scope="module")
    elif any(_marks_both(obj) for obj in vars(metafunc.module).values()):
        metafunc.parametrize("db_kind", DB_KINDS[:1], scope="module")


@pytest.fixture(scope="module")
def db_kind() -> str:
    """The database of the app fixtures: SQLite, unless parametrized (``both_dbs``)."""
    return "sqlite"


def database_settings(request: pytest.FixtureRequest, db_kind: str) -> dict[str, Any]:
    """Settings overrides for an app on an empty database of ``db_kind``: nothing for SQLite
    (the data directory's file), a fresh schema of the session's PostgreSQL database."""
    if db_kind == "sqlite":
        return {}
    return {"database_url": fresh_schema(request.getfixturevalue("pg_database"))}


@pytest.fixture
def fresh_database(request: pytest.FixtureRequest, db_kind: str) -> dict[str, Any]:
    """Settings overrides for one empty database of ``db_kind`` (see database_settings)."""
    return database_settings(request, db_kind)


@pytest.fixture
def new_app(request: pytest.FixtureRequest, tmp_path: Path, db_kind: str) -> Callable[..., FastAPI]:
    """Makes apps with settings overrides, each on its own empty database of ``db_kind``."""
    made = itertools.count()

    def make(**overrides: Any) -> FastAPI:
        n = next(made)
        db = database_settings(request, db_kind)
        return make_app(tmp_path / (f"var{n}" if n else "var"), **{**db, **overrides})

    return make


@pytest.fixture
def app(new_app: Callable[..., FastAPI]) -> FastAPI:
    return new_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def module_database(request: pytest.FixtureRequest, db_kind: str) -> dict[str, Any]:
    """Like ``fresh_database``, for a module-scoped app."""
    return database_settings(request, db_kind)


@pytest.fixture(scope="module")
def shared(
    tmp_path_factory: pytest.TempPathFactory, module_database: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """One app per module with the Helsinki sample registered by tenant A."""
    app = make_app(tmp_path_factory.mktemp("shared") / "var", **module_database)
    with TestClient(app) as c:
        r = c.post("/networks", json={"sample": "helsinki", "name": "Helsinki"}, headers=A)
        assert r.status_code == 201, r.text
        yield {"app": app, "client": c, "network": r.json()}
