"""A login Salesforce refused is remembered, so no process logs in with the same settings for an hour.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refused_logins",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("refused_at", sa.DateTime(), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("error_code", sa.String(100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("refused_logins")
