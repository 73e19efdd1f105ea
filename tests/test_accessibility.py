"""axe-core (npm, locked in tests/js) in real Chromium: 0 WCAG 2.1 A/AA violations on every
page a client, a host site or a professional sees."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lahella_bridge.harvest import Harvester
from tests.chromium import chromium, host_page, live_service, needs_chromium, open_page

pytestmark = needs_chromium
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def site(harvested: Harvester, database_url: str) -> Iterator[str]:
    with live_service(database_url) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


def violations(page: Any, js_readers: Path) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now, one line each."""
    page.add_script_tag(path=str(js_readers / "node_modules" / "axe-core" / "axe.min.js"))
    found = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})
            .then(r => r.violations.map(v => v.id + ': ' + v.help + ' | '
                + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))""",
        WCAG_21_AA,
    )
    return list(found)


@pytest.mark.parametrize(
    "path",
    [
        "/embed/activities",
        "/embed/activities?lang=en&municipality=564&stage=kotona-kaikki-hyvin",
        "/referral?segment=satunnainen-tuettu&municipality=564",
    ],
)
def test_pages_have_no_wcag_violations(
    site: str, browser: Any, js_readers: Path, path: str
) -> None:
    page, _ = open_page(browser, bypass_csp=True)
    page.goto(site + path)
    assert page.locator("article.card").count() > 0
    assert violations(page, js_readers) == []


def test_client_sheet_has_no_wcag_violations(site: str, browser: Any, js_readers: Path) -> None:
    page, _ = open_page(browser, bypass_csp=True)
    page.goto(f"{site}/referral?segment=satunnainen-tuettu&municipality=564")
    page.locator("input[name=ids]").nth(0).check()
    page.locator("input[name=ids]").nth(1).check()
    page.get_by_role("button", name="Tee asiakkaalle tuloste").click()
    page.wait_for_url("**/referral/sheet**")
    assert page.locator("article.sheet-item").count() == 2
    assert violations(page, js_readers) == []


def test_widget_in_a_host_page_has_no_wcag_violations(
    site: str, browser: Any, js_readers: Path
) -> None:
    page, _ = open_page(browser, bypass_csp=True)
    host_page(
        page,
        f"{site}/host.html",
        f"""<!doctype html><html lang="fi"><head><meta charset="utf-8">
        <title>Kunnan sivu</title></head><body><main><h1>Toimintaa lähelläsi</h1>
        <div data-lahella-bridge data-municipality="564"></div></main>
        <script src="{site}/embed/widget.js"></script></body></html>""",
    )
    page.wait_for_selector("[data-lahella-bridge] article.card", timeout=10000)
    assert violations(page, js_readers) == []
