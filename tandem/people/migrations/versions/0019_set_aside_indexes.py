"""Search indexes of `persons` set aside while a large pull fills the table (`search_indexes.py`).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "set_aside_indexes",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("set_aside_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    """Indexes still set aside are built first: the schema before this revision has them all."""
    bind = op.get_bind()
    for (definition,) in bind.exec_driver_sql("SELECT definition FROM set_aside_indexes").all():
        bind.exec_driver_sql(definition)
    op.drop_table("set_aside_indexes")
