"""Linked Events and HSDS clients: every parameter of the profiles' own references either
works, documented in our OpenAPI document, or is refused by name; free text is bounded."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

SPECS = Path(__file__).parent / "specs"
LINKED_EVENTS = SPECS / "linkedevents.public-get.yaml"
HSDS = SPECS / "hsds" / "openapi.json"
# Reference path -> ours, for every Linked Events and HSDS operation we serve.
LINKED_EVENTS_PATHS = {
    f"/{kind}/{suffix}": f"/linkedevents/v1/{kind}/{ours}"
    for kind, detail in [
        ("event", "{event_id}/"),
        ("place", "{place_id}/"),
        ("keyword", "{keyword_id}/"),
        ("organization", "{organization_id}/"),
        ("language", "{code}/"),
    ]
    for suffix, ours in [("", ""), ("{id}/", detail)]
}
HSDS_PATHS = {
    f"/{kind}{suffix}": f"/hsds/{kind}{ours}"
    for kind, detail in [
        ("services", "/{service_id}"),
        ("organizations", "/{organization_id}"),
        ("service_at_locations", "/{sal_id}"),
        ("taxonomies", "/{taxonomy_id}"),
        ("taxonomy_terms", "/{term_id}"),
    ]
    for suffix, ours in [("", ""), ("/{id}", detail)]
}
pytestmark = pytest.mark.usefixtures("harvested")


@cache
def reference(path: Path) -> dict[str, Any]:
    text = path.read_text("utf-8")
    return dict(json.loads(text) if path.suffix == ".json" else yaml.safe_load(text))


def query_parameters(document: dict[str, Any], path: str) -> list[str]:
    """The query parameter names of `GET path` in an OpenAPI document, $refs resolved."""
    item = document["paths"][path]
    shared = document.get("components", {}).get("parameters", {})
    declared = [*item.get("parameters", []), *item["get"].get("parameters", [])]
    resolved = [shared[p["$ref"].rsplit("/", 1)[-1]] if "$ref" in p else p for p in declared]
    return [p["name"] for p in resolved if p["in"] == "query"]


def example(parameter: dict[str, Any]) -> Any:
    if "example" in parameter:
        return parameter["example"]
    examples = parameter.get("examples") or parameter.get("schema", {}).get("examples")
    if isinstance(examples, dict):
        return next(iter(examples.values()))["value"]
    return examples[0] if examples else None


def as_query_value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


async def concrete(api: httpx.AsyncClient, path: str) -> str:
    """`path` with its path parameter (if any) the id of the first item of its list."""
    if "{" not in path:
        return path
    list_path = re.sub(r"/\{[^}]+\}(/?)$", r"\1", path)
    listing = (await api.get(list_path)).json()
    first = (listing.get("data") or listing.get("contents"))[0]
    return re.sub(r"\{[^}]+\}", str(first.get("id") or first.get("@id")), path)


async def walk(
    api: httpx.AsyncClient, document: dict[str, Any], paths: dict[str, str]
) -> list[str]:
    """Each reference parameter of each operation: with our documented example it answers
    200; undocumented, it answers 422 naming it. Returns what did neither."""
    ours = (await api.get("/openapi.json")).json()["paths"]
    wrong = []
    for theirs, path in paths.items():
        documented = {
            p["name"]: p for p in ours[path]["get"].get("parameters", []) if p["in"] == "query"
        }
        url = await concrete(api, path)
        for name in query_parameters(document, theirs):
            if name in documented:
                value = as_query_value(example(documented[name]))
                response = await api.get(url, params={name: value})
                if response.status_code != 200:
                    wrong.append(f"{path}?{name}={value}: {response.status_code} {response.text}")
                continue
            response = await api.get(url, params={name: "1"})
            detail = response.json().get("detail", "") if response.status_code == 422 else ""
            if name not in detail:
                wrong.append(f"{path}?{name}=1: {response.status_code}, neither works nor refused")
    return wrong


async def test_every_query_parameter_of_the_profiles_is_documented_with_an_example(
    api: httpx.AsyncClient,
) -> None:
    """Generated clients can send only what the document declares."""
    paths = (await api.get("/openapi.json")).json()["paths"]
    lists = [*LINKED_EVENTS_PATHS.values(), *HSDS_PATHS.values()]
    for path in (p for p in lists if "{" not in p):
        parameters = [p for p in paths[path]["get"].get("parameters", []) if p["in"] == "query"]
        assert parameters, f"{path} declares no query parameter"
        for parameter in parameters:
            assert parameter.get("description"), (path, parameter["name"])
            assert example(parameter) is not None, (path, parameter["name"])
    filters = {p["name"] for p in paths["/linkedevents/v1/event/"]["get"]["parameters"]}
    assert {"start", "end", "keyword", "keyword!", "keyword_AND", "text", "division"} <= filters
    filters = {p["name"] for p in paths["/hsds/services"]["get"]["parameters"]}
    assert {"search", "taxonomy_term_id", "organization_id", "modified_after"} <= filters


async def test_each_linked_events_reference_parameter_works_or_is_refused_by_name(
    api: httpx.AsyncClient,
) -> None:
    assert await walk(api, reference(LINKED_EVENTS), LINKED_EVENTS_PATHS) == []


async def test_each_hsds_reference_parameter_works_or_is_refused_by_name(
    api: httpx.AsyncClient,
) -> None:
    assert await walk(api, reference(HSDS), HSDS_PATHS) == []


async def test_super_event_type_lists_only_super_events_of_that_type(
    api: httpx.AsyncClient,
) -> None:
    """Linked Events: `recurring` gives the recurring super events, `none` every event that
    is not a super event, `umbrella` (which we do not have) nothing."""

    async def listed(query: str) -> tuple[int, list[dict[str, Any]]]:
        body = (await api.get(f"/linkedevents/v1/event/?{query}&page_size=100")).json()
        return body["meta"]["count"], body["data"]

    everything, _ = await listed("sort=start_time")
    recurring, supers = await listed("super_event_type=recurring")
    plain, others = await listed("super_event_type=none")
    assert 0 < recurring < everything and 0 < plain < everything
    assert recurring + plain == everything
    assert all(e["super_event_type"] == "recurring" and e["sub_events"] for e in supers)
    assert all(e["super_event_type"] is None for e in others)
    assert (await listed("super_event_type=recurring,none"))[0] == everything
    assert (await listed("super_event_type=umbrella"))[0] == 0
    wrong = await api.get("/linkedevents/v1/event/?super_event_type=weekly")
    assert wrong.status_code == 400 and "super_event_type" in wrong.json()["detail"]


async def test_hsds_taxonomy_term_id_takes_the_id_the_code_or_the_slug(
    api: httpx.AsyncClient,
) -> None:
    terms = (await api.get("/hsds/taxonomy_terms?per_page=100")).json()["contents"]
    theme = next(t for t in terms if t["code"] == "theme:fyysinen-terveys")
    counts = [
        (await api.get("/hsds/services", params={"taxonomy_term_id": value})).json()["total_items"]
        for value in (theme["id"], theme["code"], "fyysinen-terveys")
    ]
    assert counts[0] > 0 and counts == [counts[0]] * 3
    unknown = await api.get("/hsds/services?taxonomy_term_id=no-such-term")
    assert unknown.status_code == 400
    assert "no-such-term" in unknown.json()["detail"]


FREE_TEXT = [
    "/linkedevents/v1/event/?text=",
    "/linkedevents/v1/event/?combined_text=",
    "/linkedevents/v1/keyword/?text=",
    "/hsds/services?search=",
    "/hsds/services?format=ndjson&search=",
    "/hsds/organizations?search=",
]


async def test_free_text_over_the_limit_is_a_422_in_the_profile_shape(
    api: httpx.AsyncClient,
) -> None:
    """A crafted 60,000-character search made PostgreSQL's parser fail ("stack depth limit
    exceeded"), answered as 503 "Database unavailable"; many words the same."""
    # As sent in a URL ("+" is a space): 60,000 characters of one word, and of 10,000 words.
    crafted = {"many words": "kuoro+" * 10_000, "60,000 characters": "a" * 60_000}
    for url in FREE_TEXT:
        for kind, value in crafted.items():
            response = await api.get(url + value)
            assert response.status_code == 422, (url, kind, response.text[:200])
            assert response.headers["content-type"] == "application/json", (url, kind)
            assert re.search(r"at most \d+ characters", response.json()["detail"]), (url, kind)
        within = await api.get(url + " ".join(["kuoro"] * 33))  # 197 characters
        assert within.status_code == 200, (url, within.text[:200])


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/hsds/services", {}),
        ("/hsds/services", {"search": "kuoro"}),
        ("/hsds/services", {"search": "no-such-words"}),
        ("/hsds/organizations", {}),
        ("/hsds/service_at_locations", {}),
        ("/hsds/taxonomies", {}),
        ("/hsds/taxonomy_terms", {}),
    ],
)
async def test_hsds_pages_past_the_end_are_a_404_in_the_profile_shape(
    api: httpx.AsyncClient, path: str, query: dict[str, str]
) -> None:
    """As Linked Events answers, not an empty page a client would follow further."""
    first = (await api.get(path, params={**query, "per_page": "50"})).json()
    last = max(1, first["total_pages"])
    assert (await api.get(path, params={**query, "per_page": "50", "page": last})).is_success
    beyond = await api.get(path, params={**query, "per_page": "50", "page": last + 1})
    assert beyond.status_code == 404
    assert beyond.headers["content-type"] == "application/json"
    assert "Invalid page" in beyond.json()["detail"]
