"""PURE: the one place a stored record and the columns derived from it are put together.

Both sources' normalisers call `assemble` with what differs between them; what they share
(the terms with their reasons, the search text, the sort name, the match keys, whether the
activity is online) is decided here once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from lahella_bridge import dedupe
from lahella_bridge.normalise.outcome import (
    NormalisedActivity,
    NormalisedChannel,
    NormalisedOccurrence,
    NormalisedOrganisation,
)
from lahella_bridge.records import (
    ActivityType,
    CodeTerm,
    ContactEntry,
    Image,
    Labels,
    OrganisationRef,
    Reason,
    SlugTerm,
    StoredChannel,
    StoredRecord,
    Unmapped,
)
from lahella_bridge.richtext import strip_nul
from lahella_bridge.taxonomy import Placement
from lahella_bridge.taxonomy import Reason as PlacementReason
from lahella_bridge.upstream.schemas import Publication

# Channel kinds that reach people where they are.
REMOTE_KINDS = ("online", "hybrid", "phone")


def _reasons(because: list[PlacementReason]) -> list[Reason]:
    return [Reason(rule=reason.rule, value=reason.value) for reason in because]


def _slug_terms(placed: dict[str, list[PlacementReason]]) -> list[SlugTerm]:
    return [SlugTerm(slug=slug, because=_reasons(because)) for slug, because in placed.items()]


def _code_terms(placed: dict[str, list[PlacementReason]]) -> list[CodeTerm]:
    return [CodeTerm(code=code, because=_reasons(because)) for code, because in placed.items()]


def assemble(
    *,
    source: str,
    record_id: uuid.UUID,
    upstream_id: str,
    kind: str,
    activity_type: ActivityType,
    names: Labels,
    summary: Labels,
    description: Labels,
    description_html: Labels,
    pricing: Labels,
    registration: Labels,
    is_free: bool | None,
    languages: list[str],
    placement: Placement,
    municipalities: list[str],
    organisation: NormalisedOrganisation | None,
    channels: list[tuple[NormalisedChannel, StoredChannel]],
    contacts: list[ContactEntry],
    image: Image | None,
    lahella_url: str | None,
    url: str,
    source_only: dict[str, Any],
    publication: Publication,
    ptv_body: dict[str, Any],
    occurrences: list[NormalisedOccurrence],
    visible_until: datetime | None,
    lahella_key: str | None,
    problems: list[str],
    shown_summary: Labels | None = None,
) -> NormalisedActivity:
    """The stored record and its derived columns. `summary` is the upstream's own (it is
    searched); `shown_summary` replaces it in the record when the source shows another.
    `source_only` holds the record fields only this source writes."""
    stored_channels = [stored for _, stored in channels]
    record = StoredRecord(
        id=str(record_id),
        source=source,
        upstream_id=upstream_id,
        kind=kind,
        type=activity_type,
        name=names,
        summary=summary if shown_summary is None else shown_summary,
        description=description,
        description_html=description_html,
        pricing=pricing,
        registration=registration,
        is_free=is_free,
        languages=languages,
        content_languages=list(names),
        stages=_slug_terms(placement.stages),
        themes=_slug_terms(placement.themes),
        activity_types=_slug_terms(placement.activity_types),
        target_groups=_code_terms(placement.target_groups),
        life_events=_code_terms(placement.life_events),
        service_classes=_code_terms(placement.service_classes),
        municipalities=municipalities,
        organisation=OrganisationRef(id=str(organisation.id), name=organisation.name)
        if organisation
        else None,
        channels=stored_channels,
        contacts=contacts,
        image=image,
        lahella_url=lahella_url,
        url=url,
        **source_only,
        unmapped=[Unmapped(field=f, value=v) for f, v in placement.unmapped],
    )
    organisation_name = organisation.name if organisation else ""
    primary_name = names.get("fi") or next(iter(names.values()))
    search_text = strip_nul(
        " ".join(
            [
                *names.values(),
                *summary.values(),
                description.get("fi", "")[:2000],
                organisation_name,
            ]
        )
    )
    return NormalisedActivity(
        id=record_id,
        upstream_id=upstream_id,
        publication=publication,
        organisation=organisation,
        document=record,
        ptv=ptv_body,
        channels=[normalised for normalised, _ in channels],
        occurrences=occurrences,
        name_sort=primary_name.casefold(),
        visible_until=visible_until,
        municipalities=municipalities,
        stages=list(placement.stages),
        themes=list(placement.themes),
        activity_types=list(placement.activity_types),
        target_groups=list(placement.target_groups),
        languages=languages,
        is_free=is_free,
        online=any(c.type in REMOTE_KINDS for c in stored_channels),
        search_text=search_text,
        match_keys=dedupe.match_keys(
            lahella_key=lahella_key,
            name=primary_name,
            organisation=organisation.name if organisation else None,
            business_id=organisation.business_id if organisation else None,
            municipalities=municipalities,
        ),
        unmapped=placement.unmapped,
        problems=problems,
    )
