"""What PTV accepts, read from the vendored v11 schema pack: the properties each schema
declares, the schema of each channel type, and what PTV's IN models would refuse."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from lahella_bridge.ptv import DESCRIPTION_MAX, SUMMARY_MAX


@cache
def schema_document() -> dict[str, Any]:
    """The vendored PTV v11 schema pack (source noted in ptv_schema/README.md)."""
    path = resources.files("lahella_bridge").joinpath("ptv_schema", "openapi-v11.json")
    document: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return document


def declared_only(schema_name: str, body: dict[str, Any]) -> dict[str, Any]:
    """The top-level properties the v11 schema declares: PTV itself sends a few it does
    not (e.g. `emails` on ServiceLocation channels), and a mirror must not."""
    properties = schema_document()["components"]["schemas"][schema_name]["properties"]
    return {key: value for key, value in body.items() if key in properties}


CHANNEL_SCHEMAS = {
    "ServiceLocation": "V11VmOpenApiServiceLocationChannel",
    "EChannel": "V11VmOpenApiElectronicChannel",
    "WebPage": "V11VmOpenApiWebPageChannel",
    "Phone": "V11VmOpenApiPhoneChannel",
    "PrintableForm": "V11VmOpenApiPrintableFormChannel",
}


def _has(obj: dict[str, Any], key: str) -> bool:
    value = obj.get(key)
    return value is not None and value != [] and value != ""


def acceptance_problems(kind: str, obj: dict[str, Any]) -> list[str]:
    """What PTV's IN models would refuse (schema pack README), on OUT field names."""
    problems = []
    common = {
        "Service": [
            "fundingType",
            "areaType",
            "languages",
            "serviceDescriptions",
            "serviceProducers",
            "publishingStatus",
            "organizations",
            "mainOrganization",
            "serviceNames",
            "serviceClasses",
            "targetGroups",
        ],
        "Organization": [
            "organizationType",
            "organizationNames",
            "organizationDescriptions",
            "displayNameType",
            "publishingStatus",
        ],
        "ServiceLocation": [
            "organizationId",
            "serviceChannelNames",
            "serviceChannelDescriptions",
            "displayNameType",
            "languages",
            "addresses",
            "publishingStatus",
        ],
        "EChannel": [
            "organizationId",
            "serviceChannelNames",
            "serviceChannelDescriptions",
            "languages",
            "publishingStatus",
            "webPages",
            "accessibilityClassification",
        ],
        "WebPage": [
            "organizationId",
            "serviceChannelNames",
            "serviceChannelDescriptions",
            "languages",
            "publishingStatus",
            "webPages",
            "accessibilityClassification",
        ],
        "Phone": [
            "organizationId",
            "serviceChannelNames",
            "serviceChannelDescriptions",
            "languages",
            "publishingStatus",
            "phoneNumbers",
        ],
    }[kind]
    problems += [f"{kind}.{key} is required" for key in common if not _has(obj, key)]
    descriptions = obj.get("serviceDescriptions") or obj.get("serviceChannelDescriptions") or []
    if kind != "Organization" and not any(d["type"] == "Summary" for d in descriptions):
        problems.append(f"{kind}: a Summary description is required")
    if kind == "ServiceLocation" and not any(d["type"] == "Description" for d in descriptions):
        problems.append("ServiceLocation: a Description is required")
    if kind == "ServiceLocation" and not any(
        a.get("type") == "Location" for a in obj.get("addresses", [])
    ):
        problems.append("ServiceLocation: an address of type Location is required")
    if kind == "Service":
        roles = [o.get("roleType") for o in obj.get("organizations", [])]
        if "Responsible" not in roles:
            problems.append("Service: a Responsible organisation is required")
        if obj.get("areaType") == "LimitedType" and not obj.get("areas"):
            problems.append("Service: areas are required when areaType is LimitedType")
    for item in descriptions:
        limit = SUMMARY_MAX if item["type"] == "Summary" else DESCRIPTION_MAX
        if len(item["value"]) > limit:
            problems.append(f"{kind}: {item['type']} ({item['language']}) exceeds {limit}")
    return problems
