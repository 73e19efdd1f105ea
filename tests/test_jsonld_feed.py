"""The schema.org JSON-LD event list can be read to its end from the JSON-LD alone, and
every physical place it names has a name (what search engines show for `location`)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.usefixtures("harvested")
JSON_LD = {"Accept": "application/ld+json"}
HYDRA = "http://www.w3.org/ns/hydra/core#"


async def test_json_ld_pages_link_to_the_next_until_every_event_is_seen(
    api: httpx.AsyncClient,
) -> None:
    listed = (await api.get("/v1/events?page_size=100")).json()
    assert listed["count"] > 250
    seen: list[str] = []
    url: str | None = "/v1/events?page_size=100"
    pages = 0
    while url:
        body = (await api.get(url, headers=JSON_LD)).json()
        assert body["@context"][0] == "https://schema.org"
        assert body["@context"][1]["hydra"] == HYDRA
        view = body["hydra:view"]
        assert view["@type"] == "hydra:PartialCollectionView"
        assert ("hydra:previous" in view) == (pages > 0)
        seen += [element["item"]["@id"] for element in body["itemListElement"]]
        url = view["hydra:next"]["@id"] if "hydra:next" in view else None
        pages += 1
    assert pages == -(-listed["count"] // 100)
    assert len(seen) == len(set(seen)) == listed["count"] == body["numberOfItems"]


async def test_every_json_ld_place_has_a_name(api: httpx.AsyncClient) -> None:
    body = (await api.get("/v1/events?page_size=100", headers=JSON_LD)).json()
    locations = [element["item"]["location"] for element in body["itemListElement"]]
    places = [location for location in locations if location["@type"] == "Place"]
    assert places
    for place in places:
        assert place["name"]
        street = place.get("address", {}).get("streetAddress")
        if street:
            assert street in place["name"]
