"""One error format everywhere: RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import MahalleError
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


def install(app: FastAPI) -> None:
    @app.exception_handler(MahalleError)
    async def mahalle_error(_: Request, exc: MahalleError) -> JSONResponse:
        response = problem(exc.status, exc.title, str(exc), property=getattr(exc, "column", None))
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(UnknownLayer)
    async def unknown_layer(_: Request, exc: UnknownLayer) -> JSONResponse:
        return problem(404, "Not found", str(exc))

    @app.exception_handler(SpecError)
    async def spec_error(_: Request, exc: SpecError) -> JSONResponse:
        return problem(422, "The layer definition is not valid", str(exc))

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
        response.headers["Retry-After"] = "30"  # as api.heavy's time budget
        return response

    @app.exception_handler(psycopg.OperationalError)
    async def database_down(_: Request, exc: Exception) -> JSONResponse:
        log.error("database unavailable: %s", exc)
        return problem(503, "The database is unavailable", "Try again in a moment.")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return problem(500, "Internal error", "Something went wrong on the server; it has been logged.")
