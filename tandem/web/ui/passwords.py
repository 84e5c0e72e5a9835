"""Passwords of the web UI's users, hashed with Argon2id (argon2-cffi's defaults); never stored or logged."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tandem.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 1024
_hasher = PasswordHasher()
_STAND_IN = _hasher.hash("a password no user has")
"""Checked against when the user does not exist, so a wrong name takes as long as a wrong password."""


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise InvalidInput("password", f"shorter than {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput("password", f"longer than {MAX_LENGTH} characters")
    return _hasher.hash(password)


def matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one hashed (always False, in the same time, without a hash)."""
    try:
        return _hasher.verify(password_hash or _STAND_IN, password[:MAX_LENGTH]) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
