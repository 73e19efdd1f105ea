"""PURE mapping of a Lähellä.fi channel: its stored record, sessions and PTV channel."""

from __future__ import annotations

from datetime import timedelta

from lahella_bridge import ptv
from lahella_bridge.normalise.contact_values import safe_email, safe_url
from lahella_bridge.normalise.lahella_build import SOURCE, Built, in_language_order
from lahella_bridge.normalise.outcome import NormalisedChannel
from lahella_bridge.normalise.ptv_body import ptv_channel_body, service_hours
from lahella_bridge.records import Accessibility, Address, Labels, Point, ScheduleRow, StoredChannel
from lahella_bridge.richtext import html_to_text, plain_line
from lahella_bridge.schedule import SessionTime, expand
from lahella_bridge.taxonomy import taxonomy
from lahella_bridge.upstream.schemas import Channel, epoch_ms

# Upstream default point when no coordinates were given (lahella-cli): not a real place.
PLACEHOLDER_POINT = (24.9384, 60.1699)


def _point(channel: Channel) -> tuple[float, float] | None:
    center = channel.map.center if channel.map else None
    coordinates = center.coordinates if center else None
    if not coordinates or len(coordinates) < 2:
        return None
    lon, lat = coordinates[0], coordinates[1]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    address = channel.translations.get("fi")
    has_street = address is not None and address.address is not None and address.address.street
    if (lon, lat) == PLACEHOLDER_POINT and not has_street:
        return None
    return lon, lat


def _address(channel: Channel) -> Address | None:
    parts: dict[str, str] = {}
    for lang in ("fi", "sv", "en"):
        translation = channel.translations.get(lang)
        address = translation.address if translation else None
        if address is None:
            continue
        for key, value in (
            ("street", address.street),
            ("postal_code", address.postal_code),
            ("city", address.city),
        ):
            if value and key not in parts:
                parts[key] = plain_line(value)
    return Address(**parts) if parts else None


def _channel_kind(channel: Channel) -> str:
    kinds = [k for k in channel.type if k in ("place", "online", "phone", "hybrid")]
    return kinds[0] if kinds else "place"


def _schedule_rows(channel: Channel) -> list[ScheduleRow]:
    rows = []
    for rule in channel.events:
        recurrence = rule.recurrence
        start = epoch_ms(rule.start)
        until = epoch_ms(recurrence.end if recurrence and recurrence.end else rule.end)
        for entry in recurrence.day_specific_times if recurrence else []:
            rows.append(
                ScheduleRow(
                    weekday=entry.weekday,
                    start_time=entry.start_time,
                    end_time=entry.end_time,
                    period=(recurrence.period if recurrence else None) or "P1W",
                    valid_from=start.isoformat() if start else None,
                    until=until.isoformat() if until else None,
                )
            )
    return rows


def _channel_texts(built: Built, channel: Channel, attribute: str) -> Labels:
    texts = {}
    for lang, translation in in_language_order(channel.translations):
        value = getattr(translation, attribute, None)
        if value and (text := html_to_text(value)):
            texts[lang] = text
    return texts


def build_channel(
    built: Built, channel: Channel, index: int
) -> tuple[NormalisedChannel, StoredChannel, list[SessionTime]]:
    activity, tax = built.activity, taxonomy()
    kind = _channel_kind(channel)
    channel_id = ptv.stable_id("channel", SOURCE, f"{activity.key}:{channel.id or index}")
    address = _address(channel)
    point = _point(channel)
    city = tax.municipality_by_name(address.city) if address and address.city else None
    municipality = (
        city.code if city else (built.municipalities[0] if len(built.municipalities) == 1 else None)
    )
    summary = _channel_texts(built, channel, "summary")
    registration = _channel_texts(built, channel, "registration")
    schedule = _schedule_rows(channel)
    sessions: list[SessionTime] = []
    window = (
        built.context.now - timedelta(days=built.context.past_days),
        built.context.now + timedelta(days=built.context.future_days),
    )
    for rule in channel.events:
        expansion = expand(rule, *window)
        sessions += expansion.sessions
        built.problems += expansion.problems
    accessibility = []
    for code in channel.accessibility:
        label = tax.lahella["accessibility"].get(code)
        if label is None:
            built.placement.unmapped.append(("channels.accessibility", code))
        accessibility.append(Accessibility(code=code, label=label or {}))
    registration_url = safe_url(channel.registration_url)
    stored = StoredChannel(
        id=str(channel_id),
        type=kind,
        address=address,
        location=Point(lon=point[0], lat=point[1]) if point else None,
        municipality=municipality,
        summary=summary,
        registration=registration,
        registration_required=channel.registration_required,
        registration_url=registration_url,
        registration_email=safe_email(channel.registration_email),
        accessibility=accessibility,
        schedule=schedule,
    )
    ptv_channel = ptv_channel_body(built, channel_id, kind, stored, service_hours(schedule))
    normalised = NormalisedChannel(
        id=channel_id,
        channel_type=ptv_channel["serviceChannelType"],
        municipality=municipality,
        lat=point[1] if point else None,
        lon=point[0] if point else None,
        ptv=ptv_channel,
    )
    return normalised, stored, sessions
