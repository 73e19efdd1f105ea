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

from lahella_bridge import ptv
from lahella_bridge.normalise.assembly import assemble
from lahella_bridge.normalise.contact_values import phone_parts, safe_email, safe_url
from lahella_bridge.normalise.organisation_identity import business_identity, valid_business_id
from lahella_bridge.normalise.outcome import (
    LANGUAGES,
    Context,
    NormalisedActivity,
    NormalisedChannel,
    NormalisedOrganisation,
    UnusableRecord,
    parse_record,
)
from lahella_bridge.ptv_acceptance import CHANNEL_SCHEMAS, declared_only
from lahella_bridge.records import (
    ActivityType,
    Address,
    ContactEntry,
    Labels,
    OrganisationRecord,
    Point,
    StoredChannel,
)
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
    document = OrganisationRecord(
        id=str(org_id),
        source=SOURCE,
        upstream_id=key,
        ptv_id=upstream_id,
        name=name,
        business_id=business_id,
        organization_type=source.organizationType if source else None,
        url=url or context.ptv_organisation_url_template.format(id=upstream_id),
        email=email,
    )
    return NormalisedOrganisation(org_id, key, name, business_id, document, body)


def _stored_channel(channel: PtvChannel, channel_id: uuid.UUID) -> StoredChannel:
    kind = CHANNEL_KINDS.get(channel.serviceChannelType or "", "web")
    address: dict[str, str] = {}
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
        location = Point(lon=round(point[0], 6), lat=round(point[1], 6)) if point else None
        break
    url = _first_valid(safe_url, (w.url for w in channel.webPages))
    email = _first_valid(safe_email, (e.value for e in channel.supportEmails))
    return StoredChannel(
        id=str(channel_id),
        ptv_id=channel.id,
        type=kind,
        name=_texts(channel.serviceChannelNames, "Name"),
        address=Address(**address) if address else None,
        location=location,
        municipality=municipality if municipality in taxonomy().municipalities else None,
        summary=_texts(channel.serviceChannelDescriptions, "Summary"),
        registration={},
        registration_required=None,
        registration_url=url if kind in ("online", "web") else None,
        registration_email=email,
        accessibility=[],
        schedule=[],
    )


def _channel(
    channel: PtvChannel, raw: dict[str, Any], service_id: uuid.UUID, service_name: str | None
) -> tuple[NormalisedChannel, StoredChannel]:
    # A PTV channel serves many services; each of ours gets its own row and id.
    channel_id = ptv.stable_id("channel", SOURCE, f"{service_id}:{channel.id}")
    stored = _stored_channel(channel, channel_id)
    schema = CHANNEL_SCHEMAS.get(channel.serviceChannelType or "", "V11VmOpenApiWebPageChannel")
    body = declared_only(schema, raw)
    body["id"] = str(channel_id)
    body["services"] = [{"service": {"id": str(service_id), "name": service_name}}]
    location = stored.location
    return (
        NormalisedChannel(
            id=channel_id,
            channel_type=channel.serviceChannelType or "WebPage",
            municipality=stored.municipality,
            lat=location.lat if location else None,
            lon=location.lon if location else None,
            ptv=body,
        ),
        stored,
    )


def _contacts(channels: list[PtvChannel]) -> list[ContactEntry]:
    contacts: list[ContactEntry] = []
    for channel in channels:
        for phone in channel.phoneNumbers:
            number = f"{phone.prefixNumber or ''}{phone.number or ''}"
            if phone.number and phone_parts(number):
                contacts.append(ContactEntry(type="phone", value=number, label={}))
        for email in channel.supportEmails:
            if (value := safe_email(email.value)) is not None:
                contacts.append(ContactEntry(type="email", value=value, label={}))
        for page in channel.webPages:
            if (url := safe_url(page.url)) is not None:
                contacts.append(ContactEntry(type="www", value=url, label={}))
    unique = {(c.type, c.value): c for c in contacts}
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
    return assemble(
        source=SOURCE,
        record_id=service_id,
        upstream_id=service.id,
        kind=kind,
        activity_type=ActivityType(code=None, label={}),
        names=names,
        summary=summary,
        shown_summary=summary or {k: v[:300] for k, v in description.items()},
        description=description,
        description_html={},
        pricing={},
        registration={},
        is_free=is_free,
        languages=languages,
        placement=placement,
        municipalities=municipalities,
        organisation=organisation,
        channels=built,
        contacts=_contacts(channels),
        image=None,
        lahella_url=None,
        url=url,
        source_only={
            "source_id": service.sourceId,
            "modified_upstream": service.modified.isoformat() if service.modified else None,
        },
        publication=_publication(service),
        ptv_body=body,
        occurrences=[],
        visible_until=None,
        lahella_key=lahella_key(service.sourceId),
        problems=[],
    )
