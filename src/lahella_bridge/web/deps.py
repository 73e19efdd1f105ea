"""Dependencies shared by the routers: the request's database session, language and paging."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Depends, Header, Query, Request
from pydantic import AfterValidator, BeforeValidator
from sqlalchemy.ext.asyncio import AsyncSession

from lahella_bridge.config import Settings
from lahella_bridge.errors import BridgeError, NotFound

Lang = Literal["fi", "sv", "en"]
FALLBACK: tuple[Lang, ...] = ("fi", "sv", "en")
MAX_PAGE = 100_000
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)


def plausible_time(value: datetime) -> datetime:
    """A time a query may ask about; naive means UTC. The bounds leave room for window
    arithmetic (start + a year) and for PostgreSQL, whose range a year 9999 with an
    offset already leaves, so such a request is a 422 instead of a failed query."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    if not EARLIEST <= aware <= LATEST:
        raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year}")
    return aware


def iso_8601(value: object) -> object:
    """Only ISO 8601: pydantic would also take "0.5" or "1700000000" as Unix time."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("expected an ISO 8601 time, e.g. 2026-12-01T18:00:00+02:00") from None
    return value


QueryTime = Annotated[datetime, BeforeValidator(iso_8601), AfterValidator(plausible_time)]


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, committed after the handler, rolled back on error."""
    async with request.app.state.open_db() as db:
        try:
            yield db
            await db.commit()
        except BaseException:
            await db.rollback()
            raise


DatabaseDep = Annotated[AsyncSession, Depends(get_db)]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def language(
    lang: Annotated[Lang | None, Query(description="Language of texts: fi, sv or en.")] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Lang:
    """`lang`, else the first fi/sv/en in Accept-Language, else Finnish."""
    if lang is not None:
        return lang
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        for candidate in FALLBACK:
            if code == candidate:
                return candidate
    return "fi"


LangDep = Annotated[Lang, Depends(language)]


class Unauthorised(BridgeError):
    status = 401
    title = "Unauthorised"


class Forbidden(BridgeError):
    status = 403
    title = "Forbidden"


def require_admin(
    settings: SettingsDep,
    x_api_key: Annotated[str | None, Header(description="The admin API key.")] = None,
) -> None:
    """No key: 401; a wrong key (whatever its bytes): 403; admin switched off: 403."""
    expected = settings.admin_api_key.get_secret_value() if settings.admin_api_key else None
    if not expected:
        raise Forbidden("admin endpoints are disabled: set LAHELLA_BRIDGE_ADMIN_API_KEY")
    if x_api_key is None:
        raise Unauthorised("a valid X-API-Key header is required")
    # Compared as bytes: the header's own (Starlette decodes them as Latin-1), and
    # compare_digest refuses str with characters beyond ASCII (it raised: a 500).
    if not secrets.compare_digest(x_api_key.encode("latin-1"), expected.encode()):
        raise Forbidden("the X-API-Key header is not the admin key")


class Page:
    """Page-number paging shared by every list: `page` from 1, bounded `page_size`."""

    def __init__(
        self,
        page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1.")] = 1,
        page_size: Annotated[int, Query(ge=1, le=100, description="Items per page.")] = 20,
    ) -> None:
        self.page = page
        self.page_size = page_size

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


PageDep = Annotated[Page, Depends()]


def require_page(number: int, size: int, count: int) -> None:
    """A page past the last one is a 404 that says where the list ends (as Linked Events
    answers), not an empty page whose `previous` points further into nothing. The first
    page of an empty list exists: it is how a list says it has no items."""
    if number > 1 and (number - 1) * size >= count:
        last = max(1, -(-count // size))
        raise NotFound(f"page {number} is past the end: the list has {count} items, {last} page(s)")


def page_links(request: Request, page: Page, count: int) -> tuple[str | None, str | None]:
    """Absolute `next` and `previous` URLs for a page of `count` items; a page past the
    end has none to give (`require_page`)."""
    require_page(page.page, page.page_size, count)
    nxt = prev = None
    if page.offset + page.page_size < count:
        nxt = str(request.url.include_query_params(page=page.page + 1))
    if page.page > 1:
        prev = str(request.url.include_query_params(page=page.page - 1))
    return nxt, prev
