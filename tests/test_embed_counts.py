"""The listing's stage buttons count what clicking them shows, under the current filters;
a theme filter puts that theme's heading first."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from lahella_bridge.harvest import Harvester
from lahella_bridge.taxonomy import taxonomy

FOUND = re.compile(r"Löytyi (\d+) toimintaa")


class Listing(HTMLParser):
    """The stage buttons (link, count) and the headings of the result groups."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.buttons: list[tuple[str, int]] = []
        self.group_ids: list[str] = []
        self._href: str | None = None
        self._text = ""
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and "stage=" in (values.get("href") or ""):
            self._href, self._text = values["href"], ""
        if tag == "h2" and (values.get("id") or "").startswith("t-"):
            self.group_ids.append(str(values["id"])[2:])

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            count = re.search(r"\((\d+)\)\s*$", self._text)
            assert count, self._text
            self.buttons.append((self._href, int(count.group(1))))
            self._href = None


def found(markup: str) -> int:
    match = FOUND.search(markup)
    return int(match.group(1)) if match else 0


@pytest.mark.parametrize(
    "query",
    [
        "municipality=564",
        "municipality=564&theme=mielen-hyvinvointi",
        "q=vertais",
        "municipality=Kuusamo&stage=kotona-kaikki-hyvin",
    ],
)
async def test_stage_buttons_count_what_they_lead_to(
    harvested: Harvester, api: httpx.AsyncClient, query: str
) -> None:
    listing = Listing((await api.get(f"/embed/activities?{query}")).text)
    assert len(listing.buttons) == len(taxonomy().stages)
    shown = []
    for href, count in listing.buttons:
        shown.append(found((await api.get(f"/embed/activities{href}")).text))
        assert count == shown[-1], href
    assert sum(shown) > 0


async def test_a_theme_filter_puts_that_theme_first(
    harvested: Harvester, api: httpx.AsyncClient
) -> None:
    tried = 0
    for theme in taxonomy().themes:
        response = await api.get("/embed/activities", params={"theme": theme.slug})
        groups = Listing(response.text).group_ids
        if found(response.text):
            tried += 1
            assert groups == [theme.slug]
    assert tried >= 3
