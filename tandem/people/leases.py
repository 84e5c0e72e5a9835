"""Leases: one holder at a time per name (one sync cycle at a time), and a dead holder blocks nothing.

A lease expires unless its holder renews it, so a crashed process frees it within one time-to-live.
Callers pass `now`, so the rules are testable without waiting.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tandem.people.database import Database
from tandem.people.models import Lease
from tandem.people.tables import leases


class Leases:
    def __init__(self, db: Database) -> None:
        self._db = db

    def acquire(self, name: str, owner: str, ttl: timedelta, now: datetime | None = None) -> bool:
        """Take the lease if it is free, expired, or already ours; False if someone else holds it."""
        now = now or datetime.now(UTC)
        claim = {"owner": owner, "acquired_at": now, "expires_at": now + ttl}
        with self._db.transaction() as connection:
            taken = connection.execute(
                sa.update(leases)
                .where(leases.c.name == name, (leases.c.owner == owner) | (leases.c.expires_at <= now))
                .values(claim)
            )
            if taken.rowcount == 1:
                return True
            try:
                with connection.begin_nested():  # a lost race must not spoil the caller's transaction
                    connection.execute(sa.insert(leases).values(name=name, **claim))
            except IntegrityError:
                return False
            return True

    def renew(self, name: str, owner: str, ttl: timedelta, now: datetime | None = None) -> bool:
        """Extend a lease we still hold; False once it expired or was taken over."""
        now = now or datetime.now(UTC)
        with self._db.transaction() as connection:
            renewed = connection.execute(
                sa.update(leases)
                .where(leases.c.name == name, leases.c.owner == owner, leases.c.expires_at > now)
                .values(expires_at=now + ttl)
            )
            return renewed.rowcount == 1

    def release(self, name: str, owner: str) -> None:
        with self._db.transaction() as connection:
            connection.execute(sa.delete(leases).where(leases.c.name == name, leases.c.owner == owner))

    def get(self, name: str) -> Lease | None:
        with self._db.transaction() as connection:
            row = connection.execute(sa.select(leases).where(leases.c.name == name)).mappings().first()
        return None if row is None else Lease(**row)
