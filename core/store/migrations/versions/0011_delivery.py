"""posts remember when they were matched, so an interrupted import can finish its matching

Revision ID: 0011_delivery
Revises: 0008_lease_owners
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_delivery"
down_revision = "0010_post_terms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("matched_at", sa.DateTime(timezone=True), nullable=True))
    # Every post stored so far has been matched when it was written.
    op.execute("UPDATE posts SET matched_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("matched_at")
