"""Hostile upstream text, raw and entity-encoded, harvested through the real client, never
becomes markup on any page: the parsed DOM (Python's HTML parser for the server-rendered
pages, Chromium's DOM for the widget in a host page without CSP) has no element or
attribute from it, and the text that is no tag is shown as text."""

from __future__ import annotations

import html
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import quote

import httpx
import pytest

from lahella_bridge.harvest import Harvester
from lahella_bridge.sample.upstream import SampleUpstream
from tests.chromium import chromium, host_page, live_service, needs_chromium, open_page
from tests.kept_harvests import KeptHarvests

MARKER = "Vihamielinen"
# Every element a payload would create carries data-hostile; its handlers call alert().
PAYLOADS = [
    "<img src=x onerror=alert(1) data-hostile>",
    "<script data-hostile>alert(2)</script>",
    '" onmouseover="alert(3)" data-hostile="',
    "' onfocus='alert(4)' autofocus data-hostile='",
    "</textarea><svg data-hostile onload=alert(5)>",
    "--><img src=x onerror=alert(6) data-hostile><!--",
]
# The upstream's fields are HTML-ish: the same payloads come raw and entity-encoded.
VARIANTS = [*PAYLOADS, *(html.escape(p) for p in PAYLOADS)]
# Elements no page of ours has (its QR codes are SVG: a payload's svg has data-hostile).
LIVE_MARKUP = {"img", "iframe", "object", "embed", "frame", "math"}
PAYLOAD_ATTRIBUTES = {"data-hostile", "autofocus"}


def poison(upstream: SampleUpstream) -> None:
    """One record per variant, the variant in every text field a page shows."""
    for index, payload in enumerate(VARIANTS):
        record = upstream.records[100 + index]
        traits = record["traits"]
        fi = traits["translations"]["fi"]
        fi["name"] = f"{MARKER} {index} {payload}"
        fi["summary"] = f"<p>{payload}</p>"
        fi["pricing"] = payload
        record["links"]["groups"][0]["name"] = payload
        channel = traits["channels"][0]
        texts = channel.setdefault("translations", {}).setdefault("fi", {})
        texts.setdefault("address", {})["street"] = payload
        texts["registration"] = payload
        channel["registrationUrl"] = f"https://example.org/{payload}"
        traits["contacts"][0]["value"] = payload


class Dom(HTMLParser):
    """Elements, attributes and text as an HTML parser reads the page."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def markup_from_payloads(elements: list[tuple[str, dict[str, str | None]]]) -> list[str]:
    """Elements and attributes no page of ours has but the payloads would make."""
    found = []
    for tag, attrs in elements:
        if tag in LIVE_MARKUP:
            found.append(f"<{tag}>")
        if tag == "script" and not (attrs.get("src") or "").endswith("/embed/frame.js"):
            found.append("<script> without our src")
        found += [f"<{tag} {n}>" for n in attrs if n.startswith("on") or n in PAYLOAD_ATTRIBUTES]
        href = (attrs.get("href") or "").strip().lower()
        if href.startswith(("javascript:", "data:")):
            found.append(f"<{tag} href={href[:20]}>")
    return found


def assert_inert(markup: str) -> None:
    dom = Dom(markup)
    assert markup_from_payloads(dom.elements) == []
    assert_read_the_hostile_records("".join(dom.text))


def assert_read_the_hostile_records(text: str) -> None:
    """The page shows the poisoned records' text (so the check above had something to find):
    payloads that are no tag as they are; tag-like ones were dropped from plain text at
    harvest (richtext.html_to_text), so they cannot be shown."""
    for payload in PAYLOADS:
        if "<" not in payload:
            assert payload.strip() in text


@pytest.fixture
async def poisoned(
    harvester: Harvester,
    upstream: SampleUpstream,
    api: httpx.AsyncClient,
    kept_harvests: KeptHarvests,
) -> list[str]:
    """The hostile records harvested through the real client; their ids."""
    poison(upstream)
    (report,) = await kept_harvests.run(harvester, upstream)
    assert report.status == "succeeded", report.error
    found = await api.get("/v1/activities", params={"q": MARKER, "page_size": 50})
    ids = [item["id"] for item in found.json()["items"]]
    assert len(ids) == len(VARIANTS)
    return ids


@pytest.mark.parametrize(
    "path",
    [
        f"/embed/activities?q={MARKER}",
        f"/embed/activities?q={MARKER}&lang=en",
        f"/embed/activities?q={MARKER}&fragment=true",
        f"/embed/activities?q={MARKER}&fragment=true&lang=sv",
        f"/referral?q={MARKER}&segment=laaja-tuettu",
    ],
)
async def test_listing_pages_show_hostile_text_as_text(
    poisoned: list[str], api: httpx.AsyncClient, path: str
) -> None:
    response = await api.get(path)
    assert response.status_code == 200
    assert response.text.count('class="card"') == len(VARIANTS)
    assert_inert(response.text)


@pytest.mark.parametrize(
    "path", ["/embed/activities", "/embed/activities?fragment=true&lang=sv", "/referral"]
)
@pytest.mark.parametrize("payload", PAYLOADS)
async def test_a_hostile_search_is_echoed_as_text(
    poisoned: list[str], api: httpx.AsyncClient, path: str, payload: str
) -> None:
    """The pages echo the visitor's own search into the form (an attribute) and the page:
    the other place where text we did not write meets the markup. Plain text from the
    upstream is cleaned at harvest, so this is where escaping alone keeps the page inert."""
    separator = "&" if "?" in path else "?"
    response = await api.get(f"{path}{separator}q={quote(payload)}")
    assert response.status_code == 200
    dom = Dom(response.text)
    assert markup_from_payloads(dom.elements) == []
    if "fragment" not in path:  # the full pages carry the search form
        assert any(attributes.get("value") == payload for _, attributes in dom.elements)


async def test_client_sheet_shows_hostile_text_as_text(
    poisoned: list[str], api: httpx.AsyncClient
) -> None:
    response = await api.get("/referral/sheet", params={"ids": ",".join(poisoned)})
    assert response.status_code == 200
    assert response.text.count('class="sheet-item"') == len(VARIANTS)
    assert_inert(response.text)


def test_the_parser_finds_the_payloads_when_they_are_markup() -> None:
    """The check itself: each payload, pasted into a page unescaped, is caught."""
    for payload in PAYLOADS:
        page = f"<p>{payload}</p><a href=\"{payload}\">x</a><a href='{payload}'>x</a>"
        assert markup_from_payloads(Dom(page).elements), payload


@pytest.fixture
def site(poisoned: list[str], database_url: str) -> Iterator[str]:
    with live_service(database_url) as url:
        yield url


CHROMIUM_FINDINGS = """host => {
    const found = [];
    for (const el of host.querySelectorAll('*')) {
        const tag = el.tagName.toLowerCase();
        if (['script', 'img', 'svg', 'iframe', 'object', 'embed', 'math'].includes(tag))
            found.push('<' + tag + '>');
        for (const attr of el.getAttributeNames())
            if (attr.startsWith('on') || attr === 'data-hostile' || attr === 'autofocus')
                found.push('<' + tag + ' ' + attr + '>');
    }
    return found;
}"""


@needs_chromium
def test_widget_in_a_host_page_without_csp_builds_no_markup_from_text(site: str) -> None:
    hostile_attribute = html.escape(PAYLOADS[0], quote=True)
    with chromium() as browser:
        page, dialogs = open_page(browser)
        host_page(
            page,
            f"{site}/host.html",
            f"""<!doctype html><html lang="fi"><head><title>Host</title></head><body>
            <div id="listing" data-lahella-bridge data-q="{MARKER}"></div>
            <div id="attributes" data-lahella-bridge data-q="{hostile_attribute}"></div>
            <div id="refused" data-lahella-bridge data-municipality="{hostile_attribute}"></div>
            <script src="{site}/embed/widget.js"></script></body></html>""",
        )
        page.wait_for_selector("#listing article.card", timeout=10000)
        page.wait_for_function("document.querySelector('#attributes [role=status]')")
        page.wait_for_function("document.querySelector('#refused').textContent")
        page.wait_for_load_state("networkidle")
        page.hover("#listing article.card")
        assert page.locator("#listing article.card").count() == len(VARIANTS)
        for host in ("#listing", "#attributes", "#refused"):
            assert page.eval_on_selector(host, CHROMIUM_FINDINGS) == []
        assert_read_the_hostile_records(page.inner_text("#listing"))
        assert dialogs == []
