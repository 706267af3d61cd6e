"""Links, media types and format negotiation shared by the OGC API routes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from core.errors import MahalleError

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
MVT = "application/vnd.mapbox-vector-tile"
MERGE_PATCH = "application/merge-patch+json"


class NotAcceptable(MahalleError):
    """None of the representations the client accepts is offered."""


def base(request: Request) -> str:
    """Absolute URL of the OGC API root (links must be absolute for the OGC test suite)."""
    return str(request.base_url).rstrip("/") + "/ogc"


def link(href: str, rel: str, type_: str, title: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    out.update(extra)
    return out


def wants_html(request: Request, json_names: tuple[str, ...] = ("json",)) -> bool:
    """``f=html`` or a browser's Accept header; ``f=json`` (or geojson) wins over Accept."""
    f = request.query_params.get("f")
    if f is not None:
        if f == "html":
            return True
        if f in json_names:
            return False
        raise NotAcceptable(f"f={f!r} is not offered here; use one of: {', '.join((*json_names, 'html'))}")
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept.split("text/html")[0]


def self_and_alternates(request: Request, path: str, json_type: str, json_f: str = "json") -> list[dict[str, Any]]:
    """``self`` for the format being served and ``alternate`` for the others, keeping the query."""
    params = {k: v for k, v in request.query_params.items() if k != "f"}
    html = wants_html(request, (json_f, "json"))

    def href(f: str) -> str:
        return f"{base(request)}{path}?{urlencode({**params, 'f': f})}"

    return [
        link(href("html" if html else json_f), "self", HTML if html else json_type),
        link(href(json_f if html else "html"), "alternate", json_type if html else HTML),
    ]
