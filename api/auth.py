"""The one place a request meets the access rules: ``permit(action, …)``, a dependency every route declares.

1. The request's connection is bound to its principal when it is taken (``api.deps.get_conn`` /
   ``api.heavy.heavy_conn`` call ``bind``): row-level security then shows only what the user may read, and the
   permit triggers refuse what their roles do not allow in a neighbourhood (403 with the database's message).
2. ``permit`` answers what can be answered before any work: an unknown, expired or revoked credential → 401;
   an anonymous write, or an anonymous read of a layer that is not public → 401; a write with a session
   cookie but without its CSRF token → 403; a user whose roles allow the action nowhere → 403.

The role × action rules are the database's (``mahalle.scope``): ``permit`` asks it rather than repeating them.
"""

import hmac
from collections.abc import Callable
from typing import Annotated, Any, Literal

import psycopg
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from api.deps import get_catalogue, get_conn
from api.heavy import heavy_conn
from api.identity.principal import CSRF_HEADER, Principal
from core.errors import Forbidden, Unauthenticated
from layers.catalogue import Catalogue

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# open: pages and the login form (anyone; a stale cookie is treated as no cookie); read: data, with row-level
# security narrowing it (a layer that is not public needs a login); user: anyone logged in; the others: writes.
Action = Literal["open", "read", "create", "edit", "delete", "restore", "plan", "import", "user", "admin"]


def principal_of(request: Request) -> Principal:
    """The principal ``bind`` found for this request (set when its connection was taken)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:  # a route whose connection was not bound: a programming error, never a grant
        raise RuntimeError("the request's connection was not bound to a principal (api/auth.py)")
    return principal


def _check_credentials(request: Request, principal: Principal) -> None:
    if principal.invalid:
        raise Unauthenticated(
            "your session has ended or the token is not valid (unknown, expired or revoked): log in again"
        )
    if request.method not in SAFE_METHODS:
        if not principal.authenticated:
            raise Unauthenticated("log in (or send an API token) to make changes")
        if principal.via == "session":
            sent = request.headers.get(CSRF_HEADER) or ""
            if not (principal.csrf and hmac.compare_digest(sent.encode(), principal.csrf.encode())):
                raise Forbidden(
                    "the request carries the session cookie but not its CSRF token (X-CSRF-Token): reload the page"
                )


def _scope_is_empty(conn: psycopg.Connection, actions: tuple[str, ...], layer: str) -> bool:
    row = conn.execute(
        "SELECT bool_and(coalesce(cardinality(mahalle.scope(a, %s)) = 0, false)) FROM unnest(%s::text[]) a",
        (layer, list(actions)),
    ).fetchone()
    return bool(row[0])


_LAYER_ACTIONS = {
    "create": ("create",),
    "edit": ("edit", "field"),
    "delete": ("delete",),
    "restore": ("edit",),
}
_PLAN_LAYERS = ("interventions", "tasks")


def _authorize(request: Request, catalogue: Catalogue, action: Action, layer: str | None) -> Principal:
    """What needs no database: credentials, CSRF, anonymous access, the roles held everywhere."""
    principal = principal_of(request)
    if action == "open":
        return principal
    _check_credentials(request, principal)
    if action == "read":
        if layer is not None and not principal.authenticated and layer in catalogue and layer not in catalogue.public:
            raise Unauthenticated(f"the layer {layer!r} is not public: log in to read it")
        return principal
    if not principal.authenticated:
        raise Unauthenticated("log in (or send an API token) first")
    if action == "admin" and not principal.holds("admin", everywhere=True):
        raise Forbidden("only an administrator of every neighbourhood may do this")
    if action == "import" and not principal.holds("admin", "planner"):
        raise Forbidden("only planners and administrators may import data")
    return principal


def _refusal_in_database(
    conn: psycopg.Connection, catalogue: Catalogue, action: Action, layer: str | None
) -> str | None:
    """Why the user's roles allow ``action`` nowhere at all, or None (the neighbourhood is the triggers' business)."""
    if action == "plan":
        if all(_scope_is_empty(conn, ("edit",), name) for name in _PLAN_LAYERS):
            return "your roles do not allow you to change the plan (interventions and tasks) anywhere"
    elif layer is not None and layer in catalogue and _scope_is_empty(conn, _LAYER_ACTIONS[action], layer):
        verb = {"create": "add features to", "edit": "change", "delete": "delete features of", "restore": "restore"}
        return f"your roles do not allow you to {verb[action]} {layer} anywhere"
    return None


# The database's answer to "do these roles allow this action on this layer anywhere?" depends only on the roles, the
# role rules and the layer's registration, so it is kept with the catalogue's layer (``Layer.memo``): a changed
# registration brings a new catalogue (api.metadata) and so asks again, and other roles are another key. Only the
# early 403 is kept: every write is still checked by the permit triggers and row-level security.
_REFUSALS = "permit refusals"
_MAX_KEPT = 4096  # distinct (action, roles) per layer before the kept answers are dropped


def _memo(catalogue: Catalogue, action: Action, layer: str | None) -> dict[Any, str | None] | None:
    """Where the answers for ``action`` on ``layer`` are kept; None for what is not asked of the database."""
    name = _PLAN_LAYERS[0] if action == "plan" else layer
    if name is None or name not in catalogue:
        return None
    memo = catalogue[name].memo
    kept = memo.get(_REFUSALS)
    if kept is None or len(kept) > _MAX_KEPT:
        kept = memo[_REFUSALS] = {}
    return kept


async def _authorize_in_database(
    conn: psycopg.Connection, catalogue: Catalogue, principal: Principal, action: Action, layer: str | None
) -> None:
    """Whether the user's roles allow ``action`` anywhere at all: asked of the database once per roles held, then
    answered from memory (no round trip, no worker thread)."""
    kept = _memo(catalogue, action, layer)
    key = (action, principal.roles)
    if kept is not None and key in kept:
        refusal = kept[key]
    else:
        refusal = await run_in_threadpool(_refusal_in_database, conn, catalogue, action, layer)
        if kept is not None:
            kept[key] = refusal
    if refusal is not None:
        raise Forbidden(refusal)


_IN_DATABASE = frozenset({"create", "edit", "delete", "restore", "plan"})


def permit(
    action: Action, layer: str | None = None, *, layer_param: str | None = None, heavy: bool = False
) -> Callable[..., Any]:
    """The dependency of a route: who asks, checked for ``action`` (on ``layer``, or the layer named by the path
    parameter ``layer_param``). ``heavy``: the route takes its connection from ``api.heavy``."""
    conn_dependency = Depends(heavy_conn, scope="function") if heavy else Depends(get_conn)
    Conn = Annotated[psycopg.Connection, conn_dependency]
    Cat = Annotated[Catalogue, Depends(get_catalogue)]

    def layer_of(request: Request) -> str | None:
        return layer or (request.path_params.get(layer_param) if layer_param else None)

    if action in _IN_DATABASE:  # a query, the first time these roles ask (then from memory)

        async def dependency(request: Request, conn: Conn, catalogue: Cat) -> Principal:
            principal = _authorize(request, catalogue, action, layer_of(request))
            await _authorize_in_database(conn, catalogue, principal, action, layer_of(request))
            return principal

    else:  # no query: in the event loop

        async def dependency(request: Request, conn: Conn, catalogue: Cat) -> Principal:  # type: ignore[misc]
            return _authorize(request, catalogue, action, layer_of(request))

    dependency.permit_action = action  # type: ignore[attr-defined]  # read by tests/test_architecture.py
    return dependency
