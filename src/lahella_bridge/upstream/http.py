"""What every upstream client shares: one httpx client, bounded retries with backoff and
jitter (honouring `Retry-After`, capped), bounded responses (size and an overall deadline)
and the record of what a sweep saw."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self

import httpx
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from lahella_bridge import USER_AGENT
from lahella_bridge.upstream.completeness import SweepProgress

log = structlog.get_logger(__name__)

# An escaped NUL (not an escaped backslash followed by "u0000"): PostgreSQL refuses it.
_ESCAPED_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


class UpstreamError(Exception):
    """The upstream failed in a way retries did not cure; the sweep is incomplete."""


class RetryableStatus(UpstreamError):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code} from {response.request.url}")
        self.response = response


class ResponseTooLarge(UpstreamError):
    """A response beyond the configured cap: not retried, the sweep is incomplete."""

    def __init__(self, url: httpx.URL, cap: int) -> None:
        super().__init__(
            f"response from {url} is larger than {cap} bytes "
            "(LAHELLA_BRIDGE_UPSTREAM_MAX_RESPONSE_BYTES)"
        )


class DeadlineExceeded(UpstreamError):
    """A request outlived its overall deadline: a server trickling bytes resets every
    per-read timeout, so only a deadline bounds it."""


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
    retry_after_cap_s: float = 120.0  # the longest `Retry-After` we wait before retrying


@dataclass(frozen=True)
class ResponseLimits:
    """Bounds on one upstream request, so a broken or hostile server can neither fill the
    memory nor hold the harvest."""

    max_bytes: int = 64 * 1024 * 1024
    deadline_s: float = 120.0


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
        if when.tzinfo is None:  # asctime and "-0000" dates: HTTP dates are always UTC
            when = when.replace(tzinfo=UTC)
        return max(0.0, float((when - datetime.now(UTC)).total_seconds()))


def json_without_nul(body: str) -> Any:
    """Parse JSON with every NUL character dropped, once, before anything stores it."""
    if "\\u0000" in body:
        body = _ESCAPED_NUL.sub(r"\1", body)
    return json.loads(body)


_RETRYABLE = (RetryableStatus, DeadlineExceeded, httpx.TransportError, json.JSONDecodeError)


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, _RETRYABLE)


class UpstreamHttp:
    """Base of the source clients; use as `async with Client(...) as client`."""

    def __init__(
        self,
        base_url: str,
        policy: RetryPolicy,
        *,
        timeout_s: float,
        limits: ResponseLimits | None = None,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.policy = policy
        self.limits = limits or ResponseLimits()
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
                return min(after, self.policy.retry_after_cap_s)
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
                    return await self._get_within_limits(path, params, passthrough, give_up_on)
        except _RETRYABLE as exc:
            raise UpstreamError(f"{path}: {exc or type(exc).__name__} after retries") from exc
        except httpx.HTTPStatusError as exc:
            raise UpstreamError(f"{path}: HTTP {exc.response.status_code}") from exc
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _get_within_limits(
        self,
        path: str,
        params: dict[str, Any],
        passthrough: tuple[int, ...],
        give_up_on: tuple[int, ...],
    ) -> tuple[int, Any]:
        """One GET whose body is read only up to `max_bytes`, all within `deadline_s`."""
        async with (
            self.within_deadline(path),
            self._http.stream("GET", path, params=params) as response,
        ):
            status = response.status_code
            if status in give_up_on:
                raise GaveUpOnStatus(response)
            if status in passthrough:
                return status, None
            if status == 429 or status >= 500:
                raise RetryableStatus(response)
            response.raise_for_status()
            body = await self._bounded_body(response)
        return status, json_without_nul(body.decode(response.encoding or "utf-8", "replace"))

    @asynccontextmanager
    async def within_deadline(self, path: str) -> AsyncIterator[None]:
        """One request, body included, within `deadline_s`."""
        try:
            async with asyncio.timeout(self.limits.deadline_s):
                yield
        except TimeoutError:
            raise DeadlineExceeded(
                f"no complete response from {self._http.base_url.join(path)} within "
                f"{self.limits.deadline_s:g} s (LAHELLA_BRIDGE_UPSTREAM_DEADLINE_S)"
            ) from None

    async def _bounded_body(self, response: httpx.Response) -> bytes:
        cap = self.limits.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise ResponseTooLarge(response.request.url, cap)
        body = bytearray()
        # Decoded bytes are counted, so a small compressed body cannot unpack past the cap.
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > cap:
                raise ResponseTooLarge(response.request.url, cap)
        return bytes(body)
