"""Browser tests: the app on a copy of the demo database, served by uvicorn on loopback, driven by
Playwright with Debian's Chromium (no browser download). One server and one browser per module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.auth import ADMIN, ADMIN_HEADERS, ADMIN_PASSWORD
from tests.live import serve

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def web_db(pg_server, demo_template) -> Iterator[str]:
    """One demo copy per module: the browser tests of a module share a server (each makes its own data)."""
    name = f"mahalle_w_{uuid.uuid4().hex[:12]}"
    url = pg_server.create(name, template=demo_template)
    yield url
    pg_server.drop(name)


@pytest.fixture(scope="module")
def server(web_db: str) -> Iterator[str]:
    with serve(web_db) as url:
        yield url


@pytest.fixture(scope="module")
def api(server: str) -> Iterator[httpx.Client]:
    """A script of the office's admin (API token) beside the browser."""
    with httpx.Client(base_url=server, timeout=30, headers=ADMIN_HEADERS) as client:
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


class Session:
    """A browser context with everything it requested and every script error it met: an anonymous visitor until
    ``log_in`` (the ``session`` fixture is logged in as the admin)."""

    def __init__(self, browser: Browser, server: str, **options: object):
        # bypass_csp: Playwright's evaluate() needs eval, which the page's CSP forbids (tested separately).
        self.context: BrowserContext = browser.new_context(
            base_url=server,
            viewport=options.pop("viewport", {"width": 1400, "height": 900}),
            bypass_csp=True,
            service_workers="block",
            accept_downloads=True,
            **options,
        )
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))

    def log_in(self, name: str = ADMIN, password: str = ADMIN_PASSWORD) -> Session:
        """Log the context in with the login form's request (the API request context shares the browser's
        cookies): its pages then run with the session cookie, as after logging in on /login."""
        response = self.context.request.post("/auth/login", form={"name": name, "password": password})
        assert response.ok, response.text()
        assert any(c["name"] == "mahalle_session" for c in self.context.cookies()), "no session cookie"
        return self

    def page(self, path: str = "/") -> Page:
        page = self.context.new_page()
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.goto(path)
        page.wait_for_function("document.body.classList.contains('ready')", timeout=20000)
        return page

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if urlsplit(u).scheme not in ("data", "blob") and
                urlsplit(u).hostname != "127.0.0.1"]  # fmt: skip


@pytest.fixture
def session(browser: Browser, server: str) -> Iterator[Session]:
    s = Session(browser, server).log_in()
    yield s
    s.context.close()
    assert not s.errors, f"script errors on the page: {s.errors}"
    assert not s.dialogs, f"unexpected alert/confirm dialogs: {s.dialogs}"


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
