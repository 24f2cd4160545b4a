"""Alembic environment: runs on the connection :mod:`recyclenet_api.migrate` gives."""

from __future__ import annotations

from typing import Any

from alembic import context

from recyclenet_api.migrate import models

config = context.config


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=models(),
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER via table copies
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # the alembic command line, with sqlalchemy.url set
    from recyclenet_api.store import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
