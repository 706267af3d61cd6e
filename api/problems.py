"""One error format everywhere: RFC 9457 problem details (``application/problem+json``).

Errors below api/ know nothing of HTTP: they say what went wrong and carry what a client may need as data.
``PROBLEMS`` is the one place that turns each error class into an answer: its status, its title, the headers
(``ETag`` of the current version, ``Retry-After``) and the extra members of the body (``property`` …). A class
without an entry of its own is answered as its nearest ancestor that has one (the class's MRO);
``tests/api/test_problems.py`` checks every error class of the project is answered on purpose.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import etag
from api.heavy import RETRY_OVER_BUDGET_S, Busy, ImportsBusy, OverBudget, UploadTooSlow
from api.identity.db_login import LoginError
from api.ogc.media import NotAcceptable
from core.crs import UnsupportedCRS
from core.errors import (
    Conflict,
    Forbidden,
    HasDependents,
    InvalidInput,
    MahalleError,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ReadOnlyProperties,
    RuleViolation,
    TooManyAttempts,
    TransitionNotAllowed,
    Unauthenticated,
    UnsupportedMediaType,
)
from core.limits import TooManyVertices
from gis.cql2 import FilterError
from gis.export import ExportError
from gis.filters import BadFilter
from importers.archive import ArchiveTooLarge, BadArchive
from importers.files import FileProblem
from importers.mapping import MappingError
from importers.run import ImportRejected
from importers.validate import CrsProblem
from layers.catalogue import UnknownLayer
from layers.spec import SpecError

log = logging.getLogger("mahalle.api")
MEDIA_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, **extra: object) -> JSONResponse:
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def _property(exc: Any) -> dict[str, object]:
    """The attribute at fault, when there is one."""
    return {"property": getattr(exc, "column", None)}


def _rule(exc: RuleViolation) -> dict[str, object]:
    """The attribute at fault and, when the database named it, the rule and its parameters (the web app words
    the refusal in the user's language from them; ``detail`` stays the database's English sentence)."""
    return {**_property(exc), "rule": exc.rule, "params": exc.params if exc.rule else None}


def _no_headers(exc: Any) -> dict[str, str]:
    return {}


def _current_etag(exc: PreconditionFailed) -> dict[str, str]:
    return {"ETag": etag(exc.current_version)} if exc.current_version is not None else {}


def _retry_after(exc: Busy | OverBudget | TooManyAttempts) -> dict[str, str]:
    return {"Retry-After": str(exc.retry_after)}


def _authenticate(exc: Unauthenticated) -> dict[str, str]:
    # RFC 9110 §11.6.1: a 401 names how to authenticate; scripts send a Bearer token, browsers log in at /login.
    return {"WWW-Authenticate": 'Bearer realm="mahalle"'}


def _next_states(exc: TransitionNotAllowed) -> dict[str, object]:
    return {"property": "status", "current": exc.current, "allowed": exc.allowed}


@dataclass(frozen=True)
class Problem:
    """How the errors of one class are answered; the detail is always the error's own message."""

    status: int
    title: str
    members: Callable[[Any], dict[str, object]] = _property  # extra members of the body
    headers: Callable[[Any], dict[str, str]] = _no_headers


PROBLEMS: dict[type[Exception], Problem] = {
    # core/
    MahalleError: Problem(400, "Bad request"),
    NotFound: Problem(404, "Not found"),
    InvalidInput: Problem(422, "The data is not valid"),
    PreconditionFailed: Problem(412, "The feature was changed by someone else", headers=_current_etag),
    ReadOnlyProperties: Problem(400, "Read-only properties"),
    PayloadTooLarge: Problem(413, "Request too large"),
    TooManyVertices: Problem(413, "The geometry has too many vertices"),
    UnsupportedMediaType: Problem(415, "Unsupported media type"),
    Conflict: Problem(409, "Conflict"),
    TransitionNotAllowed: Problem(409, "Transition not allowed", members=_next_states),
    HasDependents: Problem(409, "Other records depend on this one"),
    RuleViolation: Problem(422, "The data breaks a rule of the layer", members=_rule),
    Unauthenticated: Problem(401, "Log in first", headers=_authenticate),
    Forbidden: Problem(403, "Your roles do not allow this"),
    TooManyAttempts: Problem(429, "Too many attempts", headers=_retry_after),
    UnsupportedCRS: Problem(400, "Unsupported coordinate reference system"),
    # layers/ (not MahalleErrors)
    UnknownLayer: Problem(404, "Not found"),
    SpecError: Problem(422, "The layer definition is not valid"),
    # gis/
    BadFilter: Problem(400, "Bad request"),
    FilterError: Problem(400, "Invalid filter"),
    ExportError: Problem(400, "The export cannot be made"),
    # importers/
    CrsProblem: Problem(422, "The coordinate reference system is missing or unknown"),
    FileProblem: Problem(422, "The file cannot be imported"),
    MappingError: Problem(422, "The mapping is not valid"),
    ImportRejected: Problem(422, "The import was refused"),
    BadArchive: Problem(422, "The archive cannot be imported"),
    ArchiveTooLarge: Problem(413, "The archive is too large"),
    # api/
    NotAcceptable: Problem(406, "Not acceptable"),
    LoginError: Problem(409, "The database login cannot be made"),
    Busy: Problem(503, "The server is busy with other reports", headers=_retry_after),
    ImportsBusy: Problem(503, "The server is busy with other imports", headers=_retry_after),
    OverBudget: Problem(503, "The request took too long", headers=_retry_after),
    UploadTooSlow: Problem(408, "The upload took too long"),
}


def problem_of(cls: type[BaseException]) -> Problem | None:
    """The answer for errors of ``cls``: its own entry, else its nearest ancestor's (in MRO order)."""
    return next((PROBLEMS[c] for c in cls.__mro__ if c in PROBLEMS), None)


def status_of(exc: BaseException) -> int:
    """The status an error is answered with (500 for one the map does not know)."""
    known = problem_of(type(exc))
    return known.status if known else 500


def problem_for(exc: Exception) -> JSONResponse:
    """The problem-details answer to ``exc``, an error of a class the map knows."""
    known = problem_of(type(exc))
    if known is None:
        raise TypeError(f"api.problems.PROBLEMS has no answer for {type(exc).__name__}")
    response = problem(known.status, known.title, str(exc), **known.members(exc))
    response.headers.update(known.headers(exc))
    return response


def install(app: FastAPI) -> None:
    async def mapped(_: Request, exc: Exception) -> JSONResponse:
        return problem_for(exc)

    for cls in (MahalleError, UnknownLayer, SpecError):  # every key of PROBLEMS is one of these
        app.add_exception_handler(cls, mapped)

    # Malformed query or path parameters are a client error (400, as OGC API asks), not FastAPI's default 422;
    # a well-formed body that breaks its schema (unknown keys, a string for a number) is 422.
    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        parts = [f"{'.'.join(str(p) for p in e['loc'] if p not in ('query', 'body'))}: {e['msg']}" for e in errors]
        in_body = bool(errors) and all(e["loc"][:1] == ("body",) for e in errors)
        if in_body and not any(e["type"] == "json_invalid" for e in errors):
            return problem(422, "The request body is not valid", "; ".join(parts))
        return problem(400, "Bad request", "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), None)

    @app.exception_handler(psycopg.errors.QueryCanceled)
    async def timed_out(_: Request, exc: Exception) -> JSONResponse:
        response = problem(
            503,
            "The query took too long",
            "The database cancelled a query that ran past its time limit; "
            "narrow the request (a smaller bbox, a filter or a lower limit) and try again.",
        )
        response.headers["Retry-After"] = str(RETRY_OVER_BUDGET_S)  # as a request past api.heavy's time budget
        return response

    @app.exception_handler(psycopg.OperationalError)
    async def database_down(_: Request, exc: Exception) -> JSONResponse:
        log.error("database unavailable: %s", exc)
        return problem(503, "The database is unavailable", "Try again in a moment.")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return problem(500, "Internal error", "Something went wrong on the server; it has been logged.")
