"""One client's Host header never reaches another client's links: absolute URLs are built
on `public_base_url`, or on an allowed Host, and the response cache keys on that base."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from lahella_bridge.app import create_app
from lahella_bridge.config import Settings, SettingsError, load_settings
from tests.conftest import serving

pytestmark = pytest.mark.usefixtures("harvested")

# Every kind of absolute link: list paging, Linked Events @id and paging, the embed's
# script URL, the HSDS root, JSON-LD and the RPDE change feed.
LINKING = [
    ("/v1/activities?page_size=2", {}),
    ("/v1/organizations?page_size=2", {}),
    ("/linkedevents/v1/event/?page_size=2", {}),
    ("/linkedevents/v1/keyword/", {}),
    ("/embed/activities", {}),
    ("/hsds/", {}),
    ("/v1/events?page_size=2", {"Accept": "application/ld+json"}),
    ("/v1/changes/activities?limit=2", {}),
]


@pytest.fixture
async def public(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(harvest_interval_minutes=0, public_base_url="https://tapahtumat.pohde.fi")
    async with serving(create_app(settings, database_url)) as client:
        yield client


async def test_a_request_for_another_host_is_refused_and_poisons_nothing(
    api: httpx.AsyncClient,
) -> None:
    for url, headers in LINKING:
        evil = await api.get(url, headers={**headers, "Host": "evil.example"})
        assert evil.status_code == 400, url
        assert evil.headers["content-type"] == "application/problem+json"
        assert evil.json()["title"] == "Bad Request"
        ordinary = await api.get(url, headers=headers)
        assert ordinary.status_code == 200, url
        assert "evil.example" not in ordinary.text, url
        assert "http://testserver/" in ordinary.text, url


async def test_each_allowed_host_gets_its_own_links_from_the_cache(
    api: httpx.AsyncClient,
) -> None:
    """Two allowed names for the same service: the cached body of one is not the other's."""
    for url, headers in LINKING:
        first = await api.get(url, headers={**headers, "Host": "localhost:8000"})
        second = await api.get(url, headers=headers)
        assert "http://localhost:8000/" in first.text, url
        assert "localhost" not in second.text and "http://testserver/" in second.text, url


async def test_with_a_public_base_url_every_link_uses_it_whatever_the_host(
    public: httpx.AsyncClient,
) -> None:
    for url, headers in LINKING:
        for host in ("evil.example", "testserver", "10.0.0.7:8000"):
            response = await public.get(url, headers={**headers, "Host": host})
            assert response.status_code == 200, (url, host)
            assert "https://tapahtumat.pohde.fi/" in response.text, (url, host)
            assert host.split(":")[0] not in response.text, (url, host)


def test_the_public_base_url_is_an_origin() -> None:
    assert load_settings(public_base_url="https://x.example/").public_base_url == (
        "https://x.example"
    )
    for bad in ("x.example", "ftp://x.example", "https://x.example/bridge", "https://"):
        with pytest.raises(SettingsError, match="LAHELLA_BRIDGE_PUBLIC_BASE_URL"):
            load_settings(public_base_url=bad)


def test_allowed_hosts_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAHELLA_BRIDGE_ALLOWED_HOSTS", "tapahtumat.pohde.fi, localhost")
    assert load_settings().allowed_hosts == ["tapahtumat.pohde.fi", "localhost"]
