"""PURE view models for the pages: localised texts, schedules and join instructions."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import segno

from lahella_bridge.records import Address, ScheduleRow, StoredChannel, StoredRecord
from lahella_bridge.schedule import HELSINKI
from lahella_bridge.taxonomy import localised, taxonomy

UI: dict[str, dict[str, str]] = {
    "fi": {
        "title": "Järjestöjen ja seurakuntien toiminta",
        "filters": "Rajaa hakua",
        "municipality": "Kunta",
        "stage": "Palveluketjun vaihe",
        "theme": "Teema",
        "activity_type": "Toimintamuoto",
        "q": "Hakusana",
        "all": "Kaikki",
        "search": "Hae",
        "organiser": "Järjestäjä",
        "when": "Milloin",
        "where": "Missä",
        "join": "Näin osallistut",
        "more": "Lisätietoja Lähellä.fi-palvelussa",
        "more_ptv": "Lisätietoja Suomi.fi-palvelussa",
        "sote": "Sosiaali- ja terveyspalvelu",
        "results": "Löytyi {n} toimintaa",
        "none": "Hakuehdoilla ei löytynyt toimintaa.",
        "online": "Verkossa",
        "phone": "Puhelimitse",
        "free": "Maksuton",
        "paid": "Maksullinen",
        "weekly": "viikoittain",
        "every_other": "joka toinen viikko",
        "registration": "Ilmoittautuminen",
        "no_registration": "Ei ennakkoilmoittautumista",
        "next": "Seuraavat kerrat",
        "chain": "Palveluketju",
        "page": "Sivu",
        "previous_page": "Edellinen",
        "next_page": "Seuraava",
        "language": "Kieli",
        "other_themes": "Muut teemat",
        "referral": "Ohjaaminen järjestöjen ja seurakuntien toimintaan",
        "segment": "Asiakkaan tilanne",
        "steps": "Ohjauksen vaiheet",
        "choose": "Valitse asiakkaalle",
        "make_sheet": "Tee asiakkaalle tuloste",
        "sheet": "Tietoa sinulle sopivasta toiminnasta",
        "summary_for_record": "Kirjaus asiakas- ja potilastietojärjestelmään",
        "copy_hint": "Kopioi teksti ja liitä se asiakkaan kirjauksiin.",
        "print": "Tulosta",
        "pdf": "Lataa PDF",
        "contact": "Yhteystiedot",
        "scan": "Lue koodi puhelimella",
        "skip": "Siirry sisältöön",
        "selected": "Valitut toiminnat",
        "no_selection": "Valitse ensin vähintään yksi toiminta.",
        "back": "Takaisin hakuun",
        "referred": "Ohjattu toimintaan",
        "date": "Päiväys",
    },
    "sv": {
        "title": "Organisationers och församlingars verksamhet",
        "filters": "Avgränsa sökningen",
        "municipality": "Kommun",
        "stage": "Skede i servicekedjan",
        "theme": "Tema",
        "activity_type": "Verksamhetsform",
        "q": "Sökord",
        "all": "Alla",
        "search": "Sök",
        "organiser": "Arrangör",
        "when": "När",
        "where": "Var",
        "join": "Så deltar du",
        "more": "Mer information på Lähellä.fi",
        "more_ptv": "Mer information på Suomi.fi",
        "sote": "Social- och hälsovårdstjänst",
        "results": "{n} verksamheter hittades",
        "none": "Inga verksamheter motsvarade sökningen.",
        "online": "På nätet",
        "phone": "Per telefon",
        "free": "Avgiftsfri",
        "paid": "Avgiftsbelagd",
        "weekly": "varje vecka",
        "every_other": "varannan vecka",
        "registration": "Anmälan",
        "no_registration": "Ingen förhandsanmälan",
        "next": "Nästa gånger",
        "chain": "Servicekedjan",
        "page": "Sida",
        "previous_page": "Föregående",
        "next_page": "Nästa",
        "language": "Språk",
        "other_themes": "Andra teman",
        "referral": "Hänvisning till organisationers och församlingars verksamhet",
        "segment": "Klientens situation",
        "steps": "Hänvisningens steg",
        "choose": "Välj för klienten",
        "make_sheet": "Gör en utskrift för klienten",
        "sheet": "Information om verksamhet för dig",
        "summary_for_record": "Anteckning i klient- och patientdatasystemet",
        "copy_hint": "Kopiera texten och klistra in den i klientens anteckningar.",
        "print": "Skriv ut",
        "pdf": "Ladda ner PDF",
        "contact": "Kontaktuppgifter",
        "scan": "Läs koden med telefonen",
        "skip": "Hoppa till innehållet",
        "selected": "Valda verksamheter",
        "no_selection": "Välj först minst en verksamhet.",
        "back": "Tillbaka till sökningen",
        "referred": "Hänvisad till verksamhet",
        "date": "Datum",
    },
    "en": {
        "title": "Activities of NGOs and parishes",
        "filters": "Narrow the search",
        "municipality": "Municipality",
        "stage": "Service-chain stage",
        "theme": "Theme",
        "activity_type": "Type of activity",
        "q": "Search words",
        "all": "All",
        "search": "Search",
        "organiser": "Organiser",
        "when": "When",
        "where": "Where",
        "join": "How to join",
        "more": "More on Lähellä.fi",
        "more_ptv": "More on Suomi.fi",
        "sote": "Social or health service",
        "results": "{n} activities found",
        "none": "No activities match the search.",
        "online": "Online",
        "phone": "By phone",
        "free": "Free",
        "paid": "Paid",
        "weekly": "weekly",
        "every_other": "every other week",
        "registration": "Registration",
        "no_registration": "No registration needed",
        "next": "Next sessions",
        "chain": "Service chain",
        "page": "Page",
        "previous_page": "Previous",
        "next_page": "Next",
        "language": "Language",
        "other_themes": "Other themes",
        "referral": "Referring clients to NGO and parish activities",
        "segment": "The client's situation",
        "steps": "Referral steps",
        "choose": "Choose for the client",
        "make_sheet": "Make a sheet for the client",
        "sheet": "Activities for you",
        "summary_for_record": "Note for the client record",
        "copy_hint": "Copy the text and paste it into the client's record.",
        "print": "Print",
        "pdf": "Download PDF",
        "contact": "Contact",
        "scan": "Scan the code with your phone",
        "skip": "Skip to content",
        "selected": "Chosen activities",
        "no_selection": "Choose at least one activity first.",
        "back": "Back to the search",
        "referred": "Referred to an activity",
        "date": "Date",
    },
}
WEEKDAYS = {
    "fi": ("ma", "ti", "ke", "to", "pe", "la", "su"),
    "sv": ("mån", "tis", "ons", "tors", "fre", "lör", "sön"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def label_with_language(labels: dict[str, str] | None, lang: str) -> tuple[str, str]:
    """(text, its language): the requested language, else fi -> sv -> en."""
    return localised(labels, lang) or ("", lang)


def _clock(value: str | None) -> str:
    return (value or "").replace(":", ".")


def _schedule_line(row: ScheduleRow, lang: str) -> str:
    day = WEEKDAYS[lang][row.weekday - 1] if 1 <= row.weekday <= 7 else "?"
    times = _clock(row.start_time) + (f"–{_clock(row.end_time)}" if row.end_time else "")
    every = UI[lang]["every_other"] if row.period == "P2W" else UI[lang]["weekly"]
    return f"{day} {times} ({every})"


def session_line(starts: datetime, ends: datetime | None, lang: str) -> str:
    local = starts.astimezone(HELSINKI)
    day = WEEKDAYS[lang][local.weekday()]
    text = f"{day} {local.day}.{local.month}.{local.year} {local:%H.%M}"
    return text + (f"–{ends.astimezone(HELSINKI):%H.%M}" if ends else "")


def _where(channel: StoredChannel, lang: str) -> str:
    if channel.type == "online":
        return UI[lang]["online"]
    if channel.type == "phone":
        return UI[lang]["phone"]
    address = channel.address or Address()
    return ", ".join(p for p in (address.street, address.postal_code, address.city) if p)


def card(record: StoredRecord, upcoming: list[Any], lang: str) -> dict[str, Any]:
    """Everything one activity card shows, in `lang` where the upstream has it."""
    tax = taxonomy()
    ui = UI[lang]
    name, name_lang = label_with_language(record.name, lang)
    summary, summary_lang = label_with_language(record.summary, lang)
    channels = record.channels
    contacts = record.contacts
    registration, registration_lang = label_with_language(record.registration, lang)
    for channel in channels:
        if not registration:
            registration, registration_lang = label_with_language(channel.registration, lang)
    themes = [
        label_with_language(t.labels, lang)
        for entry in record.themes
        if (t := tax.theme(entry.slug)) is not None
    ]
    pricing, pricing_lang = label_with_language(record.pricing, lang)
    price = pricing or (
        ui["free"] if record.is_free else ui["paid"] if record.is_free is False else ""
    )
    return {
        "id": record.id,
        "name": name,
        "name_lang": name_lang,
        "summary": summary,
        "summary_lang": summary_lang,
        "organiser": record.organisation.name if record.organisation else "",
        "themes": themes,
        "schedule": [_schedule_line(row, lang) for c in channels for row in c.schedule],
        "next": [session_line(o.starts, o.ends, lang) for o in upcoming],
        "where": [w for c in channels if (w := _where(c, lang))],
        "registration": registration,
        "registration_lang": registration_lang,
        "registration_required": any(c.registration_required for c in channels),
        "registration_url": next(
            (c.registration_url for c in channels if c.registration_url), None
        ),
        "email": next((c.value for c in contacts if c.type == "email"), None)
        or next((c.registration_email for c in channels if c.registration_email), None),
        "phone": next((c.value for c in contacts if c.type == "phone"), None),
        "web": next((c.value for c in contacts if c.type == "www"), None),
        "price": price,
        "price_lang": pricing_lang if pricing else lang,
        "url": record.public_url,
        "kind": record.kind,
        "source": record.source,
    }


def qr_svg(url: str) -> str:
    """An inline SVG QR code (segno escapes nothing from us: the URL is ours)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", scale=3, xmldecl=False, svgns=True, title="QR", nl=False
    )
    return buffer.getvalue().decode()


def record_summary(
    cards: list[dict[str, Any]], steps: list[tuple[str, str]], lang: str, today: datetime
) -> str:
    """Plain text a professional pastes into the client or patient record."""
    ui = UI[lang]
    lines = [f"{ui['referred']} {today.astimezone(HELSINKI):%d.%m.%Y}:"]
    for item in cards:
        where = "; ".join(item["where"])
        lines.append(
            f"- {item['name']} ({item['organiser']}){', ' + where if where else ''}. {item['url']}"
        )
    lines.append(f"{ui['steps']}: " + " / ".join(text for text, _ in steps))
    return "\n".join(lines)
