"""Alembic migrations of the people store, run by `PersonStore.migrate()` (no alembic.ini needed)."""
