"""collection_records (made by create_all before migrations existed: created if missing)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JsonType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("collection_records"):
        return  # a database from before migrations, where create_all made it
    op.create_table(
        "collection_records",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("document_id", sa.String(200), nullable=False),
        sa.Column("time", sa.DateTime(timezone=False), nullable=False),
        sa.Column("corrects", sa.String(200), nullable=True),
        sa.Column("data", JsonType, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant", "document_id", name="uq_collection_records_tenant_doc"),
    )
    op.create_index("ix_collection_records_tenant_time", "collection_records", ["tenant", "time"])


def downgrade() -> None:
    op.drop_table("collection_records")
