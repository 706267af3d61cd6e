"""The error hierarchy of the spatial engine and data model; api/ maps these to problem details."""

from __future__ import annotations

import psycopg


class MahalleError(Exception):
    """Base of every error Mahalle reports to a user. ``str(err)`` is meant for a planner to read."""

    status = 400
    title = "Bad request"
    headers: dict[str, str] = {}


class NotFound(MahalleError):
    status = 404
    title = "Not found"


class InvalidInput(MahalleError):
    """Well-formed but semantically wrong input, e.g. a property of the wrong type."""

    status = 422
    title = "The data is not valid"

    def __init__(self, message: str, column: str | None = None):
        super().__init__(message)
        self.column = column


class PreconditionFailed(MahalleError):
    """Someone else changed the feature since the client read it (stale If-Match)."""

    status = 412
    title = "The feature was changed by someone else"

    def __init__(self, message: str, etag: str | None = None):
        super().__init__(message)
        self.headers = {"ETag": etag} if etag else {}


class ReadOnlyProperties(MahalleError):
    """A write that tries to change what the database owns (version, created_by, area_m2, …); 400 naming them."""

    title = "Read-only properties"

    def __init__(self, message: str, names: list[str]):
        super().__init__(message)
        self.names = names
        self.column = names[0] if len(names) == 1 else None


class PayloadTooLarge(MahalleError):
    status = 413
    title = "Request too large"


class UnsupportedMediaType(MahalleError):
    status = 415
    title = "Unsupported media type"


class Conflict(MahalleError):
    status = 409
    title = "Conflict"


class RuleViolation(MahalleError):
    """The database refused a change because it breaks a rule of the data model."""

    status = 422
    title = "The data breaks a rule of the layer"

    def __init__(self, message: str, column: str | None = None, sqlstate: str | None = None):
        super().__init__(message)
        self.column = column
        self.sqlstate = sqlstate

    @classmethod
    def from_db(cls, exc: psycopg.Error) -> RuleViolation:
        diag = exc.diag
        message = diag.message_primary or str(exc)
        if diag.constraint_name and diag.table_name and not diag.message_primary.startswith(diag.table_name + " "):
            message = f"{diag.table_name}: {message}"
        return cls(message, column=diag.column_name, sqlstate=diag.sqlstate)


class TransitionNotAllowed(Conflict):
    """A status change the intervention lifecycle does not allow; ``allowed`` are the possible next states."""

    title = "Transition not allowed"

    def __init__(self, message: str, current: str, requested: str, allowed: list[str]):
        super().__init__(message)
        self.current = current
        self.requested = requested
        self.allowed = allowed


class HasDependents(Conflict):
    """A delete refused because other records depend on the row; it may be repeated with a cascade."""

    title = "Other records depend on this one"
