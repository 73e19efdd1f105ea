"""The publishing API through the real ASGI app, on the harvested sample data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from icalendar import Calendar
from openapi_schema_validator import OAS31Validator

from lahella_bridge import ptv_acceptance
from lahella_bridge.harvest import Harvester
from lahella_bridge.sample.upstream import SampleUpstream
from tests.conftest import ADMIN_KEY
from tests.test_normalise import validator

pytestmark = pytest.mark.usefixtures("harvested")


async def all_pages(api: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        body = (await api.get(next_url)).json()
        items += body["items"]
        next_url = body["next"]
    return items


async def test_paging_to_the_end_visits_every_activity_once(api: httpx.AsyncClient) -> None:
    first = (await api.get("/v1/activities?page_size=50")).json()
    items = await all_pages(api, "/v1/activities?page_size=50")
    assert len(items) == first["count"] == 317
    assert len({item["id"] for item in items}) == 317


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ("municipality=Oulu", lambda a: any(m["code"] == "564" for m in a["municipalities"])),
        ("municipality=564", lambda a: any(m["code"] == "564" for m in a["municipalities"])),
        (
            "stage=sahkoiset-kanavat",
            lambda a: any(s["slug"] == "sahkoiset-kanavat" for s in a["stages"]),
        ),
        (
            "theme=paihteet-ja-riippuvuudet",
            lambda a: "paihteet-ja-riippuvuudet" in [t["slug"] for t in a["themes"]],
        ),
        (
            "activity_type=vertaistuki",
            lambda a: "vertaistuki" in [t["slug"] for t in a["activity_types"]],
        ),
        ("is_free=true", lambda a: a["is_free"] is True),
        ("online=true", lambda a: a["online"] is True),
        ("q=vertais", lambda a: "ertais" in (a["name"] + (a["summary"] or "")).lower()),
        (
            "near=65.0121,25.4651&radius_km=5",
            lambda a: any(c["city"] == "Oulu" for c in a["channels"]),
        ),
        (
            "bbox=25.3,64.9,25.6,65.1",
            lambda a: any(c["lat"] and 64.9 <= c["lat"] <= 65.1 for c in a["channels"]),
        ),
    ],
)
async def test_each_filter_narrows_to_matching_activities(
    api: httpx.AsyncClient, query: str, check: Any
) -> None:
    body = (await api.get(f"/v1/activities?page_size=100&{query}")).json()
    assert 0 < body["count"] < 317
    assert all(check(item) for item in body["items"])


async def test_filters_combine(api: httpx.AsyncClient) -> None:
    one = (await api.get("/v1/activities?municipality=Oulu")).json()["count"]
    both = (await api.get("/v1/activities?municipality=Oulu&is_free=true")).json()["count"]
    assert 0 < both < one


async def test_finnish_full_text_search_matches_inflected_words(api: httpx.AsyncClient) -> None:
    body = (await api.get("/v1/activities?q=kuoroja")).json()
    assert body["count"] > 0
    assert all(
        "kuoro" in (item["name"] + (item["summary"] or "") + item["organisation"]["name"]).lower()
        for item in body["items"]
    )


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("municipality=Helsinki", "municipality"),
        ("stage=nope", "stage"),
        ("page_size=1000", "page_size"),
        ("bbox=1,2,3", "bbox"),
        ("colour=red", "colour"),
        ("near=95,10", "near"),
        ("is_free=maybe", "is_free"),
        ("updated_since=1700000000", "updated_since"),
    ],
)
async def test_bad_parameters_are_422_naming_the_parameter(
    api: httpx.AsyncClient, query: str, parameter: str
) -> None:
    response = await api.get(f"/v1/activities?{query}")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert parameter in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        (
            "/v1/changes/activities?afterTimestamp=891217307126637703200768"
            "&afterId=4de85b18-3273-2304-9f56-960400c56e50",
            422,
            "afterTimestamp",
        ),
        ("/v1/events?start=9999-12-31T23:59:59-05:00", 422, "start: "),
        ("/v1/events?start=9999-12-31T00:00:00Z", 422, "start: "),
        ("/v1/activities?updated_since=9999-12-31T00:00:00Z", 422, "updated_since: "),
        ("/ptv/v11/Service?date=0001-01-01T00:00:00%2B05:00", 422, "date: "),
        ("/v1/activities?q=kuoro%00", 422, "NUL"),
        ("/linkedevents/v1/event/?text=kuoro%00", 422, "NUL"),
        ("/linkedevents/v1/event/?page=99999999999999999999", 404, "Invalid page"),
        ("/linkedevents/v1/place/?page=99999999999999999999", 404, "Invalid page"),
        ("/linkedevents/v1/event/?days=99999999999", 400, "days"),
        ("/linkedevents/v1/event/?days=-5", 400, "days"),
        ("/linkedevents/v1/event/?last_modified_since=9999-12-31T23:59:59-05:00", 400, "2999"),
        ("/linkedevents/v1/event/?bbox=nan,nan,nan,nan", 400, "bbox"),
        ("/hsds/services?page=99999999999999999999", 400, "page"),
        ("/hsds/organizations?search=kuoro%00", 422, "NUL"),
        ("/hsds/services?format=ndjson&search=kuoro%00", 422, "NUL"),
    ],
)
async def test_values_beyond_what_the_database_holds_are_client_errors(
    api: httpx.AsyncClient, url: str, status: int, says: str
) -> None:
    """Not a 503 "database unavailable" (nor a 500): the request is at fault."""
    response = await api.get(url)
    assert response.status_code == status
    assert says in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "operation"),
    [
        ("/v1/activities?stage=nope", "/v1/activities"),
        ("/v1/activities/00000000-0000-0000-0000-000000000000", "/v1/activities/{activity_id}"),
        ("/v1/changes/activities?afterTimestamp=1", "/v1/changes/activities"),
        ("/ptv/v11/Service/00000000-0000-0000-0000-000000000000", "/ptv/v11/Service/{id}"),
        ("/admin/harvests", "/admin/harvests"),
        ("/linkedevents/v1/event/?sort=colour", "/linkedevents/v1/event/"),
        ("/linkedevents/v1/event/?page=9999", "/linkedevents/v1/event/"),
        ("/linkedevents/v1/place/nope/", "/linkedevents/v1/place/{place_id}/"),
        ("/hsds/services?page=first", "/hsds/services"),
        ("/hsds/services/nope", "/hsds/services/{service_id}"),
    ],
)
async def test_error_responses_are_as_the_openapi_document_says(
    api: httpx.AsyncClient, url: str, operation: str
) -> None:
    """Developers code against /openapi.json: each error's status, media type and body."""
    spec = (await api.get("/openapi.json")).json()
    response = await api.get(url)
    assert response.status_code >= 400
    documented = spec["paths"][operation]["get"]["responses"][str(response.status_code)]
    media_type = response.headers["content-type"].split(";")[0]
    schema = documented["content"][media_type]["schema"]
    OAS31Validator({**schema, "components": spec["components"]}).validate(response.json())


async def test_every_openapi_link_opens_the_first_listed_item(api: httpx.AsyncClient) -> None:
    """The document's links (list -> detail) hold for real data: id at the pointer, 200."""
    spec = (await api.get("/openapi.json")).json()
    paths = {op["operationId"]: path for path, ops in spec["paths"].items() for op in ops.values()}
    followed = 0
    for path, ops in spec["paths"].items():
        for link in (
            ops.get("get", {}).get("responses", {}).get("200", {}).get("links", {}).values()
        ):
            listed = (await api.get(path)).json()
            ((parameter, expression),) = link["parameters"].items()
            value: Any = listed
            for step in expression.removeprefix("$response.body#/").split("/"):
                value = value[int(step)] if isinstance(value, list) else value[step]
            target = paths[link["operationId"]].replace(f"{{{parameter}}}", str(value))
            assert (await api.get(target)).status_code == 200, (path, target)
            followed += 1
    assert followed == 15


async def test_activity_detail_says_why_it_was_placed(api: httpx.AsyncClient) -> None:
    item = (await api.get("/v1/activities?q=vertaistukiryhmä&page_size=1")).json()["items"][0]
    detail = (await api.get(f"/v1/activities/{item['id']}")).json()
    assert detail["stages"] and all(stage["because"] for stage in detail["stages"])
    assert detail["organisation"]["name"]
    missing = await api.get("/v1/activities/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404


async def test_languages_fall_back_per_field(api: httpx.AsyncClient) -> None:
    swedish = (await api.get("/v1/activities?municipality=Oulu&lang=sv&page_size=100")).json()
    names = {item["name"] for item in swedish["items"]}
    assert any(" i Uleåborg" not in n and "–" in n for n in names)  # fi fallback present
    accept = await api.get("/v1/themes", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert accept.json()[0]["label"] == "Housing, environment and nature"


async def test_xss_in_upstream_text_is_inert(api: httpx.AsyncClient) -> None:
    items = await all_pages(api, "/v1/activities?page_size=100&q=kerho")
    html = json.dumps([(await api.get(f"/v1/activities/{i['id']}")).json() for i in items])
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html


async def test_events_in_a_window_are_ordered_with_helsinki_offsets(
    api: httpx.AsyncClient,
) -> None:
    body = (await api.get("/v1/events?page_size=100")).json()
    starts = [datetime.fromisoformat(e["starts"]) for e in body["items"]]
    assert body["count"] > 100 and starts == sorted(starts)
    assert all(e["starts"][-6:] in ("+02:00", "+03:00") for e in body["items"])
    too_long = await api.get("/v1/events?start=2026-01-01T00:00:00Z&end=2027-06-01T00:00:00Z")
    assert too_long.status_code == 422 and "end" in too_long.json()["detail"]


async def test_events_filter_by_municipality_and_theme(api: httpx.AsyncClient) -> None:
    all_events = (await api.get("/v1/events")).json()["count"]
    body = (await api.get("/v1/events?municipality=Oulu&theme=fyysinen-terveys")).json()
    assert 0 < body["count"] < all_events
    assert all(e["municipality"]["code"] == "564" for e in body["items"])


@pytest.mark.parametrize(
    "query",
    [
        "",
        "municipality=564",
        "theme=vapaa-aika-ja-kulttuuri",
        "municipality=Oulu&theme=fyysinen-terveys",
        "municipality=305&start=2026-01-01T00:00:00Z&end=2026-12-31T00:00:00Z",
    ],
)
async def test_the_calendar_index_path_gives_what_the_general_query_gives(
    api: httpx.AsyncClient, query: str
) -> None:
    # `kind=activity` matches every session but forces the general join of activities, so
    # the covering-index answer for the calendar's common filters is checked against it.
    fast = await all_pages(api, f"/v1/events?page_size=100&{query}")
    general = await all_pages(api, f"/v1/events?page_size=100&kind=activity&{query}")
    assert fast and [e["id"] for e in fast] == [e["id"] for e in general]


async def test_ics_feed_parses_back_with_stable_uids(api: httpx.AsyncClient) -> None:
    first = await api.get("/v1/events.ics?municipality=Oulu")
    assert first.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(first.content)
    events = list(calendar.walk("VEVENT"))
    assert events and all(str(e["UID"]).endswith("@lahella-bridge") for e in events)
    assert str(events[0]["DTSTART"].dt.tzinfo) == "Europe/Helsinki"
    second = Calendar.from_ical((await api.get("/v1/events.ics?municipality=Oulu")).content)
    assert [str(e["UID"]) for e in second.walk("VEVENT")] == [str(e["UID"]) for e in events]


async def test_json_ld_events_use_the_schema_org_context(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/events?page_size=5", headers={"Accept": "application/ld+json"})
    body = response.json()
    assert response.headers["content-type"] == "application/ld+json"
    assert body["@context"][0] == "https://schema.org"
    assert body["itemListElement"][0]["item"]["@type"] == "Event"


async def test_etags_give_304_on_revalidation(api: httpx.AsyncClient) -> None:
    first = await api.get("/v1/activities")
    etag = first.headers["etag"]
    again = await api.get("/v1/activities", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert (await api.get("/v1/stages", headers={"If-None-Match": etag})).status_code == 200


async def test_stages_in_order_with_types_counts_and_items(api: httpx.AsyncClient) -> None:
    stages = (await api.get("/v1/stages?items_per_stage=2")).json()
    assert [s["order"] for s in stages] == list(range(1, 8))
    assert stages[0]["label"] == "Kotona kaikki hyvin" and stages[0]["activities"] > 0
    assert len(stages[6]["activity_types"]) == 12 and len(stages[0]["items"]["items"]) == 2


async def test_organizations_and_municipalities(api: httpx.AsyncClient) -> None:
    orgs = (await api.get("/v1/organizations?page_size=100")).json()
    assert orgs["count"] > 10
    one = (await api.get(f"/v1/organizations/{orgs['items'][0]['id']}")).json()
    assert one["activities"] > 0
    municipalities = (await api.get("/v1/municipalities")).json()
    assert len(municipalities) == 30 and sum(m["activities"] > 0 for m in municipalities) >= 10


async def replay(api: httpx.AsyncClient, url: str) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for _ in range(200):
        body = (await api.get(url)).json()
        for item in body["items"]:
            if item["state"] == "deleted":
                state.pop(item["id"], None)
            else:
                state[item["id"]] = item["data"]
        if not body["items"]:
            assert body["next"].endswith(url.split("/", 3)[-1]) or body["next"] == url
            return state
        url = body["next"]
    raise AssertionError("the feed never ended")


async def test_changes_feed_replay_reaches_the_current_set_including_deletions(
    api: httpx.AsyncClient, harvested: Harvester, upstream: SampleUpstream
) -> None:
    upstream.records.pop(3)
    upstream.records[4]["traits"]["translations"]["fi"]["name"] = "Muutettu"
    assert (await harvested.run()).status == "succeeded"
    state = await replay(api, "http://testserver/v1/changes/activities?limit=50")
    current = await all_pages(api, "/v1/activities?page_size=100")
    assert set(state) == {item["id"] for item in current}
    page = await api.get("/v1/changes/activities?limit=50")
    assert page.headers["cache-control"] == "public, max-age=3600"
    half = await api.get("/v1/changes/activities?afterTimestamp=1")
    assert half.status_code == 422 and "afterId" in half.json()["detail"]


async def test_ptv_endpoints_serve_schema_valid_bodies(api: httpx.AsyncClient) -> None:
    guids = (await api.get("/ptv/v11/Service")).json()
    assert guids["pageCount"] == 1 and len(guids["itemList"]) == 317
    service_validator = validator("V11VmOpenApiService")
    first = guids["itemList"][0]["id"]
    service = (await api.get(f"/ptv/v11/Service/{first}")).json()
    service_validator.validate(service)
    ids = ",".join(item["id"] for item in guids["itemList"][:5])
    listed = (await api.get(f"/ptv/v11/Service/list?guids={ids}")).json()
    assert len(listed) == 5
    for bad in (f"{ids},not-a-guid", ",".join([first] * 101)):
        refused = await api.get(f"/ptv/v11/Service/list?guids={bad}")
        assert refused.status_code == 422 and "guids" in refused.json()["detail"]
    oulu = (await api.get("/ptv/v11/Service/list/area/Municipality/code/564")).json()
    assert oulu["itemList"] and all(
        any(a["code"] == "564" for a in s["areas"]) for s in oulu["itemList"]
    )
    for body in oulu["itemList"]:
        service_validator.validate(body)
    channels = (await api.get("/ptv/v11/ServiceChannel/list/area/Municipality/code/564")).json()
    for channel in channels["itemList"]:
        validator(ptv_acceptance.CHANNEL_SCHEMAS[channel["serviceChannelType"]]).validate(channel)
    orgs = (await api.get("/ptv/v11/Organization")).json()
    org = (await api.get(f"/ptv/v11/Organization/{orgs['itemList'][0]['id']}")).json()
    validator("V10VmOpenApiOrganization").validate(org)
    recent = (
        await api.get(
            "/ptv/v11/Service", params={"date": (datetime.now(UTC) + timedelta(days=1)).isoformat()}
        )
    ).json()
    assert recent["itemList"] == []


async def test_admin_endpoints_need_the_api_key(api: httpx.AsyncClient) -> None:
    assert (await api.get("/admin/harvests")).status_code == 401
    headers = {"X-API-Key": ADMIN_KEY}
    runs = (await api.get("/admin/harvests", headers=headers)).json()
    assert runs[0]["status"] == "succeeded"
    quarantine = (await api.get("/admin/quarantine", headers=headers)).json()
    assert quarantine[0]["key"] == "128867850015" and quarantine[0]["reason"]
    unmapped = (await api.get("/admin/unmapped", headers=headers)).json()
    assert {"field": "traits.theme", "value": "ht_tuntematon"}.items() <= unmapped[
        0
    ].items() or any(u["value"] == "ht_tuntematon" for u in unmapped)


async def test_admin_harvest_is_409_while_another_runs(
    api: httpx.AsyncClient, harvested: Harvester
) -> None:
    from lahella_bridge.store import runs

    async with harvested.engine.connect() as connection:
        assert await runs.try_harvest_lock(connection)
        response = await api.post("/admin/harvest", headers={"X-API-Key": ADMIN_KEY})
        await runs.release_harvest_lock(connection)
    assert response.status_code == 409
    assert (await api.post("/admin/harvest")).status_code == 401


async def test_metrics_expose_requests_harvests_and_published_counts(
    api: httpx.AsyncClient,
) -> None:
    await api.get("/v1/themes")
    body = (await api.get("/metrics")).text
    assert (
        'lahella_bridge_http_requests_total{method="GET",route="/v1/themes",status="200"}' in body
    )
    assert 'lahella_bridge_published_records{kind="activity"} 317.0' in body
    assert "lahella_bridge_harvest_last_success_timestamp_seconds" in body
    assert "lahella_bridge_harvest_records_total" in body
