"""plan labels: a name and tags on plans and jobs, plans' network id (GET /plans filters)

Plans gain ``name`` (mutable, PATCH /plans/{id}) and ``network_id`` (immutable, the
network the job used; existing plans get it from their stored ``data.network_id``), and
an index on ``(tenant, created_at)`` for the newest-first listing; their tags live in the
new table ``plan_tags``. Jobs gain the ``name`` and ``tags`` their request gave. Every
existing plan stays as it was, with no name and no tags.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JsonType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("tags", JsonType, nullable=True))
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("network_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("name", sa.String(200), nullable=True))
    op.create_index("ix_plans_tenant_created", "plans", ["tenant", "created_at"])
    plans = sa.table("plans", sa.column("data", JsonType), sa.column("network_id", sa.String))
    op.execute(plans.update().values(network_id=plans.c.data["network_id"].as_string()))
    op.create_table(
        "plan_tags",
        sa.Column(
            "plan_id",
            sa.String(32),
            sa.ForeignKey("plans.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tag", sa.String(100), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_plan_tags_tag", "plan_tags", ["tag"])


def downgrade() -> None:
    op.drop_table("plan_tags")
    op.drop_index("ix_plans_tenant_created", table_name="plans")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("name")
        batch.drop_column("network_id")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("tags")
        batch.drop_column("name")
