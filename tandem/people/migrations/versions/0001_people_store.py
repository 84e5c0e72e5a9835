"""People store: persons, custom-field catalog, activity log and the sync's bookkeeping.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copy of the standard person columns as of this revision (later fields get later revisions).
_STRING = ("salutation", "firstName", "lastName", "title", "company", "city", "state", "postalCode",
           "country", "industry", "rating", "leadSource", "leadStatus", "sicCode", "site",
           "billingCity", "billingState", "billingPostalCode", "billingCountry", "companyType",
           "email", "phone", "mobilePhone", "fax", "mainPhone", "website")
_TEXT = ("address", "personNotes", "companyNotes", "billingStreet")


def _utc() -> sa.DateTime:
    return sa.DateTime()


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("createdAt", _utc(), nullable=False),
        sa.Column("updatedAt", _utc(), nullable=False),
        *[sa.Column(name, sa.String(255)) for name in _STRING],
        *[sa.Column(name, sa.Text()) for name in _TEXT],
        sa.Column("dateOfBirth", sa.Date()),
        sa.Column("unsubscribed", sa.Boolean()),
        sa.Column("annualRevenue", sa.Double()),
        sa.Column("numberOfEmployees", sa.Integer()),
        sa.Column("leadScore", sa.Integer()),
        sa.Column("sfdcType", sa.String(7)),
        sa.Column("sfdcId", sa.String(18)),
        sa.Column("sfdcLeadId", sa.String(18)),
        sa.Column("sfdcContactId", sa.String(18)),
        sa.Column("sfdcAccountId", sa.String(18)),
        sa.Column("sfdcIsDeleted", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("sfdcCreatedDate", _utc()),
        sqlite_autoincrement=True,  # a deleted person's id is never given to another
    )
    op.create_index("ix_persons_email_lower", "persons", [sa.text("lower(email)")])
    op.create_index("ix_persons_sfdcId", "persons", ["sfdcId"])
    op.create_index("ix_persons_sfdcAccountId", "persons", ["sfdcAccountId"])

    op.create_table(
        "person_fields",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("length", sa.Integer()),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("picklist_values", sa.JSON()),
        sa.Column("created_at", _utc(), nullable=False),
    )

    op.create_table(
        "activities",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("marketo_guid", sa.String(36), nullable=False, unique=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("activity_date", _utc(), nullable=False),
        sa.Column("activity_type_id", sa.Integer(), nullable=False),
        sa.Column("primary_attribute_value_id", sa.Integer()),
        sa.Column("primary_attribute_value", sa.String(255)),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_activities_person_id", "activities", ["person_id"])
    op.create_index("ix_activities_activity_date", "activities", ["activity_date"])

    op.create_table(
        "pending_changes",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON()),
        sa.Column("changed_at", _utc(), nullable=False),
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", _utc()),
        sa.Column("last_error", sa.Text()),
        sa.UniqueConstraint("person_id", "field", name="uq_pending_changes_person_field"),
        sqlite_autoincrement=True,  # ids are never reused: a push clears changes by id
    )

    op.create_table(
        "field_bases",
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("persons.id"), primary_key=True),
        sa.Column("field", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON()),
        sa.Column("agreed_at", _utc(), nullable=False),
    )

    op.create_table(
        "watermarks",
        sa.Column("object", sa.String(64), primary_key=True),
        sa.Column("stream", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("set_at", _utc(), nullable=False),
    )

    op.create_table(
        "cycle_steps",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("cycle_id", sa.String(64)),
        sa.Column("object", sa.String(64), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("ended_at", _utc()),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("deleted_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text()),
    )
    op.create_index("ix_cycle_steps_started_at", "cycle_steps", ["started_at"])

    op.create_table(
        "sync_errors",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("occurred_at", _utc(), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("object", sa.String(64)),
        sa.Column("sfdc_id", sa.String(18)),
        sa.Column("person_id", sa.Integer()),
        sa.Column("cycle_step_id", sa.Integer()),
    )
    op.create_index("ix_sync_errors_occurred_at", "sync_errors", ["occurred_at"])

    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("acquired_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
    )


def downgrade() -> None:
    for table in ("leases", "sync_errors", "cycle_steps", "watermarks", "field_bases",
                  "pending_changes", "activities", "person_fields", "persons"):
        op.drop_table(table)
