"""OpenActive RPDE change feeds ('modified + id' ordering) for incremental sync."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from lahella_bridge.errors import InvalidParameter
from lahella_bridge.store import change_reads
from lahella_bridge.web.cacheable import CacheableRoute
from lahella_bridge.web.deps import DatabaseDep
from lahella_bridge.web.filters import reject_unknown_parameters

router = APIRouter(
    prefix="/v1/changes",
    tags=["changes"],
    dependencies=[Depends(reject_unknown_parameters)],
    route_class=CacheableRoute,
)


class RpdeItem(BaseModel):
    state: Literal["updated", "deleted"]
    kind: str
    id: uuid.UUID
    modified: int = Field(description="Grows on every change (a database sequence).")
    data: dict[str, Any] | None = Field(default=None, description="Absent on deletions.")


class RpdePage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "next": "https://bridge.example/v1/changes/activities?afterTimestamp=1042"
                    "&afterId=64c9c47d-e4e1-5a91-ad69-c2d9e550486a&limit=500",
                    "items": [
                        {
                            "state": "deleted",
                            "kind": "Activity",
                            "id": "64c9c47d-e4e1-5a91-ad69-c2d9e550486a",
                            "modified": 1042,
                        }
                    ],
                    "license": "https://creativecommons.org/licenses/by/4.0/",
                }
            ]
        }
    )

    next: str = Field(description="Absolute URL of the next page; the last page points to itself.")
    items: list[RpdeItem]
    license: str = "https://creativecommons.org/licenses/by/4.0/"


async def _page(
    request: Request,
    db: DatabaseDep,
    kind: str,
    after_timestamp: int | None,
    after_id: uuid.UUID | None,
    limit: int,
) -> JSONResponse:
    if (after_timestamp is None) != (after_id is None):
        raise InvalidParameter("afterTimestamp and afterId must be given together, or neither")
    rows = await change_reads.changes(db, kind, after_timestamp, after_id, limit)
    items = []
    for row in rows:
        deleted = row.deleted_at is not None
        item: dict[str, Any] = {
            "state": "deleted" if deleted else "updated",
            "kind": "Activity" if kind == "activities" else "Organization",
            "id": str(row.id),
            "modified": row.modified,
        }
        if not deleted:
            item["data"] = row.document.to_json()
        items.append(item)
    if items:
        last = rows[-1]
        nxt = str(
            request.url.include_query_params(
                afterTimestamp=last.modified, afterId=str(last.id), limit=limit
            )
        )
    else:
        nxt = str(request.url)
    # OpenActive: only the last (empty) page is polled for news; every other page, short
    # or full, is cached an hour, so a consumer replaying the feed spares the origin.
    cache = "public, max-age=3600" if items else "public, max-age=8"
    return JSONResponse(
        {"next": nxt, "items": items, "license": "https://creativecommons.org/licenses/by/4.0/"},
        headers={"Cache-Control": cache},
    )


AfterTimestamp = Annotated[
    int | None,
    Query(
        alias="afterTimestamp",
        ge=0,
        le=2**63 - 1,  # a PostgreSQL bigint, as `modified` is
        description="`modified` of the last item seen; give `afterId` with it.",
    ),
]
AfterId = Annotated[
    uuid.UUID | None,
    Query(
        alias="afterId", description="`id` of the last item seen; give `afterTimestamp` with it."
    ),
]
Limit = Annotated[
    int, Query(ge=1, le=500, description="Items per page (OpenActive recommends 500).")
]


@router.get("/activities", summary="RPDE feed of activity changes", response_model=RpdePage)
async def activity_changes(
    request: Request,
    db: DatabaseDep,
    after_timestamp: AfterTimestamp = None,
    after_id: AfterId = None,
    limit: Limit = 500,
) -> JSONResponse:
    """Replaying from the start reaches exactly the current set, deletions included:
    `WHERE (modified = :ts AND id > :id) OR modified > :ts ORDER BY modified, id`."""
    return await _page(request, db, "activities", after_timestamp, after_id, limit)


@router.get("/organizations", summary="RPDE feed of organisation changes", response_model=RpdePage)
async def organization_changes(
    request: Request,
    db: DatabaseDep,
    after_timestamp: AfterTimestamp = None,
    after_id: AfterId = None,
    limit: Limit = 500,
) -> JSONResponse:
    return await _page(request, db, "organizations", after_timestamp, after_id, limit)
