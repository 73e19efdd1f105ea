"""PTV Open API v11 output models as they must *be*: PTV's field names and enum values.

Only the fields this service fills are modelled; `extra="forbid"` keeps typos out and
`dump()` omits unset fields, since PTV's object-valued fields may not be `null`.
The vendored schema (`ptv_schema/openapi-v11.json`) is what tests validate against;
`ptv_acceptance` reads it, `tm35fin` converts the points PTV stores.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Fixed namespace: ids derived from it never change between harvests or deployments.
NAMESPACE = uuid.UUID("6f1c2b8e-4a51-5d2e-9c0b-1f4e7d3a9b21")

SUMMARY_MAX = 150
DESCRIPTION_MAX = 5000
NAME_MAX = 100

Language = str
PublishingStatus = Literal["Draft", "Published", "Deleted", "Modified"]


def stable_id(kind: str, source: str, upstream_id: str) -> uuid.UUID:
    """UUIDv5 of (kind, source, upstream id): the same record always gets the same id."""
    return uuid.uuid5(NAMESPACE, f"{kind}:{source}:{upstream_id}")


def source_id(kind: str, source: str, upstream_id: str) -> str:
    """PTV `sourceId`: letters, digits, '-' and '.' only (no underscores)."""
    cleaned = "".join(ch if ch.isalnum() and ch.isascii() else "-" for ch in upstream_id)
    return f"{source}-{kind}-{cleaned}"


class PtvModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class LanguageItem(PtvModel):
    language: Language
    value: str


class LocalizedListItem(PtvModel):
    type: str
    language: Language
    value: str


class Item(PtvModel):
    id: uuid.UUID
    name: str | None = None


class Municipality(PtvModel):
    code: str
    name: list[LanguageItem] = Field(default_factory=list)


class Area(PtvModel):
    type: str
    code: str
    name: list[LanguageItem] = Field(default_factory=list)
    municipalities: list[Municipality] = Field(default_factory=list)


class FintoItem(PtvModel):
    id: uuid.UUID
    name: list[LanguageItem]
    code: str | None = None
    uri: str
    parentId: uuid.UUID | None = None  # noqa: N815 (PTV's field name)
    parentUri: str | None = None  # noqa: N815
    override: bool = False
    description: list[LanguageItem] | None = None


class ServiceOrganization(PtvModel):
    roleType: Literal["Responsible", "Producer", "OtherResponsible"]  # noqa: N815
    organization: Item
    provisionType: str | None = None  # noqa: N815


class ServiceProducer(PtvModel):
    provisionType: Literal["SelfProducedServices", "ProcuredServices", "Other"]  # noqa: N815
    orderNumber: int = 1  # noqa: N815
    organizations: list[Item]


class ServiceServiceChannel(PtvModel):
    serviceChannel: Item  # noqa: N815
    serviceChargeType: str | None = None  # noqa: N815


class WebPage(PtvModel):
    url: str = Field(max_length=500)
    value: str | None = Field(default=None, max_length=100)
    language: Language
    orderNumber: int = 1  # noqa: N815


class Phone(PtvModel):
    number: str = Field(pattern=r"^\d{1,20}$")
    prefixNumber: str | None = None  # noqa: N815
    isFinnishServiceNumber: bool = False  # noqa: N815
    language: Language
    additionalInformation: str | None = Field(default=None, max_length=300)  # noqa: N815
    serviceChargeType: str | None = None  # noqa: N815


class PhoneWithType(Phone):
    type: Literal["Phone", "Sms", "Fax"] = "Phone"


class Email(PtvModel):
    language: Language
    value: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=100)


class DailyOpeningTime(PtvModel):
    dayFrom: str  # noqa: N815
    dayTo: str | None = None  # noqa: N815
    from_: str = Field(alias="from", pattern=r"^([0-1][0-9]|[2][0-3]):([0-5][0-9])(:00)?$")
    to: str = Field(pattern=r"^([0-1][0-9]|[2][0-3]):([0-5][0-9])(:00)?$")


class ServiceHour(PtvModel):
    serviceHourType: Literal["DaysOfTheWeek", "Exceptional", "OverMidnight"]  # noqa: N815
    validFrom: str | None = None  # noqa: N815
    validTo: str | None = None  # noqa: N815
    isClosed: bool = False  # noqa: N815
    validForNow: bool = False  # noqa: N815
    isAlwaysOpen: bool = False  # noqa: N815
    isReservation: bool = False  # noqa: N815
    openingHour: list[DailyOpeningTime] = Field(default_factory=list)  # noqa: N815
    additionalInformation: list[LanguageItem] | None = None  # noqa: N815


class StreetAddress(PtvModel):
    postalCode: str = Field(pattern=r"^\d{5}$")  # noqa: N815
    postOffice: list[LanguageItem] | None = None  # noqa: N815
    street: list[LanguageItem] | None = None
    municipality: Municipality | None = None
    latitude: str | None = None
    longitude: str | None = None
    coordinateState: str | None = None  # noqa: N815


class OtherAddress(PtvModel):
    postalCode: str = Field(pattern=r"^\d{5}$")  # noqa: N815
    additionalInformation: list[LanguageItem] | None = None  # noqa: N815
    municipality: Municipality | None = None


class AddressLocation(PtvModel):
    type: Literal["Location", "Postal"] = "Location"
    subType: Literal["Single", "Street", "PostOfficeBox", "Abroad", "Other"]  # noqa: N815
    country: str = "FI"
    streetAddress: StreetAddress | None = None  # noqa: N815
    otherAddress: OtherAddress | None = None  # noqa: N815


class NameTypeByLanguage(PtvModel):
    language: Language
    type: Literal["Name", "AlternativeName"] = "Name"


class AccessibilityClassification(PtvModel):
    accessibilityClassificationLevel: str = "Unknown"  # noqa: N815
    language: Language


class ChannelService(PtvModel):
    service: Item
    serviceChargeType: str | None = None  # noqa: N815


class Service(PtvModel):
    id: uuid.UUID
    sourceId: str = Field(pattern=r"^[A-Za-z0-9-.]*$")  # noqa: N815
    type: Literal["Service"] = "Service"
    fundingType: Literal["PubliclyFunded", "MarketFunded"]  # noqa: N815
    serviceNames: list[LocalizedListItem]  # noqa: N815
    serviceChargeType: Literal["Chargeable", "FreeOfCharge"] | None = None  # noqa: N815
    areaType: Literal["Nationwide", "NationwideExceptAlandIslands", "LimitedType"]  # noqa: N815
    serviceDescriptions: list[LocalizedListItem]  # noqa: N815
    languages: list[str]
    keywords: list[LanguageItem] = Field(default_factory=list)
    requirements: list[LanguageItem] = Field(default_factory=list)
    serviceVouchersInUse: bool = False  # noqa: N815
    areas: list[Area] = Field(default_factory=list)
    serviceClasses: list[FintoItem]  # noqa: N815
    ontologyTerms: list[FintoItem] = Field(default_factory=list)  # noqa: N815
    targetGroups: list[FintoItem]  # noqa: N815
    lifeEvents: list[FintoItem] = Field(default_factory=list)  # noqa: N815
    serviceChannels: list[ServiceServiceChannel] = Field(default_factory=list)  # noqa: N815
    organizations: list[ServiceOrganization] = Field(default_factory=list)
    publishingStatus: PublishingStatus  # noqa: N815
    modified: str | None = None
    mainOrganization: Item | None = None  # noqa: N815
    serviceProducers: list[ServiceProducer] = Field(default_factory=list)  # noqa: N815
    availableLanguages: list[str] = Field(default_factory=list)  # noqa: N815


class ServiceChannel(PtvModel):
    """Fields shared by every channel type; the subclasses add their own."""

    id: uuid.UUID
    sourceId: str = Field(pattern=r"^[A-Za-z0-9-.]*$")  # noqa: N815
    serviceChannelType: str  # noqa: N815
    organizationId: uuid.UUID | None = None  # noqa: N815
    serviceChannelNames: list[LocalizedListItem]  # noqa: N815
    serviceChannelDescriptions: list[LocalizedListItem]  # noqa: N815
    areaType: str | None = None  # noqa: N815
    areas: list[Area] = Field(default_factory=list)
    languages: list[str]
    webPages: list[WebPage] = Field(default_factory=list)  # noqa: N815
    serviceHours: list[ServiceHour] = Field(default_factory=list)  # noqa: N815
    supportEmails: list[LanguageItem] = Field(default_factory=list)  # noqa: N815
    services: list[ChannelService] = Field(default_factory=list)
    publishingStatus: PublishingStatus  # noqa: N815
    modified: str | None = None
    isVisibleForAll: bool = True  # noqa: N815
    availableLanguages: list[str] = Field(default_factory=list)  # noqa: N815


class ServiceLocationChannel(ServiceChannel):
    serviceChannelType: Literal["ServiceLocation"] = "ServiceLocation"  # noqa: N815
    displayNameType: list[NameTypeByLanguage] = Field(default_factory=list)  # noqa: N815
    phoneNumbers: list[PhoneWithType] = Field(default_factory=list)  # noqa: N815
    addresses: list[AddressLocation]


class ElectronicChannel(ServiceChannel):
    serviceChannelType: Literal["EChannel"] = "EChannel"  # noqa: N815
    supportPhones: list[Phone] = Field(default_factory=list)  # noqa: N815
    requiresAuthentication: bool = False  # noqa: N815
    requiresSignature: bool = False  # noqa: N815
    accessibilityClassification: list[AccessibilityClassification] = Field(  # noqa: N815
        default_factory=list
    )


class WebPageChannel(ServiceChannel):
    serviceChannelType: Literal["WebPage"] = "WebPage"  # noqa: N815
    supportPhones: list[Phone] = Field(default_factory=list)  # noqa: N815
    accessibilityClassification: list[AccessibilityClassification] = Field(  # noqa: N815
        default_factory=list
    )


class PhoneChannel(ServiceChannel):
    serviceChannelType: Literal["Phone"] = "Phone"  # noqa: N815
    phoneNumbers: list[PhoneWithType]  # noqa: N815


class Organization(PtvModel):
    """`V10VmOpenApiOrganization`: v11 serves the v10 organisation model."""

    id: uuid.UUID
    sourceId: str = Field(pattern=r"^[A-Za-z0-9-.]*$")  # noqa: N815
    organizationType: str = "Organization"  # noqa: N815
    businessCode: str | None = Field(default=None, pattern=r"^[0-9]{7}-[0-9]{1}$")  # noqa: N815
    businessName: str | None = None  # noqa: N815
    organizationNames: list[LocalizedListItem]  # noqa: N815
    displayNameType: list[NameTypeByLanguage]  # noqa: N815
    areaType: str | None = None  # noqa: N815
    organizationDescriptions: list[LocalizedListItem]  # noqa: N815
    emails: list[Email] = Field(default_factory=list)
    phoneNumbers: list[Phone] = Field(default_factory=list)  # noqa: N815
    webPages: list[WebPage] = Field(default_factory=list)  # noqa: N815
    areas: list[Area] = Field(default_factory=list)
    publishingStatus: PublishingStatus  # noqa: N815
    services: list[dict[str, Any]] = Field(default_factory=list)
    modified: str | None = None
    availableLanguages: list[str] = Field(default_factory=list)  # noqa: N815


def truncate(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis, so PTV's length limits are met cleanly."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"
