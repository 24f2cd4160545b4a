"""Schema migrations: upgrade a database to the newest revision, once, under a lock.

Every server process calls :func:`upgrade` at start, and ``recyclenet serve`` calls it
before it starts its workers, so ``serve --workers N`` on a new database never races: the
first caller takes the lock (a PostgreSQL advisory lock, or a file lock next to a SQLite
database), migrates, and releases it; the others wait for the lock and find the database
at head. A failed migration raises, and ``serve`` exits non-zero before any worker starts.

A database made before migrations existed (by ``create_all``: it has ``plans`` but no
``alembic_version``) is stamped at revision ``0001``, the schema it has, and upgraded
from there. See :mod:`recyclenet_api.migrations` for adding a migration.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("recyclenet_api.migrate")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = 0x7265_6379  # "recy": the advisory lock every server process takes
LEGACY_REVISION = "0001"
"""The schema ``create_all`` made before migrations existed."""


def models() -> MetaData:
    """The metadata of every table the service stores (all model modules imported)."""
    from . import limits, records_store  # noqa: F401  (register their tables)
    from .store import Base

    return Base.metadata


def alembic_config(url: str | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head() -> str:
    """The newest revision."""
    from alembic.script import ScriptDirectory

    rev = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert rev is not None
    return rev


def current(engine: Engine) -> str | None:
    """The database's revision (None: not under migrations)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def _lock(engine: Engine) -> Iterator[Connection]:
    """A connection holding the migration lock of this database."""
    dialect = engine.dialect.name
    if dialect == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        lock_path = Path(str(engine.url.database) + ".migrate.lock")
        with open(lock_path, "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                with engine.connect() as conn:
                    yield conn
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    with engine.connect() as conn:
        if dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
            conn.commit()
        try:
            yield conn
        finally:
            if dialect == "postgresql":
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                conn.commit()


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Migrate the database to ``revision`` under the lock; returns the revision reached.

    Raises whatever the migration raises (the caller's start then fails).
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    cfg = alembic_config()
    with _lock(engine) as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        tables = set(inspect(conn).get_table_names())
        conn.commit()
        if before is None and "plans" in tables:
            log.warning("database made before migrations: stamping it at %s", LEGACY_REVISION)
            cfg.attributes["connection"] = conn
            command.stamp(cfg, LEGACY_REVISION)
            conn.commit()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()
        reached = MigrationContext.configure(conn).get_current_revision()
        conn.commit()
    if reached != before:
        log.info("database migrated from %s to %s", before, reached)
    return reached or ""
