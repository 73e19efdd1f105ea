"""Refreshed Lähellä.fi cookies live in PostgreSQL: every replica and the harvest CronJob
use the latest ones, and an operator's newly configured cookies win over them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lahella_bridge.models import UpstreamLogin
from lahella_bridge.sample.data import generate
from lahella_bridge.sample.upstream import AUTH_COOKIE, SAMPLE_COOKIES, SampleUpstream
from tests.conftest import lahella_source, make_harvester


def small_upstream(anchor: date) -> SampleUpstream:
    return SampleUpstream(generate(anchor=anchor)[:10])


async def stored_tokens(engine: AsyncEngine) -> dict[str, str] | None:
    async with engine.connect() as connection:
        return await connection.scalar(
            select(UpstreamLogin.cookies).where(UpstreamLogin.source == "lahella")
        )


async def test_a_second_replica_uses_the_cookies_another_one_refreshed(
    db: AsyncEngine, anchor: date
) -> None:
    upstream = small_upstream(anchor)
    upstream.faults.expire_auth = True  # the configured token is refused once: a refresh
    first = await make_harvester(db, upstream, anchor).run()
    assert first.status == "succeeded", first.error
    assert (await stored_tokens(db) or {}).get(AUTH_COOKIE) == upstream.auth_token

    # Another process (a replica, the next CronJob pod): the configured token is stale
    # and a second refresh would be refused; only the stored, refreshed token works.
    upstream.faults.reject_refresh = True
    second = await make_harvester(db, upstream, anchor).run()
    assert second.status == "succeeded", second.error


async def test_a_newly_configured_cookie_value_wins_over_the_stored_one(
    db: AsyncEngine, anchor: date
) -> None:
    upstream = small_upstream(anchor)
    upstream.faults.expire_auth = True
    first = await make_harvester(db, upstream, anchor).run()
    assert first.status == "succeeded", first.error
    refreshed = upstream.auth_token

    # The operator logs in again: same cookie names, new values; the upstream now knows
    # only the new login's token (the stored one was revoked).
    upstream.auth_token = "sample-auth-new-login"
    upstream.faults.reject_refresh = True
    new_login = SAMPLE_COOKIES.replace("sample-auth-1", "sample-auth-new-login")
    assert (await stored_tokens(db) or {}).get(AUTH_COOKIE) == refreshed
    replica = make_harvester(db, upstream, anchor)
    lahella_source(replica).client.cookies = new_login
    second = await replica.run()
    assert second.status == "succeeded", second.error
