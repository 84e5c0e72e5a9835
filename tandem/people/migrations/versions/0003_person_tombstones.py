"""Tombstones of merged and deleted persons: where a person id went, and a deleted person's log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_tombstones",
        sa.Column("person_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("fate", sa.String(16), nullable=False),
        sa.Column("merged_into", sa.Integer(), index=True),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("activities", sa.JSON()),
    )


def downgrade() -> None:
    op.drop_table("person_tombstones")
