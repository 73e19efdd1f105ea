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
from lahella_bridge.upstream.ptv_schemas import PUBLISHED, PtvPage, PtvService, listed_areas

log = structlog.get_logger(__name__)

DEFAULT_PTV_URL = "https://api.palvelutietovaranto.suomi.fi/api/v11"
GATEWAY_TIMEOUT = 504
NOT_FOUND = 404
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


def _announced_items(page: PtvPage, page_number: int, page_size: int, arrived: int) -> int:
    """Items a PTV listing announces, which carries no item total: `pageCount - 1` full
    pages, then the last page's own items (at least one until the last page is read)."""
    pages = page.pageCount if page.pageCount is not None else page_number
    if pages <= 0:
        return 0
    last = arrived if page_number >= pages else 1
    return (pages - 1) * page_size + last


def _item_ids(items: list[Any]) -> set[str]:
    return {str(i["id"]) for i in items if isinstance(i, dict) and i.get("id")}


class PtvClient(UpstreamHttp):
    """One per harvest run. `removed` collects ids PTV says are gone (incremental mode)."""

    def __init__(
        self, settings: PtvClientSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.removed: set[str] = set()
        # Ids each area's listing named (full sweep): what the per-area brake compares.
        self.listed: dict[str, set[str]] = {}
        # Linked ids PTV neither returned nor denied: their referrers are held back.
        self.unresolved: set[str] = set()
        self._channels: dict[str, dict[str, Any]] = {}
        self._organisations: dict[str, dict[str, Any]] = {}
        super().__init__(
            settings.base_url,
            RetryPolicy(settings.max_retries, settings.backoff_base_s, settings.backoff_cap_s),
            timeout_s=settings.timeout_s,
            transport=transport,
        )
        self.progress.unit = "distinct ids"

    async def _page(self, path: str, params: dict[str, Any]) -> PtvPage:
        _, payload = await self.fetch(path, params)
        if not isinstance(payload, dict) or not isinstance(payload.get("itemList"), list | None):
            raise UpstreamError(f"{path}: not a PTV page (pageNumber, pageCount, itemList)")
        self.progress.pages += 1
        return PtvPage.model_validate(payload)

    async def _pages(
        self, path: str, params: dict[str, Any], label: str
    ) -> AsyncIterator[list[Any]]:
        """Every page of a PTV listing (1-based `page`). Completeness is counted in items
        under `label`: the distinct ids that arrived against the items the pages announce,
        so a short page, or pages that overlap as the listing shifts, leave it incomplete."""
        self.progress.totals[label] = None
        self.progress.seen[label] = 0
        ids: set[str] = set()
        page_size = 0
        page_number = 1
        while page_number <= self.settings.max_pages:
            page = await self._page(path, {**params, "page": page_number})
            items = page.itemList or []
            page_size = page.pageSize or page_size or len(items)
            ids |= _item_ids(items)
            self.progress.seen[label] = len(ids)
            self.progress.totals[label] = _announced_items(page, page_number, page_size, len(items))
            yield items
            if not items or page.pageCount is None or page_number >= page.pageCount:
                return
            page_number += 1
        self.progress.stalled = True
        log.warning("ptv.paging_stopped", path=path, pages=self.settings.max_pages)

    async def _by_guids(self, kind: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """`/{kind}/list?guids=` in batches; a 504 splits the batch, down to single ids.

        Ids a batch leaves out are asked for one by one: a 404 there means the record is
        gone; one that still cannot be read goes to `unresolved`, so its referrers are
        held back and the sweep is incomplete instead of storing them without it."""
        found: dict[str, dict[str, Any]] = {}
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
            found |= {str(item.get("id")): item for item in payload if isinstance(item, dict)}
        for key in [i for i in ids if i not in found]:
            record = await self._one(kind, key)
            if record is not None:
                found[key] = record
        return found

    async def _one(self, kind: str, key: str) -> dict[str, Any] | None:
        """`/{kind}/{id}` for an id a batch left out: the record, or None when PTV says it
        is gone (404); `unresolved` when it cannot be read."""
        log.warning("ptv.batch_left_out", kind=kind, id=key)
        try:
            status, payload = await self.fetch(f"/{kind}/{key}", {}, passthrough=(NOT_FOUND,))
        except UpstreamError as exc:
            log.warning("ptv.unresolved", kind=kind, id=key, error=str(exc))
            self.unresolved.add(key)
            return None
        if status == NOT_FOUND:
            return None
        if not isinstance(payload, dict) or str(payload.get("id")) != key:
            self.unresolved.add(key)
            return None
        return payload

    async def _linked(self, services: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
        """Bundles: each service with its channels and responsible organisation."""
        linked = [(service, *_links(service)) for service in services]
        channel_ids = {c for _, channels, _ in linked for c in channels}
        missing = sorted(channel_ids - self._channels.keys())
        self._channels |= await self._by_guids("ServiceChannel", missing)
        organisation_ids = {o for _, _, o in linked if o}
        missing = sorted(organisation_ids - self._organisations.keys())
        self._organisations |= await self._by_guids("Organization", missing)
        for service, channels, responsible in linked:
            if self.unresolved & {*channels, *([responsible] if responsible else [])}:
                self._hold_back(service)
                continue
            yield {
                "service": service,
                "channels": [self._channels[c] for c in channels if c in self._channels],
                "organization": self._organisations.get(responsible) if responsible else None,
            }

    def _hold_back(self, service: dict[str, Any]) -> None:
        """A service whose channel or organisation could not be read is not stored
        without it: it keeps its stored version, and the sweep is incomplete."""
        key = str(service.get("id"))
        log.warning("ptv.held_back", id=key)
        self.progress.gaps.append(f"service {key}: a linked record could not be read")

    async def services_by_area(self) -> AsyncIterator[dict[str, Any]]:
        """Full sweep: every published service of every configured area, once."""
        seen: set[str] = set()
        for code in self.settings.areas:
            self.listed[code] = set()
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
                self.listed[code] |= _item_ids(items)
                self.progress.items += len(fresh)
                async for bundle in self._linked(fresh):
                    yield bundle

    async def _changed_ids(self, params: dict[str, Any], label: str) -> list[str]:
        ids: list[str] = []
        async for items in self._pages("/Service", params, label):
            ids += [str(i["id"]) for i in items if isinstance(i, dict) and i.get("id")]
        return list(dict.fromkeys(ids))

    async def services_changed(
        self, since: datetime, before: datetime
    ) -> AsyncIterator[dict[str, Any]]:
        """Incremental: services modified in [since, before) that are in the areas; ids
        archived in the window, or moved out of the areas, go to `removed`."""
        window = {"date": _stamp(since), "dateBefore": _stamp(before)}
        areas = set(self.settings.areas)
        changed = await self._changed_ids(window, "changed")
        try:
            self.removed.update(await self._changed_ids({**window, "status": ARCHIVED}, "archived"))
        except UpstreamError as exc:
            # The changes are still stored; the removals wait for a run that reads them.
            log.warning("ptv.archived_listing_unavailable", error=str(exc))
            self.progress.gaps.append(f"the archived services listing failed: {exc}")
        services = await self._by_guids("Service", changed)
        in_area = []
        for key in changed:
            service = services.get(key)
            if service is None:
                if key in self.unresolved:
                    self.progress.gaps.append(f"changed service {key} could not be read")
                continue
            if service.get("publishingStatus") not in (None, PUBLISHED) or not (
                listed_areas(service.get("areas")) & areas
            ):
                self.removed.add(key)
            else:
                in_area.append(service)
        self.progress.items += len(in_area)
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
