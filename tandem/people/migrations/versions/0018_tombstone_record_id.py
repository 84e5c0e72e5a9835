"""A deleted person's tombstone names the Salesforce record the person was linked to, through an index.

A pull that meets a record no person is linked to asks whether a person linked to it was deleted in
Tandem after the record's last change: such a record (Tandem's own push, read back by the next pull)
does not bring the person back. Tombstones written before this revision have no record id: their
persons were deleted long before any record a pull reads now was stamped.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("person_tombstones", sa.Column("sfdc_id", sa.String(18)))
    op.create_index("ix_person_tombstones_sfdc_id", "person_tombstones", ["sfdc_id"])


def downgrade() -> None:
    op.drop_index("ix_person_tombstones_sfdc_id", table_name="person_tombstones")
    op.drop_column("person_tombstones", "sfdc_id")
