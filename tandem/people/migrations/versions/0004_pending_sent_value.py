"""Pending changes remember a value a push sent without learning whether it landed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pending_changes") as batch:
        batch.add_column(sa.Column("sent", sa.JSON()))


def downgrade() -> None:
    with op.batch_alter_table("pending_changes") as batch:
        batch.drop_column("sent")
