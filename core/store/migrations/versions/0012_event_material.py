"""events link their material in the knowledge collection (recording, slides)

Revision ID: 0012_event_material
Revises: 0011_delivery
Create Date: 2026-12-07 00:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_event_material"
down_revision = "0011_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_materials",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["entry_id"], ["knowledge_entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("event_id", "entry_id"),
    )
    op.create_index("ix_event_materials_entry_id", "event_materials", ["entry_id"])


def downgrade() -> None:
    op.drop_index("ix_event_materials_entry_id", table_name="event_materials")
    op.drop_table("event_materials")
