"""Alembic migrations of the service's database (SQLite and PostgreSQL).

Applied by :func:`recyclenet_api.migrate.upgrade`: ``recyclenet db upgrade``,
``recyclenet serve`` before it starts its workers, and every server process at start
(the first one under the lock does the work, the others find the database at head).

Adding a migration (a new table or column in :mod:`recyclenet_api.store` or beside it):

1. Change the SQLAlchemy model (``Base`` subclasses; a new module's models must be
   imported by :func:`recyclenet_api.migrate.models` so ``Base.metadata`` holds them).
2. Generate the revision from the model change::

       recyclenet db revision -m "records: add the records table"

   (``alembic revision --autogenerate`` against a database at head, written to
   ``versions/NNNN_<slug>.py`` with ``down_revision`` the current head; run ``ruff check
   --fix`` and ``ruff format`` on it). Read it and
   fix what autogenerate cannot know (data moves, server defaults for new NOT NULL
   columns on existing rows).
3. ``tests/api/test_api_migrations.py`` checks that an upgraded database matches the
   models exactly (no missing migration) on SQLite and PostgreSQL, and that databases
   of the previous schema upgrade with every plan readable.

Revisions are numbered ``0001``, ``0002``, ...; two branches adding one each must rebase
and renumber the later one (its ``down_revision`` becomes the other's).
"""
