"""Persons a sync filter unlinked are found by their former Lead or Contact Id through an index.

Under `leaving = "unlinked"` every pulled page asks which unlinked persons its new records were once
linked to; without an index each ask read the whole persons table. The indexes are partial: they
hold only persons linked to no record now that have a former Id, so neither a linked person nor one
never linked is in them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_UNLINKED = """coalesce("sfdcId", '') = ''"""
"""Linked to no record, as the lookup writes it (`Persons.unlinked_from`): a partial index is used
only by a query that states its condition."""


def upgrade() -> None:
    for column in ("sfdcLeadId", "sfdcContactId"):
        holds = sa.text(f'"{column}" IS NOT NULL AND {_UNLINKED}')
        op.create_index(f"ix_persons_unlinked_{column}", "persons", [column], sqlite_where=holds,
                        postgresql_where=holds)


def downgrade() -> None:
    for column in ("sfdcContactId", "sfdcLeadId"):
        op.drop_index(f"ix_persons_unlinked_{column}", "persons")
