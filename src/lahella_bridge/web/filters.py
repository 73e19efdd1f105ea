"""Query parameters shared by the activity and event lists, validated into filters."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query, Request, params
from fastapi.dependencies.utils import get_flat_params, request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from lahella_bridge.store.conditions import ActivityFilters
from lahella_bridge.taxonomy import Municipality, taxonomy
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
    """A misspelt filter must not silently return everything: 422 names it, together with
    whatever else is wrong with the known parameters, so one answer lists every mistake."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _known_parameters(route))
    if unknown:
        queries = [
            f for f in get_flat_params(route.dependant) if isinstance(f.field_info, params.Query)
        ]
        _, invalid = request_params_to_args(queries, request.query_params)
        refused = [
            {
                "type": "unknown_parameter",
                "loc": ("query", name),
                "msg": "unknown query parameter; see /docs for the accepted ones",
                "input": request.query_params[name],
            }
            for name in unknown
        ]
        raise RequestValidationError([*refused, *invalid])


def _refuse(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid_value", "{message}", {"message": message})


def _empty_is_none(value: object) -> object:
    """A plain HTML form sends every field, empty ones as "": those mean "any"."""
    return None if value == "" else value


def _checked(check: Callable[[str], object]) -> AfterValidator:
    """A validator that refuses what `check` refuses and keeps the text: the OpenAPI type
    stays a string, and FastAPI collects every parameter's refusal into one 422."""

    def validate(value: str | None) -> str | None:
        if value is not None:
            check(value)
        return value

    return AfterValidator(validate)


def _vocabulary(terms: Callable[[], set[str]]) -> Callable[[str], None]:
    def check(value: str) -> None:
        valid = terms()
        if value not in valid:
            raise _refuse(f"unknown value {value!r}; one of {', '.join(sorted(valid))}")

    return check


def _municipality(value: str) -> Municipality:
    found = taxonomy().municipality(value)
    if found is None:
        raise _refuse(
            f"{value!r} is not a North Ostrobothnia municipality code or name "
            "(see /v1/municipalities)"
        )
    return found


def _floats(value: str, count: int) -> list[float]:
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) != count:
        raise _refuse(f"expected {count} comma-separated numbers, got {value!r}")
    return numbers


def _box(value: str) -> tuple[float, float, float, float]:
    west, south, east, north = _floats(value, 4)
    if not (west < east and south < north):
        raise _refuse("expected west<east and south<north")
    return (west, south, east, north)


def _point(value: str) -> tuple[float, float]:
    lat, lon = _floats(value, 2)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise _refuse("latitude or longitude out of range")
    return (lat, lon)


AnyIfEmpty = BeforeValidator(_empty_is_none)
StageSlug = Annotated[
    str | None, AnyIfEmpty, _checked(_vocabulary(lambda: {s.slug for s in taxonomy().stages}))
]
ThemeSlug = Annotated[
    str | None, AnyIfEmpty, _checked(_vocabulary(lambda: {t.slug for t in taxonomy().themes}))
]
TypeSlug = Annotated[
    str | None,
    AnyIfEmpty,
    _checked(_vocabulary(lambda: {t.slug for t in taxonomy().activity_types})),
]
TargetGroup = Annotated[
    str | None, AnyIfEmpty, _checked(_vocabulary(lambda: set(taxonomy().target_groups)))
]
MunicipalityName = Annotated[str | None, AnyIfEmpty, _checked(_municipality)]
BoxText = Annotated[str | None, AnyIfEmpty, _checked(_box)]
PointText = Annotated[str | None, AnyIfEmpty, _checked(_point)]


class FilterParams:
    """The filters of /v1/activities and /v1/events; all combinable."""

    def __init__(
        self,
        municipality: Annotated[
            MunicipalityName,
            Query(
                description="Municipality code (564) or name (Oulu, Uleåborg).", examples=["564"]
            ),
        ] = None,
        stage: Annotated[
            StageSlug,
            Query(description="Service-chain stage slug.", examples=["kotona-kaikki-hyvin"]),
        ] = None,
        theme: Annotated[
            ThemeSlug, Query(description="Wellbeing theme slug.", examples=["fyysinen-terveys"])
        ] = None,
        activity_type: Annotated[
            TypeSlug, Query(description="Activity type slug.", examples=["vertaistuki"])
        ] = None,
        target_group: Annotated[
            TargetGroup,
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
            BoxText,
            Query(
                description="west,south,east,north in WGS84 degrees.",
                examples=["25.3,64.9,25.6,65.1"],
            ),
        ] = None,
        near: Annotated[
            PointText, Query(description="lat,lon in WGS84 degrees.", examples=["65.0121,25.4651"])
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
        # Each parameter was checked by its validator; here they only become filters.
        self.filters = ActivityFilters(
            municipality=_municipality(municipality).code if municipality else None,
            stage=stage,
            theme=theme,
            activity_type=activity_type,
            target_group=target_group,
            language=language,
            q=q.strip() if q and q.strip() else None,
            bbox=_box(bbox) if bbox else None,
            near=_point(near) if near else None,
            radius_km=radius_km,
            is_free=is_free,
            online=online,
            updated_since=updated_since,
            organisation_id=organization,
            kind=kind,
        )


FiltersDep = Annotated[FilterParams, Depends()]
