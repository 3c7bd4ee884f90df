"""analysed terms of posts, stored for the word index

Revision ID: 0010_post_terms
Revises: 0008_lease_owners
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_post_terms"
down_revision = "0009_knowledge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_terms",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("analysis", sa.String(length=16), nullable=False),
        sa.Column("text_key", sa.String(length=16), nullable=False),
        sa.Column("length", sa.Float(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("tfs", sa.LargeBinary(), nullable=False),
        sa.Column("marks", sa.LargeBinary(), nullable=False),
        sa.Column("expansions", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_terms_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_post_terms")),
    )


def downgrade() -> None:
    op.drop_table("post_terms")
