"""The installation id, per-person create markers and API usage get tables of their own.

They were kept as rows of `watermarks` under made-up keys (`Tandem`/`installation`,
`Person:<id>`/`lead-create`, `Salesforce`/`api-usage`); their rows move to the new tables, and
`watermarks` keeps only the pull cursors.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Untyped columns: stored values are copied as they are (text on SQLite, timestamps on PostgreSQL).
_watermarks = sa.table("watermarks", sa.column("object"), sa.column("stream"), sa.column("value"),
                       sa.column("set_at"))
_installation = sa.table("installation", sa.column("id"), sa.column("installation_id"), sa.column("created_at"))
_create_markers = sa.table("create_markers", sa.column("person_id"), sa.column("sfdc_type"),
                           sa.column("attempted_at"))
_api_usage = sa.table("api_usage", sa.column("id"), sa.column("used"), sa.column("daily_limit"),
                      sa.column("recorded_at"))

_INSTALLATION = ("Tandem", "installation")
_API_USAGE = ("Salesforce", "api-usage")
_PERSON = re.compile(r"^Person:(\d+)$")
_CREATE = re.compile(r"^([a-z]+)-create$")
_USAGE = re.compile(r"^(\d+)/(\d+)$")


def upgrade() -> None:
    op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("installation_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "create_markers",
        sa.Column("person_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("sfdc_type", sa.String(16), primary_key=True),
        sa.Column("attempted_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "api_usage",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("daily_limit", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )
    connection = op.get_bind()
    moved = []
    for row in connection.execute(sa.select(_watermarks)).mappings().all():
        key = (row["object"], row["stream"])
        person, create, usage = _PERSON.match(row["object"]), _CREATE.match(row["stream"]), _USAGE.match(row["value"])
        if key == _INSTALLATION:
            connection.execute(sa.insert(_installation).values(
                id=1, installation_id=row["value"], created_at=row["set_at"]))
        elif person and create:
            connection.execute(sa.insert(_create_markers).values(
                person_id=int(person.group(1)), sfdc_type=create.group(1).capitalize(), attempted_at=row["set_at"]))
        elif key == _API_USAGE:
            if usage:  # an unreadable reading is dropped: the next answer from Salesforce brings a new one
                connection.execute(sa.insert(_api_usage).values(
                    id=1, used=int(usage.group(1)), daily_limit=int(usage.group(2)), recorded_at=row["set_at"]))
        else:
            continue
        moved.append(key)
    for object_name, stream in moved:
        connection.execute(sa.delete(_watermarks).where(
            _watermarks.c.object == object_name, _watermarks.c.stream == stream))


def downgrade() -> None:
    connection = op.get_bind()
    rows = []
    for row in connection.execute(sa.select(_installation)).mappings():
        rows.append({"object": _INSTALLATION[0], "stream": _INSTALLATION[1], "value": row["installation_id"],
                     "set_at": row["created_at"]})
    for row in connection.execute(sa.select(_create_markers)).mappings():
        rows.append({"object": f"Person:{row['person_id']}", "stream": f"{row['sfdc_type'].lower()}-create",
                     "value": "attempted", "set_at": row["attempted_at"]})
    for row in connection.execute(sa.select(_api_usage)).mappings():
        rows.append({"object": _API_USAGE[0], "stream": _API_USAGE[1],
                     "value": f"{row['used']}/{row['daily_limit']}", "set_at": row["recorded_at"]})
    if rows:
        connection.execute(sa.insert(_watermarks), rows)
    for table in ("api_usage", "create_markers", "installation"):
        op.drop_table(table)
