"""inbound mail attempts and backoff; per-message bounce token

Revision ID: 0007_inbound_retries
Revises: 0006_embeddings
Create Date: 2026-12-04 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_inbound_retries"
down_revision = "0006_embeddings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_mail", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bounce_token", sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_bounce_token"), ["bounce_token"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_bounce_token"))
        batch_op.drop_column("bounce_token")
    with op.batch_alter_table("inbound_mail", schema=None) as batch_op:
        batch_op.drop_column("not_before")
        batch_op.drop_column("attempts")
