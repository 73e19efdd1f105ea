"""The stored record is one type for both sources, and its JSON keeps the keys it had.

Database-free: the sample upstreams are normalised and their records read back from the
JSON that PostgreSQL would hold.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from lahella_bridge.normalise.lahella import normalise
from lahella_bridge.normalise.outcome import Context, NormalisedActivity, UnusableRecord
from lahella_bridge.normalise.ptv_source import normalise_ptv
from lahella_bridge.records import OrganisationRecord, StoredRecord
from lahella_bridge.sample.data import generate, now_for
from lahella_bridge.sample.ptv_data import generate_ptv
from lahella_bridge.upstream.ptv_schemas import PtvService

ANCHOR = date(2026, 3, 2)
LAHELLA_ONLY = {"visible_until", "source_themes", "source_formats"}
PTV_ONLY = {"source_id", "modified_upstream"}


def sample_results() -> list[NormalisedActivity]:
    context = Context(now=now_for(ANCHOR))
    results = []
    for record in generate(count=300, anchor=ANCHOR):
        try:
            results.append(normalise(record, context))
        except UnusableRecord:
            continue
    ptv = generate_ptv(ANCHOR)
    for service in ptv.services.values():
        responsible = PtvService.model_validate(service).responsible_organization()
        bundle: dict[str, Any] = {
            "service": service,
            "channels": [ptv.channels[c] for c in PtvService.model_validate(service).channel_ids()],
            "organization": ptv.organizations.get(responsible.id) if responsible else None,
        }
        results.append(normalise_ptv(bundle, context))
    return results


@pytest.fixture(scope="module")
def results() -> list[NormalisedActivity]:
    return sample_results()


def test_both_sources_records_read_back_from_their_stored_json_unchanged(
    results: list[NormalisedActivity],
) -> None:
    assert {r.document.source for r in results} == {"lahella", "ptv"}
    for result in results:
        stored = json.loads(json.dumps(result.document.to_json()))
        assert StoredRecord.from_json(stored).to_json() == stored
        if result.organisation is not None:
            organisation = json.loads(json.dumps(result.organisation.document.to_json()))
            assert OrganisationRecord.from_json(organisation).to_json() == organisation


def test_a_source_only_field_is_absent_from_the_other_sources_json(
    results: list[NormalisedActivity],
) -> None:
    for result in results:
        keys = set(result.document.to_json())
        own, other = (
            (LAHELLA_ONLY, PTV_ONLY)
            if result.document.source == "lahella"
            else (PTV_ONLY, LAHELLA_ONLY)
        )
        assert own <= keys, result.document.id
        assert not other & keys, (result.document.id, other & keys)
        for channel in result.document.to_json()["channels"]:
            assert ("ptv_id" in channel) == (result.document.source == "ptv")


def test_a_stored_record_from_the_other_source_reads_with_that_sources_defaults(
    results: list[NormalisedActivity],
) -> None:
    ptv = next(r.document for r in results if r.document.source == "ptv")
    record = StoredRecord.from_json(ptv.to_json())
    assert (record.visible_until, record.source_themes, record.also_from) == (None, [], [])
    assert record.public_url == ptv.url


def test_a_stored_record_with_an_unknown_key_is_refused_by_name(
    results: list[NormalisedActivity],
) -> None:
    stored = {**results[0].document.to_json(), "colour": "blue"}
    with pytest.raises(ValidationError, match="colour"):
        StoredRecord.from_json(stored)
