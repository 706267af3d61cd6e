"""The pages work in Chromium with their Content-Security-Policy enforced (no ``bypass_csp``): the web app,
an OGC API HTML page, the API documentation (Swagger UI from local files) and the printable report with
its folium map. Chromium reports every blocked script, style or request on the console; there must be none.
Only locators are used: Playwright's wait_for_function needs eval, which the policy forbids."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.auth import ADMIN, ADMIN_PASSWORD

CODE = "HKI-CENTRE"


@dataclass
class Watched:
    context: BrowserContext
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def open(self, path: str) -> Page:
        page = self.context.new_page()
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in (response.header_value("content-security-policy") or ""), path
        return page

    def violations(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m or "Refused to" in m]


@pytest.fixture
def watched(browser: Browser, server: str) -> Iterator[Watched]:
    context = browser.new_context(base_url=server, service_workers="block", viewport={"width": 1280, "height": 900})
    login = context.request.post("/auth/login", form={"name": ADMIN, "password": ADMIN_PASSWORD})  # as the admin
    assert login.ok, login.text()
    w = Watched(context)
    context.on("request", lambda r: w.requests.append(r.url))
    yield w
    context.close()
    assert not w.violations(), w.violations()
    assert not w.errors, w.errors
    foreign = [u for u in w.requests if urlsplit(u).scheme in ("http", "https") and urlsplit(u).hostname != "127.0.0.1"]
    assert not foreign, foreign


def test_the_web_app_runs_under_its_policy(watched):
    page = watched.open("/")
    page.locator("body.ready").wait_for(timeout=20000)
    assert page.locator(".layer-item").count() > 3  # built by the app's scripts from /layers
    page.locator(".leaflet-container").first.wait_for()


def test_an_ogc_html_page_renders_under_its_policy(watched):
    page = watched.open("/ogc/collections/streets/items?f=html&limit=5")
    page.locator("h1").wait_for()
    assert page.locator("table tr").count() == 6  # the header and five features


def test_the_api_documentation_works_offline_under_its_policy(watched):
    page = watched.open("/docs")
    title = page.locator(".swagger-ui .info .title")
    title.wait_for(timeout=20000)  # Swagger UI started by /static/js/docs.js and read /openapi.json
    assert "Mahalle" in title.inner_text()
    assert page.locator(".opblock").count() > 20
    page.locator(".opblock-summary").first.click()  # an operation opens
    page.locator(".opblock-body").first.wait_for()
    assert any(u.endswith("/openapi.json") for u in watched.requests)


def test_the_report_map_runs_with_its_nonce(watched):
    page = watched.open(f"/reports/achievement?neighbourhood={CODE}&from=2020-01-01&to=2030-12-31")
    page.locator(".folium-map.leaflet-container").wait_for(timeout=20000)  # folium's inline script ran
    assert page.locator(".folium-map .leaflet-overlay-pane path").count() > 0  # and drew the neighbourhood


def test_an_inline_script_without_the_nonce_is_blocked(watched):
    """The policy is really enforced: a script injected into the page without the nonce does not run."""
    page = watched.open(f"/reports/achievement?neighbourhood={CODE}&from=2020-01-01&to=2030-12-31")
    page.locator(".folium-map.leaflet-container").wait_for(timeout=20000)
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'document.title = \"pwned\"';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_timeout(300)
    assert page.title() != "pwned"
    assert any("Content Security Policy" in m for m in watched.console)
    watched.console.clear()  # the one expected violation
