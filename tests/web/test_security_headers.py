"""Browser security headers: every page of the admin UI (each route, with an existing entity where the path names
one) has a Content Security Policy that refuses framing, inline script and inline style, and holds nothing that
policy would refuse; every other response of the server (downloads, the admin API, static files, refusals) is
``nosniff``; the SEB client Exam API gets none of it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sebframe.core.sebconfig import load_catalogue
from sebframe.core.sebconfig.settings import default_values
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.web import STATIC_DIR
from sebframe.web.views.seb_settings import Editor, Field
from tests.conftest import sign_in
from tests.web.admin_ui_world import build_world, open_pages, world_services

pytestmark = pytest.mark.anyio

EXPECTED_HTML_HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
# Markup a policy without 'unsafe-inline' and 'unsafe-eval' refuses (or that would need them).
_TAG = re.compile(r"<[a-zA-Z][^>]*>")
# (A <script type="application/json"> is a data block the browser never runs.)
_REFUSED_IN_TAG = re.compile(r"""\s(on[a-z]+|style)\s*=|^<script(?![^>]*\s(src=|type="application/json"))|^<style\b"""
                             r"""|=\s*["']?\s*javascript:""", re.IGNORECASE)
PROCTOR_WINDOW = "/proctoring/{id:int}/rooms/{room_id:int}/window"
_HTMX_EVAL = re.compile(r"\shx-on[:-]|\shx-vars=|\shx-vals=[\"']js:|hx-trigger=\"[^\"]*\[", re.IGNORECASE)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with world_services(settings) as services:
        yield services


def refused_markup(html: str) -> list[str]:
    """The tags of a page a strict policy would refuse to run or style."""
    return [tag for tag in _TAG.findall(html) if _REFUSED_IN_TAG.search(tag) or _HTMX_EVAL.search(tag)]


def csp_directives(response: httpx.Response) -> dict[str, str]:
    policy = response.headers.get("content-security-policy", "")
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


async def test_every_page_has_a_strict_policy_and_nothing_it_would_refuse(services: Services, app: Any,
                                                                          client: httpx.AsyncClient,
                                                                          tmp_path: Path) -> None:
    world = await build_world(services, client, tmp_path / "seb")
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as institution_admin, \
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as server_admin, \
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as anonymous:
        for viewer, username in ((client, "demo-exam-admin"), (institution_admin, "demo-institution-admin"),
                                 (server_admin, "admin")):
            assert (await sign_in(viewer, username)).status_code == 303
        answers = await open_pages(world, [client, institution_admin, server_admin], anonymous)

    assert {template: response.status_code for template, response in answers.items()
            if response.status_code != 200} == {}  # every page opened: the checks below saw it
    pages = {template: response for template, response in answers.items()
             if response.headers["content-type"].startswith("text/html")}
    assert len(pages) > 100
    for template, response in pages.items():
        assert {name: response.headers.get(name) for name in EXPECTED_HTML_HEADERS} == EXPECTED_HTML_HEADERS, template
        if template == PROCTOR_WINDOW:
            continue  # its own policy, below
        assert csp_directives(response) == {
            "default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' blob:",
            "object-src": "'none'", "base-uri": "'none'", "form-action": "'self'", "frame-ancestors": "'none'",
        }, template
        assert refused_markup(response.text) == [], template
    # The proctor window adds exactly the meeting server for scripts and frames; it cannot be framed either.
    window = csp_directives(pages[PROCTOR_WINDOW])
    meeting_server = window["frame-src"]
    assert meeting_server.startswith("http://127.0.0.1:") and " " not in meeting_server
    assert window["script-src"] == f"'self' {meeting_server}" and window["frame-ancestors"] == "'none'"
    assert window["object-src"] == "'none'" and window["base-uri"] == "'none'" and window["default-src"] == "'self'"
    assert pages[PROCTOR_WINDOW].headers["cache-control"] == "no-store"  # it holds a moderator token
    assert refused_markup(pages[PROCTOR_WINDOW].text) == []
    downloads = {template: response for template, response in answers.items() if template not in pages}
    assert {"/exam-configurations/{id:int}/export", "/client-logs/export.csv",
            "/institutions/{institution_id}/logo"} <= set(downloads)
    for template, response in downloads.items():
        assert response.headers["x-content-type-options"] == "nosniff", template
        assert "content-security-policy" not in response.headers, template


async def test_refusals_api_static_files_and_the_exam_api(client: httpx.AsyncClient, factory: Any) -> None:
    missing = await client.get("/no-such-page")
    assert missing.status_code == 404 and missing.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in missing.headers["content-security-policy"]
    redirect = await client.get("/exams")  # signed out
    assert redirect.status_code == 303 and redirect.headers["x-content-type-options"] == "nosniff"
    cross_site = await client.post("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403 and cross_site.headers["x-content-type-options"] == "nosniff"
    api = await client.get("/admin-api/v1/exams")
    assert api.status_code == 401 and api.headers["x-content-type-options"] == "nosniff"
    static = await client.get("/static/app.js")
    assert static.status_code == 200 and static.headers["x-content-type-options"] == "nosniff"
    # SEB clients' Exam API is answered before the middleware: nothing added to its hot path.
    discovery = await client.get("/exam-api/discovery")
    assert discovery.status_code == 200
    assert not {"x-content-type-options", "content-security-policy", "x-frame-options"} & set(discovery.headers)


async def test_a_header_the_handler_set_is_kept(app: Any) -> None:
    from sebframe.web.headers import SecurityHeadersMiddleware

    async def own_policy(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html"), (b"content-security-policy", b"sandbox")]})
        await send({"type": "http.response.body", "body": b"<p>plugin page</p>"})

    transport = httpx.ASGITransport(app=SecurityHeadersMiddleware(own_policy))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/")
    assert response.headers.get_list("content-security-policy") == ["sandbox"]
    assert response.headers["x-frame-options"] == "DENY"


def test_the_settings_editor_grid_places_have_classes() -> None:
    """The SEB settings editor places settings on grids by classes of app.css (gc-start-N, gc-span-N, g-cols-N for
    N up to 12); every place the catalogue asks for must have its class."""
    catalogue = load_catalogue()
    editor = Editor(catalogue, "/exam-configurations/1/settings", readonly=False)
    css = (STATIC_DIR / "app.css").read_text()
    used: set[str] = set()
    for view, _ in editor.tabs():
        for block in editor.tab(view.name, default_values(catalogue)).blocks:
            used.update(block.grid_classes.split())
            used.add(f"g-cols-{block.columns}")
            for item in block.fields:
                if isinstance(item, Field) and item.col_start:
                    used.update({f"gc-start-{item.col_start}", f"gc-span-{item.col_span}"})
    assert used and all(f".{name} {{" in css for name in used), sorted(name for name in used
                                                                     if f".{name} {{" not in css)
