"""The `person_bases` table, where a database lacks it.

For a short while the budget's lane spend was numbered 0012 (it is 0011 now); a database migrated
then is stamped 0012 and so never ran 0012's `person_bases`, and every pull that added a person to
it failed on the missing table.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("person_bases"):
        return
    op.create_table(
        "person_bases",
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("persons.id"), primary_key=True, autoincrement=False),
        sa.Column("bases", sa.Text(), nullable=False),
        sa.Column("agreed_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    """Nothing: the table stays, as 0012's downgrade is the one that drops it."""
