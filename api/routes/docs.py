"""``GET /docs``: Swagger UI from the app's own files (the swagger-ui-dist npm package, under /vendor), so the
API documentation works without internet and under the pages' Content-Security-Policy (no inline script:
the UI is started by ``/static/js/docs.js``). FastAPI's own /docs and /redoc load from a CDN and are off."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.templates import render

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def docs(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    openapi_url = root + (request.app.openapi_url or "/openapi.json")
    return HTMLResponse(render("docs.html", title=request.app.title, root=root, openapi_url=openapi_url))
