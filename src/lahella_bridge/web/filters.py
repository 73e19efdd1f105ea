"""Query parameters shared by the activity and event lists, validated into filters."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, params
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute

from lahella_bridge.errors import InvalidParameter
from lahella_bridge.repository import ActivityFilters
from lahella_bridge.taxonomy import taxonomy
from lahella_bridge.web.deps import QueryTime

_KNOWN: dict[int, frozenset[str]] = {}


def _known_parameters(route: APIRoute) -> frozenset[str]:
    known = _KNOWN.get(id(route))
    if known is None:
        known = _KNOWN[id(route)] = frozenset(
            field.alias
            for field in get_flat_params(route.dependant)
            if isinstance(field.field_info, params.Query)
        )
    return known


async def reject_unknown_parameters(request: Request) -> None:
    """A misspelt filter must not silently return everything: 422 names it."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _known_parameters(route))
    if unknown:
        raise InvalidParameter(
            f"unknown query parameter(s): {', '.join(unknown)}; see /docs for the accepted ones"
        )


def _term(value: str | None, name: str, valid: set[str]) -> str | None:
    if value is not None and value not in valid:
        raise InvalidParameter(
            f"{name}: unknown value {value!r}; one of {', '.join(sorted(valid))}"
        )
    return value


def _floats(value: str, name: str, count: int) -> list[float]:
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) != count:
        raise InvalidParameter(f"{name}: expected {count} comma-separated numbers, got {value!r}")
    return numbers


class FilterParams:
    """The filters of /v1/activities and /v1/events; all combinable."""

    def __init__(
        self,
        municipality: Annotated[
            str | None,
            Query(
                description="Municipality code (564) or name (Oulu, Uleåborg).", examples=["564"]
            ),
        ] = None,
        stage: Annotated[
            str | None,
            Query(description="Service-chain stage slug.", examples=["kotona-kaikki-hyvin"]),
        ] = None,
        theme: Annotated[
            str | None, Query(description="Wellbeing theme slug.", examples=["fyysinen-terveys"])
        ] = None,
        activity_type: Annotated[
            str | None, Query(description="Activity type slug.", examples=["vertaistuki"])
        ] = None,
        target_group: Annotated[
            str | None,
            Query(
                description="PTV target group code (KR1.1 seniors, KR1.2 families, KR1.3 young).",
                examples=["KR1.1"],
            ),
        ] = None,
        language: Annotated[
            str | None,
            Query(
                description="Language the activity is held in (ISO 639-1).",
                examples=["fi"],
                pattern=r"^[a-z]{2,4}$",
            ),
        ] = None,
        q: Annotated[
            str | None,
            Query(
                description="Finnish full-text search; partial words match too.",
                max_length=200,
                examples=["vertais"],
            ),
        ] = None,
        bbox: Annotated[
            str | None,
            Query(
                description="west,south,east,north in WGS84 degrees.",
                examples=["25.3,64.9,25.6,65.1"],
            ),
        ] = None,
        near: Annotated[
            str | None, Query(description="lat,lon in WGS84 degrees.", examples=["65.0121,25.4651"])
        ] = None,
        radius_km: Annotated[
            float, Query(gt=0, le=500, description="Radius for `near`, km.")
        ] = 10.0,
        is_free: Annotated[bool | None, Query(description="Only free (true) or paid.")] = None,
        online: Annotated[
            bool | None, Query(description="Only activities that can be joined online or by phone.")
        ] = None,
        updated_since: Annotated[
            QueryTime | None,
            Query(description="Changed at or after this ISO 8601 time (years 1900-2999)."),
        ] = None,
        organization: Annotated[
            uuid.UUID | None, Query(description="Only this organisation's activities.")
        ] = None,
        kind: Annotated[
            str | None, Query(description="activity or sote.", pattern="^(activity|sote)$")
        ] = None,
    ) -> None:
        tax = taxonomy()
        # A plain HTML form sends every field, empty ones as "": those mean "any".
        municipality, stage, theme = municipality or None, stage or None, theme or None
        activity_type, target_group = activity_type or None, target_group or None
        bbox, near = bbox or None, near or None
        code = None
        if municipality is not None:
            found = tax.municipality(municipality)
            if found is None:
                raise InvalidParameter(
                    f"municipality: {municipality!r} is not a North Ostrobothnia municipality "
                    "code or name (see /v1/municipalities)"
                )
            code = found.code
        box = None
        if bbox is not None:
            west, south, east, north = _floats(bbox, "bbox", 4)
            if not (west < east and south < north):
                raise InvalidParameter("bbox: expected west<east and south<north")
            box = (west, south, east, north)
        point = None
        if near is not None:
            lat, lon = _floats(near, "near", 2)
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise InvalidParameter("near: latitude or longitude out of range")
            point = (lat, lon)
        self.filters = ActivityFilters(
            municipality=code,
            stage=_term(stage, "stage", {s.slug for s in tax.stages}),
            theme=_term(theme, "theme", {t.slug for t in tax.themes}),
            activity_type=_term(
                activity_type, "activity_type", {t.slug for t in tax.activity_types}
            ),
            target_group=_term(target_group, "target_group", set(tax.target_groups)),
            language=language,
            q=q.strip() if q and q.strip() else None,
            bbox=box,
            near=point,
            radius_km=radius_km,
            is_free=is_free,
            online=online,
            updated_since=updated_since,
            organisation_id=organization,
            kind=kind,
        )


FiltersDep = Annotated[FilterParams, Depends()]
