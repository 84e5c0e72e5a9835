"""Activities and tombstones name the transaction that wrote them, which the API's feeds are paged by.

On PostgreSQL an activity's id is drawn when it is written and becomes visible when its
transaction commits, so ids do not arrive in order; the writing transaction's id
(`pg_current_xact_id()`) lets a reader page only past transactions that have all finished. On
SQLite writers take turns, ids arrive in order, and the column stays 0. Rows written before this
revision get 0 too: they were all committed long ago.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_WRITER = "(pg_current_xact_id()::text::bigint)"
_TABLES = (("activities", "id"), ("person_tombstones", "delete_activity_id"))


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, key in _TABLES:
        # no batch (table copy) on SQLite: it would drop `activities`' AUTOINCREMENT, and ids be reused
        op.add_column(table, sa.Column("txid", sa.BigInteger(), nullable=False, server_default=sa.text("0")))
        op.create_index(f"ix_{table}_txid", table, ["txid", key])
        if postgres:
            op.alter_column(table, "txid", server_default=sa.text(_WRITER))


def downgrade() -> None:
    for table, _ in _TABLES:
        op.drop_index(f"ix_{table}_txid", table_name=table)
        op.drop_column(table, "txid")
