"""Which responses the cache keeps is declared on the routes (`CacheableRoute`), not by a
list of path prefixes: a new surface's routes are cached once they say so, no other are,
and the route that decides is the one the router picks."""

from __future__ import annotations

import re
from collections import Counter

from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts

from lahella_bridge.app import create_app
from lahella_bridge.config import Settings
from lahella_bridge.web.cacheable import CacheableRoute, cacheable_paths
from tests.conftest import serving

# The published data; the rest (admin, health, metrics, docs, the referral pages) is not
# cached.
PUBLISHED = ("/v1/", "/ptv/", "/linkedevents/", "/hsds/", "/embed/")


async def test_a_new_prefix_is_cached_when_its_routes_say_so_and_only_then(
    database_url: str,
) -> None:
    calls: Counter[str] = Counter()
    declared = APIRouter(prefix="/brand-new", route_class=CacheableRoute)
    undeclared = APIRouter(prefix="/also-new")

    @declared.get("/things")
    async def declared_things() -> dict[str, int]:
        calls["declared"] += 1
        return {"call": calls["declared"]}

    @undeclared.get("/things")
    async def undeclared_things() -> dict[str, int]:
        calls["undeclared"] += 1
        return {"call": calls["undeclared"]}

    app = create_app(Settings(harvest_interval_minutes=0), database_url)
    app.include_router(declared)
    app.include_router(undeclared)
    async with serving(app) as client:
        cached = [(await client.get("/brand-new/things")).json() for _ in range(2)]
        computed = [(await client.get("/also-new/things")).json() for _ in range(2)]
    # The second request for the declared route was answered by the cache.
    assert cached == [{"call": 1}, {"call": 1}] and calls["declared"] == 1
    assert computed == [{"call": 1}, {"call": 2}] and calls["undeclared"] == 2


def test_the_published_surfaces_are_cacheable_and_nothing_else() -> None:
    app = create_app(Settings(harvest_interval_minutes=0), "postgresql+asyncpg://unused/unused")
    cacheable = cacheable_paths(app.routes)
    seen = []
    for context in iter_route_contexts(app.routes):
        if context.path_format is None or "GET" not in (context.methods or ()):
            continue
        path = re.sub(r"\{[^}]*\}", "x", context.path_format)
        seen.append(path)
        assert cacheable(path) == (path + "/").startswith(PUBLISHED), path
    assert {"/v1/events.ics", "/hsds/", "/embed/widget.js", "/healthz", "/metrics"} <= set(seen)
    assert {"/admin/harvests", "/referral", "/docs", "/openapi.json"} <= set(seen)


def test_the_route_the_router_picks_decides_not_a_later_one_that_also_matches() -> None:
    app = FastAPI()
    plain = APIRouter(prefix="/things")
    declared = APIRouter(prefix="/things", route_class=CacheableRoute)

    @plain.get("/today")  # per day: not cacheable, and listed first
    async def today() -> None: ...

    @plain.post("/{thing_id}")  # another method than GET: not the route a GET reaches
    async def change(thing_id: str) -> None: ...

    @declared.get("/{thing_id}")
    async def thing(thing_id: str) -> None: ...

    app.include_router(plain)
    app.include_router(declared)
    cacheable = cacheable_paths(app.routes)
    assert not cacheable("/things/today") and cacheable("/things/42")
    assert not cacheable("/things/42/more") and not cacheable("/elsewhere")
