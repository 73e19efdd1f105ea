"""A response the cache answers is the response the whole stack sends: for every cacheable
GET of the OpenAPI document, the first request (computed), the next ones (the cache layer
inside, then the outermost replay) and their 304s carry the same status and headers, bar
the request id, with and without an Origin, for GET and HEAD, gzip accepted or not.

The outermost layer replays headers the other layers gave an entry (CORS for the
request's Origin, the policy headers): if it kept them for the wrong kind of request, a
site would read another's CORS answer, or a 304 a 200's headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from lahella_bridge.app import create_app
from lahella_bridge.config import Settings
from lahella_bridge.web.cacheable import cacheable_paths
from tests.conftest import serving
from tests.openapi_paths import concrete_paths

pytestmark = pytest.mark.usefixtures("harvested")

ELSEWHERE = "https://digitaalinensotekeskus.pohde.fi"
ORIGINS = (None, ELSEWHERE)
ENCODINGS = ("identity", "gzip")

Headers = list[tuple[str, str]]


def without_request_id(response: httpx.Response) -> Headers:
    assert len(response.headers.get_list("x-request-id")) == 1, response.url
    return [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]


@asynccontextmanager
async def fresh_app(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A new app: an empty response cache."""
    async with serving(create_app(Settings(harvest_interval_minutes=0), database_url)) as client:
        yield client


async def cacheable_urls(api: httpx.AsyncClient, database_url: str) -> list[str]:
    """Each cacheable GET of the document that answers 200 without parameters (a list of
    PTV ids needs them), bare and, for a paged list, as a second page."""
    spec = (await api.get("/openapi.json")).json()
    cacheable = cacheable_paths(create_app(Settings(), database_url).routes)
    urls = [
        path
        for path in await concrete_paths(api, spec)
        if cacheable(path) and (await api.get(path)).status_code == 200
    ]
    paged = {
        path
        for path, ops in spec["paths"].items()
        if any(p["name"] == "page_size" for p in ops.get("get", {}).get("parameters", []))
    }
    return urls + [f"{path}?page_size=2&page=2" for path in paged if path in urls]


async def requests_of_one_kind(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> dict[str, list[httpx.Response]]:
    """The requests of one kind, in order: the first GET (computed if no other kind came
    first), GETs and HEADs after it, then the same revalidated with its ETag."""
    first = await client.get(url, headers=headers)
    assert first.status_code == 200, url
    full = [first]
    for method in ("HEAD", "GET", "HEAD", "GET"):
        full.append(await client.request(method, url, headers=headers))
    revalidate = {**headers, "If-None-Match": first.headers["etag"]}
    not_modified = [await client.request(m, url, headers=revalidate) for m in ("GET", "HEAD") * 2]
    return {"full": full, "not_modified": not_modified}


async def test_a_cached_response_has_the_headers_of_the_computed_one(
    api: httpx.AsyncClient, database_url: str
) -> None:
    urls = await cacheable_urls(api, database_url)
    assert {"/v1/activities", "/v1/events.ics", "/linkedevents/v1/event/", "/hsds/"} <= set(urls)
    seen: dict[tuple[str, str, str | None], dict[str, Headers]] = {}
    # Each kind of request computes the entry in one app (it comes first there) and is
    # answered from the cache the other kind filled in the other app.
    for origins in (ORIGINS, ORIGINS[::-1]):
        async with fresh_app(database_url) as client:
            for url in urls:
                for encoding in ENCODINGS:
                    for origin in origins:
                        headers = {"Accept-Encoding": encoding}
                        if origin is not None:
                            headers["Origin"] = origin
                        kind = await requests_of_one_kind(client, url, headers)
                        full, not_modified = kind["full"], kind["not_modified"]
                        first = full[0]
                        assert [r.status_code for r in full] == [200] * 5, url
                        assert [r.status_code for r in not_modified] == [304] * 4, url
                        assert all(r.content == first.content for r in full[::2]), url
                        assert not any(r.content for r in full[1::2] + not_modified), url
                        replies = {
                            "full": {repr(without_request_id(r)) for r in full},
                            "not_modified": {repr(without_request_id(r)) for r in not_modified},
                        }
                        assert len(replies["full"]) == 1, (url, headers, replies["full"])
                        assert len(replies["not_modified"]) == 1, (url, headers)
                        allowed = first.headers.get("access-control-allow-origin")
                        assert allowed == ("*" if origin else None), (url, headers)
                        key = (url, encoding, origin)
                        if key in seen:  # the same in both apps, whichever kind came first
                            assert seen[key] == {k: v.pop() for k, v in replies.items()}, key
                        else:
                            seen[key] = {k: v.pop() for k, v in replies.items()}
    assert len(seen) == len(urls) * len(ENCODINGS) * len(ORIGINS)
