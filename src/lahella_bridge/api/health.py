"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from lahella_bridge import metrics
from lahella_bridge.store import activity_reads, runs
from lahella_bridge.web.deps import DatabaseDep

router = APIRouter(tags=["health"])
metrics_router = APIRouter(tags=["health"], include_in_schema=False)


@router.get("/healthz", summary="Process alive")
async def healthz() -> dict[str, str]:
    """Answers while the process runs; it does not touch the database."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Ready to serve",
    responses={
        503: {
            "description": "The database cannot be reached",
            "content": {
                "application/json": {"example": {"status": "unavailable", "database": "OSError"}}
            },
        }
    },
)
async def readyz(request: Request) -> JSONResponse:
    """200 when the database answers within two seconds, else 503."""
    try:
        async with asyncio.timeout(2):
            async with request.app.state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "database": type(exc).__name__},
            status_code=503,
            headers={"Cache-Control": "no-store"},
        )
    return JSONResponse({"status": "ok", "database": "ok"}, headers={"Cache-Control": "no-store"})


@metrics_router.get("/metrics", summary="Prometheus metrics")
async def prometheus_metrics(db: DatabaseDep) -> Response:
    """Request, harvest and upstream counters of this replica; data gauges from the database."""
    for kind, count in (await activity_reads.published_counts(db)).items():
        metrics.PUBLISHED.labels(kind).set(count)
    finished = await runs.last_success(db)
    if finished is not None:
        metrics.LAST_SUCCESS.set(finished.timestamp())
    return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)
