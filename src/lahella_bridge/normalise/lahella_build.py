"""PURE reading of one Lähellä.fi record into the values its record and PTV bodies share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

from lahella_bridge import ptv
from lahella_bridge.normalise.contact_values import phone_parts, safe_email, safe_url
from lahella_bridge.normalise.organisation_identity import business_identity, valid_business_id
from lahella_bridge.normalise.outcome import (
    LANGUAGES,
    Context,
    NormalisedOrganisation,
    UnusableRecord,
)
from lahella_bridge.records import ContactEntry, Labels, OrganisationRecord
from lahella_bridge.richtext import html_to_text, plain_line, sanitise_html, strip_nul
from lahella_bridge.taxonomy import Features, Placement, classify, taxonomy
from lahella_bridge.upstream.schemas import Contact, LahellaActivity

SOURCE = "lahella"


T = TypeVar("T")


def translated_texts(activity: LahellaActivity, attribute: str, *, plain: bool = True) -> Labels:
    result = {}
    for lang, translation in in_language_order(activity.traits.translations):
        value = getattr(translation, attribute, None)
        if value:
            text = html_to_text(value) if plain else sanitise_html(value)
            if text:
                result[lang] = text
    return result


def in_language_order(translations: dict[str, T]) -> list[tuple[str, T]]:
    """fi, sv, en in that order whatever the upstream's key order: output is stable."""
    return [(lang, translations[lang]) for lang in LANGUAGES if lang in translations]


def _names(activity: LahellaActivity) -> Labels:
    names = {}
    for lang, translation in in_language_order(activity.traits.translations):
        name = plain_line(translation.name)
        if name:
            names[lang] = name
    return names


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


def _contacts(activity: LahellaActivity) -> list[ContactEntry]:
    contacts = []
    for contact in activity.traits.contacts:
        value = _contact_value(contact)
        if value is None:
            continue
        label = {
            lang: plain_line(t.description)
            for lang, t in in_language_order(contact.translations)
            if t.description
        }
        contacts.append(ContactEntry(type=contact.type, value=value, label=label))
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
class Built:
    """Intermediate results shared by the stored record and PTV builders."""

    activity: LahellaActivity
    context: Context
    names: Labels
    summary: Labels
    description: Labels
    placement: Placement
    municipalities: list[str]
    languages: list[str]
    contacts: list[ContactEntry]
    organisation: NormalisedOrganisation | None
    service_id: uuid.UUID
    is_free: bool | None
    problems: list[str]


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
    document = OrganisationRecord(
        id=str(org_id),
        source=SOURCE,
        upstream_id=org_key,
        groups=[group],
        name=name,
        business_id=business_id,
        url=url,
        email=email,
        lahella_url=context.organisation_url_template.format(group=group),
    )
    return NormalisedOrganisation(org_id, org_key, name, business_id, document, model.dump())


def _is_free(activity: LahellaActivity) -> bool | None:
    pricing = set(activity.traits.pricing)
    if "free" in pricing:
        return True
    if "paid" in pricing:
        return False
    return None


def build(activity: LahellaActivity, context: Context) -> Built:
    names = _names(activity)
    if not names:
        raise UnusableRecord("traits.translations: no name in fi, sv or en")
    municipalities, region_unmapped = _regions(activity)
    languages, locale_unmapped = _languages(activity)
    summary = translated_texts(activity, "summary")
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
    return Built(
        activity=activity,
        context=context,
        names=names,
        summary=summary,
        description=translated_texts(activity, "description"),
        placement=placement,
        municipalities=municipalities,
        languages=languages,
        contacts=_contacts(activity),
        organisation=_organisation(activity, context),
        service_id=ptv.stable_id("service", SOURCE, activity.key),
        is_free=_is_free(activity),
        problems=[],
    )
