"""The bases a person was added with by a pull, one row per person (`tandem.people.bases`).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_bases",
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("persons.id"), primary_key=True, autoincrement=False),
        sa.Column("bases", sa.Text(), nullable=False),
        sa.Column("agreed_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    """Each field of a row becomes a `field_bases` row, unless one holds that field already (it is newer)."""
    connection = op.get_bind()
    person_bases = sa.table("person_bases", sa.column("person_id"), sa.column("bases"), sa.column("agreed_at"))
    field_bases = sa.table("field_bases", sa.column("person_id"), sa.column("field"), sa.column("value"),
                           sa.column("agreed_at"))
    taken = {(row.person_id, row.field) for row in connection.execute(sa.select(field_bases.c.person_id,
                                                                                 field_bases.c.field))}
    rows = [{"person_id": row.person_id, "field": name, "value": json.dumps(value), "agreed_at": row.agreed_at}
            for row in connection.execute(sa.select(person_bases))
            for name, value in json.loads(row.bases).items() if (row.person_id, name) not in taken]
    if rows:
        connection.execute(sa.insert(field_bases), rows)
    op.drop_table("person_bases")
