"""The login page and the admin page: plain server-rendered HTML in the user's language, no script.

Both are autoescaped Jinja templates (``web/templates/login.html``, ``admin.html``) styled by the app's own
``/static/css/app.css``; the CSP forbids inline script and these pages need none (the login is a plain
form posted to ``/auth/login``). Their text is the ``ui`` section of the language catalogues (``core.i18n``),
dates and numbers are formatted by the same CLDR/Jalali helpers as the reports, and Persian and Arabic pages
are right-to-left. Which language to render is the caller's choice (``lang``: a code; an unknown one is
English).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from babel.dates import format_time

from core import i18n
from web.templates import render

SECTION = "ui"
# The generic login errors, as keys of the catalogues: the page shows them in its language.
ERROR_WRONG = "auth.error_wrong"
ERROR_TOO_MANY = "auth.error_too_many"
_ERRORS = (ERROR_WRONG, ERROR_TOO_MANY)
ROLES = ("admin", "planner", "field", "viewer")
OPERATIONS = ("insert", "update", "delete")
EVENTS = ("login", "login_failed", "logout", "token_used", "token_created", "token_revoked",
          "user_added", "user_changed", "user_removed", "db_login")  # fmt: skip


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **values)``: the ``ui`` string of ``key`` in ``lang`` (English when missing)."""
    return lambda key, **values: i18n.text(lang, SECTION, key, **values)


def safe_next(url: str | None) -> str:
    """Where to go after logging in: a path of this site ("/", "/#board", "/admin?lang=fa"), never another
    host ("//evil.example", "https://…", "/\\evil") — anything else is "/"."""
    url = (url or "").strip()
    if not url.startswith("/") or url.startswith(("//", "/\\")) or any(c in url for c in "\\\r\n\t"):
        return "/"
    parts = urlsplit(url)
    return url if not parts.scheme and not parts.netloc else "/"


def _page(lang: str) -> dict[str, Any]:
    code = i18n.negotiate(lang)
    return {
        "lang": code,
        "dir": i18n.language(code).direction,
        "t": translator(code),
        "languages": [(c, language.name) for c, language in i18n.CATALOGUES.items()],
    }


def login_error(error: str | None, lang: str) -> str | None:
    """The message to show: a known error (its key, or its English text; the rate limit's "Too many …") in
    ``lang``, any other as given."""
    if not error:
        return None
    if error.startswith("Too many"):
        return i18n.text(lang, SECTION, ERROR_TOO_MANY)
    for key in _ERRORS:
        english = i18n.text(i18n.FALLBACK, SECTION, key)
        if error in (key, english, english.rstrip(".")):
            return i18n.text(lang, SECTION, key)
    return error


def render_login(lang: str, *, error: str | None = None, next_url: str = "/", name: str = "") -> str:
    """The login page: a form posted to ``/auth/login`` (``name``, ``password``, hidden ``next``), the
    ``error`` of a failed attempt (``ERROR_WRONG``, ``ERROR_TOO_MANY`` or their English text are shown in
    ``lang``), links to the page in every language and back to the app without logging in."""
    page = _page(lang)
    return render(
        "login.html",
        **page,
        error=login_error(error, page["lang"]),
        next_url=safe_next(next_url),
        user_name=name or "",  # not ``name``: render() takes the template's name by that word
    )


# The admin page -------------------------------------------------------------------------------------


def format_datetime(value: datetime | None, lang: str) -> str:
    """A moment as readers of ``lang`` write it, in the server's time zone: "21 March 2026, 14:05",
    "۱ فروردین ۱۴۰۵،‏ ۱۴:۰۵". None → "—"."""
    if value is None:
        return "—"
    language = i18n.language(lang)
    local = value.astimezone()
    day = i18n.format_date(local.date(), lang)
    time = language.digits(format_time(local, "short", tzinfo=local.tzinfo, locale=language.locale))
    return str(language.locale.datetime_formats["medium"]).replace("{1}", day).replace("{0}", time)


def time_zone() -> str:
    """The server's time zone, as the admin page's times are written in it ("UTC", "EET", "UTC+03:30")."""
    now = datetime.now().astimezone()
    name = now.tzname() or ""
    if name and not name.lstrip("+-").isdigit():
        return name
    offset = now.strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"


def _label(t: Callable[..., str], prefix: str, value: str | None, known: Iterable[str]) -> str:
    return t(f"{prefix}.{value}") if value in known else (value or "")


def roles_text(roles: Iterable[Mapping[str, Any]], lang: str) -> str:
    """ "planner · N01, viewer · all" in ``lang``."""
    t = translator(lang)
    parts = [
        f"{_label(t, 'role', r.get('role'), ROLES)} · {r.get('neighbourhood') or t('auth.all_neighbourhoods')}"
        for r in roles
    ]
    return t("auth.roles_separator").join(parts) if parts else t("admin.no_roles")


def render_admin(
    lang: str,
    *,
    users: list[dict[str, Any]],
    activity: list[dict[str, Any]],
    audit: list[dict[str, Any]],
    neighbourhoods: list[tuple[str, str]] = (),  # (code, name): the members a group of neighbourhoods may have
) -> str:
    """The admin page: the users (roles, active, last login, database login, API tokens), the recent edits
    (history rows) and the audit of logins and account changes, as tables readable on a phone."""
    page = _page(lang)
    code, t = page["lang"], page["t"]
    user_rows = [
        {
            "name": u.get("name") or "",
            "full_name": u.get("full_name") or "",
            "roles": [roles_text([r], code) for r in u.get("roles") or []] or [t("admin.no_roles")],
            "active": bool(u.get("active")),
            "active_text": t("value.yes") if u.get("active") else t("admin.inactive"),
            "last_login": format_datetime(u["last_login"], code) if u.get("last_login") else t("admin.never"),
            "last_login_iso": u["last_login"].isoformat() if u.get("last_login") else "",
            "db_login": u.get("db_login") or "—",
            "tokens": i18n.number(u.get("tokens") or 0, code),
        }
        for u in users
    ]
    activity_rows = [
        {
            "at": format_datetime(a.get("at"), code),
            "at_iso": a["at"].isoformat() if a.get("at") else "",
            "actor": a.get("actor") or "",
            "layer": a.get("layer") or "",
            "feature_id": a.get("feature_id") if a.get("feature_id") is not None else "",
            "operation": _label(t, "admin.op", str(a.get("operation") or "").lower(), OPERATIONS),
            "cause": a.get("cause") or "",
        }
        for a in activity
    ]
    audit_rows = [
        {
            "at": format_datetime(e.get("at"), code),
            "at_iso": e["at"].isoformat() if e.get("at") else "",
            "event": e.get("event") or "",
            "event_text": _label(t, "admin.event", e.get("event"), EVENTS),
            "user_name": e.get("user_name") or "",
            "ip": str(e.get("ip") or ""),
            "detail": e.get("detail") or "",
        }
        for e in audit
    ]
    return render(
        "admin.html",
        **page,
        users=user_rows,
        activity=activity_rows,
        audit=audit_rows,
        zone=time_zone(),
        # for web/static/js/admin-vocabulary.js and admin-groups.js, which fill {value} and {name} themselves
        vocabulary_strings={key: t(key, value="{value}") for key in VOCABULARY_STRINGS},
        group_strings={key: t(key, name="{name}") for key in GROUP_STRINGS},
        neighbourhoods=[list(n) for n in neighbourhoods],
    )


# The value lists' editor (a script on the admin page) says these in the page's language.
VOCABULARY_STRINGS = tuple(
    f"admin.vocab.{k}"
    for k in ("list", "value", "state", "save", "retire", "restore", "remove", "add", "added", "saved", "removed",
              "retired", "office", "catalogue", "fixed", "new_value", "value_help", "remove_confirm", "failed")
)  # fmt: skip

GROUP_STRINGS = tuple(
    f"admin.groups.{k}"
    for k in ("code", "name", "kind", "members", "save", "remove", "add", "saved", "remove_confirm", "failed",
              "municipality", "programme", "other", "none", "code_help")
)  # fmt: skip
