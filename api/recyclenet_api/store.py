"""Storage: SQLAlchemy 2 models and the one repository the service uses.

Tables
------
``networks``  registered road networks (tenant, name, source file, profile, info JSON).
``jobs``      solves: status ``queued | running | done | failed | cancelled``, progress,
              the payload the job function gets, error details, timestamps, the owning
              server process, the id of the plan a finished job produced, and the
              ``name`` and ``tags`` the request gave that plan.
``plans``     results. The body (tenant, kind, job_id, network_id, data, created_at) is
              immutable: the ORM refuses to update any other column than the labels in
              :data:`PLAN_LABELS` (see :func:`_plans_are_immutable`). ``name`` is the one
              mutable column (PATCH /plans/{id}); ``network_id`` (the network the job used,
              set once from its payload) is kept when that network is deleted: a plan
              holds its layers and results, so it stays readable without it.
``plan_tags`` a plan's tags (mutable), one row per tag in the client's order
              (``position``); a table rather than a JSON list so ``?tag=`` filters the
              same way on SQLite and PostgreSQL.

Deleting: a plan goes only through :meth:`Store.delete_plan` (its tags with it, and the
job that made it keeps its record with ``plan_id`` cleared); the ORM still refuses
``session.delete(plan)``. A network's row goes with :meth:`Store.delete_network` (plans
made on it stay; its folder is removed by the router, the store knows no files), a job's
record with :meth:`Store.delete_job` once it has finished (an active job is cancelled
first). A job's ``name`` and ``tags`` are what its request said; the plan it makes
starts with them, and PATCH changes the plan's only.

SQLite (the default) runs in WAL mode so readers never wait for the job runner's writes;
any other SQLAlchemy URL (PostgreSQL: ``postgresql+psycopg://...``) works unchanged.
Status changes are conditional ``UPDATE ... WHERE status = ...`` statements, so several
server processes may share one database: a queued job is claimed by exactly one of them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    func,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, defer, mapped_column, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.elements import ColumnElement

from .batching import LoopBatcher, LoopConnections

JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")

JsonType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Network(Base):
    __tablename__ = "networks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(1000))
    profile: Mapped[str] = mapped_column(String(100))
    info: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    error: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    time_limit_s: Mapped[float] = mapped_column(Float)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    plan_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("plans.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    tags: Mapped[list[str] | None] = mapped_column(JsonType, nullable=True)


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (Index("ix_plans_tenant_created", "tenant", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    network_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)


class PlanTag(Base):
    __tablename__ = "plan_tags"
    __table_args__ = (Index("ix_plan_tags_tag", "tag"),)

    plan_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


PLAN_LABELS = frozenset({"name"})
"""The columns of a plan row that may change (its tags live in ``plan_tags``)."""


@event.listens_for(Plan, "before_update")
def _plans_are_immutable(mapper: Any, connection: Any, target: Plan) -> None:
    from sqlalchemy import inspect

    changed = {a.key for a in inspect(target).attrs if a.history.has_changes()}
    if changed - PLAN_LABELS:
        fields = ", ".join(sorted(changed - PLAN_LABELS))
        raise PermissionError(
            f"plan {target.id} is immutable ({fields}); only its name and tags may change: "
            "store a new plan instead"
        )


@event.listens_for(Plan, "before_delete")
def _plans_are_deleted_by_the_store(mapper: Any, connection: Any, target: Plan) -> None:
    raise PermissionError(f"plan {target.id}: delete plans with Store.delete_plan")


@dataclass(frozen=True)
class PlanSummary:
    """A plan without its data (``GET /plans``)."""

    id: str
    kind: str
    name: str | None
    tags: list[str]
    network_id: str | None
    job_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class PlanFilter:
    """What ``GET /plans`` selects; every given criterion must hold."""

    plan_id: str | None = None
    kinds: tuple[str, ...] = ()
    network_id: str | None = None
    name_contains: str | None = None
    tags: tuple[str, ...] = ()
    created_after: datetime | None = None
    """Inclusive, aware (UTC)."""
    created_before: datetime | None = None
    """Exclusive, aware (UTC)."""


_OWNER = {
    "plan": select(Plan.tenant).where(Plan.id == bindparam("id")),
    "network": select(Network.tenant).where(Network.id == bindparam("id")),
}
_OWNERS = {
    "plan": select(Plan.id, Plan.tenant).where(Plan.id.in_(bindparam("ids", expanding=True))),
    "network": select(Network.id, Network.tenant).where(
        Network.id.in_(bindparam("ids", expanding=True))
    ),
}
_OWNERS_PG = {  # the same for a psycopg connection
    kind: f"SELECT id, tenant FROM {table.__tablename__} WHERE id = ANY(%(ids)s)"
    for kind, table in (("plan", Plan), ("network", Network))
}
OwnedKind = Literal["plan", "network"]
"""The resources whose owner :meth:`Store.owner` looks up."""
_PLAN_LABELS = (
    select(Plan.tenant, Plan.name, PlanTag.tag)
    .outerjoin(PlanTag, PlanTag.plan_id == Plan.id)
    .where(Plan.id == bindparam("plan_id"))
    .order_by(PlanTag.position)
)

T = TypeVar("T")


@dataclass(frozen=True)
class Position:
    """A place in a list ordered by ``(created_at, id)`` (``GET /plans``, ``/jobs``,
    ``/networks``): the place of the row with these keys, whether or not that row still
    exists. A page read from a position never repeats or skips a row because rows were
    added or removed elsewhere in the list meanwhile (keyset paging)."""

    created_at: datetime
    """Compared in UTC (a naive time is UTC)."""
    id: str
    before: bool = False
    """The page that ends just before this place (a ``prev`` link), instead of the page
    that starts just after it."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and where it lies in the whole."""

    items: list[T]
    total: int
    """Rows matching the filters, over all pages."""
    offset: int
    """Rows of the list before this page's first (0 for the first page)."""


def _keyset_page(
    store: Store,
    s: Session,
    columns: Sequence[Any],
    conds: Sequence[Any],
    keys: tuple[Any, Any],
    *,
    descending: bool,
    limit: int,
    offset: int = 0,
    at: Position | None = None,
) -> tuple[list[Any], int, int]:
    """``(rows, total, offset)`` of one page of ``select(*columns).where(*conds)`` in the
    order of ``keys`` (a time column and a unique id column), both descending or both
    ascending: from ``at`` when given (keyset paging), else from ``offset``.

    One aggregate query counts the matches and where the page starts; the page query
    compares row values ``(created_at, id)``, which an index on ``(…, created_at)``
    serves on SQLite and PostgreSQL alike.
    """
    row_keys = tuple_(*keys)
    order = [k.desc() for k in keys] if descending else [k.asc() for k in keys]
    if at is None:
        total = s.scalar(select(func.count()).select_from(keys[1].table).where(*conds))
        rows = s.execute(
            select(*columns).where(*conds).order_by(*order).limit(limit).offset(offset)
        ).all()
        return list(rows), int(total or 0), offset
    place = tuple_(literal(_utc_naive_on_sqlite(store, utc(at.created_at)), keys[0].type),
                   literal(at.id, keys[1].type))  # fmt: skip
    # rows after the place in the list's order, and rows before it
    later: ColumnElement[bool] = row_keys < place if descending else row_keys > place
    earlier: ColumnElement[bool] = row_keys > place if descending else row_keys < place
    total, n_earlier, n_later = s.execute(
        select(func.count(), func.coalesce(func.sum(case((earlier, 1), else_=0)), 0),
               func.coalesce(func.sum(case((later, 1), else_=0)), 0))
        .select_from(keys[1].table)
        .where(*conds)
    ).one()  # fmt: skip
    total = int(total or 0)
    if not at.before:  # the rows after the place; before it: the rest (with the place's own)
        rows = s.execute(select(*columns).where(*conds, later).order_by(*order)
                         .limit(limit)).all()  # fmt: skip
        return list(rows), total, total - int(n_later)
    backwards = [k.asc() for k in keys] if descending else [k.desc() for k in keys]
    rows = s.execute(select(*columns).where(*conds, earlier).order_by(*backwards)
                     .limit(limit)).all()[::-1]  # fmt: skip
    return list(rows), total, int(n_earlier) - len(rows)


class _Unset:
    """The type of :data:`UNSET`."""


UNSET = _Unset()
"""A keyword argument not given (``None`` is a value: no name)."""


def _utc_naive_on_sqlite(store: Store, value: datetime) -> datetime:
    """An aware time as the database compares it: SQLite stores UTC without an offset."""
    value = value.astimezone(UTC)
    return value.replace(tzinfo=None) if store.engine.dialect.name == "sqlite" else value


@dataclass(frozen=True)
class ClaimedJob:
    """What the runner needs to start a job."""

    id: str
    kind: str
    payload: dict[str, Any]
    time_limit_s: float


class RawJson(str):
    """A JSON value already serialized (a job payload built in a child process); the
    store inserts it as it is."""


def _json_dumps(value: Any) -> str:
    # allow_nan=False: inf/NaN are not JSON; job results are cleaned before they get here.
    if isinstance(value, RawJson):  # serialized already (in a child process)
        return str(value)
    return json.dumps(value, allow_nan=False, ensure_ascii=False)


def make_engine(url: str) -> Engine:
    """An engine; SQLite files get WAL mode, a busy timeout and foreign keys."""
    is_sqlite = url.startswith("sqlite")
    kwargs: dict[str, Any] = {"json_serializer": _json_dumps}
    if is_sqlite:
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    return engine


class Store:
    """The repository: every query the service makes, scoped by tenant where a client asks."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        # single-statement reads (owner checks, labels): on a database server, no BEGIN
        # and ROLLBACK round trips around them (SQLite has none to save)
        self._autocommit = (
            self.engine
            if self.engine.dialect.name == "sqlite"
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        #: the owners of the concurrent requests of one event-loop turn, one query a kind
        #: (``await store.owners.call(("plan", plan_id))``): on PostgreSQL over the loop's
        #: own asynchronous connection, elsewhere :meth:`owners_of` in one thread
        self._loop_conns: LoopConnections | None = None
        self.owners: LoopBatcher[tuple[OwnedKind, str], str | None]
        if self.engine.dialect.name == "postgresql":
            self._loop_conns = LoopConnections(url, name="recyclenet-owners")
            self.owners = LoopBatcher(self._owners_on_loop, name="owners")
        else:
            self.owners = LoopBatcher(self.owners_of, name="owners")

    def upgrade(self) -> str:
        """Migrate the database to the newest schema (see :mod:`recyclenet_api.migrate`)."""
        from .migrate import upgrade

        return upgrade(self.engine)

    def dispose(self) -> None:
        self.owners.dispose()
        if self._loop_conns is not None:
            self._loop_conns.close()
        self.engine.dispose()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(select(1))

    # ------------------------------------------------------------------ networks
    def add_network(
        self, *, id: str, tenant: str, name: str, source: str, profile: str, info: dict[str, Any]
    ) -> Network:
        row = Network(id=id, tenant=tenant, name=name, source=source, profile=profile, info=info)
        with self._session.begin() as s:
            s.add(row)
        return row

    def list_networks(
        self, tenant: str, *, limit: int, offset: int = 0, at: Position | None = None
    ) -> Page[Network]:
        """The tenant's networks, oldest first (ties by id): from ``at``, else ``offset``."""
        with self._session() as s:
            rows, total, first = _keyset_page(
                self, s, [Network], [Network.tenant == tenant], (Network.created_at, Network.id),
                descending=False, limit=limit, offset=offset, at=at,
            )  # fmt: skip
            return Page([r[0] for r in rows], total, first)

    def get_network(self, tenant: str, network_id: str) -> Network | None:
        with self._session() as s:
            row = s.get(Network, network_id)
            return row if row is not None and row.tenant == tenant else None

    def active_jobs_on_network(self, tenant: str, network_id: str) -> list[str]:
        """Ids of the tenant's queued or running jobs that use the network."""
        used = Job.payload["network"]["id"].as_string()
        with self._session() as s:
            rows = s.scalars(
                select(Job.id)
                .where(Job.tenant == tenant, Job.status.in_(ACTIVE), used == network_id)
                .order_by(Job.created_at, Job.id)
            ).all()
            return list(rows)

    def delete_network(self, tenant: str, network_id: str) -> bool:
        """Remove the network's row (its folder is the caller's); plans made on it stay."""
        with self._session.begin() as s:
            result = s.execute(
                delete(Network).where(Network.id == network_id, Network.tenant == tenant)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ jobs (clients)
    def add_job(
        self,
        *,
        tenant: str,
        kind: str,
        payload: dict[str, Any] | RawJson,
        time_limit_s: float,
        name: str | None = None,
        tags: Sequence[str] = (),
    ) -> Job:
        """Queue a job; ``name`` and ``tags`` label the plan it makes."""
        now = utcnow()
        row = Job(
            id=new_id(),
            tenant=tenant,
            kind=kind,
            status="queued",
            progress={"phase": "queued"},
            payload=payload,
            time_limit_s=time_limit_s,
            created_at=now,
            updated_at=now,
            name=name,
            tags=list(tags) or None,
        )
        with self._session.begin() as s:
            s.add(row)
        return row

    def get_job(self, tenant: str, job_id: str) -> Job | None:
        with self._session() as s:
            row = s.get(Job, job_id)
            return row if row is not None and row.tenant == tenant else None

    def list_jobs(
        self,
        tenant: str,
        *,
        status: str | None,
        limit: int,
        offset: int = 0,
        at: Position | None = None,
    ) -> Page[Job]:
        """The tenant's jobs (of ``status`` if given), newest first (ties by id): from
        ``at``, else ``offset``."""
        where = [Job.tenant == tenant] + ([Job.status == status] if status else [])
        with self._session() as s:
            rows, total, first = _keyset_page(
                self, s, [Job], where, (Job.created_at, Job.id),
                descending=True, limit=limit, offset=offset, at=at,
            )  # fmt: skip
            return Page([r[0] for r in rows], total, first)

    def delete_job(self, tenant: str, job_id: str) -> bool:
        """Remove a finished job's record (never a queued or running one: cancel it
        first); the plan it made stays. False if there is no such finished job."""
        with self._session.begin() as s:
            result = s.execute(
                delete(Job).where(Job.id == job_id, Job.tenant == tenant, Job.status.not_in(ACTIVE))
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def cancel_job(self, tenant: str, job_id: str) -> bool:
        """Mark a queued or running job cancelled; False if it had already finished."""
        now = utcnow()
        with self._session.begin() as s:
            result = s.execute(
                update(Job)
                .where(Job.id == job_id, Job.tenant == tenant, Job.status.in_(ACTIVE))
                .values(
                    status="cancelled",
                    finished_at=now,
                    updated_at=now,
                    progress={"phase": "cancelled"},
                    error={"title": "cancelled", "detail": "cancelled by the client"},
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ jobs (runner)
    def claim_jobs(self, owner: str, n: int) -> list[ClaimedJob]:
        """Move up to ``n`` of the oldest queued jobs to running, owned by ``owner``."""
        if n <= 0:
            return []
        claimed: list[ClaimedJob] = []
        with self._session() as s:
            candidates = s.execute(
                select(Job.id, Job.kind, Job.payload, Job.time_limit_s)
                .where(Job.status == "queued")
                .order_by(Job.created_at, Job.id)
                .limit(n)
            ).all()
        for job_id, kind, payload, limit in candidates:
            now = utcnow()
            with self._session.begin() as s:
                result = s.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == "queued")
                    .values(
                        status="running",
                        owner=owner,
                        started_at=now,
                        heartbeat_at=now,
                        updated_at=now,
                        progress={"phase": "starting"},
                    )
                )
            if result.rowcount:  # type: ignore[attr-defined]
                claimed.append(ClaimedJob(job_id, kind, payload, float(limit)))
        return claimed

    def set_progress(self, job_id: str, owner: str, progress: dict[str, Any]) -> None:
        with self._session.begin() as s:
            s.execute(
                update(Job)
                .where(Job.id == job_id, Job.owner == owner, Job.status == "running")
                .values(progress=progress, updated_at=utcnow())
            )

    def finish_job(
        self, job_id: str, owner: str, result: dict[str, Any], progress: dict[str, Any]
    ) -> str | None:
        """Store the result as a new plan and mark the job done, atomically.

        Returns the plan id, or None (and stores nothing) when the job is no longer
        running under this owner, e.g. because a client cancelled it meanwhile.
        """
        now = utcnow()
        with self._session.begin() as s:
            job = s.get(Job, job_id)
            if job is None or job.status != "running" or job.owner != owner:
                return None
            network = job.payload.get("network") if isinstance(job.payload, dict) else None
            plan = Plan(
                id=new_id(),
                tenant=job.tenant,
                kind=job.kind,
                job_id=job.id,
                data=result,
                created_at=now,
                network_id=str(network["id"]) if isinstance(network, dict) else None,
                name=job.name,
            )
            s.add(plan)
            s.flush()
            s.add_all(PlanTag(plan_id=plan.id, tag=t, position=i)
                      for i, t in enumerate(job.tags or []))  # fmt: skip
            s.flush()
            done = s.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "running", Job.owner == owner)
                .values(
                    status="done",
                    plan_id=plan.id,
                    finished_at=now,
                    updated_at=now,
                    progress=progress,
                )
            )
            if not done.rowcount:  # type: ignore[attr-defined]
                s.rollback()
                return None
            return plan.id

    def fail_job(
        self, job_id: str, owner: str | None, error: dict[str, Any], *, status: str = "failed"
    ) -> bool:
        now = utcnow()
        where = [Job.id == job_id, Job.status == "running"]
        if owner is not None:
            where.append(Job.owner == owner)
        with self._session.begin() as s:
            result = s.execute(
                update(Job)
                .where(*where)
                .values(
                    status=status,
                    error=error,
                    finished_at=now,
                    updated_at=now,
                    progress={"phase": status},
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def heartbeat(self, owner: str, job_ids: Iterable[str]) -> None:
        ids = list(job_ids)
        if not ids:
            return
        with self._session.begin() as s:
            s.execute(
                update(Job)
                .where(Job.id.in_(ids), Job.owner == owner, Job.status == "running")
                .values(heartbeat_at=utcnow())
            )

    def statuses(self, job_ids: Sequence[str]) -> dict[str, str]:
        if not job_ids:
            return {}
        with self._session() as s:
            rows = s.execute(select(Job.id, Job.status).where(Job.id.in_(list(job_ids)))).all()
            return {job_id: status for job_id, status in rows}

    def running_jobs(self) -> list[tuple[str, str | None, datetime | None]]:
        """``(id, owner, heartbeat_at)`` of every running job."""
        with self._session() as s:
            rows = s.execute(
                select(Job.id, Job.owner, Job.heartbeat_at).where(Job.status == "running")
            ).all()
            return [(i, o, as_utc(h)) for i, o, h in rows]

    def fail_orphans(self, job_ids: Sequence[str], detail: str) -> int:
        """Fail running jobs whose server process is gone (see :mod:`recyclenet_api.jobs`)."""
        n = 0
        for job_id in job_ids:
            n += self.fail_job(
                job_id,
                None,
                {
                    "title": "interrupted by restart",
                    "status": 503,
                    "detail": detail,
                },
            )
        return n

    # ------------------------------------------------------------------ plans
    def get_plan(self, tenant: str, plan_id: str) -> Plan | None:
        with self._session() as s:
            row = s.get(Plan, plan_id)
            return row if row is not None and row.tenant == tenant else None

    def owner(self, kind: OwnedKind, ident: str) -> str | None:
        """The tenant of a plan or network, or None if there is no such one: one
        primary-key lookup (Core, no ORM session), run on every read of a cached plan layer
        or road page so a cached body never outlives a delete made by another server
        process."""
        with self._autocommit.connect() as conn:
            return conn.execute(_OWNER[kind], {"id": ident}).scalar()

    def owners_of(self, items: list[tuple[OwnedKind, str]]) -> list[str | None]:
        """:meth:`owner` of each ``(kind, id)``, in order, with one query a kind."""
        found: dict[tuple[str, str], str] = {}
        with self._autocommit.connect() as conn:
            for kind in sorted({k for k, _ in items}):
                ids = sorted({i for k, i in items if k == kind})
                for ident, tenant in conn.execute(_OWNERS[kind], {"ids": ids}):
                    found[kind, ident] = tenant
        return [found.get(item) for item in items]

    async def _owners_on_loop(self, items: list[tuple[OwnedKind, str]]) -> list[str | None]:
        """:meth:`owners_of` over this event loop's PostgreSQL connection."""
        assert self._loop_conns is not None

        async def query(conn: Any) -> dict[tuple[str, str], str]:
            found: dict[tuple[str, str], str] = {}
            for kind in sorted({k for k, _ in items}):
                ids = sorted({i for k, i in items if k == kind})
                cur = await conn.execute(_OWNERS_PG[kind], {"ids": ids})
                for ident, tenant in await cur.fetchall():
                    found[kind, ident] = tenant
            return found

        found = await self._loop_conns.run(query)
        return [found.get(item) for item in items]

    def plan_labels(self, plan_id: str) -> tuple[str, str | None, list[str]] | None:
        """``(tenant, name, tags)`` of a plan, or None if there is no such plan (as
        :meth:`owner`, for reads that show the plan's name and tags)."""
        with self._autocommit.connect() as conn:
            rows = conn.execute(_PLAN_LABELS, {"plan_id": plan_id}).all()
        if not rows:
            return None
        return rows[0][0], rows[0][1], [r[2] for r in rows if r[2] is not None]

    def list_plans(
        self,
        tenant: str,
        where: PlanFilter,
        *,
        limit: int,
        offset: int = 0,
        at: Position | None = None,
    ) -> Page[PlanSummary]:
        """The tenant's plans matching ``where``, newest first (ties by id): from ``at``,
        else ``offset``; with how many match in all."""
        conds: list[Any] = [Plan.tenant == tenant]
        if where.plan_id is not None:
            conds.append(Plan.id == where.plan_id)
        if where.kinds:
            conds.append(Plan.kind.in_(where.kinds))
        if where.network_id is not None:
            conds.append(Plan.network_id == where.network_id)
        if where.name_contains:
            conds.append(Plan.name.icontains(where.name_contains, autoescape=True))
        for tag in where.tags:
            conds.append(Plan.id.in_(select(PlanTag.plan_id).where(PlanTag.tag == tag)))
        if where.created_after is not None:
            conds.append(Plan.created_at >= _utc_naive_on_sqlite(self, where.created_after))
        if where.created_before is not None:
            conds.append(Plan.created_at < _utc_naive_on_sqlite(self, where.created_before))
        columns = (Plan.id, Plan.kind, Plan.name, Plan.network_id, Plan.job_id,
                   Plan.created_at)  # fmt: skip
        with self._session() as s:
            rows, total, first = _keyset_page(
                self, s, columns, conds, (Plan.created_at, Plan.id),
                descending=True, limit=limit, offset=offset, at=at,
            )  # fmt: skip
            tags: dict[str, list[str]] = {}
            if rows:
                for plan_id, tag in s.execute(
                    select(PlanTag.plan_id, PlanTag.tag)
                    .where(PlanTag.plan_id.in_([r[0] for r in rows]))
                    .order_by(PlanTag.plan_id, PlanTag.position)
                ):
                    tags.setdefault(plan_id, []).append(tag)
        items = [PlanSummary(id=i, kind=k, name=n, tags=tags.get(i, []), network_id=net,
                             job_id=j, created_at=utc(c))
                 for i, k, n, net, j, c in rows]  # fmt: skip
        return Page(items, total, first)

    def label_plan(
        self,
        tenant: str,
        plan_id: str,
        *,
        name: str | _Unset | None = UNSET,
        tags: Sequence[str] | _Unset = UNSET,
    ) -> bool:
        """Set a plan's name and/or tags (nothing else of a plan changes); False if the
        tenant has no such plan. The name goes through the ORM, whose guard refuses any
        other column."""
        try:
            with self._session.begin() as s:
                row = s.get(Plan, plan_id, options=[defer(Plan.data)], with_for_update=True)
                if row is None or row.tenant != tenant:
                    return False
                if not isinstance(name, _Unset):
                    row.name = name
                if not isinstance(tags, _Unset):
                    s.execute(delete(PlanTag).where(PlanTag.plan_id == plan_id))
                    s.add_all(PlanTag(plan_id=plan_id, tag=t, position=i)
                              for i, t in enumerate(tags))  # fmt: skip
                return True
        except StaleDataError:  # deleted meanwhile (SQLite: no row lock)
            return False

    def delete_plan(self, tenant: str, plan_id: str) -> bool:
        """Remove a plan and its tags; the job that made it keeps its record with
        ``plan_id`` cleared. False if the tenant has no such plan."""
        with self._session.begin() as s:
            owner = s.scalar(select(Plan.tenant).where(Plan.id == plan_id))
            if owner != tenant:
                return False
            s.execute(update(Job).where(Job.plan_id == plan_id).values(plan_id=None))
            s.execute(delete(PlanTag).where(PlanTag.plan_id == plan_id))
            result = s.execute(delete(Plan).where(Plan.id == plan_id, Plan.tenant == tenant))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def stale_before(self, seconds: float) -> datetime:
        return utcnow() - timedelta(seconds=seconds)
