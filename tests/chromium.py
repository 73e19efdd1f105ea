"""Real Chromium (Debian's) against the service on a real port: the pieces the browser
tests share. A page's host document can be served without the service's headers."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from lahella_bridge.app import create_app
from lahella_bridge.config import Settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium missing")


@contextmanager
def live_service(database_url: str) -> Iterator[str]:
    """The app under uvicorn on a free local port; yields its base URL."""
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
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


def open_page(
    browser: Any, locale: str = "fi-FI", bypass_csp: bool = False
) -> tuple[Any, list[str]]:
    """A new page and the list its dialogs (alert, confirm) are recorded in. `bypass_csp`
    lets a test inject a third-party reader (axe-core) into the service's own pages."""
    page = browser.new_page(
        viewport={"width": 1200, "height": 900}, locale=locale, bypass_csp=bypass_csp
    )
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page, dialogs


def host_page(page: Any, url: str, html: str) -> None:
    """Open `html` as the document at `url` (same origin as the service) with no headers
    of the service's, so no Content-Security-Policy: the widget's own safety is tested."""
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    page.goto(url)
