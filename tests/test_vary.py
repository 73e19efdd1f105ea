"""Every response whose body depends on Accept-Language or Accept says so in `Vary`, so
no shared cache (a proxy, a CDN, a browser) gives a Swedish page to a Finnish reader.

A property over every GET operation of the OpenAPI document (path parameters from the
document's own links, filled with real ids of the harvested sample) and the pages for
people: if changing the header changes the body, `Vary` names the header."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ADMIN_KEY
from tests.openapi_paths import concrete_paths

pytestmark = pytest.mark.usefixtures("harvested")

VARIATIONS = {
    "accept-language": ["sv", "en"],
    "accept": ["application/json", "application/ld+json", "text/calendar", "text/html"],
}
PAGES_FOR_PEOPLE = ["/embed/activities", "/embed/activities?fragment=true", "/referral"]


async def test_vary_names_every_header_the_body_depends_on(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    activity = (await api.get("/v1/activities?page_size=1")).json()["items"][0]["id"]
    paths = [
        *await concrete_paths(api, spec),
        *PAGES_FOR_PEOPLE,
        f"/referral/sheet?ids={activity}",
    ]
    missing, depends = [], set()
    for path in paths:
        key = {"X-API-Key": ADMIN_KEY} if path.startswith("/admin/") else {}
        base = await api.get(path, headers=key)
        if (await api.get(path, headers=key)).content != base.content:
            continue  # changes by itself (a clock in the body): a header cannot be blamed
        for header, values in VARIATIONS.items():
            for value in values:
                varied = await api.get(path, headers={**key, header: value})
                if varied.content == base.content:
                    continue
                depends.add((path, header))
                if header not in _vary(varied) or header not in _vary(base):
                    missing.append((path, header, value))
    assert not missing, f"Vary does not name the header the body depends on: {missing}"
    # The property was exercised: these do depend on the headers.
    assert ("/v1/activities", "accept-language") in depends
    assert ("/v1/events", "accept") in depends and ("/referral", "accept-language") in depends


def _vary(response: httpx.Response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("vary", "").split(",")}
