"""Tandem's own API calls per budget lane and UTC day (`tandem.sync.budget`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_lane_spend",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("lane", sa.String(16), primary_key=True),
        sa.Column("calls", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("api_lane_spend")
