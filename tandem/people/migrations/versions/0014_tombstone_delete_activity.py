"""Deleted persons' tombstones name their Delete Lead activity, which the deleted leads are listed by.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_DELETE_LEAD = 37


def upgrade() -> None:
    with op.batch_alter_table("person_tombstones") as table:
        table.add_column(sa.Column("delete_activity_id", sa.Integer()))
        table.create_index("ix_person_tombstones_delete_activity_id", ["delete_activity_id"])
    connection = op.get_bind()
    stones = sa.table("person_tombstones", sa.column("person_id", sa.Integer()), sa.column("activities", sa.Text()),
                      sa.column("fate", sa.String()), sa.column("delete_activity_id", sa.Integer()))
    rows = connection.execute(sa.select(stones.c.person_id, sa.cast(stones.c.activities, sa.Text()))
                              .where(stones.c.fate == "deleted")).all()
    for person_id, text in rows:
        log = json.loads(text) if text else []
        found = next((a["id"] for a in reversed(log) if a.get("activityTypeId") == _DELETE_LEAD), None)
        if found is not None:
            connection.execute(sa.update(stones).where(stones.c.person_id == person_id)
                               .values(delete_activity_id=found))


def downgrade() -> None:
    with op.batch_alter_table("person_tombstones") as table:
        table.drop_index("ix_person_tombstones_delete_activity_id")
        table.drop_column("delete_activity_id")
