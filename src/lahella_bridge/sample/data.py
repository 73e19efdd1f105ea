"""A realistic, deterministic Lähellä.fi data set in the upstream's exact JSON shape.

Dates are relative to an anchor (by default this week's Monday), so the demo always
has upcoming sessions. `generate(count)` scales the same templates to any size.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lahella_bridge.schedule import HELSINKI

DEFAULT_COUNT = 320

# (fi, sv, lat, lon, postal code, street)
PLACES = [
    ("Oulu", "Uleåborg", 65.0121, 25.4651, "90100", "Isokatu 23"),
    ("Raahe", "Brahestad", 64.6847, 24.4791, "92100", "Kauppakatu 40"),
    ("Ylivieska", "Ylivieska", 64.0726, 24.5339, "84100", "Kauppatori 1"),
    ("Kuusamo", "Kuusamo", 65.9646, 29.1886, "93600", "Kitkantie 20"),
    ("Kempele", "Kempele", 64.9125, 25.5086, "90440", "Kirkonkylänkatu 2"),
    ("Kalajoki", "Kalajoki", 64.2597, 23.9486, "85100", "Pohjankyläntie 23"),
    ("Haapajärvi", "Haapajärvi", 63.7486, 25.3181, "85800", "Kirkkokatu 6"),
    ("Pudasjärvi", "Pudasjärvi", 65.3608, 26.9989, "93100", "Varsitie 7"),
    ("Nivala", "Nivala", 63.9292, 24.9772, "85500", "Kalliontie 7"),
    ("Liminka", "Limingo", 64.8097, 25.4153, "91900", "Limingantie 1"),
    ("Muhos", "Muhos", 64.8081, 25.9933, "91500", "Kirkkotie 12"),
    ("Ii", "Ii", 65.3172, 25.3722, "91100", "Jokisuuntie 2"),
    ("Haapavesi", "Haapavesi", 64.1386, 25.3653, "86600", "Tähtelänkuja 2"),
    ("Oulainen", "Oulainen", 64.2667, 24.8167, "86300", "Petäjäkuja 1"),
    ("Tyrnävä", "Tyrnävä", 64.7644, 25.6533, "91800", "Kauppatie 1"),
]

# (fi name, sv name, en name, fi summary, type, themes, format)
TEMPLATES: list[tuple[str, str, str, str, str, list[str], list[str]]] = [
    (
        "Seniorien kuntosaliryhmä",
        "Gymgrupp för seniorer",
        "Gym group for seniors",
        "Ohjattu kuntosaliryhmä yli 65-vuotiaille. Harjoitellaan lihaskuntoa ja tasapainoa.",
        "hobby",
        ["ht_urheilu", "ht_hyvinvointi"],
        ["hm_ryhmat"],
    ),
    (
        "Omaishoitajien vertaistukiryhmä",
        "Kamratstödgrupp för närståendevårdare",
        "Peer support group for family carers",
        "Vertaistukea ja keskustelua omaishoitajille kahvikupin ääressä.",
        "support",
        ["ht_hyvinvointi"],
        ["hm_ryhmat"],
    ),
    (
        "Mielenterveyden vertaistukiryhmä",
        "Kamratstöd för psykisk hälsa",
        "Mental health peer group",
        "Luottamuksellinen vertaistukiryhmä mielen hyvinvoinnin tueksi.",
        "support",
        ["ht_hyvinvointi"],
        ["hm_ryhmat"],
    ),
    (
        "Kielikahvila maahanmuuttajille",
        "Språkcafé för invandrare",
        "Language café for newcomers",
        "Harjoitellaan suomen kieltä rennosti. Kaikki tervetulleita, maahanmuuttajat erityisesti.",
        "hobby",
        ["ht_kansainvalisyys"],
        ["hm_kohtaamispaikka"],
    ),
    (
        "Ystävätoiminnan vapaaehtoiskoulutus",
        "Utbildning för frivilliga vänner",
        "Training for volunteer befrienders",
        "Koulutus vapaaehtoiseksi ystäväksi ikäihmiselle. Koulutuksen jälkeen saat oman ystävän.",
        "voluntary",
        ["ht_vaikuttaminen"],
        ["hm_tilaisuudet"],
    ),
    (
        "Ruoka-apu ja yhteinen ateria",
        "Mathjälp och gemensam måltid",
        "Food aid and a shared meal",
        "Ruoka-apua ja lämmin ateria viikoittain. Ei ennakkoilmoittautumista.",
        "support",
        ["ht_hyvinvointi"],
        ["hm_oleskelu"],
    ),
    (
        "Talous- ja velkaneuvonta",
        "Ekonomi- och skuldrådgivning",
        "Money and debt advice",
        "Maksutonta talousneuvontaa ja apua velka-asioissa luottamuksellisesti.",
        "support",
        ["ht_vaikuttaminen"],
        ["hm_tilaisuudet"],
    ),
    (
        "Luontoretki lähimetsään",
        "Naturutflykt i närskogen",
        "Nature walk in the local forest",
        "Opastettu retki lähimetsään. Opitaan tunnistamaan kasveja ja lintuja.",
        "hobby",
        ["ht_luonto"],
        ["hm_leirit"],
    ),
    (
        "Kädentaitojen kerho",
        "Hantverksklubb",
        "Crafts club",
        "Neulotaan, virkataan ja ommellaan yhdessä. Välineitä voi lainata.",
        "hobby",
        ["ht_kadentaidot"],
        ["hm_harrastukset"],
    ),
    (
        "Seurakunnan perhekerho",
        "Församlingens familjeklubb",
        "Parish family club",
        "Perhekerho vauvoille, lapsille ja vanhemmille. Laulua, leikkiä ja kahvia.",
        "hobby",
        ["ht_uskonnot"],
        ["hm_ryhmat"],
    ),
    (
        "Digitaitojen opastus",
        "Handledning i digital kompetens",
        "Help with digital skills",
        "Apua älypuhelimen ja tietokoneen käyttöön. Digituki vapaaehtoisten opastamana.",
        "hobby",
        ["ht_digi_teknologia"],
        ["hm_harrastukset"],
    ),
    (
        "Kuorolaulu kaikille",
        "Körsång för alla",
        "Choir singing for all",
        "Matalan kynnyksen kuoro. Nuotinlukutaitoa ei tarvita.",
        "hobby",
        ["ht_kulttuuri"],
        ["hm_esitykset"],
    ),
    (
        "Ensiapukurssi",
        "Första hjälpen-kurs",
        "First aid course",
        "Ensiavun peruskurssi SPR:n kouluttajan johdolla.",
        "hobby",
        ["ht_pelastustoiminta"],
        ["hm_tilaisuudet"],
    ),
    (
        "Nuorten iltakahvila",
        "Kvällscafé för unga",
        "Evening café for young people",
        "Nuorten kohtaamispaikka: pelejä, juttuseuraa ja iltapalaa.",
        "hobby",
        ["ht_digi_teknologia"],
        ["hm_kohtaamispaikka"],
    ),
    (
        "Päihteettömän elämän vertaisryhmä",
        "Kamratgrupp för ett nyktert liv",
        "Peer group for a sober life",
        "Vertaistukea päihteistä ja riippuvuuksista toipuville ja heidän läheisilleen.",
        "support",
        ["ht_hyvinvointi"],
        ["hm_ryhmat"],
    ),
    (
        "Kylätalon avoimet ovet",
        "Byagårdens öppna dörrar",
        "Village hall open house",
        "Kylätalolla kahvia ja juttuseuraa. Tule tutustumaan kylätoimintaan.",
        "hobby",
        ["ht_vaikuttaminen"],
        ["hm_kylatoiminta"],
    ),
    (
        "Taidenäyttely: pohjoisen valo",
        "Konstutställning: nordligt ljus",
        "Art exhibition: northern light",
        "Paikallisten taiteilijoiden näyttely. Vapaa pääsy.",
        "hobby",
        ["ht_kulttuuri"],
        ["hm_nayttelyt"],
    ),
    (
        "Opas omaishoitajalle",
        "Guide för närståendevårdare",
        "Guide for family carers",
        "Opas omaishoitajan arkeen ja tukimuotoihin, tilattavissa ja verkossa.",
        "support",
        ["ht_hyvinvointi"],
        ["hm_oppaat"],
    ),
    (
        "Reserviläisten ampumavuoro",
        "Skjuttur för reservister",
        "Reservist shooting practice",
        "Viikoittainen harjoitusvuoro reserviläisille.",
        "hobby",
        ["ht_maanpuolustus"],
        ["hm_harrastukset"],
    ),
    (
        "Keskusteluapua puhelimessa",
        "Samtalsstöd per telefon",
        "Conversation support by phone",
        "Auttava puhelin: keskusteluapua kriisissä ja yksinäisyyteen. Soita nimettömästi.",
        "support",
        ["ht_hyvinvointi"],
        ["hm_tilaisuudet"],
    ),
    (
        "Verkkovertaisryhmä syöpään sairastuneille",
        "Kamratgrupp på nätet för cancersjuka",
        "Online peer group for people with cancer",
        "Etänä kokoontuva vertaistukiryhmä syöpään sairastuneille.",
        "support",
        ["ht_hyvinvointi"],
        ["hm_ryhmat"],
    ),
    (
        "Tanssillinen tuolijumppa",
        "Dansande stolgympa",
        "Chair dance exercise",
        "Kevyttä tuolijumppaa musiikin tahdissa, sopii myös rollaattorin kanssa liikkuville.",
        "hobby",
        ["ht_urheilu"],
        ["hm_ryhmat"],
    ),
    (
        "Kesäleiri erityislapsille",
        "Sommarläger för barn med särskilda behov",
        "Summer camp for children with special needs",
        "Viikon mittainen leiri erityislapsille ja heidän perheilleen.",
        "hobby",
        ["ht_luonto"],
        ["hm_leirit"],
    ),
    (
        "Vapaaehtoiseksi palokuntaan",
        "Frivillig vid brandkåren",
        "Volunteer fire brigade",
        "Tule mukaan vapaaehtoiseen palokuntaan. Koulutamme kaikki tehtäviin.",
        "voluntary",
        ["ht_pelastustoiminta"],
        ["hm_harrastukset"],
    ),
    (
        "Luento: muisti ja arki",
        "Föreläsning: minnet och vardagen",
        "Lecture: memory in daily life",
        "Muistiasiantuntijan luento muistisairauksista ja arjen tukikeinoista.",
        "hobby",
        ["ht_hyvinvointi"],
        ["hm_tilaisuudet"],
    ),
    (
        "Surevien tukiryhmä",
        "Stödgrupp för sörjande",
        "Support group for the bereaved",
        "Läheisensä menettäneiden sururyhmä. Ryhmä on maksuton.",
        "support",
        ["ht_uskonnot"],
        ["hm_ryhmat"],
    ),
    (
        "Työttömien yhdistyksen työpaja",
        "Arbetslösas verkstad",
        "Workshop of the unemployed",
        "Työpajassa harjoitellaan työelämätaitoja ja saat tukea työnhakuun.",
        "support",
        ["ht_vaikuttaminen"],
        ["hm_harrastukset"],
    ),
    (
        "Vapaaehtoisten kauppa-apu",
        "Frivillig butikshjälp",
        "Volunteer shopping help",
        "Vapaaehtoinen käy kaupassa puolestasi. Kauppa-apu ikäihmisille.",
        "voluntary",
        ["ht_hyvinvointi"],
        ["hm_oleskelu"],
    ),
    (
        "Kehitysvammaisten liikuntakerho",
        "Idrottsklubb för personer med intellektuell funktionsnedsättning",
        "Sports club for people with intellectual disabilities",
        "Liikuntakerho kehitysvammaisille nuorille ja aikuisille.",
        "hobby",
        ["ht_urheilu"],
        ["hm_ryhmat"],
    ),
    (
        "Eläkeläisten lukupiiri",
        "Läscirkel för pensionärer",
        "Reading circle for retirees",
        "Luetaan ja keskustellaan kirjoista joka neljäs viikko.",
        "hobby",
        ["ht_kulttuuri"],
        ["hm_ryhmat"],
    ),
]

# (name, business id, home municipality): a local association works in its own
# municipality; one without a home works county-wide.
ORGANISATIONS: list[tuple[str, str | None, str | None]] = [
    ("Pohjois-Pohjanmaan Muistiyhdistys ry", "0201234-5", None),
    ("Oulun Seudun Omaishoitajat ry", "0212345-6", "Oulu"),
    ("Raahen seurakunta", "0223456-7", "Raahe"),
    ("SPR Pohjois-Pohjanmaan piiri", "0234567-8", None),
    ("Kuusamon Eläkeläiset ry", "0245678-9", "Kuusamo"),
    ("MLL Kempeleen yhdistys", "0256789-0", "Kempele"),
    ("Ylivieskan Mielenterveysseura ry", "0267890-1", "Ylivieska"),
    ("Kalajoen Kyläyhdistys ry", "0278901-2", "Kalajoki"),
    ("Nivalan Työttömät ry", "0289012-3", "Nivala"),
    ("Pudasjärven Luontoyhdistys ry", "0290123-4", "Pudasjärvi"),
    ("Limingan Kuoro ry", "0301234-5", "Liminka"),
    ("Haapajärven VPK ry", "0312345-6", "Haapajärvi"),
    ("Oulun Kehitysvammaisten Tuki ry", None, "Oulu"),
    ("Reserviläisliitto Pohjois-Pohjanmaa", "0323456-7", None),
    ("Syöpäyhdistys Pohjois-Pohjanmaa ry", "0334567-8", None),
]

# How often a template meets when its summary says so (the rule must say the same);
# the others meet weekly or every other week. Camps and outings are seasonal.
PERIODS = {
    "Ruoka-apu ja yhteinen ateria": "P1W",
    "Reserviläisten ampumavuoro": "P1W",
    "Eläkeläisten lukupiiri": "P4W",
}
SEASONS = {"hm_leirit": (5, 9)}  # format -> first and last month of its season
CAMP = "Kesäleiri erityislapsille"  # one week in the summer, not a weekly meeting

DAY_MS = 86_400_000
LONG_TEXT = " ".join(["Toiminta on avointa kaikille ja osallistuminen on vapaaehtoista."] * 120)


def default_anchor() -> date:
    today = datetime.now(HELSINKI).date()
    return today - timedelta(days=today.weekday())


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _midnight(day: date) -> int:
    return _ms(datetime.combine(day, time(0), tzinfo=HELSINKI))


def _group_id(index: int) -> str:
    return str(7103010000 + index)


def _p(text: str) -> str:
    return f'<p dir="ltr">{text}</p>'


def group_links(index: int) -> dict[str, Any]:
    name, business_id, _ = ORGANISATIONS[index % len(ORGANISATIONS)]
    details: dict[str, Any] = {"_key": _group_id(index), "name": name}
    if business_id:
        details["businessId"] = business_id
    return details


def organisation_index(index: int) -> int:
    """The organiser of record `index`: a local one of its place, or a county-wide one."""
    place = PLACES[(index // len(TEMPLATES) + index) % len(PLACES)][0]
    eligible = [i for i, (_, _, home) in enumerate(ORGANISATIONS) if home in (None, place)]
    return eligible[(index * 7) % len(eligible)]


def _next_summer_week(anchor: date, rng: random.Random) -> date:
    """A Monday in June or July, this year's if it is still ahead, else next year's."""
    year = anchor.year if anchor < date(anchor.year, 6, 1) else anchor.year + 1
    first = date(year, 6, 1) + timedelta(days=(7 - date(year, 6, 1).weekday()) % 7)
    return first + timedelta(weeks=rng.randint(0, 7))


def _season(anchor: date, months: tuple[int, int]) -> tuple[date, date]:
    """The season's current or next stretch: from its first month (or the anchor) to
    the end of its last month."""
    first_month, last_month = months
    year = anchor.year if anchor.month <= last_month else anchor.year + 1
    begins = max(date(year, first_month, 1), anchor - timedelta(days=60))
    ends = date(year, last_month + 1, 1) - timedelta(days=1)
    return begins, ends


def _camp(rng: random.Random, anchor: date) -> list[dict[str, Any]]:
    monday = _next_summer_week(anchor, rng)
    begins = datetime.combine(monday, time(10), tzinfo=HELSINKI)
    ends = datetime.combine(monday + timedelta(days=4), time(15), tzinfo=HELSINKI)
    return [{"start": _ms(begins), "end": _ms(ends), "timeZone": "Europe/Helsinki", "type": "3"}]


def _schedule(
    rng: random.Random,
    anchor: date,
    kind: str,
    period: str | None = None,
    season: tuple[int, int] | None = None,
) -> list[dict[str, Any]]:
    if kind == "camp":
        return _camp(rng, anchor)
    if kind == "event":
        day = anchor + timedelta(days=rng.randint(1, 120))
        begins = datetime.combine(day, time(rng.choice([10, 13, 17, 18])), tzinfo=HELSINKI)
        return [
            {
                "start": _ms(begins),
                "end": _ms(begins + timedelta(hours=2)),
                "timeZone": "Europe/Helsinki",
                "type": "1",
            }
        ]
    first = anchor - timedelta(days=rng.randint(0, 60))
    # Long enough to cross the next DST change in either direction.
    last = anchor + timedelta(days=rng.randint(150, 300))
    if season is not None:
        first, last = _season(anchor, season)
    weekdays = rng.sample(range(1, 8), rng.choice([1, 1, 2]))
    hour = rng.choice([9, 10, 13, 17, 18])
    every = rng.choice(["P1W", "P1W", "P1W", "P2W"])
    return [
        {
            "start": _midnight(first),
            "timeZone": "Europe/Helsinki",
            "type": "4",
            "recurrence": {
                "period": period or every,
                "exclude": [_midnight(anchor + timedelta(days=14))] if rng.random() < 0.2 else [],
                "end": _midnight(last),
                "daySpecificTimes": [
                    {"weekday": w, "startTime": f"{hour:02d}:00", "endTime": f"{hour + 1:02d}:30"}
                    for w in sorted(weekdays)
                ],
            },
        }
    ]


def _channel(
    rng: random.Random,
    place: tuple[str, str, float, float, str, str],
    kind: str,
    anchor: date,
    schedule: list[dict[str, Any]],
) -> dict[str, Any]:
    fi_city, sv_city, lat, lon, postal, street = place
    channel: dict[str, Any] = {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "type": [kind],
        "accessibility": rng.sample(
            [
                "ac_wheelchair",
                "ac_rollator",
                "ac_inductionloop",
                "ac_itoilet",
                "ac_parking",
                "ac_unknow",
            ],
            rng.randint(1, 3),
        ),
        "translations": {},
        "events": schedule,
        "registrationRequired": rng.random() < 0.5,
        "registrationUrl": "https://example.org/ilmoittaudu" if rng.random() < 0.4 else "",
        "registrationEmail": "",
    }
    if kind in ("place", "hybrid"):
        jitter_lat, jitter_lon = rng.uniform(-0.01, 0.01), rng.uniform(-0.02, 0.02)
        channel["map"] = {
            "center": {
                "type": "Point",
                "coordinates": [round(lon + jitter_lon, 5), round(lat + jitter_lat, 5)],
            },
            "zoom": 16,
        }
        channel["translations"] = {
            "fi": {
                "summary": _p(f"Kokoonnumme osoitteessa {street}, {fi_city}."),
                "address": {
                    "street": street,
                    "postalCode": postal,
                    "city": fi_city,
                    "state": "Pohjois-Pohjanmaa",
                    "country": "FI",
                },
                "registration": _p("Ilmoittaudu puhelimitse tai sähköpostilla."),
            },
            "sv": {
                "address": {
                    "postalCode": postal,
                    "city": sv_city,
                    "state": "Norra Österbotten",
                    "country": "FI",
                }
            },
        }
    elif kind == "online":
        channel["translations"] = {"fi": {"summary": _p("Kokoonnumme verkossa Teamsissa.")}}
        channel["registrationUrl"] = "https://example.org/verkkoryhma"
    else:
        channel["translations"] = {"fi": {"summary": _p("Soita ja keskustele nimettömästi.")}}
    return channel


def _record(index: int, anchor: date) -> dict[str, Any]:
    rng = random.Random(index)  # noqa: S311 (sample data, not security)
    template = TEMPLATES[index % len(TEMPLATES)]
    fi_name, sv_name, en_name, fi_summary, kind, themes, formats = template
    place = PLACES[(index // len(TEMPLATES) + index) % len(PLACES)]
    org_index = organisation_index(index)
    channel_kind = "place"
    if "Verkko" in fi_name or index % 23 == 0:
        channel_kind = "online"
    elif "puhelimessa" in fi_name:
        channel_kind = "phone"
    elif index % 31 == 0:
        channel_kind = "hybrid"
    schedule_kind = (
        "camp"
        if fi_name == CAMP
        else "event"
        if formats[0] in ("hm_tilaisuudet", "hm_nayttelyt", "hm_esitykset") and index % 2 == 0
        else "weekly"
    )
    period, season = PERIODS.get(fi_name), SEASONS.get(formats[0])
    free = rng.random() < 0.6
    translations: dict[str, Any] = {
        "fi": {
            "name": f"{fi_name} – {place[0]}",
            "summary": _p(fi_summary),
            "description": _p(fi_summary) + "<ul><li>Ota mukaan juomapullo.</li>"
            "<li>Kysy lisää järjestäjältä.</li></ul>",
            "pricing": _p("Maksuton." if free else f"{rng.choice([5, 10, 20, 45])} euroa."),
        },
    }
    if index % 3 == 0:
        translations["sv"] = {
            "name": f"{sv_name} – {place[1]}",
            "summary": _p(f"{sv_name} i {place[1]}."),
        }
    if index % 4 == 0:
        translations["en"] = {
            "name": f"{en_name} – {place[0]}",
            "summary": _p(f"{en_name} in {place[0]}."),
        }
    ages = rng.choice(
        [
            ["ageGroup/range:65-99"],
            ["ageGroup/range:18-29", "ageGroup/range:30-64"],
            ["ageGroup/range:0-6", "ageGroup/range:7-12"],
            ["ageGroup/range:13-17"],
            [],
        ]
    )
    schedule = _schedule(rng, anchor, schedule_kind, period, season)
    channels = [_channel(rng, place, channel_kind, anchor, schedule)]
    if index % 11 == 0 and channel_kind == "place" and schedule_kind == "weekly":
        # A second venue: another town for a county-wide organiser, else its own town.
        second = (
            PLACES[(index + 3) % len(PLACES)]
            if ORGANISATIONS[org_index][2] is None
            else (*place[:5], "Koulutie 5")
        )
        second_schedule = _schedule(rng, anchor, "weekly", period, season)
        channels.append(_channel(rng, second, "place", anchor, second_schedule))
    record: dict[str, Any] = {
        "_key": str(128867850000 + index),
        "status": "published",
        "group": _group_id(org_index),
        "tags": {
            "visibility": {
                "start": _midnight(anchor - timedelta(days=90)),
                "end": _midnight(anchor + timedelta(days=365)),
            }
        },
        "traits": {
            "type": kind,
            "requiredLocales": list(translations),
            "translations": translations,
            "theme": themes,
            "format": formats,
            "locale": ["fi-FI"] + (["sv"] if "sv" in translations else []),
            "demographic": [*ages, "gender/gender"],
            "region": [f"city/FI/{place[0]}"],
            "pricing": ["free" if free else "paid"],
            "contacts": [
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "type": "email",
                    "value": f"info{org_index}@example.org",
                    "translations": {
                        "fi": {"description": "Lisätietoja"},
                        "sv": {"description": "Detaljer"},
                        "en": {"description": "Details"},
                    },
                },
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "type": "phone",
                    "value": f"040 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                    "translations": {"fi": {"description": "Puhelin"}},
                },
            ],
            "channels": channels,
        },
        "links": {"groups": [group_links(org_index)]},
    }
    return _with_edge_case(index, record, anchor)


def _with_edge_case(index: int, record: dict[str, Any], anchor: date) -> dict[str, Any]:
    """Every edge case the harvester must survive, at fixed indices."""
    traits = record["traits"]
    fi = traits["translations"]["fi"]
    match index:
        case 5:
            record["status"] = "draft"
        case 6:
            record["status"] = None  # visibility window passed: expired
            record["tags"]["visibility"]["end"] = _midnight(anchor - timedelta(days=3))
        case 7:
            record["status"] = None  # null status inside the window: published
        case 8:
            fi["name"] = 'Ilta <script>alert("xss")</script>kerho <img src=x onerror=alert(1)>'
            fi["description"] = (
                '<p>Hyvä <a href="javascript:alert(1)">linkki</a></p>'
                '<script>document.body.innerHTML=""</script><iframe src="https://evil"></iframe>'
            )
            traits["contacts"][0]["value"] = "javascript:alert(1)"
        case 9:
            fi["name"] = "Lauluilta 🎶 ja kahvit ☕"
        case 10:
            fi["description"] = _p(LONG_TEXT)
            fi["summary"] = _p(LONG_TEXT[:600])
        case 12:
            for key in ("pricing", "contacts", "demographic", "locale"):
                traits.pop(key, None)
            traits["channels"][0].pop("map", None)
            record.pop("tags")
        case 13:
            record["futureField"] = {"introduced": "later"}
            traits["channels"][0]["newChannelAttribute"] = True
        case 14:
            traits["theme"] = [*traits["theme"], "ht_tuntematon"]
            traits["format"] = ["hm_uusi_muoto"]
        case 15:
            record["traits"] = "not an object"  # the invalid record
        case 16:
            own = int(record["group"]) - int(_group_id(0))
            record["group"] = _group_id(100)  # same organisation, second group
            record["links"] = {"groups": [{**group_links(own), "_key": _group_id(100)}]}
        case 17:
            traits["region"] = ["city/FI/Helsinki", *traits["region"]]
        case 18:
            traits["channels"][0]["events"][0]["type"] = "2"
            traits["channels"][0]["events"][0].pop("recurrence", None)
        case _:
            pass
    return record


def generate(count: int = DEFAULT_COUNT, anchor: date | None = None) -> list[dict[str, Any]]:
    """`count` activities: index 0.. are deterministic for a given anchor."""
    anchor = anchor or default_anchor()
    return [_record(index, anchor) for index in range(count)]


def now_for(anchor: date) -> datetime:
    """A clock inside the data set's windows: noon on the anchor day, UTC."""
    return datetime.combine(anchor, time(12), tzinfo=UTC)
