"""Browsers never sniff a response into another type, and only the embeddable listing may
be framed by other sites: the referral tool and the client sheet only by the service."""

from __future__ import annotations

import httpx
import pytest

from lahella_bridge.app import create_app
from lahella_bridge.config import Settings

pytestmark = pytest.mark.usefixtures("harvested")


def frame_ancestors(response: httpx.Response) -> str:
    policy = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    return directives["frame-ancestors"]


async def test_every_kind_of_response_says_nosniff(api: httpx.AsyncClient) -> None:
    listed = await api.get("/v1/activities?page_size=1")
    activity = listed.json()["items"][0]["id"]
    responses = {
        "json": listed,
        "json-ld": await api.get("/v1/events", headers={"Accept": "application/ld+json"}),
        "ics": await api.get("/v1/events.ics"),
        "widget.js": await api.get("/embed/widget.js"),
        "frame.js": await api.get("/embed/frame.js"),
        "listing": await api.get("/embed/activities"),
        "referral": await api.get("/referral"),
        "sheet": await api.get(f"/referral/sheet?ids={activity}"),
        "problem 422": await api.get("/v1/activities?stage=nope"),
        "problem 404": await api.get("/v1/activities/00000000-0000-0000-0000-000000000000"),
        "unknown path": await api.get("/nowhere"),
        "unknown host": await api.get("/v1/activities", headers={"Host": "evil.example"}),
        "304": await api.get(
            "/v1/activities?page_size=1", headers={"If-None-Match": listed.headers["etag"]}
        ),
        "health": await api.get("/healthz"),
        "openapi": await api.get("/openapi.json"),
        "admin 401": await api.get("/admin/harvests"),
    }
    assert responses["304"].status_code == 304
    sniffable = {
        kind: r.status_code
        for kind, r in responses.items()
        if r.headers.get("x-content-type-options") != "nosniff"
    }
    assert sniffable == {}


async def test_only_the_listing_may_be_framed_by_other_sites(api: httpx.AsyncClient) -> None:
    activity = (await api.get("/v1/activities?page_size=1")).json()["items"][0]["id"]
    assert frame_ancestors(await api.get("/embed/activities")) == "*"
    assert frame_ancestors(await api.get("/embed/activities?fragment=true")) == "*"
    assert frame_ancestors(await api.get("/referral")) == "'self'"
    assert frame_ancestors(await api.get(f"/referral/sheet?ids={activity}")) == "'self'"


async def test_an_unexpected_failure_is_a_problem_that_says_nosniff(database_url: str) -> None:
    """A 500 is answered by the outermost error layer, outside the middleware that adds the
    policy headers: the handler adds them itself. A route that fails is added to the real
    app for the test (no route of ours fails on purpose)."""
    app = create_app(Settings(harvest_interval_minutes=0), database_url)

    @app.get("/v1/fails")
    async def fails() -> None:
        raise RuntimeError("boom")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        response = await client.get("/v1/fails")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert "boom" not in response.text
