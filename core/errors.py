"""The error hierarchy of the spatial engine and data model.

An error says what went wrong, in a planner's words (``str(err)``), and carries what a caller may need to act on
it (the property at fault, the current version, the allowed next states) as data. It knows nothing of HTTP:
``api/problems.py`` alone decides which status, title and headers each class becomes.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg


class MahalleError(Exception):
    """Base of every error Mahalle reports to a user. ``str(err)`` is meant for a planner to read."""


class NotFound(MahalleError):
    """What was asked for does not exist."""


class InvalidInput(MahalleError):
    """Well-formed but semantically wrong input, e.g. a property of the wrong type."""

    def __init__(self, message: str, column: str | None = None):
        super().__init__(message)
        self.column = column


class PreconditionFailed(MahalleError):
    """The write named a version of the feature that is not the current one: someone else changed (or deleted)
    it since the client read it. ``current_version`` is the version it has now, when it still exists."""

    def __init__(self, message: str, current_version: int | None = None):
        super().__init__(message)
        self.current_version = current_version


class ReadOnlyProperties(MahalleError):
    """A write that tries to change what the database owns (version, created_by, area_m2, …), naming them."""

    def __init__(self, message: str, names: list[str]):
        super().__init__(message)
        self.names = names
        self.column = names[0] if len(names) == 1 else None


class PayloadTooLarge(MahalleError):
    """More data than a limit allows (a body, a file, a geometry's vertices)."""


class UnsupportedMediaType(MahalleError):
    """Data in a format that is not accepted here."""


class Conflict(MahalleError):
    """The change contradicts the current state of the data (a uid taken, a step the lifecycle does not allow)."""


class RuleViolation(MahalleError):
    """The database refused a change because it breaks a rule of the data model.

    ``rule`` and ``params`` name the rule and its parameters when the database said them (the DETAIL of the
    layers' rules is JSON text ``{"rule": "not_in_list", "params": {"attribute": "tenure", …}}``), so a client
    can word the refusal in its user's language; ``str(err)`` stays the database's English message.
    """

    def __init__(
        self,
        message: str,
        column: str | None = None,
        sqlstate: str | None = None,
        rule: str | None = None,
        params: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.column = column
        self.sqlstate = sqlstate
        self.rule = rule
        self.params = params

    @classmethod
    def from_db(cls, exc: psycopg.Error) -> RuleViolation:
        diag = exc.diag
        message = diag.message_primary or str(exc)
        if diag.constraint_name and diag.table_name and not diag.message_primary.startswith(diag.table_name + " "):
            message = f"{diag.table_name}: {message}"
        rule, params = rule_of(diag.message_detail)
        return cls(message, column=diag.column_name, sqlstate=diag.sqlstate, rule=rule, params=params)


def rule_of(detail: str | None) -> tuple[str | None, dict[str, Any] | None]:
    """The rule code and parameters of a DETAIL the layers' rules wrote; (None, None) for any other detail."""
    if not detail or not detail.startswith("{"):
        return None, None
    try:
        data = json.loads(detail)
    except ValueError:
        return None, None
    if not isinstance(data, dict) or not isinstance(data.get("rule"), str):
        return None, None
    params = data.get("params")
    return data["rule"], params if isinstance(params, dict) else {}


class TransitionNotAllowed(Conflict):
    """A status change the intervention lifecycle does not allow; ``allowed`` are the possible next states."""

    def __init__(self, message: str, current: str, requested: str, allowed: list[str]):
        super().__init__(message)
        self.current = current
        self.requested = requested
        self.allowed = allowed


class HasDependents(Conflict):
    """A delete refused because other records depend on the row; it may be repeated with a cascade."""


class Unauthenticated(MahalleError):
    """The request needs a logged-in user (or a valid API token), and has none: it is anonymous, or its
    session or token is unknown, expired or revoked."""


class Forbidden(MahalleError):
    """The user is known, and their roles do not allow this (here, or in this neighbourhood)."""


class TooManyAttempts(MahalleError):
    """Too many failed logins from this address or for this name; ``retry_after``: seconds to wait."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
