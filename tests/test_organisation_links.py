"""Organisations link to what they offer: PTV bodies list their services and areas as PTV
does, and /v1's list shows each organisation's activity count, in one query per page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from lahella_bridge.app import create_app
from lahella_bridge.config import Settings
from tests.test_normalise import validator


@pytest.fixture
async def counted_api(
    database_url: str, both: AsyncEngine
) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    """The real app, with every SQL statement it sends recorded."""
    app = create_app(Settings(harvest_interval_minutes=0), database_url)
    statements: list[str] = []
    async with app.router.lifespan_context(app):

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, statements


async def service_ids_of(api: httpx.AsyncClient, organisation_id: str) -> set[str]:
    ids: set[str] = set()
    url: str | None = f"/v1/activities?organization={organisation_id}&page_size=100"
    while url:
        body = (await api.get(url)).json()
        ids |= {item["id"] for item in body["items"]}
        url = body["next"]
    return ids


async def test_ptv_organisations_list_their_services_and_areas_schema_valid(
    counted_api: tuple[httpx.AsyncClient, list[str]],
) -> None:
    api, _ = counted_api
    schema = validator("V10VmOpenApiOrganization")
    guids = (await api.get("/ptv/v11/Organization")).json()["itemList"]
    assert len(guids) > 10
    ids = ",".join(g["id"] for g in guids)
    listed = (await api.get("/ptv/v11/Organization/list", params={"guids": ids})).json()
    assert len(listed) == len(guids)
    for body in listed:
        schema.validate(body)
        one = (await api.get(f"/ptv/v11/Organization/{body['id']}")).json()
        assert one["services"] == body["services"] and one["areas"] == body["areas"]
        expected = await service_ids_of(api, body["id"])
        assert expected, f"organisation {body['id']} offers nothing"
        assert {s["service"]["id"] for s in body["services"]} == expected
        assert all(
            s["roleType"] == "Responsible" and s["service"]["name"] for s in body["services"]
        )
        service_areas = set()
        for service_id in expected:
            service = (await api.get(f"/ptv/v11/Service/{service_id}")).json()
            service_areas |= {a["code"] for a in service["areas"]}
        assert {a["code"] for a in body["areas"]} == service_areas
        if body["areas"]:
            assert body["areaType"] == "LimitedType"
            assert all(a["type"] == "Municipality" and a["name"] for a in body["areas"])


async def test_ptv_organisations_of_a_municipality_carry_their_services(
    counted_api: tuple[httpx.AsyncClient, list[str]],
) -> None:
    api, _ = counted_api
    oulu = (await api.get("/ptv/v11/Organization/list/area/Municipality/code/564")).json()
    assert oulu["itemList"]
    for body in oulu["itemList"]:
        validator("V10VmOpenApiOrganization").validate(body)
        assert "564" in {a["code"] for a in body["areas"]}
        assert body["services"]


async def test_organisation_list_shows_the_detail_activity_count_in_one_query_per_page(
    counted_api: tuple[httpx.AsyncClient, list[str]],
) -> None:
    api, statements = counted_api
    page = (await api.get("/v1/organizations?page_size=100")).json()
    assert len(page["items"]) == page["count"] > 10
    for item in page["items"]:
        detail = (await api.get(f"/v1/organizations/{item['id']}")).json()
        assert item["activities"] == detail["activities"] and detail["activities"] > 0
    statements.clear()
    await api.get("/v1/organizations?page_size=2&page=2")
    few = reads_of_the_page(statements)
    statements.clear()
    await api.get("/v1/organizations?page_size=99&page=1")
    assert reads_of_the_page(statements) == few == 3  # count, page, activity counts


def reads_of_the_page(statements: list[str]) -> int:
    """Statements that read organisations or activities (not the data-version probe,
    which runs at most once a second whatever the request)."""
    return sum(1 for s in statements if "FROM organisations" in s or "FROM activities" in s)
