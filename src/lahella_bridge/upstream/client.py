"""Async client of the Lähellä.fi admin API (`GET /v1/activities`, cookie auth).

Paging is an async iterator so memory stays flat; items are deduplicated by `_key`
and the sweep knows whether it saw as many items as the upstream's `total`.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)

from lahella_bridge import USER_AGENT
from lahella_bridge.upstream.schemas import ActivitiesPage

log = structlog.get_logger(__name__)

REFRESH_PATH = "/api/v1/auth/token"
ACTIVITIES_PATH = "/v1/activities"
TOKEN_MARKERS = ("AUTH_TOKEN", "REFRESH_TOKEN", "EXP_")
# An escaped NUL (not an escaped backslash followed by "u0000"): PostgreSQL refuses it.
_ESCAPED_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


class UpstreamError(Exception):
    """The upstream failed in a way retries did not cure; the sweep is incomplete."""


class UpstreamAuthError(UpstreamError):
    """Tokens were refused even after a refresh: a new browser login is needed."""


class RetryableStatus(UpstreamError):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code} from {response.request.url}")
        self.response = response


@dataclass
class ClientSettings:
    base_url: str
    cookies: str | None = None
    groups: list[str] = field(default_factory=list)
    page_size: int = 100
    extra_headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 30.0
    max_retries: int = 5
    cookie_store: Path | None = None
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0


@dataclass
class SweepProgress:
    """What one listing saw: enough to judge whether a sweep was complete."""

    pages: int = 0
    items: int = 0
    duplicates: int = 0
    retries: int = 0
    totals: dict[str, int | None] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    stalled: bool = False

    @property
    def complete(self) -> bool:
        """Every listing ended normally and saw at least the `total` it announced."""
        return (
            not self.stalled
            and all(
                total is None or self.seen.get(group, 0) >= total
                for group, total in self.totals.items()
            )
            and bool(self.totals)
        )


def _parse_cookie_header(header: str | None) -> dict[str, str]:
    cookie: SimpleCookie = SimpleCookie()
    if header:
        cookie.load(header)
    return {key: morsel.value for key, morsel in cookie.items()}


def _retry_after_s(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        from datetime import UTC, datetime

        return max(0.0, float((when - datetime.now(UTC)).total_seconds()))


def _json_without_nul(body: str) -> Any:
    """Parse JSON with every NUL character dropped, once, before anything stores it."""
    if "\\u0000" in body:
        body = _ESCAPED_NUL.sub(r"\1", body)
    return json.loads(body)


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableStatus | httpx.TransportError | json.JSONDecodeError)


class LahellaClient:
    """One per harvest run; use as `async with LahellaClient(settings) as client`."""

    def __init__(
        self, settings: ClientSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.progress = SweepProgress()
        cookies = self._stored_cookies() or _parse_cookie_header(settings.cookies)
        origin = settings.base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=origin,
            cookies=cookies,
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                "Origin": origin,
                **settings.extra_headers,
            },
            timeout=httpx.Timeout(settings.timeout_s, connect=min(10.0, settings.timeout_s)),
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
            transport=transport,
            follow_redirects=False,
        )

    async def __aenter__(self) -> LahellaClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.aclose()

    def _stored_cookies(self) -> dict[str, str] | None:
        store = self.settings.cookie_store
        if store is None or not store.exists():
            return None
        try:
            saved = json.loads(store.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        configured = _parse_cookie_header(self.settings.cookies)
        # Refreshed cookies win only while they belong to the configured session.
        if saved.get("configured") != sorted(configured):
            return None
        cookies: dict[str, str] = saved.get("cookies", {})
        return cookies

    def _store_cookies(self) -> None:
        store = self.settings.cookie_store
        if store is None:
            return
        tokens = {
            cookie.name: cookie.value
            for cookie in self._http.cookies.jar
            if any(m in cookie.name for m in TOKEN_MARKERS) and cookie.value is not None
        }
        configured = sorted(_parse_cookie_header(self.settings.cookies))
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps({"configured": configured, "cookies": tokens}), "utf-8")
        store.chmod(0o600)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableStatus) and exc.response.status_code == 429:
            after = _retry_after_s(exc.response)
            if after is not None:
                return min(after, self.settings.backoff_cap_s * 4)
        exponential = self.settings.backoff_base_s * 2.0 ** (state.attempt_number - 1)
        jitter = 0.5 + random.random() / 2  # noqa: S311 (not security)
        return float(min(self.settings.backoff_cap_s, exponential) * jitter)

    def _log_retry(self, state: RetryCallState) -> None:
        self.progress.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "upstream.retry",
            attempt=state.attempt_number,
            error=str(exc) or type(exc).__name__,
            sleep_s=round(state.next_action.sleep, 2) if state.next_action else None,
        )

    async def _refresh_tokens(self) -> None:
        origin = self.settings.base_url.rstrip("/")
        response = await self._http.post(
            REFRESH_PATH,
            json={"grant_type": "refresh_token"},
            headers={"Referer": f"{origin}/login", "Content-Type": "application/json"},
        )
        try:
            ok = response.status_code == 200 and response.json().get("status") == "Success"
        except ValueError:
            ok = False
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
        self._store_cookies()
        log.info("upstream.tokens_refreshed")

    async def _send(self, path: str, params: dict[str, Any]) -> httpx.Response:
        response = await self._http.get(path, params=params)
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableStatus(response)
        return response

    async def get_json(self, path: str, params: dict[str, Any]) -> Any:
        """GET with retries (transport errors, 5xx, 429, bad JSON) and one token refresh."""
        refreshed = False
        while True:
            retrying = AsyncRetrying(
                retry=retry_if_exception(_is_retryable),
                stop=stop_after_attempt(self.settings.max_retries + 1),
                wait=self._wait,
                before_sleep=self._log_retry,
                reraise=True,
            )
            try:
                async for attempt in retrying:
                    with attempt:
                        response = await self._send(path, params)
                        if response.status_code != 401:
                            response.raise_for_status()
                            return _json_without_nul(response.text)
            except (RetryableStatus, httpx.TransportError, json.JSONDecodeError) as exc:
                raise UpstreamError(f"{path}: {exc or type(exc).__name__} after retries") from exc
            except httpx.HTTPStatusError as exc:
                raise UpstreamError(f"{path}: HTTP {exc.response.status_code}") from exc
            if refreshed:
                raise UpstreamAuthError(
                    "upstream refused the refreshed tokens (HTTP 401 twice); log in again and "
                    "update LAHELLA_BRIDGE_UPSTREAM_COOKIES"
                )
            await self._refresh_tokens()
            refreshed = True

    def _listings(self) -> list[str | None]:
        return list(self.settings.groups) or [None]

    async def activities(self) -> AsyncIterator[dict[str, Any] | Any]:
        """Every item of every configured listing, once per `_key`; raw, unvalidated."""
        seen_keys: set[str] = set()
        for group in self._listings():
            label = group or "*"
            self.progress.totals[label] = None
            self.progress.seen[label] = 0
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
                self.progress.seen[label] += len(page.items)
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
