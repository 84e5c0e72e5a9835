"""Tables of the web UI and of the sync's pause switch (created by migration 0009, ui_users.sessions_ended by 0013)."""

from __future__ import annotations

import sqlalchemy as sa

from tandem.people.tables import UtcDateTime

metadata = sa.MetaData()

ui_users = sa.Table(
    "ui_users", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text(), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("sessions_ended", sa.Integer(), nullable=False, server_default="0"),  # migration 0013
)

ui_signing_key = sa.Table(
    "ui_signing_key", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),  # always 1: the one key
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

sync_pause = sa.Table(
    "sync_pause", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),  # always 1: present while paused
    sa.Column("paused_at", UtcDateTime(), nullable=False),
    sa.Column("paused_by", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
)
