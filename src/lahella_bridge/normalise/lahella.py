"""PURE mapping of one Lähellä.fi record to PTV objects plus the county classification.

No I/O, no clock (`now` comes in), no database: tested with recorded JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lahella_bridge.normalise.assembly import assemble
from lahella_bridge.normalise.lahella_build import SOURCE, build, translated_texts
from lahella_bridge.normalise.lahella_channels import build_channel
from lahella_bridge.normalise.outcome import (
    Context,
    NormalisedActivity,
    NormalisedOccurrence,
    parse_record,
)
from lahella_bridge.normalise.ptv_body import ptv_service_body
from lahella_bridge.records import ActivityType, Image
from lahella_bridge.taxonomy import taxonomy
from lahella_bridge.upstream.schemas import LahellaActivity, epoch_ms, publication_state


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def normalise(raw: Any, context: Context) -> NormalisedActivity:
    """One upstream record -> PTV objects, channels, occurrences and classification."""
    activity = parse_record(raw, LahellaActivity)
    built = build(activity, context)
    channels, occurrences = [], []
    for index, channel in enumerate(activity.traits.channels):
        normalised, stored, sessions = build_channel(built, channel, index)
        channels.append((normalised, stored))
        occurrences += [
            NormalisedOccurrence(s.starts, s.ends, normalised.id, normalised.municipality)
            for s in sessions
        ]
    occurrences.sort(key=lambda o: o.starts)
    visibility = activity.tags.visibility if activity.tags else None
    visible_until = epoch_ms(visibility.end) if visibility else None
    type_label = taxonomy().lahella["type"].get(activity.traits.type or "", {}).get("label", {})
    url = context.activity_url_template.format(key=activity.key)
    photo = activity.traits.photo
    return assemble(
        source=SOURCE,
        record_id=built.service_id,
        upstream_id=activity.key,
        kind="activity",
        activity_type=ActivityType(code=activity.traits.type, label=type_label),
        names=built.names,
        summary=built.summary,
        description=built.description,
        description_html=translated_texts(activity, "description", plain=False),
        pricing=translated_texts(activity, "pricing"),
        registration=translated_texts(activity, "registration"),
        is_free=built.is_free,
        languages=built.languages,
        placement=built.placement,
        municipalities=built.municipalities,
        organisation=built.organisation,
        channels=channels,
        contacts=built.contacts,
        image=Image(key=photo, alt=activity.traits.photo_alt) if photo else None,
        lahella_url=url,
        url=url,
        source_only={
            "visible_until": _iso(epoch_ms(visibility.end if visibility else None)),
            "source_themes": activity.traits.theme,
            "source_formats": activity.traits.format,
        },
        publication=publication_state(activity, context.now),
        ptv_body=ptv_service_body(built, [normalised for normalised, _ in channels]),
        occurrences=occurrences,
        visible_until=visible_until,
        lahella_key=activity.key,
        problems=built.problems,
    )
