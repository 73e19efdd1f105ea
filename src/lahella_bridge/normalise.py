"""PURE mapping of one Lähellä.fi record to PTV objects plus the county classification.

No I/O, no clock (`now` comes in), no database: tested with recorded JSON.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from lahella_bridge import dedupe, ptv
from lahella_bridge.richtext import html_to_text, plain_line, sanitise_html, strip_nul
from lahella_bridge.schedule import SessionTime, expand
from lahella_bridge.taxonomy import Features, Placement, Reason, classify, taxonomy
from lahella_bridge.tm35fin import wgs84_to_tm35fin
from lahella_bridge.upstream.schemas import (
    Channel,
    Contact,
    LahellaActivity,
    Publication,
    epoch_ms,
    publication_state,
)

SOURCE = "lahella"
LANGUAGES = ("fi", "sv", "en")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Upstream default point when no coordinates were given (lahella-cli): not a real place.
PLACEHOLDER_POINT = (24.9384, 60.1699)
Labels = dict[str, str]
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class UnusableRecord(Exception):
    """The record cannot be published as it is; the harvester quarantines it."""


@dataclass(frozen=True)
class Context:
    """What normalisation may know of the world: the time and the occurrence horizon."""

    now: datetime
    activity_url_template: str = "https://www.lahella.fi/fi-FI/activities/{key}"
    organisation_url_template: str = "https://www.lahella.fi/fi-FI/organisation/{group}"
    ptv_service_url_template: str = "https://www.suomi.fi/palvelut/{id}"
    ptv_organisation_url_template: str = "https://www.suomi.fi/organisaatiot/{id}"
    past_days: int = 30
    future_days: int = 400


@dataclass
class NormalisedOrganisation:
    id: uuid.UUID
    upstream_id: str
    name: str
    business_id: str | None
    document: dict[str, Any]
    ptv: dict[str, Any]


@dataclass
class NormalisedChannel:
    id: uuid.UUID
    channel_type: str
    municipality: str | None
    lat: float | None
    lon: float | None
    ptv: dict[str, Any]


@dataclass
class NormalisedOccurrence:
    starts: datetime
    ends: datetime | None
    channel_id: uuid.UUID | None
    municipality: str | None


@dataclass
class NormalisedActivity:
    id: uuid.UUID
    upstream_id: str
    publication: Publication
    organisation: NormalisedOrganisation | None
    document: dict[str, Any]
    ptv: dict[str, Any]
    channels: list[NormalisedChannel]
    occurrences: list[NormalisedOccurrence]
    name_sort: str
    visible_until: datetime | None
    municipalities: list[str]
    stages: list[str]
    themes: list[str]
    activity_types: list[str]
    target_groups: list[str]
    languages: list[str]
    is_free: bool | None
    online: bool
    search_text: str
    match_keys: list[str] = field(default_factory=list)
    unmapped: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def public_url(document: dict[str, Any]) -> str:
    """A stored record's public page: Lähellä.fi for its activities, Suomi.fi for PTV's."""
    return str(document.get("url") or document.get("lahella_url") or "")


def parse_record(raw: Any, model: type[M]) -> M:
    """Validate an upstream record's shape; an unusable shape raises `UnusableRecord`."""
    if not isinstance(raw, dict):
        raise UnusableRecord(f"record is a {type(raw).__name__}, not an object")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        raise UnusableRecord(f"{where}: {first['msg']} ({exc.error_count()} problem(s))") from None


def _texts(activity: LahellaActivity, attribute: str, *, plain: bool = True) -> Labels:
    result = {}
    for lang, translation in _in_language_order(activity.traits.translations):
        value = getattr(translation, attribute, None)
        if value:
            text = html_to_text(value) if plain else sanitise_html(value)
            if text:
                result[lang] = text
    return result


def _in_language_order(translations: dict[str, T]) -> list[tuple[str, T]]:
    """fi, sv, en in that order whatever the upstream's key order: output is stable."""
    return [(lang, translations[lang]) for lang in LANGUAGES if lang in translations]


def _names(activity: LahellaActivity) -> Labels:
    names = {}
    for lang, translation in _in_language_order(activity.traits.translations):
        name = plain_line(translation.name)
        if name:
            names[lang] = name
    return names


def _lang_items(labels: Labels, limit: int | None = None) -> list[ptv.LanguageItem]:
    return [
        ptv.LanguageItem(language=lang, value=ptv.truncate(text, limit) if limit else text)
        for lang, text in labels.items()
    ]


def _localized(labels: Labels, kind: str, limit: int) -> list[ptv.LocalizedListItem]:
    return [
        ptv.LocalizedListItem(type=kind, language=lang, value=ptv.truncate(text, limit))
        for lang, text in labels.items()
    ]


@cache
def _finto(kind: str, code: str) -> ptv.FintoItem:
    tax = taxonomy()
    table = {
        "service_class": tax.service_classes,
        "target_group": tax.target_groups,
        "life_event": tax.life_events,
    }[kind]
    item = table[code]
    return ptv.FintoItem(
        id=uuid.uuid5(ptv.NAMESPACE, item.uri),
        name=_lang_items(item.labels),
        code=item.code,
        uri=item.uri,
        parentId=uuid.uuid5(ptv.NAMESPACE, item.parent_uri) if item.parent_uri else None,
        parentUri=item.parent_uri,
        description=_lang_items(item.description) if kind == "service_class" else None,
    )


@cache
def _ontology_term(key: str) -> ptv.FintoItem:
    term = taxonomy().lahella["ontology_terms"][key]
    return ptv.FintoItem(
        id=uuid.uuid5(ptv.NAMESPACE, term["uri"]),
        name=[ptv.LanguageItem(language="fi", value=term["fi"])],
        uri=term["uri"],
    )


@cache
def _municipality_model(code: str) -> ptv.Municipality:
    municipality = taxonomy().municipalities[code]
    return ptv.Municipality(code=code, name=_lang_items(municipality.labels))


def _regions(activity: LahellaActivity) -> tuple[list[str], list[tuple[str, str]]]:
    """`city/FI/<name>` to municipality codes; `state/FI/Pohjois-Pohjanmaa` to all 30."""
    tax = taxonomy()
    codes: list[str] = []
    unmapped = []
    for region in activity.traits.region:
        kind, _, name = region.partition("/FI/")
        found = tax.municipality_by_name(name) if kind == "city" else None
        if found is not None:
            codes.append(found.code)
        elif kind == "state" and name.casefold() in ("pohjois-pohjanmaa", "norra österbotten"):
            codes.extend(tax.municipalities)
        else:
            unmapped.append(("traits.region", region))
    return sorted(set(codes)), unmapped


def _languages(activity: LahellaActivity) -> tuple[list[str], list[tuple[str, str]]]:
    table = taxonomy().lahella["locale"]
    languages, unmapped = [], []
    for code in activity.traits.locale:
        if code in table:
            languages.append(table[code])
        else:
            unmapped.append(("traits.locale", code))
    return list(dict.fromkeys(languages)), unmapped


def phone_parts(value: str) -> tuple[str, str] | None:
    digits = re.sub(r"[^\d+]", "", value)
    if digits.startswith("+358"):
        prefix, number = "+358", digits[4:]
    elif digits.startswith("00358"):
        prefix, number = "+358", digits[5:]
    elif digits.startswith("0"):
        prefix, number = "+358", digits[1:]
    else:
        prefix, number = "+358", digits.lstrip("+")
    return (prefix, number) if re.fullmatch(r"\d{1,20}", number) else None


def safe_url(value: str | None) -> str | None:
    if value and re.match(r"^https?://[^\s\"'<>]+$", value.strip(), re.IGNORECASE):
        return value.strip()[:500]
    return None


def safe_email(value: str | None) -> str | None:
    if value and re.fullmatch(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+", value.strip()):
        return value.strip()[:100]
    return None


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


def _address(channel: Channel) -> dict[str, Any]:
    parts: dict[str, Any] = {}
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
    return parts


def _channel_kind(channel: Channel) -> str:
    kinds = [k for k in channel.type if k in ("place", "online", "phone", "hybrid")]
    return kinds[0] if kinds else "place"


def _contacts(activity: LahellaActivity) -> list[dict[str, Any]]:
    contacts = []
    for contact in activity.traits.contacts:
        value = _contact_value(contact)
        if value is None:
            continue
        label = {
            lang: plain_line(t.description)
            for lang, t in _in_language_order(contact.translations)
            if t.description
        }
        contacts.append({"type": contact.type, "value": value, "label": label})
    return contacts


def _contact_value(contact: Contact) -> str | None:
    if contact.type == "email":
        return safe_email(contact.value)
    if contact.type == "www":
        return safe_url(contact.value)
    if contact.type == "phone" and contact.value and phone_parts(contact.value):
        return strip_nul(contact.value).strip()
    return None


@dataclass
class _Built:
    """Intermediate results shared by the document and PTV builders."""

    activity: LahellaActivity
    context: Context
    names: Labels
    summary: Labels
    description: Labels
    placement: Placement
    municipalities: list[str]
    languages: list[str]
    contacts: list[dict[str, Any]]
    organisation: NormalisedOrganisation | None
    service_id: uuid.UUID
    is_free: bool | None
    problems: list[str]


def _schedule_rows(channel: Channel) -> list[dict[str, Any]]:
    rows = []
    for rule in channel.events:
        recurrence = rule.recurrence
        start = epoch_ms(rule.start)
        until = epoch_ms(recurrence.end if recurrence and recurrence.end else rule.end)
        for entry in recurrence.day_specific_times if recurrence else []:
            rows.append(
                {
                    "weekday": entry.weekday,
                    "start_time": entry.start_time,
                    "end_time": entry.end_time,
                    "period": (recurrence.period if recurrence else None) or "P1W",
                    "from": start.isoformat() if start else None,
                    "until": until.isoformat() if until else None,
                }
            )
    return rows


def _service_hours(rows: list[dict[str, Any]]) -> list[ptv.ServiceHour]:
    hours = []
    for row in rows:
        if not 1 <= row["weekday"] <= 7 or not row["start_time"]:
            continue
        times = [re.sub(r"^(\d):", r"0\1:", t or "") for t in (row["start_time"], row["end_time"])]
        if not all(re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", t) for t in times):
            continue
        day = WEEKDAYS[row["weekday"] - 1]
        hours.append(
            ptv.ServiceHour(
                serviceHourType="DaysOfTheWeek",
                validFrom=row["from"],
                validTo=row["until"],
                openingHour=[ptv.DailyOpeningTime(dayFrom=day, **{"from": times[0]}, to=times[1])],
            )
        )
    return hours


def _channel_texts(built: _Built, channel: Channel, attribute: str) -> Labels:
    texts = {}
    for lang, translation in _in_language_order(channel.translations):
        value = getattr(translation, attribute, None)
        if value and html_to_text(value):
            texts[lang] = html_to_text(value)
    return texts


def _build_channel(
    built: _Built, channel: Channel, index: int
) -> tuple[NormalisedChannel, dict[str, Any], list[SessionTime]]:
    activity, tax = built.activity, taxonomy()
    kind = _channel_kind(channel)
    channel_id = ptv.stable_id("channel", SOURCE, f"{activity.key}:{channel.id or index}")
    address = _address(channel)
    point = _point(channel)
    city = tax.municipality_by_name(address.get("city", "")) if address.get("city") else None
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
        accessibility.append({"code": code, "label": label or {}})
    registration_url = safe_url(channel.registration_url)
    document = {
        "id": str(channel_id),
        "type": kind,
        "address": address or None,
        "location": {"lon": point[0], "lat": point[1]} if point else None,
        "municipality": municipality,
        "summary": summary,
        "registration": registration,
        "registration_required": channel.registration_required,
        "registration_url": registration_url,
        "registration_email": safe_email(channel.registration_email),
        "accessibility": accessibility,
        "schedule": schedule,
    }
    ptv_channel = _ptv_channel(built, channel_id, kind, document, _service_hours(schedule))
    normalised = NormalisedChannel(
        id=channel_id,
        channel_type=ptv_channel["serviceChannelType"],
        municipality=municipality,
        lat=point[1] if point else None,
        lon=point[0] if point else None,
        ptv=ptv_channel,
    )
    return normalised, document, sessions


def _channel_names(built: _Built, document: dict[str, Any]) -> Labels:
    """The activity's name with its town, unless the name already says it."""
    city = (document.get("address") or {}).get("city")
    return {
        lang: ptv.truncate(
            f"{name}, {city}" if city and not _mentions(name, city) else name, ptv.NAME_MAX
        )
        for lang, name in built.names.items()
    }


def _mentions(text: str, place: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(place)}(?!\w)", text, re.IGNORECASE) is not None


def _channel_descriptions(built: _Built, document: dict[str, Any]) -> list[ptv.LocalizedListItem]:
    summary = document["summary"] or built.summary or built.names
    description = {**summary, **document["registration"]} if document["registration"] else summary
    return _localized(summary, "Summary", ptv.SUMMARY_MAX) + _localized(
        description, "Description", ptv.DESCRIPTION_MAX
    )


def _phones(built: _Built, with_type: bool) -> list[Any]:
    model = ptv.PhoneWithType if with_type else ptv.Phone
    phones = []
    for contact in built.contacts:
        parts = phone_parts(contact["value"]) if contact["type"] == "phone" else None
        if parts:
            phones.append(model(prefixNumber=parts[0], number=parts[1], language="fi"))
    return phones


def _web_pages(built: _Built, document: dict[str, Any]) -> list[ptv.WebPage]:
    urls = [document["registration_url"]] + [
        c["value"] for c in built.contacts if c["type"] == "www"
    ]
    pages = []
    for order, url in enumerate(dict.fromkeys(u for u in urls if u), start=1):
        pages.append(ptv.WebPage(url=url, language="fi", orderNumber=order))
    return pages


def _street_address(document: dict[str, Any]) -> ptv.AddressLocation | None:
    address = document.get("address") or {}
    postal = address.get("postal_code", "")
    if not re.fullmatch(r"\d{5}", postal):
        return None
    location = document.get("location")
    lat = lon = None
    if location:
        northing, easting = wgs84_to_tm35fin(location["lon"], location["lat"])
        lat, lon = f"{northing:.3f}", f"{easting:.3f}"
    municipality = document.get("municipality")
    return ptv.AddressLocation(
        subType="Street" if address.get("street") else "Other",
        streetAddress=ptv.StreetAddress(
            postalCode=postal,
            street=[ptv.LanguageItem(language="fi", value=address["street"])]
            if address.get("street")
            else None,
            postOffice=[ptv.LanguageItem(language="fi", value=address["city"].upper())]
            if address.get("city")
            else None,
            municipality=_municipality_model(municipality) if municipality else None,
            latitude=lat,
            longitude=lon,
            coordinateState="Ok" if lat else None,
        )
        if address.get("street")
        else None,
        otherAddress=None
        if address.get("street")
        else ptv.OtherAddress(
            postalCode=postal,
            municipality=_municipality_model(municipality) if municipality else None,
        ),
    )


def _ptv_channel(
    built: _Built,
    channel_id: uuid.UUID,
    kind: str,
    document: dict[str, Any],
    hours: list[ptv.ServiceHour],
) -> dict[str, Any]:
    organisation = built.organisation
    common: dict[str, Any] = {
        "id": channel_id,
        "sourceId": ptv.source_id("channel", SOURCE, f"{built.activity.key}-{channel_id.hex[:8]}"),
        "organizationId": organisation.id if organisation else None,
        "serviceChannelNames": _localized(_channel_names(built, document), "Name", ptv.NAME_MAX),
        "serviceChannelDescriptions": _channel_descriptions(built, document),
        "languages": list(built.names),
        "availableLanguages": list(built.names),
        "areaType": _area_type(built),
        "areas": _areas(built.municipalities),
        "serviceHours": hours,
        "services": [
            ptv.ChannelService(service=ptv.Item(id=built.service_id, name=built.names.get("fi")))
        ],
        "publishingStatus": "Published",
    }
    email = document["registration_email"] or next(
        (c["value"] for c in built.contacts if c["type"] == "email"), None
    )
    if email:
        common["supportEmails"] = [ptv.LanguageItem(language="fi", value=email)]
    web_pages = _web_pages(built, document)
    accessibility = [ptv.AccessibilityClassification(language=lang) for lang in built.names]
    if kind in ("place", "hybrid") and (address := _street_address(document)) is not None:
        model: ptv.ServiceChannel = ptv.ServiceLocationChannel(
            **common,
            displayNameType=[ptv.NameTypeByLanguage(language=lang) for lang in built.names],
            phoneNumbers=_phones(built, with_type=True),
            addresses=[address],
            webPages=web_pages,
        )
    elif kind == "phone" and (phones := _phones(built, with_type=True)):
        model = ptv.PhoneChannel(**common, phoneNumbers=phones, webPages=web_pages)
    elif kind in ("online", "hybrid") and web_pages:
        model = ptv.ElectronicChannel(
            **common,
            webPages=web_pages,
            accessibilityClassification=accessibility,
            supportPhones=_phones(built, with_type=False),
        )
    else:
        page = ptv.WebPage(
            url=built.context.activity_url_template.format(key=built.activity.key), language="fi"
        )
        model = ptv.WebPageChannel(
            **common,
            webPages=[*web_pages, page][:1] if web_pages else [page],
            accessibilityClassification=accessibility,
        )
    return model.dump()


def _area_type(built: _Built) -> Literal["LimitedType", "Nationwide"]:
    """An empty upstream region means nationwide; any region limits the area."""
    return "LimitedType" if built.activity.traits.region else "Nationwide"


def _areas(codes: list[str]) -> list[ptv.Area]:
    return [area(code) for code in codes]


@cache
def area(code: str) -> ptv.Area:
    return ptv.Area(
        type="Municipality",
        code=code,
        name=_lang_items(taxonomy().municipalities[code].labels),
        municipalities=[_municipality_model(code)],
    )


def valid_business_id(value: str | None) -> str | None:
    return value if value and re.fullmatch(r"[0-9]{7}-[0-9]", value) else None


def business_identity(business_id: str) -> tuple[uuid.UUID, str]:
    """(id, key) of an organisation with a business id: the same whichever source names it,
    so Lähellä.fi and PTV organisations meet in one row."""
    key = f"y-{business_id}"
    return ptv.stable_id("organization", SOURCE, key), key


def _organisation(activity: LahellaActivity, context: Context) -> NormalisedOrganisation | None:
    if not activity.group:
        return None
    group = str(activity.group)
    details = activity.group_details()
    name = plain_line(details.display_name() if details else None) or f"Lähellä.fi-ryhmä {group}"
    business_id = valid_business_id(details.business_id if details else None)
    # One organisation may own several groups: its business id, when known, is its identity.
    org_id, org_key = (
        business_identity(business_id)
        if business_id
        else (ptv.stable_id("organization", SOURCE, group), group)
    )
    url = safe_url(details.url if details else None) or context.organisation_url_template.format(
        group=group
    )
    email = safe_email(details.email if details else None)
    description = f"{name}: järjestön toiminta Lähellä.fi-palvelussa."
    model = ptv.Organization(
        id=org_id,
        sourceId=ptv.source_id("organization", SOURCE, org_key),
        businessCode=business_id,
        businessName=name if business_id else None,
        organizationNames=[
            ptv.LocalizedListItem(
                type="Name", language="fi", value=ptv.truncate(name, ptv.NAME_MAX)
            )
        ],
        displayNameType=[ptv.NameTypeByLanguage(language="fi")],
        organizationDescriptions=[
            ptv.LocalizedListItem(
                type="Summary", language="fi", value=ptv.truncate(description, ptv.SUMMARY_MAX)
            ),
            ptv.LocalizedListItem(type="Description", language="fi", value=description),
        ],
        emails=[ptv.Email(language="fi", value=email)] if email else [],
        webPages=[ptv.WebPage(url=url, language="fi")],
        publishingStatus="Published",
        availableLanguages=["fi"],
    )
    document = {
        "id": str(org_id),
        "source": SOURCE,
        "upstream_id": org_key,
        "groups": [group],
        "name": name,
        "business_id": business_id,
        "url": url,
        "email": email,
        "lahella_url": context.organisation_url_template.format(group=group),
    }
    return NormalisedOrganisation(org_id, org_key, name, business_id, document, model.dump())


def terms_with_reasons(reasons: dict[str, list[Reason]], key: str) -> list[dict[str, Any]]:
    return [
        {key: term, "because": [reason.as_dict() for reason in because]}
        for term, because in reasons.items()
    ]


def _ptv_service(built: _Built, channels: list[NormalisedChannel]) -> dict[str, Any]:
    tax = taxonomy()
    placement = built.placement
    organisation = built.organisation
    org_item = ptv.Item(id=organisation.id, name=organisation.name) if organisation else None
    summary = built.summary or built.description or built.names
    description = built.description or built.summary or built.names
    activity_type_labels = [
        t.labels["fi"] for slug in placement.activity_types if (t := tax.activity_type(slug))
    ]
    service = ptv.Service(
        id=built.service_id,
        sourceId=ptv.source_id("activity", SOURCE, built.activity.key),
        fundingType="MarketFunded",
        serviceNames=_localized(built.names, "Name", ptv.NAME_MAX),
        serviceChargeType=None
        if built.is_free is None
        else ("FreeOfCharge" if built.is_free else "Chargeable"),
        areaType=_area_type(built),
        areas=_areas(built.municipalities),
        serviceDescriptions=_localized(summary, "Summary", ptv.SUMMARY_MAX)
        + _localized(description, "Description", ptv.DESCRIPTION_MAX),
        languages=built.languages or list(built.names),
        availableLanguages=list(built.names),
        keywords=[ptv.LanguageItem(language="fi", value=label) for label in activity_type_labels],
        serviceClasses=[
            _finto("service_class", code)
            for code in placement.service_classes
            if code in tax.service_classes
        ],
        ontologyTerms=[_ontology_term(key) for key in placement.ontology_terms],
        targetGroups=[_finto("target_group", code) for code in placement.target_groups],
        lifeEvents=[_finto("life_event", code) for code in placement.life_events],
        serviceChannels=[
            ptv.ServiceServiceChannel(serviceChannel=ptv.Item(id=c.id, name=built.names.get("fi")))
            for c in channels
        ],
        organizations=[ptv.ServiceOrganization(roleType="Responsible", organization=org_item)]
        if org_item
        else [],
        mainOrganization=org_item,
        serviceProducers=[
            ptv.ServiceProducer(provisionType="SelfProducedServices", organizations=[org_item])
        ]
        if org_item
        else [],
        publishingStatus="Published",
    )
    return service.dump()


def _is_free(activity: LahellaActivity) -> bool | None:
    pricing = set(activity.traits.pricing)
    if "free" in pricing:
        return True
    if "paid" in pricing:
        return False
    return None


def _build(activity: LahellaActivity, context: Context) -> _Built:
    names = _names(activity)
    if not names:
        raise UnusableRecord("traits.translations: no name in fi, sv or en")
    municipalities, region_unmapped = _regions(activity)
    languages, locale_unmapped = _languages(activity)
    summary = _texts(activity, "summary")
    channel_types = tuple(t for channel in activity.traits.channels for t in channel.type)
    text = " ".join([*names.values(), *summary.values()])
    placement = classify(
        Features(
            activity_kind=activity.traits.type,
            themes=tuple(activity.traits.theme),
            formats=tuple(activity.traits.format),
            demographics=tuple(activity.traits.demographic),
            channel_types=channel_types,
            text=text,
        )
    )
    placement.unmapped += region_unmapped + locale_unmapped
    for code in activity.traits.pricing:
        if code not in ("free", "paid"):
            placement.unmapped.append(("traits.pricing", code))
    return _Built(
        activity=activity,
        context=context,
        names=names,
        summary=summary,
        description=_texts(activity, "description"),
        placement=placement,
        municipalities=municipalities,
        languages=languages,
        contacts=_contacts(activity),
        organisation=_organisation(activity, context),
        service_id=ptv.stable_id("service", SOURCE, activity.key),
        is_free=_is_free(activity),
        problems=[],
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _document(built: _Built, channel_documents: list[dict[str, Any]]) -> dict[str, Any]:
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
        "description_html": _texts(activity, "description", plain=False),
        "pricing": _texts(activity, "pricing"),
        "registration": _texts(activity, "registration"),
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
    built = _build(activity, context)
    channels, channel_documents, occurrences = [], [], []
    for index, channel in enumerate(activity.traits.channels):
        normalised, document, sessions = _build_channel(built, channel, index)
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
        ptv=_ptv_service(built, channels),
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
