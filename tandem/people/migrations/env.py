"""Alembic environment: runs on the connection `PersonStore.migrate()` hands over.

Custom-field columns are added at run time and are not part of any revision, so this environment
never autogenerates at run time; `include_object` keeps them out of a developer's autogenerate too.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context

from tandem.people.tables import metadata


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table" and name == "persons":
        return False
    if type_ == "column" and name is not None and name.endswith("__c"):
        return False
    return True


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connection)


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
