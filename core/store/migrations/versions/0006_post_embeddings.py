"""sentence embeddings of posts; suggestions shown to one side

Revision ID: 0006_embeddings
Revises: 0005_email
Create Date: 2026-12-04 19:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_embeddings"
down_revision = "0005_email"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_embeddings",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=40), nullable=False),
        sa.Column("text_key", sa.String(length=16), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_embeddings_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_post_embeddings")),
    )
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shown_to", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_column("shown_to")
    op.drop_table("post_embeddings")
