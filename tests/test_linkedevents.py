"""The Linked Events v1 profile, validated against the public-GET spec for every record."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

SPEC = Path(__file__).parent / "specs" / "linkedevents.public-get.yaml"
HELSINKI = ZoneInfo("Europe/Helsinki")
pytestmark = pytest.mark.usefixtures("harvested")


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 `nullable` as JSON Schema: the value may be null whatever the rest says
    (the way Linked Events' own serializers and the reference's validator read it)."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {k: as_json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [{"type": "null"}, converted]}
    return converted


@cache
def spec() -> dict[str, Any]:
    return dict(as_json_schema(yaml.safe_load(SPEC.read_text("utf-8"))))


def validate(schema: str, body: Any) -> None:
    document = spec()
    Draft202012Validator(
        {**document["components"]["schemas"][schema], "components": document["components"]}
    ).validate(body)


async def pages(api: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        body = (await api.get(next_url)).json()
        validate(
            {
                "event": "PaginatedEventList",
                "place": "PaginatedPlaceList",
                "keyword": "PaginatedKeywordList",
                "organization": "PaginatedOrganizationListList",
            }[url.split("/")[3]],
            body,
        )
        items += body["data"]
        next_url = body["next"] if "next" in body else body["meta"]["next"]
    return items


async def test_every_list_and_detail_body_validates(api: httpx.AsyncClient) -> None:
    events = await pages(api, "/linkedevents/v1/event/?page_size=100&hide_recurring_children=true")
    assert len(events) > 300
    for event in events[:40]:
        detail = (await api.get(event["@id"].replace("http://testserver", ""))).json()
        validate("Event", detail)
    for kind, schema in (
        ("place", "Place"),
        ("keyword", "Keyword"),
        ("organization", "OrganizationList"),
    ):
        items = await pages(api, f"/linkedevents/v1/{kind}/?page_size=100")
        assert items
        for item in items[:10]:
            detail = await api.get(item["@id"].replace("http://testserver", ""))
            assert detail.status_code == 200
            validate(schema, detail.json())


async def test_references_resolve_and_include_embeds_them(api: httpx.AsyncClient) -> None:
    body = (await api.get("/linkedevents/v1/event/?page_size=5")).json()
    event = body["data"][0]
    for ref in [event["location"], *event["keywords"], *event["in_language"]]:
        assert (await api.get(ref["@id"].replace("http://testserver", ""))).status_code == 200
    embedded = (
        await api.get("/linkedevents/v1/event/?page_size=5&include=location,keywords")
    ).json()["data"][0]
    assert embedded["location"]["@type"] == "Place" and embedded["keywords"][0]["name"]
    validate("Event", embedded)


async def test_recurring_activities_are_super_events_with_sub_events(
    api: httpx.AsyncClient,
) -> None:
    supers = (
        await api.get("/linkedevents/v1/event/?hide_recurring_children=true&page_size=100")
    ).json()["data"]
    recurring = next(e for e in supers if e["super_event_type"] == "recurring")
    assert recurring["sub_events"]
    children = (
        await api.get(f"/linkedevents/v1/event/?super_event={recurring['id']}&page_size=100")
    ).json()
    assert children["meta"]["count"] == len(recurring["sub_events"])
    # The listed sub-event references are the ids the sessions are served under.
    assert [s["@id"] for s in recurring["sub_events"]] == [c["@id"] for c in children["data"]]
    child = children["data"][0]
    assert child["super_event"]["@id"] == recurring["@id"]
    top = (await api.get("/linkedevents/v1/event/?super_event=none")).json()["data"]
    assert all(e["super_event"] is None for e in top)


@pytest.mark.parametrize(
    "query",
    [
        "keyword=pohde:theme-fyysinen-terveys",
        "keyword=pohde:theme-turvallisuus,pohde:theme-paihteet-ja-riippuvuudet",
        "keyword_AND=pohde:theme-fyysinen-terveys,pohde:stage-kotona-kaikki-hyvin",
        "keyword!=pohde:theme-fyysinen-terveys",
        "division=ocd-division/country:fi/kunta:oulu",
        "bbox=25.3,64.9,25.6,65.1",
        "text=kuoro",
        "language=fi",
        "is_free=true",
        "start=today&end=today",
        "start=now&days=7",
        "sort=-start_time",
        "sort=name",
        "sort=last_modified_time",
        "last_modified_since=2020-01-01",
        "show_deleted=true",
        "hide_recurring_children=true",
    ],
)
async def test_each_parameter_narrows_or_orders_the_list(
    api: httpx.AsyncClient, query: str
) -> None:
    everything = (await api.get("/linkedevents/v1/event/")).json()["meta"]["count"]
    response = await api.get(f"/linkedevents/v1/event/?{query}&page_size=50")
    assert response.status_code == 200
    body = response.json()
    validate("PaginatedEventList", body)
    if not query.startswith(("sort", "show_deleted", "last_modified")):
        assert 0 < body["meta"]["count"] < everything


async def test_keyword_filter_matches_the_keyword(api: httpx.AsyncClient) -> None:
    body = (
        await api.get("/linkedevents/v1/event/?keyword=pohde:theme-turvallisuus&page_size=50")
    ).json()
    assert all(
        any(k["@id"].endswith("/keyword/pohde:theme-turvallisuus/") for k in e["keywords"])
        for e in body["data"]
    )
    excluded = (
        await api.get("/linkedevents/v1/event/?keyword!=pohde:theme-turvallisuus&page_size=50")
    ).json()
    assert not any(
        any(k["@id"].endswith("/keyword/pohde:theme-turvallisuus/") for k in e["keywords"])
        for e in excluded["data"]
    )


async def test_unknown_parameters_are_ignored_and_bad_values_are_400(
    api: httpx.AsyncClient,
) -> None:
    assert (await api.get("/linkedevents/v1/event/?foo=1")).status_code == 200
    # A parameter of the reference that we lack is not an unknown one: 422 names it.
    lacking = await api.get("/linkedevents/v1/event/?publisher_ancestor=x&foo=1")
    assert lacking.status_code == 422 and "publisher_ancestor" in lacking.json()["detail"]
    bad = await api.get("/linkedevents/v1/event/?start=someday")
    assert bad.status_code == 400 and "detail" in bad.json()
    assert (await api.get("/linkedevents/v1/event/?page=9999")).status_code == 404
    assert (await api.get("/linkedevents/v1/event/lahella:nope/")).status_code == 404


async def test_a_client_from_the_spec_gets_the_same_events_as_v1(api: httpx.AsyncClient) -> None:
    """Page all Oulu events of the next 90 days both ways: the same sessions."""
    # From tomorrow's midnight: no session is under way at the window's start.
    start = datetime.combine(
        datetime.now(HELSINKI).date() + timedelta(days=1), datetime.min.time(), tzinfo=HELSINKI
    )
    end = start + timedelta(days=90)
    le_events = await pages(
        api,
        "/linkedevents/v1/event/?division=ocd-division/country:fi/"
        f"kunta:oulu&start={start.isoformat().replace('+', '%2B')}"
        f"&end={end.isoformat().replace('+', '%2B')}&page_size=100"
        "&hide_recurring_children=false",
    )
    sessions = {
        (e["name"]["fi"], e["start_time"]) for e in le_events if e["super_event_type"] is None
    }
    v1: set[tuple[str, str]] = set()
    url: str | None = (
        f"/v1/events?municipality=564&page_size=100&lang=fi"
        f"&start={start.isoformat().replace('+', '%2B')}"
        f"&end={end.isoformat().replace('+', '%2B')}"
    )
    while url:
        body = (await api.get(url)).json()
        v1 |= {(e["name"], datetime.fromisoformat(e["starts"]).isoformat()) for e in body["items"]}
        url = body["next"]
    assert sessions and sessions == v1


def _quoted(moment: datetime) -> str:
    return moment.isoformat().replace("+", "%2B")


@pytest.mark.parametrize(
    "query",
    [
        "",
        "&division=ocd-division/country:fi/kunta:oulu",
        "&division=ocd-division/country:fi/kunta:raahe,ocd-division/country:fi/kunta:kuusamo"
        "&keyword=pohde:theme-fyysinen-terveys,pohde:theme-mielen-hyvinvointi",
        "&division=ocd-division/country:fi/kunta:oulu&keyword_AND=pohde:theme-fyysinen-terveys",
        "&keyword!=pohde:theme-fyysinen-terveys",
    ],
)
async def test_the_calendar_query_lists_the_same_events_whatever_the_sort(
    api: httpx.AsyncClient, query: str
) -> None:
    """By start time the list is read from the session indexes; by name through the general
    join. Both must agree, including sessions already going on at the window's start."""
    sessions = (await api.get("/v1/events?page_size=100")).json()["items"]
    going_on = next(s for s in sessions if s["ends"] and s["ends"] > s["starts"])
    start = datetime.fromisoformat(going_on["starts"]) + timedelta(minutes=1)
    window = f"start={_quoted(start)}&end={_quoted(start + timedelta(days=10))}{query}"
    by_start = await pages(api, f"/linkedevents/v1/event/?{window}&page_size=100")
    by_name = await pages(api, f"/linkedevents/v1/event/?{window}&page_size=100&sort=name")
    assert by_start and sorted(e["id"] for e in by_start) == sorted(e["id"] for e in by_name)
    starts = [datetime.fromisoformat(e["start_time"]) for e in by_start]
    assert starts == sorted(starts)
    if not query:
        assert any(
            e["super_event_type"] is None and moment < start
            for e, moment in zip(by_start, starts, strict=True)
        )
