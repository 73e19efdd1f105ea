"""The FastAPI application factory: lifespan, middleware, error handlers, routers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.datastructures import Default
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline

from lahella_bridge import __version__
from lahella_bridge.api import activities, admin, changes, events, health, ptv_api
from lahella_bridge.config import Settings
from lahella_bridge.db import create_engine, create_sessionmaker
from lahella_bridge.embed import routes as embed_routes
from lahella_bridge.harvest import HarvestAlreadyRunning, Harvester, harvester_for
from lahella_bridge.interop.hsds import routes as hsds_routes
from lahella_bridge.interop.linkedevents import routes as linkedevents_routes
from lahella_bridge.interop.profile import LinkedEventsError
from lahella_bridge.store import runs
from lahella_bridge.web.cache_front import CacheFront
from lahella_bridge.web.cross_origin import CrossOrigin
from lahella_bridge.web.head import HeadAsGet
from lahella_bridge.web.http_layer import HttpLayer
from lahella_bridge.web.json_response import OrjsonResponse
from lahella_bridge.web.openapi import document_errors
from lahella_bridge.web.origin import PublicOrigin
from lahella_bridge.web.problems import add_problem_handlers
from lahella_bridge.web.response_cache import ResponseCache, VersionProbe
from lahella_bridge.web.response_headers import ResponseHeaders

log = structlog.get_logger(__name__)

DESCRIPTION = """
Activities, events and organisations of NGOs and parishes in North Ostrobothnia,
harvested from Lähellä.fi, classified into the Pohde county's service-chain stages
and wellbeing themes, and published as JSON, iCalendar, schema.org JSON-LD, an
OpenActive RPDE change feed and PTV Open API v11 compatible bodies.

Paged lists share one envelope (`count`, `next`, `previous`, `items`); the vocabularies
(stages, themes, activity types, municipalities, segments) are complete, fixed arrays,
never paged. Errors are RFC 9457 problem details; every GET has a strong ETag.
"""


def _operation_id(route: APIRoute) -> str:
    return route.name


async def _scheduled_harvests(app: FastAPI, settings: Settings) -> None:
    """Harvest at start if never harvested, then every N minutes; errors never escape."""
    harvester: Harvester = app.state.harvester
    first = True
    while True:
        try:
            async with app.state.open_db() as db:
                due = not first or not await runs.ever_harvested(db)
            if due and (settings.harvest_on_start or not first):
                await harvester.run_all(mode="scheduled")
        except HarvestAlreadyRunning:
            log.info("harvest.skipped", reason="another replica is harvesting")
        except Exception:
            log.exception("harvest.scheduler_error")
        first = False
        await asyncio.sleep(settings.harvest_interval_minutes * 60)


def create_app(settings: Settings, database_url: str) -> FastAPI:
    """Build the app for one database URL (the CLI resolves embedded vs configured)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Requests get a statement timeout; the harvester's own small pool does not.
        engine = create_engine(database_url, statement_timeout_ms=settings.statement_timeout_ms)
        harvest_engine = create_engine(database_url, pool_size=2)
        app.state.engine = engine
        app.state.open_db = create_sessionmaker(engine)
        app.state.harvester = harvester_for(settings, harvest_engine)
        scheduler = None
        if settings.harvest_interval_minutes > 0:
            scheduler = asyncio.create_task(_scheduled_harvests(app, settings))
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await scheduler
            await engine.dispose()
            await harvest_engine.dispose()

    # /docs and /redoc with their assets served from the package, not a CDN: they work
    # on an intranet without internet.
    app = FastAPIOffline(
        title="lahella-bridge",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        contact={"name": "Pohde", "url": "https://pohde.fi"},
        # No OpenTelemetry here (Prometheus metrics, JSON logs): FastAPI's native telemetry
        # otherwise looks for configured providers in the environment on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # Wrapped in Default as FastAPI's own default is: a route with a response model
        # keeps FastAPI's path of pydantic straight to JSON bytes.
        default_response_class=Default(OrjsonResponse),
    )
    app.state.settings = settings
    add_problem_handlers(app)
    _add_profile_error_handler(app)
    _document_errors(app)
    _add_middleware(app, settings)
    for router in (
        health.router,
        health.metrics_router,
        activities.router,
        events.router,
        changes.router,
        ptv_api.router,
        admin.router,
        embed_routes.router,
        linkedevents_routes.router,
        hsds_routes.router,
    ):
        app.include_router(router)
    return app


def _document_errors(app: FastAPI) -> None:
    def openapi_with_errors() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(FastAPI.openapi(app), app.routes)
        return app.openapi_schema

    app.openapi = openapi_with_errors  # type: ignore[method-assign]  # FastAPI's documented way


def _add_profile_error_handler(app: FastAPI) -> None:
    @app.exception_handler(LinkedEventsError)
    async def linked_events_error(request: Request, exc: LinkedEventsError) -> JSONResponse:
        return OrjsonResponse({"detail": exc.detail}, status_code=exc.status)


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    async def read_version() -> int:
        async with app.state.open_db() as db:
            return await runs.data_version(db)

    # Added inside out: gzip, the cache/ETag/metrics layer, CORS, the headers every
    # response carries (preflights, 304s and refusals included), HEAD-as-GET, and
    # outermost the replay of cache hits with the headers all of these gave them.
    version, cache = VersionProbe(read_version), ResponseCache()
    origin = PublicOrigin(settings.public_base_url, settings.allowed_hosts)
    # `routes` is the list the routers are included into: the layers read it when the app
    # starts (Starlette builds its middleware then), every router included.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    app.add_middleware(HttpLayer, version=version, cache=cache, origin=origin, routes=app.routes)
    app.add_middleware(CrossOrigin, configured_origins=settings.cors_origins)
    app.add_middleware(ResponseHeaders)
    app.add_middleware(HeadAsGet)
    app.add_middleware(CacheFront, version=version, cache=cache, origin=origin, routes=app.routes)
