"""Passwords: hashed with Argon2id (pwdlib's recommended settings), never stored or logged in clear."""

from __future__ import annotations

import secrets
from functools import cache

from pwdlib import PasswordHash

from core.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 1024  # Argon2 takes any length; a bound keeps a login request cheap
_HASHER = PasswordHash.recommended()


@cache
def _dummy() -> str:
    """Verified when the user name is unknown, so a wrong name takes as long as a wrong password (made on first
    use: hashing costs a fifth of a second that every command of the CLI would otherwise pay at start)."""
    return _HASHER.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    check(password)
    return _HASHER.hash(password)


def check(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"a password may have at most {MAX_LENGTH} characters")


def verify(password: str, hashed: str | None) -> bool:
    """Whether ``password`` matches ``hashed``; with no hash (unknown user, no password set) the same work is
    done and the answer is False."""
    if len(password) > MAX_LENGTH:
        return False
    if hashed is None:
        _HASHER.verify(password, _dummy())
        return False
    try:
        return _HASHER.verify(password, hashed)
    except Exception:  # a hash this library cannot read: treated as a wrong password, never as a crash
        return False


def new_password() -> str:
    """A random password to show once (about 96 bits)."""
    return secrets.token_urlsafe(12)
