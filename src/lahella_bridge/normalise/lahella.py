"""PURE mapping of one Lähellä.fi record to PTV objects plus the county classification.

No I/O, no clock (`now` comes in), no database: tested with recorded JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lahella_bridge import dedupe
from lahella_bridge.normalise.lahella_build import (
    SOURCE,
    Built,
    build,
    translated_texts,
)
from lahella_bridge.normalise.lahella_channels import build_channel
from lahella_bridge.normalise.outcome import (
    Context,
    NormalisedActivity,
    NormalisedOccurrence,
    parse_record,
    terms_with_reasons,
)
from lahella_bridge.normalise.ptv_body import (
    ptv_service_body,
)
from lahella_bridge.richtext import strip_nul
from lahella_bridge.taxonomy import taxonomy
from lahella_bridge.upstream.schemas import (
    LahellaActivity,
    epoch_ms,
    publication_state,
)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _document(built: Built, channel_documents: list[dict[str, Any]]) -> dict[str, Any]:
    tax, activity, placement = taxonomy(), built.activity, built.placement
    type_label = tax.lahella["type"].get(activity.traits.type or "", {}).get("label", {})
    visibility = activity.tags.visibility if activity.tags else None
    organisation = built.organisation
    return {
        "id": str(built.service_id),
        "source": SOURCE,
        "upstream_id": activity.key,
        "kind": "activity",
        "type": {"code": activity.traits.type, "label": type_label},
        "name": built.names,
        "summary": built.summary,
        "description": built.description,
        "description_html": translated_texts(activity, "description", plain=False),
        "pricing": translated_texts(activity, "pricing"),
        "registration": translated_texts(activity, "registration"),
        "is_free": built.is_free,
        "languages": built.languages,
        "content_languages": list(built.names),
        "stages": terms_with_reasons(placement.stages, "slug"),
        "themes": terms_with_reasons(placement.themes, "slug"),
        "activity_types": terms_with_reasons(placement.activity_types, "slug"),
        "target_groups": terms_with_reasons(placement.target_groups, "code"),
        "life_events": terms_with_reasons(placement.life_events, "code"),
        "service_classes": terms_with_reasons(placement.service_classes, "code"),
        "municipalities": built.municipalities,
        "organisation": {"id": str(organisation.id), "name": organisation.name}
        if organisation
        else None,
        "channels": channel_documents,
        "contacts": built.contacts,
        "image": {"key": activity.traits.photo, "alt": activity.traits.photo_alt}
        if activity.traits.photo
        else None,
        "lahella_url": built.context.activity_url_template.format(key=activity.key),
        "url": built.context.activity_url_template.format(key=activity.key),
        "visible_until": _iso(epoch_ms(visibility.end if visibility else None)),
        "source_themes": activity.traits.theme,
        "source_formats": activity.traits.format,
        "unmapped": [{"field": f, "value": v} for f, v in placement.unmapped],
    }


def normalise(raw: Any, context: Context) -> NormalisedActivity:
    """One upstream record -> PTV objects, channels, occurrences and classification."""
    activity = parse_record(raw, LahellaActivity)
    built = build(activity, context)
    channels, channel_documents, occurrences = [], [], []
    for index, channel in enumerate(activity.traits.channels):
        normalised, document, sessions = build_channel(built, channel, index)
        channels.append(normalised)
        channel_documents.append(document)
        occurrences += [
            NormalisedOccurrence(s.starts, s.ends, normalised.id, normalised.municipality)
            for s in sessions
        ]
    occurrences.sort(key=lambda o: o.starts)
    placement = built.placement
    document = _document(built, channel_documents)
    online = any(c["type"] in ("online", "hybrid", "phone") for c in channel_documents)
    organisation_name = built.organisation.name if built.organisation else ""
    primary_name = built.names.get("fi") or next(iter(built.names.values()))
    search_text = strip_nul(
        " ".join(
            [
                *built.names.values(),
                *built.summary.values(),
                built.description.get("fi", "")[:2000],
                organisation_name,
            ]
        )
    )
    visibility = activity.tags.visibility if activity.tags else None
    return NormalisedActivity(
        id=built.service_id,
        upstream_id=activity.key,
        publication=publication_state(activity, context.now),
        organisation=built.organisation,
        document=document,
        ptv=ptv_service_body(built, channels),
        channels=channels,
        occurrences=occurrences,
        name_sort=primary_name.casefold(),
        visible_until=epoch_ms(visibility.end) if visibility else None,
        municipalities=built.municipalities,
        stages=list(placement.stages),
        themes=list(placement.themes),
        activity_types=list(placement.activity_types),
        target_groups=list(placement.target_groups),
        languages=built.languages,
        is_free=built.is_free,
        online=online,
        search_text=search_text,
        match_keys=dedupe.match_keys(
            lahella_key=activity.key,
            name=primary_name,
            organisation=built.organisation.name if built.organisation else None,
            business_id=built.organisation.business_id if built.organisation else None,
            municipalities=built.municipalities,
        ),
        unmapped=placement.unmapped,
        problems=built.problems,
    )
