"""Normalisation and the taxonomy: every sample record, PTV schema validation, the seed."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator

from lahella_bridge import ptv_acceptance
from lahella_bridge.normalise.lahella import normalise
from lahella_bridge.normalise.outcome import Context, UnusableRecord
from lahella_bridge.richtext import html_to_text, sanitise_html
from lahella_bridge.sample.data import generate, now_for
from lahella_bridge.schedule import expand
from lahella_bridge.taxonomy import Features, classify, taxonomy
from lahella_bridge.upstream.schemas import ScheduleRule

ANCHOR = date(2026, 3, 2)  # a Monday four weeks before the spring DST change
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


def validator(schema_name: str) -> OAS30Validator:
    document = ptv_acceptance.schema_document()
    return OAS30Validator(
        {**document["components"]["schemas"][schema_name], "components": document["components"]}
    )


def all_sample_results() -> tuple[list[Any], list[tuple[str, str]]]:
    context = Context(now=now_for(ANCHOR))
    results, failures = [], []
    for record in generate(anchor=ANCHOR):
        try:
            results.append(normalise(record, context))
        except UnusableRecord as exc:
            failures.append((str(record.get("_key")), str(exc)))
    return results, failures


def test_every_valid_sample_record_normalises_and_only_the_invalid_one_fails() -> None:
    results, failures = all_sample_results()
    assert failures == [("128867850015", failures[0][1])]
    assert len(results) == len(generate(anchor=ANCHOR)) - 1


def test_every_ptv_object_validates_and_has_what_ptv_needs_to_accept_it() -> None:
    results, _ = all_sample_results()
    service, organisation = validator("V11VmOpenApiService"), validator("V10VmOpenApiOrganization")
    problems: list[str] = []
    for item in results:
        service.validate(item.ptv)
        problems += ptv_acceptance.acceptance_problems("Service", item.ptv)
        assert item.organisation is not None
        organisation.validate(item.organisation.ptv)
        problems += ptv_acceptance.acceptance_problems("Organization", item.organisation.ptv)
        for channel in item.channels:
            validator(ptv_acceptance.CHANNEL_SCHEMAS[channel.channel_type]).validate(channel.ptv)
            problems += ptv_acceptance.acceptance_problems(channel.channel_type, channel.ptv)
    assert problems == []


def test_the_shared_ptv_samples_still_validate_against_the_vendored_schema() -> None:
    for name, schema in (
        ("sample-service.json", "V11VmOpenApiService"),
        ("sample-organization.json", "V10VmOpenApiOrganization"),
        ("sample-service-location.json", "V11VmOpenApiServiceLocationChannel"),
    ):
        path = REFERENCE / "ptv" / name
        if path.exists():
            validator(schema).validate(json.loads(path.read_text("utf-8")))


def test_every_stage_and_theme_has_sample_activities() -> None:
    results, _ = all_sample_results()
    stages = {s for item in results for s in item.stages}
    themes = {t for item in results for t in item.themes}
    assert stages == {s.slug for s in taxonomy().stages}
    assert themes == {t.slug for t in taxonomy().themes}


SEED_TABLE = {
    "Kotona kaikki hyvin": [
        "Arjen tukipalvelut",
        "Harrastukset ja harrastustoiminta",
        "Koulutus, tilaisuus ja kurssi",
        "Leirit, retket ja matkat",
        "Oleskelu, virkistys ja ajanvietto",
        "Oppaat ja julkaisut",
        "Ryhmät ja kerhot",
        "Tilaisuudet, tapahtumat ja luennot",
    ],
    "Oireet alkavat tai huoli herää": [
        "Arjen tukipalvelut",
        "Ohjaus, neuvonta ja kriisityö",
        "Oppaat ja julkaisut",
        "Ryhmät ja kerhot",
        "Ryhmätoiminta",
        "Tilaisuudet, tapahtumat ja luennot",
        "Vertaistuki",
        "Ystävä- ja tukihenkilötoiminta",
    ],
    "Sähköiset kanavat": [
        "Arjen tukipalvelut",
        "Koulutus, tilaisuus ja kurssi",
        "Ohjaus, neuvonta ja kriisityö",
        "Oleskelu, virkistys ja ajanvietto",
        "Oppaat ja julkaisut",
        "Ryhmät ja kerhot",
        "Vertaistuki",
    ],
    "Yhteys ammattilaiseen tai palveluun": [
        "Arjen tukipalvelut",
        "Koulutus, tilaisuus ja kurssi",
        "Ohjaus, neuvonta ja kriisityö",
        "Oppaat ja julkaisut",
        "Ryhmät ja kerhot",
        "Ryhmätoiminta",
        "Vertaistuki",
        "Ystävä- ja tukihenkilötoiminta",
    ],
    "Hoidossa tai palvelussa": [
        "Arjen tukipalvelut",
        "Koulutus, tilaisuus ja kurssi",
        "Ohjaus, neuvonta ja kriisityö",
        "Oppaat ja julkaisut",
        "Ryhmät ja kerhot",
        "Ryhmätoiminta",
        "Vertaistuki",
        "Ystävä- ja tukihenkilötoiminta",
    ],
    "Hoito tai palvelu päättyy": [
        "Arjen tukipalvelut",
        "Leirit, retket ja matkat",
        "Ohjaus, neuvonta ja kriisityö",
        "Oleskelu, virkistys ja ajanvietto",
        "Oppaat ja julkaisut",
        "Ryhmät ja kerhot",
        "Ryhmätoiminta",
        "Vertaistuki",
        "Ystävä- ja tukihenkilötoiminta",
    ],
    "Toimiva arki kotona": [
        "Arjen tukipalvelut",
        "Harrastukset ja harrastustoiminta",
        "Koulutus, tilaisuus ja kurssi",
        "Leirit, retket ja matkat",
        "Ohjaus, neuvonta ja kriisityö",
        "Oleskelu, virkistys ja ajanvietto",
        "Oppaat ja julkaisut",
        "Ryhmät ja kerhot",
        "Ryhmätoiminta",
        "Tilaisuudet, tapahtumat ja luennot",
        "Vertaistuki",
        "Ystävä- ja tukihenkilötoiminta",
    ],
}


def test_stage_to_activity_type_table_matches_the_seed_exactly() -> None:
    tax = taxonomy()
    table = {
        stage.labels["fi"]: [
            tax.activity_type(slug).labels["fi"]  # type: ignore[union-attr]
            for slug in stage.activity_types
        ]
        for stage in tax.stages
    }
    assert table == SEED_TABLE
    assert list(table) == list(SEED_TABLE)  # and in service-chain order
    assert len(tax.activity_types) == 12 and len(tax.themes) == 11


def test_referral_matrix_has_four_segments_and_nine_steps() -> None:
    tax = taxonomy()
    assert len(tax.segments) == 4 and len(tax.referral_steps) == 9
    for segment in tax.segments:
        steps = [s.slug for s in tax.steps_for_segment(segment.slug)]
        assert steps[0] == "ota-puheeksi" and steps[-1] == "kirjaa-ohjaus"


def test_all_thirty_municipalities_with_codes_and_swedish_names() -> None:
    tax = taxonomy()
    assert len(tax.municipalities) == 30
    assert tax.municipality("Uleåborg") == tax.municipality("564") == tax.municipality("oulu")


@pytest.mark.parametrize(
    ("features", "stage", "theme", "activity_type"),
    [
        (
            Features("support", (), ("hm_ryhmat",), (), ("place",), "Vertaistukiryhmä"),
            "oireet-tai-huoli",
            "mielen-hyvinvointi",
            "vertaistuki",
        ),
        (
            Features("hobby", ("ht_urheilu",), ("hm_ryhmat",), (), ("place",), "Kuntosali"),
            "kotona-kaikki-hyvin",
            "fyysinen-terveys",
            "ryhmat-ja-kerhot",
        ),
        (
            Features("support", (), (), (), ("online",), "Chat-neuvonta"),
            "sahkoiset-kanavat",
            "mielen-hyvinvointi",
            "ohjaus-neuvonta-kriisityo",
        ),
        (
            Features("voluntary", (), (), (), ("place",), "Tule mukaan talkoisiin"),
            "hoito-paattyy",
            "suhteet-ja-osallisuus",
            "ryhmatoiminta",
        ),
        (
            Features("voluntary", (), (), (), ("place",), "Kauppa-apu"),
            "toimiva-arki-kotona",
            "arjen-raha-asiat",
            "arjen-tukipalvelut",
        ),
    ],
)
def test_mapping_table_places_activities_with_reasons(
    features: Features, stage: str, theme: str, activity_type: str
) -> None:
    placement = classify(features)
    assert stage in placement.stages and theme in placement.themes
    assert activity_type in placement.activity_types
    assert all(placement.stages[stage])  # every placement says why


def test_electronic_channels_stage_needs_an_online_or_phone_channel() -> None:
    placed = classify(Features("support", (), ("hm_ryhmat",), (), ("place",), "Ryhmä"))
    assert "sahkoiset-kanavat" not in placed.stages


def test_unknown_codes_are_reported_not_dropped() -> None:
    placement = classify(Features("mystery", ("ht_x",), ("hm_y",), ("foo/bar",), (), ""))
    assert set(placement.unmapped) == {
        ("traits.type", "mystery"),
        ("traits.theme", "ht_x"),
        ("traits.format", "hm_y"),
        ("traits.demographic", "foo/bar"),
    }


def test_weekly_rule_keeps_wall_clock_time_across_the_dst_change() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    rule = ScheduleRule.model_validate(
        {
            "start": int(datetime(2026, 3, 1, tzinfo=UTC).timestamp() * 1000) - 7200000,
            "timeZone": "Europe/Helsinki",
            "type": "4",
            "recurrence": {
                "period": "P1W",
                "exclude": [],
                "end": int(datetime(2026, 4, 30, tzinfo=UTC).timestamp() * 1000),
                "daySpecificTimes": [{"weekday": 1, "startTime": "18:00", "endTime": "19:30"}],
            },
        }
    )
    sessions = expand(rule, start, start + timedelta(days=60)).sessions
    local = [s.starts.isoformat() for s in sessions]
    assert "2026-03-23T18:00:00+02:00" in local and "2026-03-30T18:00:00+03:00" in local
    assert {s.starts.hour for s in sessions} == {18}
    assert all(s.ends and (s.ends - s.starts) == timedelta(minutes=90) for s in sessions)


def test_excluded_dates_and_other_rule_types_are_handled() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    midnight = int(datetime(2026, 3, 8, 22, tzinfo=UTC).timestamp() * 1000)  # 9.3. local
    rule = ScheduleRule.model_validate(
        {
            "start": midnight - 7 * 86400000,
            "type": "4",
            "recurrence": {
                "exclude": [midnight],
                "end": midnight + 14 * 86400000,
                "daySpecificTimes": [{"weekday": 1, "startTime": "10:00"}],
            },
        }
    )
    days = [
        s.starts.date().isoformat() for s in expand(rule, start, start + timedelta(60)).sessions
    ]
    assert "2026-03-09" not in days and "2026-03-02" in days and "2026-03-16" in days
    odd = expand(
        ScheduleRule.model_validate({"type": "2", "start": midnight}),
        start,
        start + timedelta(days=60),
    )
    assert odd.sessions == [] and "not supported" in odd.problems[0]


def test_upstream_html_is_sanitised_for_display_and_plain_for_ptv() -> None:
    dirty = '<p>Hei <a href="javascript:alert(1)" onclick="x()">x</a></p><script>alert(1)</script>'
    clean = sanitise_html(dirty)
    assert "script" not in clean and "javascript" not in clean and "onclick" not in clean
    assert html_to_text("<p>Yksi</p><ul><li>a</li><li>b</li></ul>") == "Yksi\n\n- a\n- b"


def test_long_texts_are_cut_at_a_word_boundary_within_ptv_limits() -> None:
    results, _ = all_sample_results()
    long_one = next(item for item in results if item.upstream_id == "128867850010")
    for description in long_one.ptv["serviceDescriptions"]:
        limit = 150 if description["type"] == "Summary" else 5000
        assert len(description["value"]) <= limit
        assert description["value"].endswith("…")


def test_ids_are_stable_across_runs_and_times() -> None:
    record = generate(anchor=ANCHOR)[0]
    first = normalise(record, Context(now=now_for(ANCHOR)))
    later = normalise(record, Context(now=now_for(ANCHOR) + timedelta(days=3)))
    assert first.id == later.id and first.ptv["id"] == later.ptv["id"]
    assert [c.id for c in first.channels] == [c.id for c in later.channels]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    traits=st.fixed_dictionaries(
        {},
        optional={
            "type": json_values,
            "translations": json_values,
            "theme": json_values,
            "channels": st.lists(
                st.dictionaries(
                    st.sampled_from(["type", "events", "map", "translations", "accessibility"]),
                    json_values,
                ),
                max_size=2,
            ),
            "region": json_values,
            "demographic": json_values,
            "contacts": json_values,
        },
    ),
    status=json_values,
)
def test_normalise_never_crashes_on_odd_upstream_shaped_input(traits: Any, status: Any) -> None:
    with contextlib.suppress(UnusableRecord):
        normalise(
            {"_key": "1", "status": status, "group": "g", "traits": traits},
            Context(now=datetime(2026, 1, 1, tzinfo=UTC)),
        )
