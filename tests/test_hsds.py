"""The HSDS 3.0 profile: every body validates against the vendored HSDS schemas."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPECS = Path(__file__).parent / "specs" / "hsds"
PAGE_KEYS = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
}
pytestmark = pytest.mark.usefixtures("harvested")


@cache
def registry() -> Registry:
    resources = [
        (
            path.name,
            Resource.from_contents(
                json.loads(path.read_text("utf-8")), default_specification=DRAFT202012
            ),
        )
        for path in SPECS.glob("*.json")
    ]
    return Registry().with_resources(resources)


def validate(name: str, body: Any) -> None:
    schema = json.loads((SPECS / name).read_text("utf-8"))
    Draft202012Validator(schema, registry=registry(), format_checker=FormatChecker()).validate(body)


def no_nulls(value: Any) -> bool:
    if isinstance(value, dict):
        return all(v is not None and no_nulls(v) for v in value.values())
    if isinstance(value, list):
        return all(no_nulls(v) for v in value)
    return True


async def all_pages(api: httpx.AsyncClient, url: str, item_schema: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body = (await api.get(f"{url}{'&' if '?' in url else '?'}page={page}&per_page=100")).json()
        assert set(body) == PAGE_KEYS and body["page_number"] == page
        for item in body["contents"]:
            validate(item_schema, item)
            assert no_nulls(item)
        items += body["contents"]
        if body["last_page"]:
            return items
        page += 1


async def test_root_names_the_version_profile_and_openapi(api: httpx.AsyncClient) -> None:
    root = (await api.get("/hsds/")).json()
    assert root["version"] == "3.0" and root["openapi_url"].endswith("/openapi.json")
    assert (await api.get(root["profile"].replace("http://testserver", ""))).status_code == 200


async def test_every_service_validates_as_list_item_and_as_full_record(
    api: httpx.AsyncClient,
) -> None:
    services = await all_pages(api, "/hsds/services", "service_list.json")
    assert len(services) == 317
    for service in services:
        full = (await api.get(f"/hsds/services/{service['id']}")).json()
        validate("service.json", full)
        assert no_nulls(full) and full["service_at_locations"]


async def test_organizations_service_at_locations_and_taxonomy(api: httpx.AsyncClient) -> None:
    organizations = await all_pages(api, "/hsds/organizations", "organization_list.json")
    detail = (await api.get(f"/hsds/organizations/{organizations[0]['id']}")).json()
    validate("organization.json", detail)
    assert detail["services"]
    locations = await all_pages(api, "/hsds/service_at_locations", "service_at_location_list.json")
    one = (await api.get(f"/hsds/service_at_locations/{locations[0]['id']}")).json()
    validate("service_at_location.json", one)
    taxonomies = await all_pages(api, "/hsds/taxonomies", "taxonomy.json")
    terms = await all_pages(api, "/hsds/taxonomy_terms", "taxonomy_term.json")
    assert len(taxonomies) == 1 and len(terms) == 7 + 11 + 12
    term = (await api.get(f"/hsds/taxonomy_terms/{terms[0]['id']}")).json()
    validate("taxonomy_term.json", term)


async def test_list_filters_are_cumulative(api: httpx.AsyncClient) -> None:
    terms = (await api.get("/hsds/taxonomy_terms?per_page=100")).json()["contents"]
    theme = next(t for t in terms if t["code"] == "theme:fyysinen-terveys")
    everything = (await api.get("/hsds/services")).json()["total_items"]
    by_term = (await api.get(f"/hsds/services?taxonomy_term_id={theme['id']}")).json()
    assert 0 < by_term["total_items"] < everything
    both = (await api.get(f"/hsds/services?taxonomy_term_id={theme['id']}&search=kuntosali")).json()
    assert 0 < both["total_items"] < by_term["total_items"]
    org_id = by_term["contents"][0]["organization_id"]
    by_org = (await api.get(f"/hsds/services?organization_id={org_id}")).json()
    assert all(s["organization_id"] == org_id for s in by_org["contents"])
    assert (await api.get("/hsds/services?modified_after=2999-01-01")).json()["empty"]
    unknown = await api.get(f"/hsds/services?taxonomy_id={org_id}")
    assert unknown.json()["total_items"] == 0
    minimal = (await api.get("/hsds/services?minimal=true")).json()["contents"][0]
    assert set(minimal) <= {"id", "name", "status", "organization_id"}
    full = (await api.get("/hsds/services?full=true&per_page=2")).json()["contents"][0]
    validate("service.json", full)


async def test_ndjson_streams_every_record(api: httpx.AsyncClient) -> None:
    response = await api.get("/hsds/services?format=ndjson")
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert len(lines) == 317
    for line in lines[:20]:
        validate("service_list.json", line)
