"""PTV: the open Service Catalogue's services in the configured areas, swept in full now
and then and synced incrementally in between."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from lahella_bridge.config import Settings
from lahella_bridge.normalise.outcome import Normaliser
from lahella_bridge.normalise.ptv_source import normalise_ptv
from lahella_bridge.sources.base import Fetch, Listing, PastRuns
from lahella_bridge.store import writes
from lahella_bridge.store.quarantine import ptv_record_key
from lahella_bridge.upstream.client import LoginStore
from lahella_bridge.upstream.ptv_client import PtvClient, PtvClientSettings
from lahella_bridge.upstream.ptv_schemas import listed_areas

# An incremental PTV window starts this much before the last run, for clock skew.
PTV_OVERLAP = timedelta(minutes=10)


def ptv_settings(settings: Settings) -> PtvClientSettings:
    """The PTV client's settings."""
    return PtvClientSettings(
        base_url=settings.ptv_url,
        areas=settings.ptv_areas,
        batch_size=settings.ptv_batch_size,
        timeout_s=settings.upstream_timeout_s,
        max_retries=settings.upstream_max_retries,
    )


@dataclass
class PtvSource:
    """`full_every`: how often a full sweep replaces the incremental sync."""

    client: PtvClientSettings
    transport: httpx.AsyncBaseTransport | None = None
    full_every: timedelta = timedelta(hours=24)
    enabled: bool = True
    name: ClassVar[str] = "ptv"

    @classmethod
    def from_settings(cls, settings: Settings) -> PtvSource:
        return cls(
            ptv_settings(settings),
            full_every=timedelta(hours=settings.ptv_full_sweep_hours),
            enabled=settings.ptv_enabled,
        )

    def key(self, raw: Any) -> str:
        return ptv_record_key(raw)

    @property
    def normaliser(self) -> Normaliser:
        return normalise_ptv

    def still_published(self, raw: Any, now: datetime) -> bool:
        return True  # PTV lists only published services; a withdrawn one is a removal

    def incremental_since(self, past: PastRuns, now: datetime) -> datetime | None:
        if past.last_full and past.last_any and now - past.last_full < self.full_every:
            return past.last_any - PTV_OVERLAP
        return None

    @asynccontextmanager
    async def fetch(
        self, since: datetime | None, now: datetime, cookie_store: LoginStore
    ) -> AsyncIterator[Fetch]:
        async with PtvClient(self.client, transport=self.transport) as client:
            records = (
                client.services_by_area() if since is None else client.services_changed(since, now)
            )
            yield Fetch(
                records,
                client.progress,
                lambda: Listing(client.removed, client.listed if since is None else None),
            )

    async def live_by_area(self, db: AsyncSession, areas: Collection[str]) -> dict[str, set[str]]:
        live: dict[str, set[str]] = {area: set() for area in areas}
        for key, raw_areas in (await writes.live_ptv_areas(db)).items():
            for area in listed_areas(raw_areas) & live.keys():
                live[area].add(key)
        return live
