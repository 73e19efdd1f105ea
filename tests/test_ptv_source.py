"""The second source: PTV harvested beside Lähellä.fi into real PostgreSQL, through the
real PTV client against the bundled sample PTV upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from lahella_bridge import ptv_acceptance
from lahella_bridge.app import create_app
from lahella_bridge.config import Settings
from lahella_bridge.dedupe import match_keys, normal_text, supplement, without_supplement
from lahella_bridge.normalise.outcome import Context
from lahella_bridge.normalise.ptv_source import normalise_ptv
from lahella_bridge.sample.data import now_for
from lahella_bridge.sample.ptv_data import ARCHIVABLE, generate_ptv, sample_id
from lahella_bridge.sample.ptv_upstream import SamplePtvUpstream
from lahella_bridge.sample.upstream import SampleUpstream
from lahella_bridge.taxonomy import PtvFeatures, classify_ptv
from tests.conftest import make_harvester, serving
from tests.kept_harvests import KeptHarvests
from tests.test_normalise import validator


async def all_items(api: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        page = (await api.get(next_url)).json()
        items += page["items"]
        next_url = page["next"]
    return items


async def published(db: AsyncEngine) -> dict[str, list[Any]]:
    async with db.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT id, source, kind, upstream_id, merged_into FROM activities "
                "WHERE deleted_at IS NULL ORDER BY id"
            )
        )
        return {str(row.id): list(row) for row in rows}


def test_every_sample_ptv_body_validates_against_the_v11_schema() -> None:
    sample = generate_ptv()
    checks = (
        [("V11VmOpenApiService", s) for s in sample.services.values()]
        + [
            (ptv_acceptance.CHANNEL_SCHEMAS[c["serviceChannelType"]], c)
            for c in sample.channels.values()
        ]
        + [("V10VmOpenApiOrganization", o) for o in sample.organizations.values()]
    )
    problems = [
        (name, body["id"], error.message)
        for name, body in checks
        for error in validator(name).iter_errors(body)
    ]
    assert problems == []
    assert {c["serviceChannelType"] for c in sample.channels.values()} == {
        "ServiceLocation",
        "Phone",
        "EChannel",
        "WebPage",
    }


async def test_the_sample_upstream_serves_ptv_paths_and_envelopes(
    ptv_upstream: SamplePtvUpstream,
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=ptv_upstream), base_url="http://ptv.test/api/v11"
    ) as client:
        area = (await client.get("/Service/list/area/Municipality/code/564")).json()
        guids = (await client.get("/Service", params={"page": 2})).json()
        first = area["itemList"][0]
        listed = (await client.get("/Service/list", params={"guids": first["id"]})).json()
        one = (await client.get(f"/Service/{first['id']}")).json()
        too_many = await client.get(
            "/Service/list", params={"guids": ",".join(list(ptv_upstream.sample.services)[:40])}
        )
    assert not list(validator("V11VmOpenApiServicesWithPaging").iter_errors(area))
    assert not list(validator("V3VmOpenApiGuidPage").iter_errors(guids))
    assert area["pageNumber"] == 1 and area["pageCount"] > 1
    assert guids["pageNumber"] == 2 and {"id", "name"} == set(guids["itemList"][0])
    assert listed == [first] and one == first
    assert too_many.status_code == 504


def test_the_merge_fills_only_gaps_and_can_be_redone_or_undone() -> None:
    own = {"name": {"fi": "Kuoro"}, "summary": {"fi": "Laulamme."}, "contacts": []}
    twin = {
        "source": "ptv",
        "id": "x",
        "upstream_id": "x",
        "name": {"fi": "KUORO (PTV)", "sv": "Kör"},
        "summary": {"fi": "PTV:n teksti"},
        "contacts": [{"type": "phone", "value": "+358401234567", "label": {}}],
    }
    merged = supplement(own, twin)
    assert merged["name"] == {"fi": "Kuoro", "sv": "Kör"}
    assert merged["summary"] == {"fi": "Laulamme."}
    assert merged["contacts"] == twin["contacts"]
    assert merged["also_from"][0]["filled"] == ["name.sv", "contacts"]
    assert supplement(merged, twin) == merged
    changed = supplement(merged, {**twin, "name": {"fi": "x", "sv": "Kören"}})
    assert changed["name"] == {"fi": "Kuoro", "sv": "Kören"}
    assert without_supplement(merged) == own
    assert match_keys(
        lahella_key=None,
        name="Kuoro – Oulu",
        organisation="Limingan Kuoro ry",
        business_id=None,
        municipalities=["564"],
    ) == match_keys(
        lahella_key=None,
        name="KUORO - OULU",
        organisation="LIMINGAN KUORO RY",
        business_id=None,
        municipalities=["564"],
    )


def test_ptv_services_are_split_into_sote_and_low_threshold_by_a_table() -> None:
    health_centre = PtvFeatures(("P5.1",), ("KR1",), ("KE11",), "Region", ("place",), "")
    kind, placement = classify_ptv(health_centre)
    assert kind == "sote"
    assert list(placement.stages) == [
        "oireet-tai-huoli",
        "yhteys-ammattilaiseen",
        "hoidossa-tai-palvelussa",
    ]
    assert placement.stages["yhteys-ammattilaiseen"][0].as_dict() == {
        "rule": "service_class",
        "value": "P5.1",
    }
    assert "fyysinen-terveys" in placement.themes and "KE11" in placement.life_events
    elderly = classify_ptv(PtvFeatures(("P4.3",), ("KR1.1",), (), "Region", (), ""))[1]
    assert elderly.themes["suhteet-ja-osallisuus"][0].as_dict() == {
        "rule": "target_group",
        "value": "KR1.1",
    }
    # The same class from an NGO, and peer support from the county, are low-threshold.
    assert classify_ptv(PtvFeatures(("P5.1",), (), (), "Organization", (), ""))[0] == "activity"
    peer = classify_ptv(PtvFeatures(("P4.12",), (), (), "Region", ("place",), ""))
    assert peer[0] == "activity" and "vertaistuki" in peer[1].activity_types
    assert "oireet-tai-huoli" in peer[1].stages
    online = classify_ptv(PtvFeatures(("P5.7",), (), (), "Region", ("online",), ""))[1]
    assert "sahkoiset-kanavat" in online.stages


async def test_both_sources_together_publish_every_activity_once(
    both: AsyncEngine, api: httpx.AsyncClient, ptv_upstream: SamplePtvUpstream
) -> None:
    rows = await published(both)
    twins = [s for s in ptv_upstream.sample.services.values() if "(på svenska)" in str(s)]
    assert len(twins) >= 20
    by_source: dict[str, int] = {}
    for _, source, *_ in rows.values():
        by_source[source] = by_source.get(source, 0) + 1
    # Every Lähellä.fi listing pushed to PTV is folded into its Lähellä.fi record.
    assert by_source["ptv"] == len(ptv_upstream.sample.services) - len(twins)
    items = await all_items(api, "/v1/activities?page_size=100")
    assert len(items) == len(rows) == len({i["id"] for i in items})
    names = [
        (normal_text(i["name"]), i["organisation"]["name"].casefold(), i["source"]) for i in items
    ]
    assert len(names) == len(set(names))
    keys = [(normal_text(i["name"]), tuple(m["code"] for m in i["municipalities"])) for i in items]
    repeated = {k for k in keys if keys.count(k) > 1}
    # Lähellä.fi itself lists some names twice in one town (different organisers), but
    # never one of PTV's twins.
    twin_names = {normal_text(t["serviceNames"][0]["value"]) for t in twins}
    assert not {name for name, _ in repeated} & twin_names
    organisations = await all_items(api, "/v1/organizations?page_size=100")
    org_names = [normal_text(o["name"]) for o in organisations]
    assert len(org_names) == len(set(org_names))


async def test_the_lahella_record_wins_for_fields_it_has_and_ptv_fills_the_gaps(
    both: AsyncEngine, api: httpx.AsyncClient, upstream: SampleUpstream
) -> None:
    rows = await published(both)
    async with both.connect() as connection:
        result = await connection.execute(
            text(
                "SELECT w.id, w.upstream_id FROM activities w JOIN activities t "
                "ON t.merged_into = w.id WHERE t.source = 'ptv'"
            )
        )
        winners = [(str(row.id), row.upstream_id) for row in result]
    assert len(winners) >= 20 and all(w in rows for w, _ in winners)
    records = {r["_key"]: r for r in upstream.records if isinstance(r, dict)}
    checked = 0
    for winner_id, key in winners:
        translations = records[key]["traits"]["translations"]
        detail = (await api.get(f"/v1/activities/{winner_id}?lang=sv")).json()
        assert detail["source"] == "lahella"
        assert [a["source"] for a in detail["also_from"]] == ["ptv"]
        finnish = detail["translations"]["summary"]["fi"]
        assert not finnish.startswith("PTV:n kuvaus")  # Lähellä.fi's own text wins
        if "sv" not in translations:
            assert detail["translations"]["name"]["sv"].endswith("(på svenska)")
            assert detail["name"].endswith("(på svenska)")
            checked += 1
        else:
            assert detail["translations"]["name"]["sv"] == translations["sv"]["name"]
    assert checked >= 5


async def test_whichever_source_comes_first_the_end_state_is_the_same(
    both: AsyncEngine,
    upstream: SampleUpstream,
    ptv_upstream: SamplePtvUpstream,
    anchor: date,
) -> None:
    expected = await published(both)
    async with both.begin() as connection:
        await connection.execute(
            text(
                "TRUNCATE occurrences, service_channels, quarantine, harvest_runs, activities, "
                "organisations RESTART IDENTITY CASCADE"
            )
        )
    ptv_first = make_harvester(both, upstream, anchor, ptv_upstream=ptv_upstream)
    assert (await ptv_first.run(source="ptv")).status == "succeeded"
    assert (await ptv_first.run(source="lahella")).status == "succeeded"
    assert await published(both) == expected


async def test_a_retired_lahella_record_brings_its_ptv_twin_back(
    both: AsyncEngine, upstream: SampleUpstream, ptv_upstream: SamplePtvUpstream, anchor: date
) -> None:
    async with both.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT t.id, w.upstream_id FROM activities t JOIN activities w "
                    "ON t.merged_into = w.id LIMIT 1"
                )
            )
        ).one()
    upstream.records = [
        r for r in upstream.records if not (isinstance(r, dict) and r.get("_key") == row[1])
    ]
    harvester = make_harvester(both, upstream, anchor, ptv_upstream=ptv_upstream)
    assert (await harvester.run(source="lahella")).retired == 1
    now_published = await published(both)
    assert now_published[str(row[0])][1] == "ptv"
    assert now_published[str(row[0])][4] is None


async def test_incremental_sync_fetches_only_what_changed_and_retires_the_archived(
    both: AsyncEngine,
    api: httpx.AsyncClient,
    upstream: SampleUpstream,
    ptv_upstream: SamplePtvUpstream,
    anchor: date,
) -> None:
    now = now_for(anchor)
    renamed = sample_id("service", "sote:Kotihoito")
    archived = sample_id("service", f"ngo:{ARCHIVABLE}")
    assert archived in await published(both)
    service = ptv_upstream.sample.services[renamed]
    names = [{**service["serviceNames"][0], "value": "Kotihoito ja kotiutustiimi"}]
    ptv_upstream.touch(renamed, now - timedelta(minutes=2), serviceNames=names)
    ptv_upstream.archive(archived, now - timedelta(minutes=1))
    ptv_upstream.requests.clear()
    harvester = make_harvester(both, upstream, anchor, ptv_upstream=ptv_upstream)
    report = await harvester.run(source="ptv")
    assert report.status == "succeeded", report.error
    assert (report.updated, report.retired) == (1, 1)
    paths = [path for path, _ in ptv_upstream.requests]
    assert not any("/area/" in path for path in paths)  # no full sweep
    windows = [q for path, q in ptv_upstream.requests if path.endswith("/Service")]
    assert windows and all("date" in q and "dateBefore" in q for q in windows)
    fetched = [q["guids"] for path, q in ptv_upstream.requests if path.endswith("/Service/list")]
    assert fetched == [renamed]
    detail = (await api.get(f"/v1/activities/{renamed}")).json()
    assert detail["name"] == "Kotihoito ja kotiutustiimi" and detail["kind"] == "sote"
    assert (await api.get(f"/v1/activities/{archived}")).status_code == 404
    states: dict[str, str] = {}
    url = "/v1/changes/activities?limit=100"
    while True:
        page = (await api.get(url)).json()
        if not page["items"]:
            break
        states |= {item["id"]: item["state"] for item in page["items"]}
        url = page["next"]
    assert states[archived] == "deleted" and states[renamed] == "updated"


async def test_a_504_on_a_large_batch_is_retried_in_smaller_batches(
    db: AsyncEngine, ptv_upstream: SamplePtvUpstream, anchor: date
) -> None:
    ptv_upstream.max_guids = 4  # the real API's limit is unknown and varies with load
    harvester = make_harvester(db, None, anchor, ptv_upstream=ptv_upstream)
    report = await harvester.run()
    assert report.status == "succeeded", report.error
    assert report.created == len(ptv_upstream.sample.services)
    sizes = [
        len(q["guids"].split(","))
        for path, q in ptv_upstream.requests
        if path.endswith("/list") and "guids" in q
    ]
    assert max(sizes) > ptv_upstream.max_guids  # asked for a large batch, got a 504
    assert any(size <= ptv_upstream.max_guids for size in sizes)


async def test_ptv_down_for_a_whole_run_keeps_the_published_data(
    both: AsyncEngine, upstream: SampleUpstream, ptv_upstream: SamplePtvUpstream, anchor: date
) -> None:
    before = await published(both)
    ptv_upstream.faults.down = True
    harvester = make_harvester(both, upstream, anchor, ptv_upstream=ptv_upstream)
    report = await harvester.run(source="ptv", full_sweep=True)
    assert report.status == "failed" and "503" in (report.error or "")
    assert await published(both) == before


async def test_sote_services_never_reach_the_event_calendar(
    both: AsyncEngine, api: httpx.AsyncClient
) -> None:
    sote = await all_items(api, "/v1/activities?kind=sote&page_size=100")
    assert len(sote) == 12 and all(i["source"] == "ptv" for i in sote)
    assert all(i["url"].startswith("https://www.suomi.fi/") for i in sote)
    sote_ids = {i["id"] for i in sote}
    events = await all_items(api, "/v1/events?page_size=100")
    assert events and not {e["activity_id"] for e in events} & sote_ids
    calendar = (await api.get("/v1/events.ics")).text
    assert "Terveysaseman vastaanotto" not in calendar
    le = (await api.get("/linkedevents/v1/event/?page_size=100")).json()
    assert "Terveysaseman" not in str(le)
    detail = (await api.get(f"/v1/activities/{next(iter(sote_ids))}")).json()
    assert detail["stages"] and detail["service_classes"]


@pytest.fixture
async def ptv_only_api(
    db: AsyncEngine,
    ptv_upstream: SamplePtvUpstream,
    anchor: date,
    database_url: str,
    kept_harvests: KeptHarvests,
) -> AsyncIterator[httpx.AsyncClient]:
    harvester = make_harvester(db, None, anchor, ptv_upstream=ptv_upstream)
    (report,) = await kept_harvests.run(harvester, ptv_upstream)
    assert report.source == "ptv" and report.status == "succeeded", report.error
    settings = Settings(harvest_interval_minutes=0, lahella_enabled=False, ptv_enabled=True)
    app = create_app(settings, database_url)
    async with serving(app) as client:
        yield client


async def test_with_only_the_ptv_source_a_newcomer_gets_a_working_service(
    ptv_only_api: httpx.AsyncClient, ptv_upstream: SamplePtvUpstream
) -> None:
    api = ptv_only_api
    items = await all_items(api, "/v1/activities?page_size=100")
    assert len(items) == len(ptv_upstream.sample.services)
    assert {i["kind"] for i in items} == {"activity", "sote"}
    stages = (await api.get("/v1/stages")).json()
    assert all(stage["activities"] > 0 for stage in stages)
    oulu = (await api.get("/v1/activities?municipality=Oulu&kind=sote")).json()
    assert oulu["count"] > 0
    embed = await api.get("/embed/activities?municipality=564")
    assert embed.status_code == 200
    assert "Sosiaali- ja terveyspalvelu" in embed.text and "Suomi.fi" in embed.text
    referral = await api.get("/referral?segment=satunnainen-tuettu&q=kriisi")
    assert referral.status_code == 200 and "Kriisikeskuksen keskusteluapu" in referral.text
    service = (await api.get(f"/ptv/v11/Service/{items[0]['id']}")).json()
    assert not list(validator("V11VmOpenApiService").iter_errors(service))
    channel_ids = [c["serviceChannel"]["id"] for c in service["serviceChannels"]]
    for channel_id in channel_ids:
        channel = (await api.get(f"/ptv/v11/ServiceChannel/{channel_id}")).json()
        schema = ptv_acceptance.CHANNEL_SCHEMAS[channel["serviceChannelType"]]
        assert not list(validator(schema).iter_errors(channel))


def test_a_service_is_placed_by_the_channels_it_is_still_offered_through() -> None:
    """A sote service whose online and phone channels were withdrawn is no longer in the
    stage of electronic channels; the same service with them live is."""
    sample = generate_ptv()
    digital = "sahkoiset-kanavat"

    def bundle(service: dict[str, Any], withdrawn: bool) -> dict[str, Any]:
        channels = []
        for link in service["serviceChannels"]:
            channel = dict(sample.channels[link["serviceChannel"]["id"]])
            if withdrawn and channel["serviceChannelType"] in ("EChannel", "Phone"):
                channel["publishingStatus"] = "Withdrawn"
            channels.append(channel)
        owner = sample.organizations[service["mainOrganization"]["id"]]
        return {"service": service, "channels": channels, "organization": owner}

    context = Context(now=now_for(date.today()))
    placed = [
        (normalise_ptv(bundle(s, False), context), normalise_ptv(bundle(s, True), context))
        for s in sample.services.values()
    ]
    digital_ones = [(live, gone) for live, gone in placed if digital in live.stages]
    assert digital_ones
    assert all(digital not in gone.stages for _, gone in digital_ones)
