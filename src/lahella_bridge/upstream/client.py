"""Async client of the Lähellä.fi admin API (`GET /v1/activities`, cookie auth).

Paging is an async iterator so memory stays flat; items are deduplicated by `_key`
and the sweep knows whether it saw as many distinct ids as the upstream's `total`.
Refreshed login cookies go to a `LoginStore` (the database) so that every process
finds them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any, Protocol, Self

import httpx
import structlog

from lahella_bridge.upstream.completeness import SweepProgress
from lahella_bridge.upstream.http import (
    ResponseLimits,
    RetryPolicy,
    UpstreamError,
    UpstreamHttp,
)
from lahella_bridge.upstream.schemas import ActivitiesPage

__all__ = [
    "ClientSettings",
    "LahellaClient",
    "LoginStore",
    "StoredLogin",
    "SweepProgress",
    "UpstreamAuthError",
    "UpstreamError",
]

log = structlog.get_logger(__name__)

REFRESH_PATH = "/api/v1/auth/token"
ACTIVITIES_PATH = "/v1/activities"
TOKEN_MARKERS = ("AUTH_TOKEN", "REFRESH_TOKEN", "EXP_")


class UpstreamAuthError(UpstreamError):
    """Tokens were refused even after a refresh: a new browser login is needed."""


@dataclass
class ClientSettings:
    base_url: str
    cookies: str | None = None
    groups: list[str] = field(default_factory=list)
    page_size: int = 100
    extra_headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 30.0
    max_retries: int = 5
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    retry_after_cap_s: float = 120.0
    max_response_bytes: int = ResponseLimits.max_bytes
    deadline_s: float = ResponseLimits.deadline_s


@dataclass(frozen=True)
class StoredLogin:
    """Refreshed token cookies, and the fingerprint of the configured cookies they grew from."""

    configured: str
    cookies: dict[str, str]


class LoginStore(Protocol):
    """Where refreshed cookies are kept for every replica and the harvest job."""

    async def load(self) -> StoredLogin | None: ...

    async def save(self, login: StoredLogin) -> None: ...


def _parse_cookie_header(header: str | None) -> dict[str, str]:
    cookie: SimpleCookie = SimpleCookie()
    if header:
        cookie.load(header)
    return {key: morsel.value for key, morsel in cookie.items()}


def configured_fingerprint(header: str | None) -> str:
    """Names and values: an operator's new login changes it even when the names stay."""
    pairs = sorted(_parse_cookie_header(header).items())
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()


def login_cookies(header: str | None, stored: StoredLogin | None) -> dict[str, str]:
    """The configured cookies with the refreshed tokens over them, while those grew from
    exactly these configured cookies; a newly configured login wins over a stored one."""
    configured = _parse_cookie_header(header)
    if stored is None or stored.configured != configured_fingerprint(header):
        return configured
    return {**configured, **stored.cookies}


class LahellaClient(UpstreamHttp):
    """One per harvest run; use as `async with LahellaClient(settings) as client`."""

    def __init__(
        self,
        settings: ClientSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        logins: LoginStore | None = None,
    ) -> None:
        self.settings = settings
        self.logins = logins
        origin = settings.base_url.rstrip("/")
        super().__init__(
            origin,
            RetryPolicy(
                settings.max_retries,
                settings.backoff_base_s,
                settings.backoff_cap_s,
                settings.retry_after_cap_s,
            ),
            timeout_s=settings.timeout_s,
            limits=ResponseLimits(settings.max_response_bytes, settings.deadline_s),
            headers={"Origin": origin, **settings.extra_headers},
            cookies=_parse_cookie_header(settings.cookies),
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        if self.logins is not None:
            try:
                stored = await self.logins.load()
            except BaseException:
                await self._http.aclose()  # no __aexit__ follows a failed __aenter__
                raise
            self._http.cookies = httpx.Cookies(login_cookies(self.settings.cookies, stored))
        return self

    async def _keep_refreshed_tokens(self) -> None:
        if self.logins is None:
            return
        tokens = {
            cookie.name: cookie.value
            for cookie in self._http.cookies.jar
            if any(m in cookie.name for m in TOKEN_MARKERS) and cookie.value is not None
        }
        await self.logins.save(StoredLogin(configured_fingerprint(self.settings.cookies), tokens))

    async def _refresh_tokens(self) -> None:
        origin = self.settings.base_url.rstrip("/")
        async with (
            self.within_deadline(REFRESH_PATH),
            self._http.stream(
                "POST",
                REFRESH_PATH,
                json={"grant_type": "refresh_token"},
                headers={"Referer": f"{origin}/login", "Content-Type": "application/json"},
            ) as response,
        ):
            body = await self._bounded_body(response)
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        ok = (
            response.status_code == 200
            and isinstance(answer, dict)
            and answer.get("status") == "Success"
        )
        if ok:
            # One value per name: the fresh Set-Cookie replaces the configured token.
            merged = {c.name: c.value for c in self._http.cookies.jar if c.value is not None}
            merged.update(dict(response.cookies.items()))
            self._http.cookies = httpx.Cookies(merged)
        if not ok:
            raise UpstreamAuthError(
                f"token refresh failed (HTTP {response.status_code}); log in to "
                "hallinta.lahella.fi again and update LAHELLA_BRIDGE_UPSTREAM_COOKIES"
            )
        await self._keep_refreshed_tokens()
        log.info("upstream.tokens_refreshed")

    async def get_json(self, path: str, params: dict[str, Any]) -> Any:
        """GET with retries (see `UpstreamHttp.fetch`) and one token refresh on 401."""
        for refreshed in (False, True):
            status, payload = await self.fetch(path, params, passthrough=(401,))
            if status != 401:
                return payload
            if refreshed:
                break
            await self._refresh_tokens()
        raise UpstreamAuthError(
            "upstream refused the refreshed tokens (HTTP 401 twice); log in again and "
            "update LAHELLA_BRIDGE_UPSTREAM_COOKIES"
        )

    def _listings(self) -> list[str | None]:
        return list(self.settings.groups) or [None]

    async def activities(self) -> AsyncIterator[dict[str, Any] | Any]:
        """Every item of every configured listing, once per `_key`; raw, unvalidated."""
        seen_keys: set[str] = set()
        self.progress.unit = "distinct ids"
        for group in self._listings():
            label = group or "*"
            self.progress.totals[label] = None
            self.progress.seen[label] = 0
            # Completeness counts distinct records: overlapping pages must not make up
            # for a record that the shifting upstream order let slip between them.
            listing_ids: set[str] = set()
            skip = 0
            while True:
                params: dict[str, Any] = {
                    "limit": self.settings.page_size,
                    "skip": skip,
                    "total": "true",
                    "text": "",
                    "links[groups]": "true",
                }
                if group is not None:
                    params["groups[0]"] = group
                page = self._page(await self.get_json(ACTIVITIES_PATH, params))
                self.progress.pages += 1
                if page.total is not None:
                    self.progress.totals[label] = page.total
                listing_ids.update(_identity(item) for item in page.items)
                self.progress.seen[label] = len(listing_ids)
                new_keys = 0
                for item in page.items:
                    key = item.get("_key") if isinstance(item, dict) else None
                    if isinstance(key, str | int) and str(key) in seen_keys:
                        self.progress.duplicates += 1
                        continue
                    if key is not None:
                        seen_keys.add(str(key))
                    new_keys += 1
                    self.progress.items += 1
                    yield item
                log.debug("upstream.page", group=label, skip=skip, items=len(page.items))
                if not page.items or page.has_more is False:
                    break
                if new_keys == 0:
                    # A page of nothing new while `hasMore` says go on: the upstream loops.
                    self.progress.stalled = True
                    log.warning("upstream.paging_stalled", group=label, skip=skip)
                    break
                if (
                    page.has_more is None
                    and page.total is not None
                    and skip + len(page.items) >= page.total
                ):
                    break
                skip += len(page.items)

    @staticmethod
    def _page(payload: Any) -> ActivitiesPage:
        if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
            raise UpstreamError("listing response is not an {items, total, hasMore} envelope")
        return ActivitiesPage.model_validate(payload)


def _identity(item: Any) -> str:
    """A listed record's upstream id, else a digest of the record (a record without an id
    is still one record, however often it is repeated)."""
    key = item.get("_key") if isinstance(item, dict) else None
    if isinstance(key, str | int):
        return f"id:{key}"
    body = json.dumps(item, sort_keys=True, default=str).encode()
    return "digest:" + hashlib.sha256(body).hexdigest()
