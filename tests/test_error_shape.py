"""One error shape on every surface: whatever refuses a request (an unknown path, a wrong
method, the admin key, the parameter checks), the answer is an RFC 9457 problem that the
service's own OpenAPI `Problem` schema accepts; and HEAD works wherever GET does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator
from sqlalchemy.ext.asyncio import AsyncEngine

from lahella_bridge.app import create_app
from lahella_bridge.config import Settings
from tests.conftest import ADMIN_KEY, serving

# One GET route of each surface, and a path under its prefix that does not exist.
SURFACES = {
    "/v1": "/v1/activities",
    "/ptv": "/ptv/v11/Service",
    "/linkedevents": "/linkedevents/v1/event/",
    "/hsds": "/hsds/services",
    "/embed": "/embed/activities",
    "/referral": "/referral",
    "/admin": "/admin/harvests",
}
ADMIN = {"X-API-Key": ADMIN_KEY}


async def problem_schema(api: httpx.AsyncClient) -> OAS30Validator:
    spec = (await api.get("/openapi.json")).json()
    return OAS30Validator(spec["components"]["schemas"]["Problem"])


def assert_problem(
    schema: OAS30Validator, response: httpx.Response, status: int, path: str
) -> dict[str, Any]:
    assert response.status_code == status, (path, response.text)
    assert response.headers["content-type"] == "application/problem+json", (path, response.text)
    body: dict[str, Any] = response.json()
    schema.validate(body)
    assert body["status"] == status and body["instance"] == path.split("?")[0]
    return body


@pytest.mark.parametrize("surface", SURFACES)
async def test_unknown_path_is_a_404_problem(
    api: httpx.AsyncClient, db: AsyncEngine, surface: str
) -> None:
    schema = await problem_schema(api)
    path = f"{surface}/no-such-thing"
    body = assert_problem(schema, await api.get(path, headers=ADMIN), 404, path)
    assert body["title"] == "Not Found"


@pytest.mark.parametrize("surface", SURFACES)
async def test_wrong_method_is_a_405_problem_with_allow(
    api: httpx.AsyncClient, db: AsyncEngine, surface: str
) -> None:
    schema = await problem_schema(api)
    path = SURFACES[surface]
    response = await api.delete(path, headers=ADMIN)
    body = assert_problem(schema, response, 405, path)
    assert body["title"] == "Method Not Allowed"
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}


async def test_post_only_route_allows_post_alone(api: httpx.AsyncClient, db: AsyncEngine) -> None:
    response = await api.get("/admin/harvest", headers=ADMIN)
    assert_problem(await problem_schema(api), response, 405, "/admin/harvest")
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("surface", SURFACES)
async def test_head_answers_as_get_without_a_body(
    api: httpx.AsyncClient, db: AsyncEngine, surface: str
) -> None:
    path = SURFACES[surface]
    got = await api.get(path, headers=ADMIN)
    head = await api.head(path, headers=ADMIN)
    assert got.status_code == head.status_code == 200, (path, head.status_code)
    assert head.content == b""
    for header in ("content-type", "content-length", "etag", "cache-control"):
        assert head.headers.get(header) == got.headers.get(header), header


@pytest.fixture
async def api_without_admin_key(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(harvest_interval_minutes=0, admin_api_key=None), database_url)
    async with serving(app) as client:
        yield client


async def test_disabled_admin_is_a_403_problem_titled_forbidden(
    api_without_admin_key: httpx.AsyncClient,
) -> None:
    schema = await problem_schema(api_without_admin_key)
    response = await api_without_admin_key.get("/admin/harvests", headers=ADMIN)
    body = assert_problem(schema, response, 403, "/admin/harvests")
    assert body["title"] == "Forbidden"


INVALID = {
    "/v1": ("/v1/activities", {"stage": "nope", "theme": "nope", "page": "0", "bogus": "1"}),
    "/v1 events": ("/v1/events", {"municipality": "Atlantis", "bbox": "1,2", "limit": "5"}),
    "/ptv": ("/ptv/v11/Service", {"page": "0", "bogus": "1", "other": "2"}),
    "/embed": ("/embed/activities", {"near": "x", "activity_type": "nope", "bogus": "1"}),
    "/referral": ("/referral", {"target_group": "nope", "page": "x", "bogus": "1"}),
    "/admin": ("/admin/harvests", {"limit": "0", "bogus": "1"}),
}


@pytest.mark.parametrize("surface", INVALID)
async def test_every_refused_parameter_is_listed(
    api: httpx.AsyncClient, db: AsyncEngine, surface: str
) -> None:
    schema = await problem_schema(api)
    path, query = INVALID[surface]
    response = await api.get(path, params=query, headers=ADMIN)
    body = assert_problem(schema, response, 422, path)
    assert sorted(e["parameter"] for e in body["errors"]) == sorted(query)
    for name in query:
        assert name in body["detail"]


async def test_every_get_operation_of_the_document_answers_head(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    spec = (await api.get("/openapi.json")).json()
    paths = [p for p, ops in spec["paths"].items() if "get" in ops and "{" not in p]
    assert len(paths) > 30
    for path in paths:
        got = await api.get(path, headers=ADMIN)
        head = await api.head(path, headers=ADMIN)
        assert (head.status_code, head.content) == (got.status_code, b""), path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
