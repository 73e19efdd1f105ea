"""The feeds are open data: a page on any other site reads them from its visitors'
browsers without credentials, so the README's script widget works on a host site with
the default settings. The admin endpoints answer no other origin.

The oracle is real Chromium: the host page is served from another port (another origin)
and embeds the README's snippet pointing at the service running for real."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from lahella_bridge.harvest import Harvester
from tests.chromium import chromium, live_service, needs_chromium
from tests.conftest import ADMIN_KEY

README = Path(__file__).resolve().parents[1] / "README.md"
ELSEWHERE = "https://digitaalinensotekeskus.pohde.fi"  # any site; configured nowhere
OPEN_DATA = [
    "/v1/stages",
    "/v1/activities?page_size=1",
    "/v1/events.ics",
    "/ptv/v11/Service",
    "/linkedevents/v1/language/",
    "/hsds/taxonomies",
    "/embed/activities?fragment=true",
    "/embed/widget.js",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def readme_widget_snippet(service: str) -> str:
    """The README's script-widget snippet (its two code spans), pointed at `service`."""
    text = README.read_text("utf-8")
    line = next(part for part in text.split("\n  - ") if part.startswith("script:"))
    return "\n".join(re.findall(r"`(<[^`]+>)`", line)).replace("https://HOST", service)


@pytest.mark.usefixtures("harvested")
async def test_open_data_answers_any_origin_without_credentials(api: httpx.AsyncClient) -> None:
    for path in OPEN_DATA:
        response = await api.get(path, headers={"Origin": ELSEWHERE})
        assert response.status_code == 200, path
        assert response.headers.get("access-control-allow-origin") == "*", path
        assert "access-control-allow-credentials" not in response.headers, path
    preflight = await api.options(
        "/v1/activities",
        headers={
            "Origin": ELSEWHERE,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"


async def test_admin_endpoints_answer_no_other_origin(api: httpx.AsyncClient) -> None:
    read = await api.get("/admin/harvests", headers={"Origin": ELSEWHERE, "X-API-Key": ADMIN_KEY})
    assert read.status_code == 200
    assert "access-control-allow-origin" not in read.headers
    preflight = await api.options(
        "/admin/harvest",
        headers={
            "Origin": ELSEWHERE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-API-Key",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers


@pytest.fixture
def service(harvested: Harvester, database_url: str) -> Iterator[str]:
    """The service with the default settings, served for real on a free port."""
    with live_service(database_url) as url:
        yield url


@pytest.fixture
def host_site(service: str) -> Iterator[str]:
    """A host site on another port (so another origin) whose page embeds the widget."""
    page = (
        '<!doctype html><html lang="fi"><head><meta charset="utf-8">'
        "<title>Sote-keskus</title></head><body><main><h1>Järjestöjen toiminta</h1>"
        f"{readme_widget_snippet(service)}</main></body></html>"
    ).encode()

    class HostPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), HostPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@needs_chromium
def test_the_readme_widget_renders_activities_on_another_site(
    host_site: str, service: str, browser: Any
) -> None:
    page = browser.new_page()
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text))
    page.goto(host_site)
    assert page.evaluate("location.origin") != service  # truly another origin
    widget = page.locator("[data-lahella-bridge]")
    widget.locator("article.card").first.wait_for(timeout=15_000)
    assert widget.locator("article.card").count() > 0
    assert "Lähellä.fi: " not in widget.inner_text()  # the fallback when the fetch fails
    assert not [m for m in blocked if "CORS" in m]
