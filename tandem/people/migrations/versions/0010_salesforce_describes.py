"""The describes the field catalog is built from are kept, so a process starting up reads them
instead of asking Salesforce, and revalidates them at most hourly.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "salesforce_describes",
        sa.Column("object", sa.String(64), primary_key=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("last_modified", sa.String(64), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("salesforce_describes")
