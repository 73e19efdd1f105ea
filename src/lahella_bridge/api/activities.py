"""/v1 activities, organisations and the county taxonomy (stages, themes, types)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from lahella_bridge.api.schemas import (
    ActivityDetail,
    ActivitySummary,
    ListEnvelope,
    OrganisationOut,
    activity_detail,
    activity_summary,
    organisation_out,
)
from lahella_bridge.errors import NotFound
from lahella_bridge.fragments import list_page, summary_item
from lahella_bridge.store import activity_reads
from lahella_bridge.store.conditions import ActivityFilters
from lahella_bridge.taxonomy import label_in, taxonomy
from lahella_bridge.web.cacheable import CacheableRoute
from lahella_bridge.web.deps import DatabaseDep, LangDep, PageDep, page_links
from lahella_bridge.web.filters import FiltersDep, reject_unknown_parameters
from lahella_bridge.web.openapi import opens_first_item

router = APIRouter(
    prefix="/v1", dependencies=[Depends(reject_unknown_parameters)], route_class=CacheableRoute
)
LIST_CACHE = "public, max-age=300"


async def _summaries(db: DatabaseDep, rows: Any, lang: str) -> list[dict[str, Any]]:
    upcoming = await activity_reads.next_occurrences(db, [r.id for r in rows])
    return [activity_summary(r, lang, upcoming.get(r.id, [])) for r in rows]


@router.get(
    "/activities",
    tags=["activities"],
    summary="Published activities",
    response_model=ListEnvelope[ActivitySummary],
    responses={200: opens_first_item("get_activity", "activity_id", "/items")},
)
async def list_activities(
    request: Request,
    db: DatabaseDep,
    filters: FiltersDep,
    page: PageDep,
    lang: LangDep,
) -> Response:
    """Activities with their stages, themes, types, organisation, channels and next sessions.

    Ordered by name, then id, so paging is stable. Every filter combines with the others.
    """
    count, parts = await activity_reads.summary_page(
        db, filters.filters, page.page_size, page.offset, lang
    )
    nxt, prev = page_links(request, page, count)
    upcoming = await activity_reads.upcoming(db, [p.id for p in parts])
    items = [summary_item(p.summary, p.updated_at, upcoming.get(p.id, [])) for p in parts]
    return Response(
        list_page(count, nxt, prev, items),
        media_type="application/json",
        headers={"Cache-Control": LIST_CACHE},
    )


@router.get(
    "/activities/{activity_id}",
    tags=["activities"],
    summary="One activity",
    response_model=ActivityDetail,
    responses={404: {"description": "No such activity"}},
)
async def get_activity(
    activity_id: uuid.UUID, response: Response, db: DatabaseDep, lang: LangDep
) -> dict[str, Any]:
    """Everything about one activity, with the reasons for its classification."""
    row = await activity_reads.get_activity(db, activity_id)
    if row is None:
        raise NotFound(f"no published activity {activity_id}")
    upcoming = await activity_reads.next_occurrences(db, [row.id], per_activity=10)
    response.headers["Cache-Control"] = LIST_CACHE
    return activity_detail(row, lang, upcoming.get(row.id, []))


class TermOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "slug": "mielen-hyvinvointi",
                    "label": "Mielen hyvinvointi ja mahdollisuus elää omannäköistä elämää",
                    "labels": {
                        "fi": "Mielen hyvinvointi ja mahdollisuus elää omannäköistä elämää",
                        "en": "Mental wellbeing and the chance to live a life of one's own",
                    },
                    "activities": 147,
                }
            ]
        }
    )

    slug: str
    label: str | None
    labels: dict[str, str]
    activities: int


class StageOut(TermOut):
    order: int
    activity_types: list[TermOut]
    themes: list[TermOut]
    items: ListEnvelope[ActivitySummary] | None = None


def _term_out(term: Any, lang: str, counts: dict[str, int]) -> TermOut:
    return TermOut(
        slug=term.slug,
        label=label_in(term.labels, lang),
        labels=term.labels,
        activities=counts.get(term.slug, 0),
    )


@router.get(
    "/stages",
    tags=["taxonomy"],
    summary="The 7 service-chain stages",
    response_model=list[StageOut],
)
async def list_stages(
    request: Request,
    db: DatabaseDep,
    lang: LangDep,
    items_per_stage: Annotated[
        int,
        Query(
            ge=0,
            le=50,
            description=("How many matching activities to embed per stage (0: counts only)."),
        ),
    ] = 5,
) -> list[dict[str, Any]]:
    """Stages in service-chain order, each with its activity types (as in the county's
    table), the themes of its activities, counts and the first matching activities."""
    tax = taxonomy()
    stage_counts = await activity_reads.term_counts(db, "stages")
    type_counts = await activity_reads.term_counts(db, "activity_types")
    theme_counts = await activity_reads.term_counts(db, "themes")
    result = []
    for order, stage in enumerate(tax.stages, start=1):
        entry: dict[str, Any] = _term_out(stage, lang, stage_counts).model_dump()
        entry["order"] = order
        entry["activity_types"] = [
            _term_out(tax.activity_type(slug), lang, type_counts) for slug in stage.activity_types
        ]
        entry["themes"] = [_term_out(theme, lang, theme_counts) for theme in tax.themes]
        if items_per_stage:
            filters = ActivityFilters(stage=stage.slug)
            count, rows = await activity_reads.list_activities(db, filters, items_per_stage, 0)
            more = str(request.url_for("list_activities").include_query_params(stage=stage.slug))
            entry["items"] = {
                "count": count,
                "next": more if count > items_per_stage else None,
                "previous": None,
                "items": await _summaries(db, rows, lang),
            }
        result.append(entry)
    return result


@router.get(
    "/themes", tags=["taxonomy"], summary="The 11 wellbeing themes", response_model=list[TermOut]
)
async def list_themes(db: DatabaseDep, lang: LangDep) -> list[TermOut]:
    counts = await activity_reads.term_counts(db, "themes")
    return [_term_out(theme, lang, counts) for theme in taxonomy().themes]


@router.get(
    "/activity-types",
    tags=["taxonomy"],
    summary="The 12 activity types",
    response_model=list[TermOut],
)
async def list_activity_types(db: DatabaseDep, lang: LangDep) -> list[TermOut]:
    counts = await activity_reads.term_counts(db, "activity_types")
    return [_term_out(term, lang, counts) for term in taxonomy().activity_types]


class MunicipalityOut(BaseModel):
    code: str
    name: str | None
    labels: dict[str, str]
    activities: int


@router.get(
    "/municipalities",
    tags=["taxonomy"],
    summary="The 30 municipalities",
    response_model=list[MunicipalityOut],
)
async def list_municipalities(db: DatabaseDep, lang: LangDep) -> list[MunicipalityOut]:
    """North Ostrobothnia's municipalities with official codes and activity counts."""
    counts = await activity_reads.term_counts(db, "municipalities")
    return [
        MunicipalityOut(
            code=m.code,
            name=label_in(m.labels, lang),
            labels=m.labels,
            activities=counts.get(m.code, 0),
        )
        for m in taxonomy().municipalities.values()
    ]


class SegmentOut(BaseModel):
    slug: str
    label: str | None
    steps: list[dict[str, str | None]]


@router.get(
    "/segments",
    tags=["taxonomy"],
    summary="Client segments and referral steps",
    response_model=list[SegmentOut],
)
async def list_segments(lang: LangDep) -> list[SegmentOut]:
    """The referral matrix: for each of the 4 client segments, the steps that apply."""
    tax = taxonomy()
    return [
        SegmentOut(
            slug=s.slug,
            label=label_in(s.labels, lang),
            steps=[
                {"slug": step.slug, "text": label_in(step.labels, lang)}
                for step in tax.steps_for_segment(s.slug)
            ],
        )
        for s in tax.segments
    ]


@router.get(
    "/organizations",
    tags=["organizations"],
    summary="Organisations",
    response_model=ListEnvelope[OrganisationOut],
    responses={200: opens_first_item("get_organization", "organization_id", "/items")},
)
async def list_organizations(
    request: Request,
    db: DatabaseDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200, description="Part of the name.")] = None,
) -> dict[str, Any]:
    count, rows = await activity_reads.list_organisations(db, page.page_size, page.offset, q)
    activities = await activity_reads.activity_counts(db, [row.id for row in rows])
    nxt, prev = page_links(request, page, count)
    return {
        "count": count,
        "next": nxt,
        "previous": prev,
        "items": [organisation_out(row, activities[row.id]) for row in rows],
    }


@router.get(
    "/organizations/{organization_id}",
    tags=["organizations"],
    summary="One organisation",
    response_model=OrganisationOut,
    responses={404: {"description": "No such organisation"}},
)
async def get_organization(organization_id: uuid.UUID, db: DatabaseDep) -> OrganisationOut:
    row = await activity_reads.get_organisation(db, organization_id)
    if row is None:
        raise NotFound(f"no organisation {organization_id}")
    count, _ = await activity_reads.list_activities(
        db, ActivityFilters(organisation_id=row.id), 1, 0
    )
    return organisation_out(row, count)
