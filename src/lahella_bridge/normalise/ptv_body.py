"""PURE builders of the PTV v11 bodies (service, channels, areas) of a Lähellä.fi record."""

from __future__ import annotations

import re
import uuid
from functools import cache
from typing import Any, Literal

from lahella_bridge import ptv
from lahella_bridge.normalise.contact_values import phone_parts
from lahella_bridge.normalise.lahella_build import SOURCE, Built
from lahella_bridge.normalise.outcome import NormalisedChannel
from lahella_bridge.records import Address, Labels, ScheduleRow, StoredChannel
from lahella_bridge.taxonomy import taxonomy
from lahella_bridge.tm35fin import wgs84_to_tm35fin

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ONE_DIGIT_HOUR = re.compile(r"^(\d):")
_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_POSTAL_CODE = re.compile(r"\d{5}")


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


def service_hours(rows: list[ScheduleRow]) -> list[ptv.ServiceHour]:
    hours = []
    for row in rows:
        if not 1 <= row.weekday <= 7 or not row.start_time:
            continue
        times = [_ONE_DIGIT_HOUR.sub(r"0\1:", t or "") for t in (row.start_time, row.end_time)]
        if not all(_CLOCK.fullmatch(t) for t in times):
            continue
        day = WEEKDAYS[row.weekday - 1]
        hours.append(
            ptv.ServiceHour(
                serviceHourType="DaysOfTheWeek",
                validFrom=row.valid_from,
                validTo=row.until,
                openingHour=[ptv.DailyOpeningTime(dayFrom=day, **{"from": times[0]}, to=times[1])],
            )
        )
    return hours


def _channel_names(built: Built, channel: StoredChannel) -> Labels:
    """The activity's name with its town, unless the name already says it."""
    city = channel.address.city if channel.address else None
    return {
        lang: ptv.truncate(
            f"{name}, {city}" if city and not _mentions(name, city) else name, ptv.NAME_MAX
        )
        for lang, name in built.names.items()
    }


def _mentions(text: str, place: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(place)}(?!\w)", text, re.IGNORECASE) is not None


def _channel_descriptions(built: Built, channel: StoredChannel) -> list[ptv.LocalizedListItem]:
    summary = channel.summary or built.summary or built.names
    description = {**summary, **channel.registration} if channel.registration else summary
    return _localized(summary, "Summary", ptv.SUMMARY_MAX) + _localized(
        description, "Description", ptv.DESCRIPTION_MAX
    )


def _phones(built: Built, with_type: bool) -> list[Any]:
    model = ptv.PhoneWithType if with_type else ptv.Phone
    phones = []
    for contact in built.contacts:
        parts = phone_parts(contact.value) if contact.type == "phone" else None
        if parts:
            phones.append(model(prefixNumber=parts[0], number=parts[1], language="fi"))
    return phones


def _web_pages(built: Built, channel: StoredChannel) -> list[ptv.WebPage]:
    urls = [channel.registration_url] + [c.value for c in built.contacts if c.type == "www"]
    pages = []
    for order, url in enumerate(dict.fromkeys(u for u in urls if u), start=1):
        pages.append(ptv.WebPage(url=url, language="fi", orderNumber=order))
    return pages


def _street_address(channel: StoredChannel) -> ptv.AddressLocation | None:
    address = channel.address or Address()
    postal = address.postal_code or ""
    if not _POSTAL_CODE.fullmatch(postal):
        return None
    location = channel.location
    lat = lon = None
    if location:
        northing, easting = wgs84_to_tm35fin(location.lon, location.lat)
        lat, lon = f"{northing:.3f}", f"{easting:.3f}"
    municipality = channel.municipality
    return ptv.AddressLocation(
        subType="Street" if address.street else "Other",
        streetAddress=ptv.StreetAddress(
            postalCode=postal,
            street=[ptv.LanguageItem(language="fi", value=address.street)]
            if address.street
            else None,
            postOffice=[ptv.LanguageItem(language="fi", value=address.city.upper())]
            if address.city
            else None,
            municipality=_municipality_model(municipality) if municipality else None,
            latitude=lat,
            longitude=lon,
            coordinateState="Ok" if lat else None,
        )
        if address.street
        else None,
        otherAddress=None
        if address.street
        else ptv.OtherAddress(
            postalCode=postal,
            municipality=_municipality_model(municipality) if municipality else None,
        ),
    )


def ptv_channel_body(
    built: Built,
    channel_id: uuid.UUID,
    kind: str,
    channel: StoredChannel,
    hours: list[ptv.ServiceHour],
) -> dict[str, Any]:
    organisation = built.organisation
    common: dict[str, Any] = {
        "id": channel_id,
        "sourceId": ptv.source_id("channel", SOURCE, f"{built.activity.key}-{channel_id.hex[:8]}"),
        "organizationId": organisation.id if organisation else None,
        "serviceChannelNames": _localized(_channel_names(built, channel), "Name", ptv.NAME_MAX),
        "serviceChannelDescriptions": _channel_descriptions(built, channel),
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
    email = channel.registration_email or next(
        (c.value for c in built.contacts if c.type == "email"), None
    )
    if email:
        common["supportEmails"] = [ptv.LanguageItem(language="fi", value=email)]
    web_pages = _web_pages(built, channel)
    accessibility = [ptv.AccessibilityClassification(language=lang) for lang in built.names]
    if kind in ("place", "hybrid") and (address := _street_address(channel)) is not None:
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


def _area_type(built: Built) -> Literal["LimitedType", "Nationwide"]:
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


def ptv_service_body(built: Built, channels: list[NormalisedChannel]) -> dict[str, Any]:
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
