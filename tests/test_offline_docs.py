"""/docs and /redoc work on a network without internet (a county intranet demo): every
asset they need comes from the service itself. Checked in real headless Chromium with
every request to a host other than the service refused."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from lahella_bridge.app import create_app
from lahella_bridge.config import Settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REDOCLY_CREDIT_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium missing")


@pytest.fixture
def service(database_url: str) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(Settings(harvest_interval_minutes=0), database_url)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def offline_page() -> Iterator[tuple[Any, list[str]]]:
    """A Chromium page that can reach only loopback; the refused URLs are listed."""
    from playwright.sync_api import sync_playwright

    refused: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.route("**/*", only_loopback)
        yield page, refused
        browser.close()


def test_swagger_ui_lists_the_operations_without_internet(
    service: str, offline_page: tuple[Any, list[str]]
) -> None:
    page, refused = offline_page
    page.goto(f"{service}/docs")
    page.wait_for_selector(".opblock", timeout=15_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/v1/activities" in [p.replace("\u200b", "") for p in paths]
    assert len(paths) > 20
    assert refused == []


def test_redoc_renders_the_document_without_internet(
    service: str, offline_page: tuple[Any, list[str]]
) -> None:
    page, refused = offline_page
    page.goto(f"{service}/redoc")
    page.wait_for_selector("h1:has-text('lahella-bridge')", timeout=15_000)
    page.wait_for_selector("h2:has-text('Published activities')", timeout=15_000)
    # Redoc's bundle always tries its vendor's logo in the "API docs by Redocly" credit and
    # hides the image when it fails to load; nothing the page needs comes from elsewhere.
    assert [url for url in refused if url != REDOCLY_CREDIT_LOGO] == []
