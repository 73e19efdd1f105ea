"""What every upstream client shares: one httpx client, bounded retries with backoff and
jitter (honouring `Retry-After`), and the record of what a sweep saw."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self

import httpx
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from lahella_bridge import USER_AGENT

log = structlog.get_logger(__name__)

# An escaped NUL (not an escaped backslash followed by "u0000"): PostgreSQL refuses it.
_ESCAPED_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


class UpstreamError(Exception):
    """The upstream failed in a way retries did not cure; the sweep is incomplete."""


class RetryableStatus(UpstreamError):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code} from {response.request.url}")
        self.response = response


class GaveUpOnStatus(UpstreamError):
    """A status the caller asked to handle itself (e.g. PTV's 504 on a large batch)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code} from {response.request.url}")
        self.status_code = response.status_code


@dataclass
class RetryPolicy:
    max_retries: int = 5
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0


@dataclass
class SweepProgress:
    """What one listing saw: enough to judge whether a sweep was complete.

    `totals` holds what each listing announced and `seen` what arrived, both in `unit`
    (distinct ids for Lähellä.fi, pages for PTV).
    """

    pages: int = 0
    items: int = 0
    duplicates: int = 0
    retries: int = 0
    totals: dict[str, int | None] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    stalled: bool = False
    unit: str = "items"

    @property
    def complete(self) -> bool:
        """Every listing ended normally and saw at least the `total` it announced."""
        return self.shortfall() is None

    def shortfall(self) -> str | None:
        """Why the sweep cannot prove it saw every record, or None when it can."""
        if self.stalled:
            return "the listing stopped advancing (a page brought nothing new)"
        if not self.totals:
            return "no listing was read"
        for listing, total in self.totals.items():
            seen = self.seen.get(listing, 0)
            if total is not None and seen < total:
                return (
                    f"listing {listing!r} announced {total} {self.unit} but {seen} arrived"
                    f" ({self.duplicates} repeated)"
                )
        return None


def retry_after_s(response: httpx.Response) -> float | None:
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
        return max(0.0, float((when - datetime.now(UTC)).total_seconds()))


def json_without_nul(body: str) -> Any:
    """Parse JSON with every NUL character dropped, once, before anything stores it."""
    if "\\u0000" in body:
        body = _ESCAPED_NUL.sub(r"\1", body)
    return json.loads(body)


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableStatus | httpx.TransportError | json.JSONDecodeError)


class UpstreamHttp:
    """Base of the source clients; use as `async with Client(...) as client`."""

    def __init__(
        self,
        base_url: str,
        policy: RetryPolicy,
        *,
        timeout_s: float,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.policy = policy
        self.progress = SweepProgress()
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            cookies=cookies,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)),
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
            transport=transport,
            follow_redirects=False,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.aclose()

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableStatus) and exc.response.status_code == 429:
            after = retry_after_s(exc.response)
            if after is not None:
                return min(after, self.policy.backoff_cap_s * 4)
        exponential = self.policy.backoff_base_s * 2.0 ** (state.attempt_number - 1)
        jitter = 0.5 + random.random() / 2  # noqa: S311 (not security)
        return float(min(self.policy.backoff_cap_s, exponential) * jitter)

    def _log_retry(self, state: RetryCallState) -> None:
        self.progress.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "upstream.retry",
            attempt=state.attempt_number,
            error=str(exc) or type(exc).__name__,
            sleep_s=round(state.next_action.sleep, 2) if state.next_action else None,
        )

    async def fetch(
        self,
        path: str,
        params: dict[str, Any],
        *,
        passthrough: tuple[int, ...] = (),
        give_up_on: tuple[int, ...] = (),
    ) -> tuple[int, Any]:
        """GET and parse JSON, retrying transport errors, 5xx, 429 and cut-off JSON.

        Statuses in `passthrough` come back as `(status, None)` for the caller to handle
        (401 for a token refresh); statuses in `give_up_on` raise `GaveUpOnStatus` at
        once, unretried. Other 4xx raise `UpstreamError`.
        """
        retrying = AsyncRetrying(
            retry=retry_if_exception(_is_retryable),
            stop=stop_after_attempt(self.policy.max_retries + 1),
            wait=self._wait,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._http.get(path, params=params)
                    status = response.status_code
                    if status in give_up_on:
                        raise GaveUpOnStatus(response)
                    if status in passthrough:
                        return status, None
                    if status == 429 or status >= 500:
                        raise RetryableStatus(response)
                    response.raise_for_status()
                    return status, json_without_nul(response.text)
        except (RetryableStatus, httpx.TransportError, json.JSONDecodeError) as exc:
            raise UpstreamError(f"{path}: {exc or type(exc).__name__} after retries") from exc
        except httpx.HTTPStatusError as exc:
            raise UpstreamError(f"{path}: HTTP {exc.response.status_code}") from exc
        raise AssertionError("unreachable: tenacity re-raises the last error")
