"""Create markers: when Tandem last tried to create a Salesforce record for a person.

Salesforce has no idempotency key. Where the org lacks the external-id field, a create whose
answer was lost is found again by looking for a record created since the marked attempt, before
creating another (DESIGN, "Creates that may run twice").
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tandem.people.database import Database
from tandem.people.tables import create_markers


class CreateMarkers:
    def __init__(self, db: Database) -> None:
        self._db = db

    def mark(self, person_id: int, sfdc_type: str, now: datetime | None = None) -> datetime:
        """Record, before calling Salesforce, that a `sfdc_type` record is being created for the person."""
        at = now or datetime.now(UTC)
        key = (create_markers.c.person_id == person_id) & (create_markers.c.sfdc_type == sfdc_type)
        with self._db.transaction() as connection:
            if connection.execute(sa.update(create_markers).where(key).values(attempted_at=at)).rowcount:
                return at
            try:
                with connection.begin_nested():
                    connection.execute(sa.insert(create_markers).values(
                        person_id=person_id, sfdc_type=sfdc_type, attempted_at=at))
            except IntegrityError:  # marked by another process meanwhile: ours is the newer attempt
                connection.execute(sa.update(create_markers).where(key).values(attempted_at=at))
        return at

    def get(self, person_id: int, sfdc_type: str) -> datetime | None:
        """When a create of a `sfdc_type` record for the person was last attempted, if ever."""
        query = sa.select(create_markers.c.attempted_at).where(
            create_markers.c.person_id == person_id, create_markers.c.sfdc_type == sfdc_type)
        with self._db.reading() as connection:
            return connection.execute(query).scalar()
