"""The embeddable listing and the referral tool in real headless Chromium (Debian's)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lahella_bridge.harvest import Harvester
from lahella_bridge.sample.upstream import SampleUpstream
from tests.chromium import chromium, live_service, needs_chromium
from tests.kept_harvests import KeptHarvests

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
pytestmark = needs_chromium

XSS = [
    '<script>window.__xss = "script"</script>',
    "<img src=x onerror=\"window.__xss = 'img'\">",
    '"><svg onload="window.__xss = \'svg\'">',
    "javascript:window.__xss='href'",
    "<iframe srcdoc=\"<script>parent.__xss='iframe'</script>\"></iframe>",
]


def poison(upstream: SampleUpstream) -> list[str]:
    """Put the corpus into names, texts, organiser, address and URL fields."""
    keys = []
    for index, payload in enumerate(XSS):
        record = upstream.records[100 + index]
        traits = record["traits"]
        traits["translations"]["fi"]["name"] = f"XSS-testi {index} {payload}"
        traits["translations"]["fi"]["summary"] = payload
        traits["translations"]["fi"]["description"] = f"<p>{payload}</p>"
        record["links"]["groups"][0]["name"] = f"Org {payload}"
        channel = traits["channels"][0]
        channel["registrationUrl"] = payload
        channel.setdefault("translations", {}).setdefault("fi", {}).setdefault("address", {})
        channel["translations"]["fi"]["address"]["street"] = payload
        channel["translations"]["fi"]["registration"] = payload
        traits["contacts"][0]["value"] = payload
        keys.append(record["_key"])
    return keys


@pytest.fixture
async def site(
    harvester: Harvester, upstream: SampleUpstream, database_url: str, kept_harvests: KeptHarvests
) -> Iterator[str]:
    poison(upstream)
    (report,) = await kept_harvests.run(harvester, upstream)
    assert report.status == "succeeded"
    with live_service(database_url) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


DIALOGS: list[str] = []


def new_page(browser: Any) -> Any:
    page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="fi-FI")

    def on_dialog(dialog: Any) -> None:
        DIALOGS.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page


def test_listing_renders_the_sample_and_filters_change_it(site: str, browser: Any) -> None:
    page = new_page(browser)
    page.goto(f"{site}/embed/activities")
    assert page.locator("h1").count() == 1 and page.locator("main").count() == 1
    assert page.locator("article.card").count() == 30
    before = page.locator("[role=status]").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "listing.png"), full_page=False)
    page.select_option("#f-municipality", "564")  # auto-submits with JavaScript
    page.wait_for_url("**municipality=564**")
    after = page.locator("[role=status]").inner_text()
    assert after != before
    wheres = page.locator("article.card dd").all_inner_texts()
    assert any("Oulu" in text for text in wheres)
    page.select_option("#f-lang", "sv")
    page.wait_for_url("**lang=sv**")
    assert page.locator("html").get_attribute("lang") == "sv"


def test_keyboard_alone_reaches_every_link(site: str, browser: Any) -> None:
    page = new_page(browser)
    page.goto(f"{site}/embed/activities?municipality=Kuusamo")
    expected = set(page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"))
    reached = set()
    for _ in range(len(expected) * 3 + 40):
        page.keyboard.press("Tab")
        href = page.evaluate("document.activeElement.href || null")
        if href:
            reached.add(href)
        if reached >= expected:
            break
    assert reached >= expected
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_iframe_reports_its_height_to_the_host(site: str, browser: Any) -> None:
    page = new_page(browser)
    page.goto(f"{site}/healthz")  # any same-origin page to host the iframe
    page.set_content(f"""<html><body><script>
        window.heights = [];
        addEventListener('message', e => {{ if (e.data && e.data.type === 'lahella-bridge:height')
            window.heights.push(e.data.height); }});
        </script><iframe id="f" src="{site}/embed/activities?theme=turvallisuus"
        style="width:100%;height:200px"></iframe></body></html>""")
    page.wait_for_function("window.heights.length > 0", timeout=10000)
    assert max(page.evaluate("window.heights")) > 400


def test_script_embed_renders_into_the_host_element(site: str, browser: Any) -> None:
    page = new_page(browser)
    page.goto(f"{site}/healthz")
    page.set_content(f"""<html><body><main><div data-lahella-bridge data-municipality="564"
        data-lang="fi"></div></main><script src="{site}/embed/widget.js"></script></body></html>""")
    page.wait_for_selector("[data-lahella-bridge] article.card", timeout=10000)
    assert page.locator("[data-lahella-bridge] article.card").count() > 0


def test_referral_flow_produces_a_sheet_and_a_pdf(site: str, browser: Any) -> None:
    page = new_page(browser)
    page.goto(f"{site}/referral?segment=satunnainen-tuettu&municipality=564")
    steps = page.locator("#steps-heading + ol li").all_inner_texts()
    assert len(steps) == 7 and steps[0].startswith("Ota asiakkaan kanssa")
    names = page.locator("article.card h3").all_inner_texts()[:2]
    boxes = page.locator("input[name=ids]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="Tee asiakkaalle tuloste").click()
    page.wait_for_url("**/referral/sheet**")
    assert page.locator("article.sheet-item").count() == 2
    assert page.locator("article.sheet-item svg").count() == 2  # QR codes
    record = page.locator("textarea").input_value()
    assert all(name in record for name in names)
    page.screenshot(path=str(ARTIFACTS / "sheet.png"), full_page=True)
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    (ARTIFACTS / "sheet.pdf").write_bytes(pdf)


def test_xss_payloads_from_the_upstream_run_no_script(
    site: str, browser: Any, upstream: SampleUpstream
) -> None:
    page = new_page(browser)
    page.goto(f"{site}/embed/activities?q=XSS-testi")
    assert page.locator("article.card").count() == len(XSS)
    ids = page.eval_on_selector_all(
        "article.card", "els => els.map(e => e.getAttribute('aria-labelledby').slice(2))"
    )
    for url in (
        f"{site}/embed/activities?q=XSS-testi",
        f"{site}/referral?q=XSS-testi&segment=laaja-tuettu",
        f"{site}/referral/sheet?ids={','.join(ids)}",
    ):
        page.goto(url)
        page.wait_for_load_state("load")
        for link in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            assert not link.lower().startswith("javascript:")
        assert page.evaluate("window.__xss === undefined"), url
        assert DIALOGS == []
