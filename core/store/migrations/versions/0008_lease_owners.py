"""leases name their owner process; unconfirmed sends are counted

Revision ID: 0008_lease_owners
Revises: 0007_inbound_retries
Create Date: 2026-12-04 18:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_lease_owners"
down_revision = "0007_inbound_retries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_processes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_processes")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("unconfirmed", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_outbox_claimed_by"), ["claimed_by"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_claimed_by_service_processes"),
            "service_processes",
            ["claimed_by"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_claimed_by_service_processes"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_outbox_claimed_by"))
        batch_op.drop_column("unconfirmed")
        batch_op.drop_column("claimed_by")
    op.drop_table("service_processes")
