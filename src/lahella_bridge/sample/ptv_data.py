"""A deterministic PTV data set in the Open API v11 OUT shape (valid against the vendored
schema): the county's social and health services, NGO listings that exist only in PTV,
and long-term Lähellä.fi listings pushed into PTV, some of them the very activities of
the Lähellä.fi sample, matched three ways (sourceId, business id + name, name +
organisation + municipality) so that deduplication has something to do.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lahella_bridge.sample.data import (
    ORGANISATIONS,
    PLACES,
    default_anchor,
    generate,
    organisation_index,
)
from lahella_bridge.taxonomy import taxonomy
from lahella_bridge.tm35fin import wgs84_to_tm35fin

NAMESPACE = uuid.UUID("0c5b7d4e-2f1a-5b3c-8d9e-a1b2c3d4e5f6")
COUNTY = ("Pohjois-Pohjanmaan hyvinvointialue", "Norra Österbottens välfärdsområde", "3221308-6")
CRISIS_CENTRE = ("Pohjois-Pohjanmaan Kriisikeskus ry", "0356789-1")

# (fi, sv, en, fi summary, service class, target groups, life events, channels, places)
# channels: "place" (one location per place), "phone", "online", "web"; places: PLACES indices
SOTE_SERVICES: list[tuple[str, str, str, str, str, list[str], list[str], list[str], list[int]]] = [
    (
        "Terveysaseman vastaanotto",
        "Mottagning vid hälsostationen",
        "Health centre appointments",
        "Lääkärin ja hoitajan vastaanotto arkisin; ajanvaraus puhelimitse tai verkossa.",
        "P5.1",
        ["KR1"],
        ["KE11"],
        ["place", "phone", "online"],
        [0, 1, 2, 3, 4, 5],
    ),
    (
        "Äitiys- ja lastenneuvola",
        "Mödra- och barnrådgivning",
        "Maternity and child health clinic",
        "Raskauden ja lapsen kasvun seuranta sekä perheen tukeminen.",
        "P5.2",
        ["KR1.2"],
        ["KE1"],
        ["place", "phone"],
        [0, 1, 4, 9],
    ),
    (
        "Suun terveydenhuolto",
        "Mun- och tandvård",
        "Oral health care",
        "Hammashoitolat ja kiireellinen hammashoito.",
        "P5.10",
        ["KR1"],
        [],
        ["place", "phone"],
        [0, 2, 3],
    ),
    (
        "Mielenterveys- ja päihdepalvelut aikuisille",
        "Mentalvårds- och missbrukartjänster för vuxna",
        "Mental health and substance abuse services for adults",
        "Matalan kynnyksen vastaanotto mielen hyvinvoinnin ja päihteiden huolissa.",
        "P5.7",
        ["KR1"],
        ["KE11"],
        ["place", "phone", "online"],
        [0, 2, 6],
    ),
    (
        "Päivystysapu 116117",
        "Jourhjälp 116117",
        "Medical helpline 116117",
        "Maksuton puhelinneuvonta äkillisissä sairastumisissa ympäri vuorokauden.",
        "P5.5",
        ["KR1"],
        [],
        ["phone"],
        [],
    ),
    (
        "Kotihoito",
        "Hemvård",
        "Home care",
        "Kotiin annettava hoito ja tuki, kun arjessa selviytyminen vaatii apua.",
        "P4.3",
        ["KR1.1"],
        ["KE10"],
        ["phone", "web"],
        [],
    ),
    (
        "Aikuissosiaalityö ja palveluohjaus",
        "Socialt arbete för vuxna och servicehandledning",
        "Adult social work and service guidance",
        "Neuvontaa ja ohjausta elämäntilanteen muutoksissa, toimeentulossa ja asumisessa.",
        "P4.13",
        ["KR1"],
        ["KE8", "KE9"],
        ["place", "phone"],
        [0, 1, 7],
    ),
    (
        "Perheneuvola",
        "Familjerådgivning",
        "Family counselling clinic",
        "Tukea lapsiperheiden kasvatukseen, parisuhteeseen ja eron jälkeiseen arkeen.",
        "P3.7",
        ["KR1.2"],
        ["KE7"],
        ["place", "phone"],
        [0, 2],
    ),
    (
        "Lääkinnällinen kuntoutus",
        "Medicinsk rehabilitering",
        "Medical rehabilitation",
        "Fysio- ja toimintaterapia sekä apuvälinepalvelut.",
        "P5.13",
        ["KR1.4", "KR1.6"],
        ["KE12"],
        ["place"],
        [0, 3],
    ),
    (
        "Omaishoidon tuki",
        "Stöd för närståendevård",
        "Informal care support",
        "Tukea ja vapaapäiviä kotona läheistään hoitaville.",
        "P5.14",
        ["KR1.1"],
        ["KE13"],
        ["phone", "web"],
        [],
    ),
    (
        "Ikäihmisten palveluneuvonta",
        "Servicerådgivning för äldre",
        "Service advice for older people",
        "Neuvontaa ikääntyneille ja heidän läheisilleen palveluista ja arjen tuesta.",
        "P4.2",
        ["KR1.1"],
        ["KE10"],
        ["phone", "online"],
        [],
    ),
    (
        "Lapsiperheiden kotipalvelu",
        "Hemservice för barnfamiljer",
        "Home help for families with children",
        "Tilapäistä apua lapsiperheen arkeen kuormittavissa tilanteissa.",
        "P3.6",
        ["KR1.2"],
        [],
        ["phone"],
        [],
    ),
]

# PTV-only NGO listings: (fi, sv, fi summary, service class, organisation, places, channels)
NGO_SERVICES: list[tuple[str, str, str, str, tuple[str, str | None], list[int], list[str]]] = [
    (
        "Kriisikeskuksen keskusteluapu",
        "Samtalshjälp vid kriscentret",
        "Maksutonta keskusteluapua kriisin kohdanneille, ilman lähetettä.",
        "P4.12",
        CRISIS_CENTRE,
        [0],
        ["place", "phone"],
    ),
    (
        "Kriisipuhelin",
        "Kristelefon",
        "Auttava puhelin elämän kriiseissä, nimettömästi.",
        "P4.12",
        CRISIS_CENTRE,
        [],
        ["phone"],
    ),
    (
        "Talous- ja velkaneuvonnan vertaisryhmä",
        "Kamratgrupp för ekonomi och skulder",
        "Vertaistukea ja neuvontaa raha-asioiden hoitoon.",
        "P15.1",
        CRISIS_CENTRE,
        [1],
        ["place"],
    ),
    (
        "Omaishoitajien vertaisryhmä verkossa",
        "Kamratgrupp för närståendevårdare på nätet",
        "Omaishoitajien vertaistukiryhmä etänä kerran kuussa.",
        "P5.16",
        ORGANISATIONS[1][:2],
        [],
        ["online"],
    ),
    (
        "Nuorten avoin kohtaamispaikka",
        "Öppen mötesplats för unga",
        "Paikka, jonne nuori voi tulla ilman ajanvarausta.",
        "P28.1",
        CRISIS_CENTRE,
        [0, 4],
        ["place"],
    ),
]
ARCHIVABLE = "Talous- ja velkaneuvonnan vertaisryhmä"

# Lähellä.fi types whose long-term listings Lähellä.fi pushes into PTV, and their class.
PUSHED_TYPES = {"support": "P4.12", "hobby": "P25.5"}


def stamp(moment: datetime) -> str:
    """A PTV `modified` value: UTC with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def sample_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def _texts(kind: str, texts: dict[str, str]) -> list[dict[str, str]]:
    return [{"type": kind, "language": lang, "value": value} for lang, value in texts.items()]


def _values(texts: dict[str, str]) -> list[dict[str, str]]:
    return [{"language": lang, "value": value} for lang, value in texts.items()]


def _code(kind: str, code: str) -> dict[str, Any]:
    table = getattr(taxonomy(), kind)
    item = table[code]
    entry: dict[str, Any] = {
        "id": sample_id(kind, code),
        "name": _values(item.labels),
        "code": code,
        "uri": item.uri,
        "override": False,
    }
    if item.parent_uri:
        entry["parentUri"] = item.parent_uri
    return entry


def _municipality(code: str) -> dict[str, Any]:
    return {"code": code, "name": _values(taxonomy().municipalities[code].labels)}


def _area(code: str) -> dict[str, Any]:
    return {**_municipality(code), "type": "Municipality", "municipalities": [_municipality(code)]}


def _place_code(index: int) -> str:
    found = taxonomy().municipality_by_name(PLACES[index][0])
    assert found is not None
    return found.code


@dataclass
class PtvSample:
    """The sample's objects by id; `publishingStatus` and `modified` are mutable state."""

    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    organizations: dict[str, dict[str, Any]] = field(default_factory=dict)


class _Builder:
    def __init__(self, modified: str) -> None:
        self.sample = PtvSample()
        self.modified = modified

    def organisation(
        self, name: str, business_id: str | None, kind: str, sv: str | None = None
    ) -> dict[str, Any]:
        org_id = sample_id("organization", name)
        if org_id in self.sample.organizations:
            return self.sample.organizations[org_id]
        names = {"fi": name, **({"sv": sv} if sv else {})}
        body: dict[str, Any] = {
            "id": org_id,
            "organizationType": kind,
            "organizationNames": _texts("Name", names),
            "displayNameType": [{"type": "Name", "language": lang} for lang in names],
            "organizationDescriptions": _texts("Summary", {"fi": f"{name}."}),
            "areaType": "LimitedType",
            "emails": [],
            "phoneNumbers": [],
            "webPages": [],
            "addresses": [],
            "publishingStatus": "Published",
            "modified": self.modified,
            "availableLanguages": list(names),
        }
        if business_id:
            body["businessCode"] = business_id
        self.sample.organizations[org_id] = body
        return body

    def channel(
        self,
        kind: str,
        owner: dict[str, Any],
        name: str,
        summary: str,
        place: int | None = None,
    ) -> dict[str, Any]:
        channel_id = sample_id("channel", kind, name, str(place))
        if channel_id in self.sample.channels:
            return self.sample.channels[channel_id]
        body: dict[str, Any] = {
            "id": channel_id,
            "organizationId": owner["id"],
            "serviceChannelNames": _texts("Name", {"fi": name}),
            "serviceChannelDescriptions": _texts("Summary", {"fi": summary})
            + _texts("Description", {"fi": summary}),
            "languages": ["fi"],
            "webPages": [],
            "serviceHours": [],
            "supportEmails": [],
            "services": [],
            "publishingStatus": "Published",
            "modified": self.modified,
            "isVisibleForAll": True,
            "availableLanguages": ["fi"],
        }
        if kind == "place" and place is not None:
            city, _, lat, lon, postal, street = PLACES[place]
            northing, easting = wgs84_to_tm35fin(lon, lat)
            street_name, _, number = street.rpartition(" ")
            body |= {
                "serviceChannelType": "ServiceLocation",
                "displayNameType": [{"type": "Name", "language": "fi"}],
                "areaType": "LimitedType",
                "areas": [_area(_place_code(place))],
                "phoneNumbers": [],
                "addresses": [
                    {
                        "type": "Location",
                        "subType": "Single",
                        "country": "FI",
                        "streetAddress": {
                            "street": _values({"fi": street_name}),
                            "streetNumber": number,
                            "postalCode": postal,
                            "postOffice": _values({"fi": city.upper()}),
                            "municipality": _municipality(_place_code(place)),
                            "additionalInformation": [],
                            "latitude": f"{northing:.3f}",
                            "longitude": f"{easting:.3f}",
                            "coordinateState": "Ok",
                        },
                        "locationAbroad": [],
                        "entrances": [],
                    }
                ],
                "serviceHours": [
                    {
                        "serviceHourType": "DaysOfTheWeek",
                        "validForNow": True,
                        "isClosed": False,
                        "isAlwaysOpen": False,
                        "isReservation": False,
                        "additionalInformation": [],
                        "openingHour": [
                            {
                                "dayFrom": "Monday",
                                "dayTo": "Friday",
                                "from": "08:00:00",
                                "to": "16:00:00",
                            }
                        ],
                    }
                ],
            }
        elif kind == "phone":
            number = f"8{int(sample_id('phone', name)[:8], 16) % 10_000_000:07d}"
            body |= {
                "serviceChannelType": "Phone",
                "phoneNumbers": [
                    {
                        "type": "Phone",
                        "language": "fi",
                        "number": number,
                        "prefixNumber": "+358",
                        "isFinnishServiceNumber": False,
                        "serviceChargeType": "FreeOfCharge",
                    }
                ],
            }
        else:
            url = f"https://example.pohde.fi/{sample_id('page', name)[:8]}"
            body |= {
                "serviceChannelType": "EChannel" if kind == "online" else "WebPage",
                "webPages": [{"url": url, "value": name, "language": "fi", "orderNumber": 1}],
                "accessibilityClassification": [
                    {"accessibilityClassificationLevel": "Unknown", "language": "fi"}
                ],
            }
            if kind == "online":
                body |= {"requiresAuthentication": False, "requiresSignature": False}
        self.sample.channels[channel_id] = body
        return body

    def service(
        self,
        *,
        key: str,
        names: dict[str, str],
        summary: dict[str, str],
        service_class: str,
        target_groups: list[str],
        life_events: list[str],
        owner: dict[str, Any],
        channels: list[dict[str, Any]],
        municipalities: list[str],
        funding: str,
        source_id: str | None = None,
    ) -> dict[str, Any]:
        service_id = sample_id("service", key)
        owner_ref = {"id": owner["id"], "name": owner["organizationNames"][0]["value"]}
        body: dict[str, Any] = {
            "id": service_id,
            "type": "Service",
            "fundingType": funding,
            "serviceNames": _texts("Name", names),
            "serviceChargeType": "FreeOfCharge",
            "areaType": "LimitedType",
            "areas": [_area(code) for code in municipalities],
            "serviceDescriptions": _texts("Summary", summary) + _texts("Description", summary),
            "languages": list(names),
            "keywords": [],
            "requirements": [],
            "serviceVouchersInUse": False,
            "serviceClasses": [_code("service_classes", service_class)],
            "ontologyTerms": [],
            "targetGroups": [_code("target_groups", code) for code in target_groups],
            "lifeEvents": [_code("life_events", code) for code in life_events],
            "serviceChannels": [
                {"serviceChannel": {"id": c["id"], "name": c["serviceChannelNames"][0]["value"]}}
                for c in channels
            ],
            "organizations": [{"roleType": "Responsible", "organization": owner_ref}],
            "mainOrganization": owner_ref,
            "serviceProducers": [
                {"provisionType": "SelfProducedServices", "organizations": [owner_ref]}
            ],
            "publishingStatus": "Published",
            "modified": self.modified,
            "availableLanguages": list(names),
        }
        if source_id:
            body["sourceId"] = source_id
        for channel in channels:
            channel["services"].append({"service": {"id": service_id, "name": names["fi"]}})
        self.sample.services[service_id] = body
        return body


def _sote(builder: _Builder) -> None:
    county = builder.organisation(COUNTY[0], COUNTY[2], "Region", sv=COUNTY[1])
    for fi, sv, en, summary, service_class, groups, events, kinds, places in SOTE_SERVICES:
        channels = []
        for kind in kinds:
            if kind == "place":
                channels += [
                    builder.channel("place", county, f"{PLACES[p][0]}n sote-keskus", fi, p)
                    for p in places
                ]
            else:
                channels.append(builder.channel(kind, county, f"{fi}: {kind}", summary))
        codes = [_place_code(p) for p in places] or sorted(taxonomy().municipalities)
        builder.service(
            key=f"sote:{fi}",
            names={"fi": fi, "sv": sv, "en": en},
            summary={"fi": summary},
            service_class=service_class,
            target_groups=groups,
            life_events=events,
            owner=county,
            channels=channels,
            municipalities=codes,
            funding="PubliclyFunded",
        )


def _ngo(builder: _Builder) -> None:
    for fi, sv, summary, service_class, (org_name, business_id), places, kinds in NGO_SERVICES:
        owner = builder.organisation(org_name, business_id, "Organization")
        channels = []
        for kind in kinds:
            if kind == "place":
                channels += [builder.channel("place", owner, fi, summary, p) for p in places]
            else:
                channels.append(builder.channel(kind, owner, f"{fi}: {kind}", summary))
        builder.service(
            key=f"ngo:{fi}",
            names={"fi": fi, "sv": sv},
            summary={"fi": summary},
            service_class=service_class,
            target_groups=["KR1"],
            life_events=[],
            owner=owner,
            channels=channels,
            municipalities=[_place_code(p) for p in places] or ["564"],
            funding="MarketFunded",
        )


def _pushed_from_lahella(builder: _Builder, lahella: list[dict[str, Any]]) -> None:
    """Long-term Lähellä.fi listings as Lähellä.fi pushes them into PTV: same activity,
    PTV's own ids, and a Swedish text the Lähellä.fi record may lack."""
    for index, record in enumerate(lahella):
        traits = record.get("traits") if isinstance(record, dict) else None
        if index < 40 or index % 9 != 1 or not isinstance(traits, dict):
            continue
        service_class = PUSHED_TYPES.get(traits.get("type", ""))
        if service_class is None:
            continue
        org_name, business_id, _ = ORGANISATIONS[organisation_index(index)]
        way = (index // 9) % 3
        if way == 1 and business_id is None:
            continue
        fi = traits["translations"]["fi"]
        name = fi["name"]
        city = record["traits"]["region"][0].rsplit("/", 1)[-1]
        place = next(i for i, p in enumerate(PLACES) if p[0] == city)
        # way 0: the sourceId names the Lähellä.fi key; 1: the business id and name
        # match; 2: only name, organisation and municipality match (no business id).
        owner = (
            builder.organisation(org_name.upper(), None, "Organization")
            if way == 2
            else builder.organisation(org_name, business_id, "Organization")
        )
        channel = builder.channel("place", owner, name, name, place)
        builder.service(
            key=f"lahella:{record['_key']}",
            names={"fi": name, "sv": f"{name} (på svenska)"},
            summary={
                "fi": "PTV:n kuvaus: pitkäkestoista toimintaa, katso lisätiedot Lähellä.fi:stä.",
                "sv": "Långvarig verksamhet; mer information på Lähellä.fi.",
            },
            service_class=service_class,
            target_groups=["KR1"],
            life_events=[],
            owner=owner,
            channels=[channel],
            municipalities=[_place_code(place)],
            funding="MarketFunded",
            source_id=f"lahella-activity-{record['_key']}" if way == 0 else None,
        )


def generate_ptv(anchor: date | None = None) -> PtvSample:
    """The PTV sample for an anchor week (the same one the Lähellä.fi sample uses)."""
    anchor = anchor or default_anchor()
    modified = datetime.combine(anchor - timedelta(days=7), time(8), tzinfo=UTC)
    builder = _Builder(stamp(modified))
    _sote(builder)
    _ngo(builder)
    _pushed_from_lahella(builder, generate(anchor=anchor))
    return builder.sample
