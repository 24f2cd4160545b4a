"""Collection records in the service's database, per tenant, beside the plans.

Table ``collection_records``: one row per (tenant, document id), the record as JSON (the
output of :meth:`recyclenet.actuals.Record.to_dict`), its local time and the document it
corrects. Rows are immutable like plans (the ORM refuses updates and deletes); a change
is a new correction record. Adding is idempotent: a record already stored under its
document id with the same values is skipped, a different one is refused (409) naming the
document. The unique (tenant, document_id) constraint keeps two concurrent requests from
storing the same document twice.

The table is created with the others (``Base.metadata``); SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, UniqueConstraint, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from recyclenet.actuals.records import AddResult, DocumentConflictError, Record, RecordBook

from .store import Base, JsonType, Store, utcnow


class CollectionRecord(Base):
    __tablename__ = "collection_records"
    __table_args__ = (
        UniqueConstraint("tenant", "document_id", name="uq_collection_records_tenant_doc"),
        Index("ix_collection_records_tenant_time", "tenant", "time"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(200))
    document_id: Mapped[str] = mapped_column(String(200))
    time: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    corrects: Mapped[str | None] = mapped_column(String(200), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@event.listens_for(CollectionRecord, "before_update")
@event.listens_for(CollectionRecord, "before_delete")
def _records_are_immutable(mapper: Any, connection: Any, target: CollectionRecord) -> None:
    raise PermissionError(
        f"record {target.document_id} is immutable; store a correction record instead"
    )


class RecordConflictError(Exception):
    """A document id already stored with other values (HTTP 409)."""


def _book(rows: Sequence[CollectionRecord]) -> RecordBook:
    book = RecordBook()
    book.add(Record.from_dict(r.data) for r in sorted(rows, key=lambda r: r.seq))
    return book


def add_records(store: Store, tenant: str, records: Sequence[Record]) -> AddResult:
    """Store ``records`` for ``tenant``: all or none, idempotent by document id.

    Raises
    ------
    RecordConflictError
        A document id is stored with other values (the message names it).
    InputError
        A correction names a document that is neither stored nor in the batch.
    """
    ids = {r.document_id for r in records} | {r.corrects for r in records if r.corrects}
    for _attempt in range(2):
        with store._session() as s:
            known = s.scalars(
                select(CollectionRecord).where(
                    CollectionRecord.tenant == tenant, CollectionRecord.document_id.in_(ids)
                )
            ).all()
        book = _book(known)
        try:
            result = book.check(records)
        except DocumentConflictError as exc:
            raise RecordConflictError(str(exc)) from None
        if not result.added:
            return result
        new = {r.document_id: r for r in records}
        try:
            with store._session.begin() as s:
                for doc_id in result.added:
                    r = new[doc_id]
                    s.add(CollectionRecord(tenant=tenant, document_id=doc_id, time=r.time,
                                           corrects=r.corrects, data=r.to_dict()))  # fmt: skip
            return result
        except IntegrityError:
            continue  # another request stored some of them meanwhile: check again
    raise RecordConflictError("the records changed while being stored; send the request again")


def tenant_book(store: Store, tenant: str) -> RecordBook:
    """Every record of ``tenant``, in the order stored."""
    with store._session() as s:
        rows = s.scalars(
            select(CollectionRecord)
            .where(CollectionRecord.tenant == tenant)
            .order_by(CollectionRecord.seq)
        ).all()
    return _book(rows)


def list_records(
    store: Store,
    tenant: str,
    *,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Stored records of ``tenant`` with ``start <= time < end``, by time; and the total."""
    where = [CollectionRecord.tenant == tenant]
    if start is not None:
        where.append(CollectionRecord.time >= start)
    if end is not None:
        where.append(CollectionRecord.time < end)
    with store._session() as s:
        rows = s.scalars(
            select(CollectionRecord)
            .where(*where)
            .order_by(CollectionRecord.time, CollectionRecord.document_id)
        ).all()
        replaced = set(
            s.scalars(
                select(CollectionRecord.corrects).where(
                    CollectionRecord.tenant == tenant, CollectionRecord.corrects.is_not(None)
                )
            ).all()
        )
    out = [{**r.data, "superseded": r.document_id in replaced} for r in rows]
    return out[offset : offset + limit], len(out)


__all__ = [
    "CollectionRecord",
    "RecordConflictError",
    "add_records",
    "list_records",
    "tenant_book",
]
