"""A page past the end of a list is a 404 problem that says where the list ends, as Linked
Events answers, on /v1 and /ptv; the last page and the first page of an empty list stay 200."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lahella_bridge.sample.ptv_upstream import SamplePtvUpstream
from lahella_bridge.sample.upstream import SampleUpstream
from tests.conftest import make_harvester
from tests.kept_harvests import KeptHarvests


@pytest.fixture
async def both(
    db: AsyncEngine,
    upstream: SampleUpstream,
    ptv_upstream: SamplePtvUpstream,
    anchor: date,
    kept_harvests: KeptHarvests,
) -> AsyncEngine:
    harvester = make_harvester(db, upstream, anchor, ptv_upstream=ptv_upstream)
    (report,) = await kept_harvests.run(harvester, upstream, ptv_upstream)
    assert report.status == "succeeded", report.error
    return db


def assert_past_the_end(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "past the end" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/v1/activities", "/v1/organizations", "/v1/events"])
async def test_v1_page_after_the_last_is_a_404_problem(
    both: AsyncEngine, api: httpx.AsyncClient, path: str
) -> None:
    first = (await api.get(path, params={"page_size": 7})).json()
    last = -(-first["count"] // 7)
    assert last >= 2, first["count"]
    last_page = await api.get(path, params={"page_size": 7, "page": last})
    assert last_page.status_code == 200 and last_page.json()["items"]
    assert last_page.json()["next"] is None
    assert_past_the_end(await api.get(path, params={"page_size": 7, "page": last + 1}))
    assert_past_the_end(await api.get(path, params={"page_size": 7, "page": 99_999}))


async def test_v1_first_page_of_an_empty_list_is_an_empty_page(
    db: AsyncEngine, api: httpx.AsyncClient
) -> None:
    empty = await api.get("/v1/activities")
    assert empty.status_code == 200
    assert empty.json() == {"count": 0, "next": None, "previous": None, "items": []}
    assert_past_the_end(await api.get("/v1/activities", params={"page": 2}))


@pytest.mark.parametrize(
    "path",
    [
        "/ptv/v11/Service",
        "/ptv/v11/ServiceChannel",
        "/ptv/v11/Organization",
        "/ptv/v11/Service/list/area/Municipality/code/564",
    ],
)
async def test_ptv_page_after_the_last_is_a_404_problem(
    both: AsyncEngine, api: httpx.AsyncClient, path: str
) -> None:
    first = (await api.get(path)).json()
    assert first["itemList"] and first["pageCount"] >= 1
    after = first["pageCount"] + 1
    assert_past_the_end(await api.get(path, params={"page": after}))
    assert_past_the_end(await api.get(path, params={"page": 99_999}))
