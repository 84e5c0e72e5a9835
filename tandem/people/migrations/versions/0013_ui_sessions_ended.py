"""A count per web UI user of the times its sessions were ended (Sign out): a session made before
the last one is no session any more.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ui_users") as batch:
        batch.add_column(sa.Column("sessions_ended", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("ui_users") as batch:
        batch.drop_column("sessions_ended")
