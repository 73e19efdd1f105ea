"""Admin endpoints (X-API-Key): harvest control, run history, quarantine, unmapped codes."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from lahella_bridge.errors import Conflict
from lahella_bridge.harvest import HarvestAlreadyRunning, Harvester
from lahella_bridge.store import quarantine, runs
from lahella_bridge.web.deps import DatabaseDep, require_admin
from lahella_bridge.web.filters import reject_unknown_parameters

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin), Depends(reject_unknown_parameters)],
)
_background: set[asyncio.Task[Any]] = set()


@router.post(
    "/harvest",
    summary="Start a harvest",
    status_code=202,
    responses={409: {"description": "A harvest is already running"}},
)
async def start_harvest(
    request: Request,
    db: DatabaseDep,
    force: Annotated[bool, Query(description="Override the retirement safety brake.")] = False,
    full: Annotated[
        bool, Query(description="Sweep PTV's areas in full instead of an incremental sync.")
    ] = False,
) -> JSONResponse:
    """Starts one run of every enabled source in the background; 409 if any replica is
    harvesting."""
    if await runs.harvest_running(db):
        raise Conflict("a harvest is already running")
    harvester: Harvester = request.app.state.harvester

    async def run() -> None:
        with contextlib.suppress(HarvestAlreadyRunning):
            await harvester.run_all(force=force, mode="manual", full_sweep=full)

    task = asyncio.create_task(run())
    _background.add(task)
    task.add_done_callback(_background.discard)
    return JSONResponse({"status": "started"}, status_code=202)


@router.get("/harvests", summary="Harvest run history")
async def list_harvests(
    db: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    recent = await runs.last_runs(db, limit)
    return [
        {
            "id": r.id,
            "source": r.source,
            "mode": r.mode,
            "status": r.status,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "complete": r.complete,
            "total_reported": r.total_reported,
            "fetched": r.fetched,
            "created": r.created,
            "updated": r.updated,
            "unchanged": r.unchanged,
            "retired": r.retired,
            "quarantined": r.quarantined,
            "unpublished": r.unpublished,
            "retries": r.retries,
            "error": r.error,
            "report": r.report,
        }
        for r in recent
    ]


@router.get("/quarantine", summary="Upstream records that could not be used")
async def list_quarantine(
    db: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[dict[str, Any]]:
    rows = await quarantine.quarantined(db, limit, offset)
    return [
        {
            "source": r.source,
            "key": r.record_key,
            "reason": r.reason,
            "run_id": r.run_id,
            "first_seen": r.first_seen,
            "last_seen": r.last_seen,
            "raw": r.raw,
        }
        for r in rows
    ]


@router.get("/unmapped", summary="Upstream classifications without a mapping")
async def list_unmapped(db: DatabaseDep) -> list[dict[str, Any]]:
    """Counted over live activities: each value, how many records carry it, an example."""
    return await quarantine.unmapped_values(db)
