"""Async client of the open PTV Open API v11 read endpoints (no login needed).

A full sweep lists services by area (`/Service/list/area/Municipality/code/{code}`),
page by page, and fetches their channels and organisations in small `list?guids=`
batches. An incremental sync asks which services changed in a `date`/`dateBefore`
window and which were archived. Each service comes out as one bundle
`{service, channels, organization}`: the raw record the harvester stores.

The real API answers large guid batches with 504: a batch that gets one is split in
two and retried, down to single ids, which then retry like any other request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from pydantic import ValidationError

from lahella_bridge.upstream.http import GaveUpOnStatus, RetryPolicy, UpstreamError, UpstreamHttp
from lahella_bridge.upstream.ptv_schemas import PUBLISHED, PtvPage, PtvService

log = structlog.get_logger(__name__)

DEFAULT_PTV_URL = "https://api.palvelutietovaranto.suomi.fi/api/v11"
GATEWAY_TIMEOUT = 504
# Assumed (not in the schema pack): the guid listings take `status=Archived` for removals.
ARCHIVED = "Archived"


@dataclass
class PtvClientSettings:
    base_url: str = DEFAULT_PTV_URL
    areas: list[str] = field(default_factory=list)
    batch_size: int = 20
    timeout_s: float = 30.0
    max_retries: int = 5
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    max_pages: int = 10_000  # a guard against a listing that never ends


def _stamp(moment: datetime) -> str:
    """PTV takes `date` as an ISO date-time; UTC without offset is what it documents."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _in_areas(service: dict[str, Any], areas: set[str]) -> bool:
    for area in service.get("areas") or []:
        if not isinstance(area, dict):
            continue
        codes = {area.get("code")} | {
            m.get("code") for m in area.get("municipalities") or [] if isinstance(m, dict)
        }
        if (area.get("type") == "Municipality" or area.get("municipalities")) and codes & areas:
            return True
    return False


class PtvClient(UpstreamHttp):
    """One per harvest run. `removed` collects ids PTV says are gone (incremental mode)."""

    def __init__(
        self, settings: PtvClientSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.removed: set[str] = set()
        self._channels: dict[str, dict[str, Any]] = {}
        self._organisations: dict[str, dict[str, Any]] = {}
        super().__init__(
            settings.base_url,
            RetryPolicy(settings.max_retries, settings.backoff_base_s, settings.backoff_cap_s),
            timeout_s=settings.timeout_s,
            transport=transport,
        )

    async def _page(self, path: str, params: dict[str, Any]) -> PtvPage:
        _, payload = await self.fetch(path, params)
        if not isinstance(payload, dict) or not isinstance(payload.get("itemList"), list | None):
            raise UpstreamError(f"{path}: not a PTV page (pageNumber, pageCount, itemList)")
        self.progress.pages += 1
        return PtvPage.model_validate(payload)

    async def _pages(
        self, path: str, params: dict[str, Any], label: str | None = None
    ) -> AsyncIterator[list[Any]]:
        """Every page of a PTV listing (1-based `page`); records completeness under `label`."""
        page_number = 1
        if label is not None:
            self.progress.totals[label] = None
            self.progress.seen[label] = 0
        while page_number <= self.settings.max_pages:
            page = await self._page(path, {**params, "page": page_number})
            items = page.itemList or []
            if label is not None:
                self.progress.totals[label] = page.pageCount or 0
                self.progress.seen[label] += 1 if items or page.pageCount else 0
            yield items
            if not items or page.pageCount is None or page_number >= page.pageCount:
                return
            page_number += 1
        if label is not None:
            self.progress.stalled = True
        log.warning("ptv.paging_stopped", path=path, pages=self.settings.max_pages)

    async def _by_guids(self, kind: str, ids: list[str]) -> list[dict[str, Any]]:
        """`/{kind}/list?guids=` in batches; a 504 splits the batch, down to single ids."""
        found: list[dict[str, Any]] = []
        queue = [
            ids[i : i + self.settings.batch_size]
            for i in range(0, len(ids), self.settings.batch_size)
        ]
        while queue:
            batch = queue.pop(0)
            try:
                _, payload = await self.fetch(
                    f"/{kind}/list",
                    {"guids": ",".join(batch)},
                    give_up_on=(GATEWAY_TIMEOUT,) if len(batch) > 1 else (),
                )
            except GaveUpOnStatus:
                half = len(batch) // 2
                log.warning("ptv.batch_split", kind=kind, size=len(batch), into=half)
                queue[:0] = [batch[:half], batch[half:]]
                continue
            if not isinstance(payload, list):
                raise UpstreamError(f"/{kind}/list: expected an array of objects")
            found += [item for item in payload if isinstance(item, dict)]
        return found

    async def _linked(self, services: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
        """Bundles: each service with its channels and responsible organisation."""
        linked = [(service, *_links(service)) for service in services]
        channel_ids = {c for _, channels, _ in linked for c in channels}
        missing = sorted(channel_ids - self._channels.keys())
        for channel in await self._by_guids("ServiceChannel", missing):
            self._channels[str(channel.get("id"))] = channel
        organisation_ids = {o for _, _, o in linked if o}
        missing = sorted(organisation_ids - self._organisations.keys())
        for organisation in await self._by_guids("Organization", missing):
            self._organisations[str(organisation.get("id"))] = organisation
        for service, channels, responsible in linked:
            yield {
                "service": service,
                "channels": [self._channels[c] for c in channels if c in self._channels],
                "organization": self._organisations.get(responsible) if responsible else None,
            }

    async def services_by_area(self) -> AsyncIterator[dict[str, Any]]:
        """Full sweep: every published service of every configured area, once."""
        seen: set[str] = set()
        for code in self.settings.areas:
            path = f"/Service/list/area/Municipality/code/{code}"
            async for items in self._pages(path, {"includeWholeCountry": "false"}, label=code):
                fresh = []
                for item in items:
                    key = str(item.get("id")) if isinstance(item, dict) else None
                    if key is None or key in seen:
                        self.progress.duplicates += key is not None
                        continue
                    seen.add(key)
                    fresh.append(item)
                self.progress.items += len(fresh)
                async for bundle in self._linked(fresh):
                    yield bundle

    async def _changed_ids(self, params: dict[str, Any]) -> list[str]:
        ids: list[str] = []
        async for items in self._pages("/Service", params):
            ids += [str(i["id"]) for i in items if isinstance(i, dict) and i.get("id")]
        return list(dict.fromkeys(ids))

    async def services_changed(
        self, since: datetime, before: datetime
    ) -> AsyncIterator[dict[str, Any]]:
        """Incremental: services modified in [since, before) that are in the areas; ids
        archived in the window, or moved out of the areas, go to `removed`."""
        window = {"date": _stamp(since), "dateBefore": _stamp(before)}
        areas = set(self.settings.areas)
        changed = await self._changed_ids(window)
        try:
            self.removed.update(await self._changed_ids({**window, "status": ARCHIVED}))
        except UpstreamError as exc:
            log.warning("ptv.archived_listing_unavailable", error=str(exc))
        services = await self._by_guids("Service", changed)
        in_area = []
        for service in services:
            key = str(service.get("id"))
            if service.get("publishingStatus") not in (None, PUBLISHED) or not _in_areas(
                service, areas
            ):
                self.removed.add(key)
            else:
                in_area.append(service)
        self.progress.items += len(in_area)
        self.progress.seen["changed"] = 1
        self.progress.totals["changed"] = 1
        async for bundle in self._linked(in_area):
            yield bundle


def _links(service: dict[str, Any]) -> tuple[list[str], str | None]:
    """A service's channel ids and responsible organisation, read as the normaliser
    reads them; a malformed service links nothing here and is quarantined there."""
    try:
        parsed = PtvService.model_validate(service)
    except ValidationError:
        return [], None
    responsible = parsed.responsible_organization()
    return parsed.channel_ids(), responsible.id if responsible else None
