"""knowledge collection: entries and searches

Revision ID: 0009_knowledge
Revises: 0008_lease_owners
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_knowledge"
down_revision = "0008_lease_owners"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("municipality_ags", sa.String(length=8), nullable=True),
        sa.Column("link", sa.String(length=1000), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_type", sa.String(length=100), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("suggested_by", sa.Integer(), nullable=True),
        sa.Column("vector", sa.LargeBinary(), nullable=True),
        sa.Column("vector_model", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_ags"],
            ["municipalities.ags"],
            name=op.f("fk_knowledge_entries_municipality_ags_municipalities"),
        ),
        sa.ForeignKeyConstraint(
            ["suggested_by"],
            ["members.id"],
            name=op.f("fk_knowledge_entries_suggested_by_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_entries")),
        sa.UniqueConstraint("file_sha256", name=op.f("uq_knowledge_entries_file_sha256")),
    )
    with op.batch_alter_table("knowledge_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_knowledge_entries_suggested_by"), ["suggested_by"], unique=False
        )
        batch_op.create_index(
            "ix_knowledge_entries_status_updated_at", ["status", "updated_at"], unique=False
        )

    op.create_table(
        "knowledge_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("best_score", sa.Float(), nullable=False),
        sa.Column("good", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_searches")),
    )
    with op.batch_alter_table("knowledge_searches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_searches_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("knowledge_searches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_searches_at"))
    op.drop_table("knowledge_searches")
    with op.batch_alter_table("knowledge_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_knowledge_entries_status_updated_at")
        batch_op.drop_index(batch_op.f("ix_knowledge_entries_suggested_by"))
    op.drop_table("knowledge_entries")
