"""Cycle steps count their API calls; watermark values hold a cursor of any size.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cycle_steps") as batch:
        batch.add_column(sa.Column("api_calls", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("watermarks") as batch:
        batch.alter_column("value", type_=sa.Text(), existing_type=sa.String(255), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("watermarks") as batch:
        batch.alter_column("value", type_=sa.String(255), existing_type=sa.Text(), existing_nullable=False)
    with op.batch_alter_table("cycle_steps") as batch:
        batch.drop_column("api_calls")
