"""/docs and /redoc work on a network without internet (a county intranet demo): every
asset they need comes from the service itself. Checked in real headless Chromium with
every request to a host other than the service refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.chromium import chromium, live_service, needs_chromium

REDOCLY_CREDIT_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
pytestmark = needs_chromium


@pytest.fixture
def service(database_url: str) -> Iterator[str]:
    with live_service(database_url) as url:
        yield url


@pytest.fixture
def offline_page() -> Iterator[tuple[Any, list[str]]]:
    """A Chromium page that can reach only loopback; the refused URLs are listed."""
    refused: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.route("**/*", only_loopback)
        yield page, refused


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
