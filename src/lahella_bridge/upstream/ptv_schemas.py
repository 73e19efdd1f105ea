"""Tolerant models of what the PTV Open API v11 returns (the OUT models of its swagger).

Unlike `lahella_bridge.ptv`, which is strict because it is what we *emit*, these accept
whatever PTV sends: unknown fields are kept, optional fields are optional, and code
values are kept as strings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PUBLISHED = "Published"


class PtvInput(BaseModel):
    model_config = ConfigDict(extra="allow")


class LocalizedItem(PtvInput):
    language: str | None = None
    value: str | None = None
    type: str | None = None


class CodeItem(PtvInput):
    code: str | None = None
    uri: str | None = None


class AreaMunicipality(PtvInput):
    code: str | None = None


class Area(PtvInput):
    type: str | None = None
    code: str | None = None
    municipalities: list[AreaMunicipality] = Field(default_factory=list)


class ItemRef(PtvInput):
    id: str | None = None
    name: str | None = None


class ServiceOrganization(PtvInput):
    roleType: str | None = None  # noqa: N815
    organization: ItemRef | None = None


class ServiceChannelRef(PtvInput):
    serviceChannel: ItemRef | None = None  # noqa: N815


class PtvService(PtvInput):
    """`V11VmOpenApiService`."""

    id: str
    sourceId: str | None = None  # noqa: N815
    serviceNames: list[LocalizedItem] = Field(default_factory=list)  # noqa: N815
    serviceDescriptions: list[LocalizedItem] = Field(default_factory=list)  # noqa: N815
    languages: list[str] = Field(default_factory=list)
    serviceChargeType: str | None = None  # noqa: N815
    areaType: str | None = None  # noqa: N815
    areas: list[Area] = Field(default_factory=list)
    serviceClasses: list[CodeItem] = Field(default_factory=list)  # noqa: N815
    targetGroups: list[CodeItem] = Field(default_factory=list)  # noqa: N815
    lifeEvents: list[CodeItem] = Field(default_factory=list)  # noqa: N815
    keywords: list[LocalizedItem] = Field(default_factory=list)
    organizations: list[ServiceOrganization] = Field(default_factory=list)
    mainOrganization: ItemRef | None = None  # noqa: N815
    serviceChannels: list[ServiceChannelRef] = Field(default_factory=list)  # noqa: N815
    publishingStatus: str | None = None  # noqa: N815
    modified: datetime | None = None

    def channel_ids(self) -> list[str]:
        return [
            c.serviceChannel.id
            for c in self.serviceChannels
            if c.serviceChannel and c.serviceChannel.id
        ]

    def responsible_organization(self) -> ItemRef | None:
        for link in self.organizations:
            if link.roleType == "Responsible" and link.organization and link.organization.id:
                return link.organization
        return self.mainOrganization


class StreetAddress(PtvInput):
    street: list[LocalizedItem] = Field(default_factory=list)
    streetNumber: str | None = None  # noqa: N815
    postalCode: str | None = None  # noqa: N815
    postOffice: list[LocalizedItem] = Field(default_factory=list)  # noqa: N815
    municipality: AreaMunicipality | None = None
    latitude: str | None = None
    longitude: str | None = None


class Address(PtvInput):
    type: str | None = None
    subType: str | None = None  # noqa: N815
    streetAddress: StreetAddress | None = None  # noqa: N815


class Phone(PtvInput):
    number: str | None = None
    prefixNumber: str | None = None  # noqa: N815
    language: str | None = None


class WebPage(PtvInput):
    url: str | None = None
    value: str | None = None
    language: str | None = None


class PtvChannel(PtvInput):
    """One of the five v11 channel models; `serviceChannelType` tells which."""

    id: str
    serviceChannelType: str | None = None  # noqa: N815
    serviceChannelNames: list[LocalizedItem] = Field(default_factory=list)  # noqa: N815
    serviceChannelDescriptions: list[LocalizedItem] = Field(default_factory=list)  # noqa: N815
    addresses: list[Address] = Field(default_factory=list)
    phoneNumbers: list[Phone] = Field(default_factory=list)  # noqa: N815
    webPages: list[WebPage] = Field(default_factory=list)  # noqa: N815
    supportEmails: list[LocalizedItem] = Field(default_factory=list)  # noqa: N815
    serviceHours: list[dict[str, Any]] = Field(default_factory=list)  # noqa: N815
    publishingStatus: str | None = None  # noqa: N815


class PtvOrganization(PtvInput):
    """`V10VmOpenApiOrganization` (v11 serves the v10 model)."""

    id: str
    businessCode: str | None = None  # noqa: N815
    businessName: str | None = None  # noqa: N815
    organizationType: str | None = None  # noqa: N815
    organizationNames: list[LocalizedItem] = Field(default_factory=list)  # noqa: N815
    webPages: list[WebPage] = Field(default_factory=list)  # noqa: N815
    emails: list[LocalizedItem] = Field(default_factory=list)
    publishingStatus: str | None = None  # noqa: N815


class PtvBundle(PtvInput):
    """What the harvester stores as one raw record: a service with what it links to."""

    service: PtvService
    channels: list[PtvChannel] = Field(default_factory=list)
    organization: PtvOrganization | None = None


def listed_areas(areas: Any) -> set[str]:
    """The municipality codes whose area listing (`/Service/list/area/Municipality/...`)
    names a raw service with these `areas`: its municipalities and those of its regions."""
    codes: set[str] = set()
    for area in areas if isinstance(areas, list) else []:
        if not isinstance(area, dict):
            continue
        if area.get("type") == "Municipality" and isinstance(area.get("code"), str):
            codes.add(area["code"])
        codes |= {
            m["code"]
            for m in area.get("municipalities") or []
            if isinstance(m, dict) and isinstance(m.get("code"), str)
        }
    return codes


class PtvPage(PtvInput):
    """`V3VmOpenApiGuidPage` and the `...WithPaging` envelopes: `itemList` plus counts."""

    pageNumber: int | None = None  # noqa: N815
    pageSize: int | None = None  # noqa: N815
    pageCount: int | None = None  # noqa: N815
    itemList: list[Any] | None = None  # noqa: N815
