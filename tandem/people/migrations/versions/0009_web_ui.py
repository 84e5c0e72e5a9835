"""The web UI's users and session-signing key, the sync's pause switch that `tandem run` honours,
and indexes for finding persons by the start of their first or last name.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ui_users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "ui_signing_key",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "sync_pause",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("paused_at", sa.DateTime(), nullable=False),
        sa.Column("paused_by", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_persons_first_name_lower", "persons", [sa.text('lower("firstName")')])
    op.create_index("ix_persons_last_name_lower", "persons", [sa.text('lower("lastName")')])


def downgrade() -> None:
    op.drop_index("ix_persons_last_name_lower", "persons")
    op.drop_index("ix_persons_first_name_lower", "persons")
    op.drop_table("sync_pause")
    op.drop_table("ui_signing_key")
    op.drop_table("ui_users")
