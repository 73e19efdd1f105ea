"""Lähellä.fi: the admin API's activities, read with the operator's session cookies.
One listing, always swept in full."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from lahella_bridge.config import Settings
from lahella_bridge.normalise.lahella import normalise as normalise_lahella
from lahella_bridge.normalise.outcome import Normaliser
from lahella_bridge.sources.base import Fetch, PastRuns
from lahella_bridge.store.quarantine import quarantine_key
from lahella_bridge.upstream.client import ClientSettings, LahellaClient, LoginStore
from lahella_bridge.upstream.schemas import Publication, raw_publication_state


def client_settings(settings: Settings) -> ClientSettings:
    """The Lähellä.fi client's settings."""
    return ClientSettings(
        base_url=settings.upstream_url,
        cookies=settings.upstream_cookies.get_secret_value() if settings.upstream_cookies else None,
        groups=settings.upstream_groups,
        page_size=settings.upstream_page_size,
        extra_headers=settings.upstream_headers,
        timeout_s=settings.upstream_timeout_s,
        max_retries=settings.upstream_max_retries,
        retry_after_cap_s=settings.upstream_retry_after_max_s,
        max_response_bytes=settings.upstream_max_response_bytes,
        deadline_s=settings.upstream_deadline_s,
    )


@dataclass
class LahellaSource:
    """The transport lets tests hand the real client a fake network."""

    client: ClientSettings
    transport: httpx.AsyncBaseTransport | None = None
    enabled: bool = True
    name: ClassVar[str] = "lahella"

    @classmethod
    def from_settings(cls, settings: Settings) -> LahellaSource:
        return cls(client_settings(settings), enabled=settings.lahella_enabled)

    def key(self, raw: Any) -> str:
        return quarantine_key(raw)

    @property
    def normaliser(self) -> Normaliser:
        return normalise_lahella

    def still_published(self, raw: Any, now: datetime) -> bool:
        return raw_publication_state(raw, now) is Publication.PUBLISHED

    def incremental_since(self, past: PastRuns, now: datetime) -> datetime | None:
        return None  # the admin API has no change listing: every run is a full sweep

    @asynccontextmanager
    async def fetch(
        self, since: datetime | None, now: datetime, cookie_store: LoginStore
    ) -> AsyncIterator[Fetch]:
        async with LahellaClient(self.client, self.transport, cookie_store) as lahella:
            yield Fetch(lahella.activities(), lahella.progress)

    async def live_by_area(self, db: AsyncSession, areas: Collection[str]) -> dict[str, set[str]]:
        return {area: set() for area in areas}  # its listing does not come by area
