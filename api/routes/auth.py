"""Logging in and out, who am I, my API tokens, and the administrators' page of users and recent activity.

A login answers the same way whether the name is unknown or the password wrong (and takes as long); failed
logins are counted per name and per address in the audit log, across server processes (429 past the limit).
The session cookie is HttpOnly and SameSite=Lax (Secure over HTTPS); every unsafe request made with it must
carry its CSRF token (``X-CSRF-Token``, from ``GET /auth/me``), checked by ``api.auth.permit``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.auth import permit, principal_of
from api.deps import get_catalogue, get_conn, get_settings, read_json
from api.identity import store
from api.identity.principal import COOKIE, Principal
from api.routes.home import content_security_policy
from api.schemas import validate
from core import i18n
from core.errors import Forbidden, InvalidInput, NotFound, TooManyAttempts, Unauthenticated
from core.settings import Settings
from layers.catalogue import Catalogue
from web import auth_pages

router = APIRouter(tags=["identity"])
Conn = Annotated[psycopg.Connection, Depends(get_conn)]
Cat = Annotated[Catalogue, Depends(get_catalogue)]
Config = Annotated[Settings, Depends(get_settings)]
WRONG = "The user name or password is wrong."
FORM = "application/x-www-form-urlencoded"


def _lang(request: Request, lang: str | None) -> str:
    if lang:
        return i18n.negotiate(lang)
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in i18n.CATALOGUES:
            return code
    return i18n.negotiate(None)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``): a login link must not send anyone elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target or "\n" in target:
        return "/"
    return target[:500]


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status, headers={"Content-Security-Policy": content_security_policy(None)})


@router.get("/login", dependencies=[Depends(permit("open"))], include_in_schema=False)
def login_page(
    request: Request, next: Annotated[str | None, Query(max_length=500)] = None, lang: str | None = None
) -> HTMLResponse:
    return _html(auth_pages.render_login(_lang(request, lang), error=None, next_url=_safe_next(next), name=""))


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=100)
    password: str = Field(max_length=1024)
    next: str | None = Field(default=None, max_length=500)


async def _login_body(request: Request, settings: Settings) -> tuple[Login, bool]:
    """The name and password, from the login form or a JSON body; whether it came from the form."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == FORM:
        form = await request.form(max_fields=5, max_files=0)
        values = {k: str(form.get(k) or "") for k in ("name", "password", "next")}
        return validate(Login, values), True
    data = await read_json(request, settings, ("application/json",))
    if not isinstance(data, dict):
        raise InvalidInput("send {name, password} as a JSON object or the login form")
    return validate(Login, data), False


@router.post("/auth/login", dependencies=[Depends(permit("open"))], summary="Log in; sets the session cookie")
async def login(request: Request, conn: Conn, settings: Config, lang: str | None = None) -> Response:
    body, from_form = await _login_body(request, settings)
    ip = request.client.host if request.client else None
    name = body.name.strip().lower()
    try:
        await run_in_threadpool(_check, conn, settings, name, body.password, ip)
    except (Unauthenticated, TooManyAttempts) as exc:
        if not from_form:
            raise
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        page = auth_pages.render_login(_lang(request, lang), error=str(exc), next_url=_safe_next(body.next), name=name)
        return _html(page, status)
    secret = await run_in_threadpool(
        store.open_session, conn, name, settings.session_hours, ip, request.headers.get("user-agent")
    )
    done = RedirectResponse(_safe_next(body.next), status_code=303) if from_form else JSONResponse({"user": name})
    response: Response = done
    secure = settings.cookie_secure if settings.cookie_secure is not None else request.url.scheme == "https"
    response.set_cookie(COOKIE, secret, max_age=int(settings.session_hours * 3600), httponly=True, samesite="lax",
                        secure=secure, path="/")  # fmt: skip
    return response


def _check(conn: psycopg.Connection, settings: Settings, name: str, password: str, ip: str | None) -> None:
    """Count, check and record under one lock per name: concurrent guesses for a name wait for each other, so
    they cannot all pass the count before the first failure is written."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('mahalle login ' || %s))", (name[:100],))
        if store.failed_logins(conn, name, ip, settings.login_window_minutes) >= settings.login_max_failures:
            raise TooManyAttempts(
                f"Too many failed logins; try again in {settings.login_window_minutes} minutes.",
                retry_after=settings.login_window_minutes * 60,
            )
        ok = store.check_login(conn, name, password)
        if not ok:
            store.audit(conn, "login_failed", name[:100], ip)
    if not ok:
        raise Unauthenticated(WRONG)


def forget_principals(request: Request) -> None:
    """This server forgets who credentials stood for at once (the others when the database's notice reaches them):
    the logged-out session or revoked token is refused from this server's very next request on."""
    request.app.state.metadata.principals.invalidate()


@router.post("/auth/logout", status_code=204, dependencies=[Depends(permit("user"))], summary="Log out")
def logout(request: Request, conn: Conn) -> Response:
    principal = principal_of(request)
    if principal.session_id is not None:
        store.close_session(conn, principal.session_id, principal.name or "", request.client and request.client.host)
        forget_principals(request)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/auth/me", dependencies=[Depends(permit("open"))], summary="Who am I, and what may I do")
def me(request: Request, conn: Conn, catalogue: Cat) -> dict[str, Any]:
    principal = principal_of(request)
    return {
        "user": {"name": principal.name, "full_name": principal.full_name} if principal.authenticated else None,
        "roles": _roles(conn, principal),
        "csrf": principal.csrf,
        "can": _abilities(conn, catalogue, principal),
    }


def _roles(conn: psycopg.Connection, principal: Principal) -> list[dict[str, Any]]:
    names = _neighbourhood_names(conn)
    out = []
    for r in principal.roles:
        code, title = names.get(r.neighbourhood_id, (None, None)) if r.neighbourhood_id else (None, None)
        out.append({"role": r.role, "neighbourhood": code, "neighbourhood_name": title})
    return out


def _neighbourhood_names(conn: psycopg.Connection) -> dict[int, tuple[str, str]]:
    rows = conn.execute("SELECT id, code, name FROM public.neighbourhoods").fetchall()
    return {nid: (code, name) for nid, code, name in rows}


# What the user may do somewhere, per layer (mahalle.scope: NULL is everywhere, an empty array nowhere).
_ABILITIES = """
SELECT l, mahalle.scope('create', l) IS DISTINCT FROM '{}'::bigint[],
          mahalle.scope('edit', l) IS DISTINCT FROM '{}'::bigint[],
          mahalle.scope('field', l) IS DISTINCT FROM '{}'::bigint[],
          mahalle.scope('delete', l) IS DISTINCT FROM '{}'::bigint[]
  FROM unnest(%s::text[]) l
"""


def _abilities(conn: psycopg.Connection, catalogue: Catalogue, principal: Principal) -> dict[str, Any]:
    create, edit, delete, field = [], [], [], {}
    if principal.authenticated:
        for name, may_create, may_edit, may_field, may_delete in conn.execute(
            _ABILITIES, ([layer.name for layer in catalogue],)
        ).fetchall():
            layer = catalogue[name]
            create += [name] if may_create else []
            edit += [name] if may_edit else []
            delete += [name] if may_delete else []
            if may_field and not may_edit and layer.field_editable:
                field[name] = list(layer.field_editable)
    return {
        "admin": principal.holds("admin", everywhere=True),
        "plan": "interventions" in edit or "tasks" in edit,
        "import": principal.holds("admin", "planner"),
        "restore": bool(edit),
        "create": create,
        "edit": edit,
        "field_edit": field,
        "delete": delete,
    }


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(default=None, max_length=200, description="What the token is for, e.g. 'QGIS'")
    days: int | None = Field(default=None, ge=1, le=3650, description="How long it lasts; default: until revoked")


@router.get("/auth/tokens", dependencies=[Depends(permit("user"))], summary="My API tokens (never their secrets)")
def my_tokens(request: Request, conn: Conn) -> list[dict[str, Any]]:
    return [_public(t) for t in store.list_tokens(conn, principal_of(request).name)]


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (store.when(v) if hasattr(v, "isoformat") else v) for k, v in row.items()}


@router.post("/auth/tokens", status_code=201, dependencies=[Depends(permit("user"))],
             summary="A new API token for scripts, QGIS or a field device: shown once")  # fmt: skip
async def new_token(request: Request, conn: Conn, settings: Config) -> JSONResponse:
    data = await read_json(request, settings, ("application/json",))
    body = validate(NewToken, data if isinstance(data, dict) else {})
    name = principal_of(request).name or ""
    token = await run_in_threadpool(store.create_token, conn, name, body.label, body.days)
    return JSONResponse({"token": token, "prefix": store.token_prefix(token)}, status_code=201)


@router.delete("/auth/tokens/{prefix}", status_code=204, dependencies=[Depends(permit("user"))],
               summary="Revoke one of my API tokens")  # fmt: skip
def revoke_my_token(prefix: str, request: Request, conn: Conn) -> Response:
    mine = {t["prefix"] for t in store.list_tokens(conn, principal_of(request).name)}
    if prefix not in mine:
        raise NotFound("you have no token with that prefix")
    store.revoke_token(conn, prefix)
    forget_principals(request)
    return Response(status_code=204)


@router.get("/users", dependencies=[Depends(permit("admin"))], summary="Every user and their roles (admins)")
def users(conn: Conn) -> list[dict[str, Any]]:
    return [_public(u) for u in store.list_users(conn)]


@router.get("/admin", dependencies=[Depends(permit("open"))], include_in_schema=False)
def admin_page(request: Request, conn: Conn, lang: str | None = None) -> Response:
    """The administrators' page; others are sent to log in (anonymous) or told they may not see it."""
    principal = principal_of(request)
    if not principal.authenticated:
        return RedirectResponse("/login?next=/admin", status_code=303)
    if not principal.holds("admin", everywhere=True):
        raise Forbidden("only an administrator of every neighbourhood may see this page")
    page = auth_pages.render_admin(
        _lang(request, lang),
        users=[
            {**u, "roles": json.loads(u["roles"]) if isinstance(u["roles"], str) else u["roles"]}
            for u in store.list_users(conn)
        ],  # fmt: skip
        activity=store.recent_activity(conn),
        audit=store.recent_audit(conn),
        neighbourhoods=conn.execute("SELECT code, name FROM public.neighbourhoods ORDER BY name, code").fetchall(),
    )
    return _html(page)
