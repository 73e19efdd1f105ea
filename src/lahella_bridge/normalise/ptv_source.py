"""PURE mapping of one PTV service (with its channels and organisation) to a stored record.

The PTV source: the county's own social and health services and the long-term listings
Lähellä.fi pushes into the national catalogue. The output has the shape the Lähellä.fi
mapping produces, so every feed serves both; `kind` tells sote services apart.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from lahella_bridge import dedupe, ptv
from lahella_bridge.normalise.contact_values import phone_parts, safe_email, safe_url
from lahella_bridge.normalise.organisation_identity import business_identity, valid_business_id
from lahella_bridge.normalise.outcome import (
    LANGUAGES,
    Context,
    Labels,
    NormalisedActivity,
    NormalisedChannel,
    NormalisedOrganisation,
    UnusableRecord,
    parse_record,
    terms_with_reasons,
)
from lahella_bridge.ptv_acceptance import CHANNEL_SCHEMAS, declared_only
from lahella_bridge.richtext import html_to_text, plain_line, strip_nul
from lahella_bridge.taxonomy import Placement, PtvFeatures, classify_ptv, taxonomy
from lahella_bridge.tm35fin import tm35fin_to_wgs84
from lahella_bridge.upstream.ptv_schemas import (
    PUBLISHED,
    LocalizedItem,
    PtvBundle,
    PtvChannel,
    PtvService,
)
from lahella_bridge.upstream.schemas import Publication

SOURCE = "ptv"
# PTV channel type -> the channel kinds the Lähellä.fi mapping uses.
CHANNEL_KINDS = {
    "ServiceLocation": "place",
    "EChannel": "online",
    "Phone": "phone",
    "WebPage": "web",
    "PrintableForm": "web",
}


def parse_bundle(raw: Any) -> PtvBundle:
    bundle = parse_record(raw, PtvBundle)
    try:
        uuid.UUID(bundle.service.id)
    except ValueError:
        raise UnusableRecord(f"service.id: {bundle.service.id!r} is not a UUID") from None
    return bundle


def _texts(items: list[LocalizedItem], kind: str | None = None) -> Labels:
    """First non-empty value per language, fi/sv/en order, as plain text."""
    texts: Labels = {}
    for lang in LANGUAGES:
        for item in items:
            if item.language == lang and (kind is None or item.type == kind) and item.value:
                text = html_to_text(strip_nul(item.value))
                if text:
                    texts[lang] = text
                    break
    return texts


def _first_valid(
    clean: Callable[[str | None], str | None], values: Iterable[str | None]
) -> str | None:
    """The first value `clean` accepts (cleaned), e.g. the first safe URL of a list."""
    return next((cleaned for value in values if (cleaned := clean(value)) is not None), None)


def lahella_key(source_id: str | None) -> str | None:
    """The Lähellä.fi `_key` in a PTV `sourceId`, when Lähellä.fi pushed the record."""
    pattern = taxonomy().ptv["lahella_source_id"]
    match = re.fullmatch(pattern, source_id or "")
    return match["key"] if match else None


def _municipalities(service: PtvService, channels: list[PtvChannel]) -> list[str]:
    known = taxonomy().municipalities
    codes: list[str] = []
    for area in service.areas:
        if area.type == "Municipality" and area.code:
            codes.append(area.code)
        codes += [m.code for m in area.municipalities if m.code]
    for channel in channels:
        for address in channel.addresses:
            street = address.streetAddress
            if street and street.municipality and street.municipality.code:
                codes.append(street.municipality.code)
    return [code for code in dict.fromkeys(codes) if code in known]


def _organisation(
    bundle: PtvBundle, raw_organisation: dict[str, Any] | None, context: Context
) -> NormalisedOrganisation | None:
    source, ref = bundle.organization, bundle.service.responsible_organization()
    upstream_id = source.id if source else (ref.id if ref else None)
    if not upstream_id:
        return None
    names = _texts(source.organizationNames, "Name") if source else {}
    name = names.get("fi") or next(iter(names.values()), None) or (ref.name if ref else None)
    name = plain_line(name) or "Suomi.fi-organisaatio"
    business_id = valid_business_id(source.businessCode if source else None)
    try:
        ptv_uuid = uuid.UUID(upstream_id)
    except ValueError:
        ptv_uuid = ptv.stable_id("organization", SOURCE, upstream_id)
    # The business id is an organisation's identity across sources (see normalise).
    org_id, key = business_identity(business_id) if business_id else (ptv_uuid, upstream_id)
    url = _first_valid(safe_url, (w.url for w in source.webPages)) if source else None
    email = _first_valid(safe_email, (e.value for e in source.emails)) if source else None
    body = declared_only("V10VmOpenApiOrganization", raw_organisation or {})
    if not body:
        body = ptv.Organization(
            id=org_id,
            sourceId=ptv.source_id("organization", SOURCE, upstream_id),
            organizationNames=[ptv.LocalizedListItem(type="Name", language="fi", value=name)],
            displayNameType=[ptv.NameTypeByLanguage(language="fi")],
            organizationDescriptions=[
                ptv.LocalizedListItem(type="Summary", language="fi", value=name)
            ],
            publishingStatus="Published",
        ).dump()
    body["id"] = str(org_id)
    document = {
        "id": str(org_id),
        "source": SOURCE,
        "upstream_id": key,
        "ptv_id": upstream_id,
        "name": name,
        "business_id": business_id,
        "organization_type": source.organizationType if source else None,
        "url": url or context.ptv_organisation_url_template.format(id=upstream_id),
        "email": email,
    }
    return NormalisedOrganisation(org_id, key, name, business_id, document, body)


def _channel_document(channel: PtvChannel, channel_id: uuid.UUID) -> dict[str, Any]:
    kind = CHANNEL_KINDS.get(channel.serviceChannelType or "", "web")
    address: dict[str, Any] = {}
    location = None
    municipality = None
    for candidate in channel.addresses:
        street = candidate.streetAddress
        if candidate.type not in (None, "Location") or street is None:
            continue
        names = _texts(street.street)
        if names:
            address["street"] = " ".join(
                p for p in (names.get("fi") or next(iter(names.values())), street.streetNumber) if p
            )
        if street.postalCode:
            address["postal_code"] = street.postalCode
        offices = _texts(street.postOffice)
        if offices:
            address["city"] = (offices.get("fi") or next(iter(offices.values()))).title()
        municipality = street.municipality.code if street.municipality else None
        try:
            point = tm35fin_to_wgs84(float(street.latitude or ""), float(street.longitude or ""))
        except ValueError:
            point = None
        location = {"lon": round(point[0], 6), "lat": round(point[1], 6)} if point else None
        break
    url = _first_valid(safe_url, (w.url for w in channel.webPages))
    email = _first_valid(safe_email, (e.value for e in channel.supportEmails))
    return {
        "id": str(channel_id),
        "ptv_id": channel.id,
        "type": kind,
        "name": _texts(channel.serviceChannelNames, "Name"),
        "address": address or None,
        "location": location,
        "municipality": municipality if municipality in taxonomy().municipalities else None,
        "summary": _texts(channel.serviceChannelDescriptions, "Summary"),
        "registration": {},
        "registration_required": None,
        "registration_url": url if kind in ("online", "web") else None,
        "registration_email": email,
        "accessibility": [],
        "schedule": [],
    }


def _channel(
    channel: PtvChannel, raw: dict[str, Any], service_id: uuid.UUID, service_name: str | None
) -> tuple[NormalisedChannel, dict[str, Any]]:
    # A PTV channel serves many services; each of ours gets its own row and id.
    channel_id = ptv.stable_id("channel", SOURCE, f"{service_id}:{channel.id}")
    document = _channel_document(channel, channel_id)
    schema = CHANNEL_SCHEMAS.get(channel.serviceChannelType or "", "V11VmOpenApiWebPageChannel")
    body = declared_only(schema, raw)
    body["id"] = str(channel_id)
    body["services"] = [{"service": {"id": str(service_id), "name": service_name}}]
    location = document["location"]
    return (
        NormalisedChannel(
            id=channel_id,
            channel_type=channel.serviceChannelType or "WebPage",
            municipality=document["municipality"],
            lat=location["lat"] if location else None,
            lon=location["lon"] if location else None,
            ptv=body,
        ),
        document,
    )


def _contacts(channels: list[PtvChannel]) -> list[dict[str, Any]]:
    contacts: list[dict[str, Any]] = []
    for channel in channels:
        for phone in channel.phoneNumbers:
            number = f"{phone.prefixNumber or ''}{phone.number or ''}"
            if phone.number and phone_parts(number):
                contacts.append({"type": "phone", "value": number, "label": {}})
        for email in channel.supportEmails:
            if (value := safe_email(email.value)) is not None:
                contacts.append({"type": "email", "value": value, "label": {}})
        for page in channel.webPages:
            if (url := safe_url(page.url)) is not None:
                contacts.append({"type": "www", "value": url, "label": {}})
    unique = {(c["type"], c["value"]): c for c in contacts}
    return list(unique.values())


def _placement(
    service: PtvService,
    channels: list[PtvChannel],
    names: Labels,
    summary: Labels,
    org_type: str | None,
) -> tuple[str, Placement]:
    """Classified by the channels the service is still offered through."""
    return classify_ptv(
        PtvFeatures(
            service_classes=tuple(c.code for c in service.serviceClasses if c.code),
            target_groups=tuple(c.code for c in service.targetGroups if c.code),
            life_events=tuple(c.code for c in service.lifeEvents if c.code),
            organization_type=org_type,
            channel_types=tuple(
                CHANNEL_KINDS.get(c.serviceChannelType or "", "web") for c in channels
            ),
            text=" ".join([*names.values(), *summary.values()]),
        )
    )


def _publication(service: PtvService) -> Publication:
    return Publication.PUBLISHED if service.publishingStatus == PUBLISHED else Publication.EXPIRED


def normalise_ptv(raw: Any, context: Context) -> NormalisedActivity:
    """One PTV service bundle -> the stored record, classified, with its channels."""
    bundle = parse_bundle(raw)
    service = bundle.service
    service_id = uuid.UUID(service.id)
    names = _texts(service.serviceNames, "Name")
    if not names:
        raise UnusableRecord("service.serviceNames: no Name in fi, sv or en")
    summary = _texts(service.serviceDescriptions, "Summary")
    description = _texts(service.serviceDescriptions, "Description")
    organisation = _organisation(bundle, raw.get("organization"), context)
    org_type = bundle.organization.organizationType if bundle.organization else None
    live = [
        (channel, body)
        for channel, body in zip(bundle.channels, raw.get("channels") or [], strict=True)
        if channel.publishingStatus in (None, PUBLISHED)
    ]
    channels = [channel for channel, _ in live]
    kind, placement = _placement(service, channels, names, summary, org_type)
    built = [_channel(c, body, service_id, names.get("fi")) for c, body in live]
    municipalities = _municipalities(service, channels)
    is_free = {"FreeOfCharge": True, "Chargeable": False}.get(service.serviceChargeType or "")
    url = context.ptv_service_url_template.format(id=service.id)
    body = declared_only("V11VmOpenApiService", raw["service"])
    body["serviceChannels"] = [
        {"serviceChannel": {"id": str(c.id), "name": names.get("fi")}} for c, _ in built
    ]
    if organisation is not None:
        reference = {"id": str(organisation.id), "name": organisation.name}
        body["mainOrganization"] = reference
        body["organizations"] = [{"roleType": "Responsible", "organization": reference}]
        body["serviceProducers"] = body.get("serviceProducers") or [
            {"provisionType": "SelfProducedServices", "organizations": [reference]}
        ]
    languages = [lang for lang in service.languages if lang in LANGUAGES] or list(names)
    document: dict[str, Any] = {
        "id": str(service_id),
        "source": SOURCE,
        "upstream_id": service.id,
        "kind": kind,
        "type": {"code": None, "label": {}},
        "name": names,
        "summary": summary or {k: v[:300] for k, v in description.items()},
        "description": description,
        "description_html": {},
        "pricing": {},
        "registration": {},
        "is_free": is_free,
        "languages": languages,
        "content_languages": list(names),
        "stages": terms_with_reasons(placement.stages, "slug"),
        "themes": terms_with_reasons(placement.themes, "slug"),
        "activity_types": terms_with_reasons(placement.activity_types, "slug"),
        "target_groups": terms_with_reasons(placement.target_groups, "code"),
        "life_events": terms_with_reasons(placement.life_events, "code"),
        "service_classes": terms_with_reasons(placement.service_classes, "code"),
        "municipalities": municipalities,
        "organisation": {"id": str(organisation.id), "name": organisation.name}
        if organisation
        else None,
        "channels": [document for _, document in built],
        "contacts": _contacts(channels),
        "image": None,
        "lahella_url": None,
        "url": url,
        "source_id": service.sourceId,
        "modified_upstream": service.modified.isoformat() if service.modified else None,
        "unmapped": [{"field": f, "value": v} for f, v in placement.unmapped],
    }
    organisation_name = organisation.name if organisation else ""
    primary_name = names.get("fi") or next(iter(names.values()))
    return NormalisedActivity(
        id=service_id,
        upstream_id=service.id,
        publication=_publication(service),
        organisation=organisation,
        document=document,
        ptv=body,
        channels=[c for c, _ in built],
        occurrences=[],
        name_sort=primary_name.casefold(),
        visible_until=None,
        municipalities=municipalities,
        stages=list(placement.stages),
        themes=list(placement.themes),
        activity_types=list(placement.activity_types),
        target_groups=list(placement.target_groups),
        languages=languages,
        is_free=is_free,
        online=any(d["type"] in ("online", "phone") for _, d in built),
        search_text=strip_nul(
            " ".join(
                [
                    *names.values(),
                    *summary.values(),
                    description.get("fi", "")[:2000],
                    organisation_name,
                ]
            )
        ),
        match_keys=dedupe.match_keys(
            lahella_key=lahella_key(service.sourceId),
            name=primary_name,
            organisation=organisation.name if organisation else None,
            business_id=organisation.business_id if organisation else None,
            municipalities=municipalities,
        ),
        unmapped=placement.unmapped,
    )
