"""The embed speaks the host page's language, never the visitor's browser's; text that
fell back to another language says which (`lang`), so screen readers pronounce it right."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from lahella_bridge.harvest import Harvester
from lahella_bridge.sample.upstream import SampleUpstream
from lahella_bridge.taxonomy import taxonomy
from tests.chromium import chromium, host_page, live_service, needs_chromium, open_page

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip
ENGLISH_BROWSER = {"Accept-Language": "en-GB,en;q=0.9"}


class LangDom(HTMLParser):
    """Each element's tag, attributes, text and effective language (its nearest `lang`)."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict[str, Any]] = []
        self.open: list[dict[str, Any]] = []
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        inherited = self.open[-1]["lang"] if self.open else ""
        element = {"tag": tag, "attrs": values, "lang": values.get("lang") or inherited, "text": ""}
        self.elements.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop()["tag"] != tag:
            pass

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element["text"] += data

    def select(self, tag: str, css_class: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.elements
            if e["tag"] == tag
            and (css_class is None or css_class in (e["attrs"].get("class") or "").split())
        ]


def upstream_texts(upstream: SampleUpstream) -> set[tuple[str, str]]:
    """(language, text) of every upstream name, summary, price and registration text."""
    found = set()
    for record in upstream.records:
        traits = record.get("traits")
        if not isinstance(traits, dict):
            continue
        translations = [traits.get("translations") or {}] + [
            c.get("translations") or {} for c in traits.get("channels") or []
        ]
        for by_lang in translations:
            for lang, fields in by_lang.items():
                for key in ("name", "summary", "pricing", "registration"):
                    text = re.sub(r"<[^>]+>", " ", str(fields.get(key) or ""))
                    if text.strip():
                        found.add((lang, " ".join(text.split())))
    return found


def in_language(element: dict[str, Any], texts: set[tuple[str, str]]) -> bool:
    return (element["lang"], " ".join(element["text"].split())) in texts


async def test_listing_is_finnish_for_an_english_browser_without_lang(
    harvested: Harvester, api: httpx.AsyncClient
) -> None:
    for path in ("/embed/activities", "/embed/activities?fragment=true"):
        response = await api.get(path, headers=ENGLISH_BROWSER)
        assert LangDom(response.text).elements[0]["lang"] == "fi", path
        assert "Löytyi" in response.text and "found" not in response.text, path


async def test_listing_follows_its_lang_parameter(
    harvested: Harvester, api: httpx.AsyncClient
) -> None:
    response = await api.get("/embed/activities?lang=sv&fragment=true", headers=ENGLISH_BROWSER)
    assert LangDom(response.text).elements[0]["lang"] == "sv"
    assert "verksamheter hittades" in response.text


@pytest.mark.parametrize("lang", ["en", "sv"])
async def test_text_in_another_language_than_the_page_carries_its_lang(
    harvested: Harvester, upstream: SampleUpstream, api: httpx.AsyncClient, lang: str
) -> None:
    texts = upstream_texts(upstream)
    page = LangDom((await api.get(f"/embed/activities?lang={lang}")).text)
    cards = page.select("h3")
    assert len(cards) == 30
    fields = cards + page.select("p", "summary") + page.select("span", "price")
    fields += page.select("span", "registration")
    wrong = [(e["lang"], e["text"]) for e in fields if not in_language(e, texts)]
    assert wrong == []
    assert "fi" in {e["lang"] for e in cards}  # some names fell back: the check has work
    municipalities = taxonomy().municipalities
    for option in page.select("option"):
        if option["attrs"]["value"] in municipalities:
            labels = municipalities[option["attrs"]["value"]].labels
            assert labels.get(option["lang"]) == option["text"]


async def test_client_sheet_marks_text_in_another_language(
    harvested: Harvester, upstream: SampleUpstream, api: httpx.AsyncClient
) -> None:
    texts = upstream_texts(upstream)
    found = (await api.get("/v1/activities", params={"page_size": 20})).json()["items"]
    ids = ",".join(item["id"] for item in found)
    page = LangDom((await api.get("/referral/sheet", params={"ids": ids, "lang": "en"})).text)
    fields = page.select("h2", "name") + page.select("p", "summary")
    fields += page.select("span", "registration") + page.select("span", "price")
    assert len(page.select("h2", "name")) == 20
    assert [(e["lang"], e["text"]) for e in fields if not in_language(e, texts)] == []


@pytest.fixture
def site(harvested: Harvester, database_url: str) -> Iterator[str]:
    with live_service(database_url) as url:
        yield url


@needs_chromium
def test_widget_speaks_data_lang_then_the_host_pages_lang_then_finnish(site: str) -> None:
    cases = {"sv-FI": ("", "sv"), "en": ("sv", "sv"), "": ("", "fi"), "de": ("", "fi")}
    with chromium() as browser:
        for host_lang, (data_lang, expected) in cases.items():
            page, _ = open_page(browser, locale="en-US")
            host_page(
                page,
                f"{site}/host.html",
                f"""<!doctype html><html lang="{host_lang}"><head><title>Host</title></head>
                <body><div data-lahella-bridge data-municipality="564" data-lang="{data_lang}">
                </div><script src="{site}/embed/widget.js"></script></body></html>""",
            )
            page.wait_for_selector(".lb-listing article.card", timeout=10000)
            listing = page.locator(".lb-listing")
            assert listing.get_attribute("lang") == expected, (host_lang, data_lang)
            page.close()
