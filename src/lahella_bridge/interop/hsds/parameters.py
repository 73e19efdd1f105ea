"""The query parameters of the HSDS lists, declared for the OpenAPI document and parsed into
filters; the HSDS 3.0 reference's parameters we do not implement, as data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query

from lahella_bridge.interop.hsds import render as hsds
from lahella_bridge.interop.profile import MAX_TEXT, LinkedEventsError
from lahella_bridge.schedule import HELSINKI
from lahella_bridge.store.conditions import ActivityFilters
from lahella_bridge.web.deps import MAX_PAGE, plausible_time

HSDS_MAX_PER_PAGE = 100
TERM_FILTERS = {"stages": "stage", "themes": "theme", "activity_types": "activity_type"}

# Parameters of the HSDS 3.0 OpenAPI reference that this service does not implement.
UNSUPPORTED_TAXONOMIES = frozenset({"search"})
UNSUPPORTED_TAXONOMY_TERMS = frozenset({"search", "top_only", "parent_id"})
UNSUPPORTED_ORGANIZATIONS = frozenset({"full_service", "full"})
UNSUPPORTED_ORGANIZATION_DETAIL = frozenset({"full_service"})
UNSUPPORTED_SERVICE_AT_LOCATIONS = frozenset(
    {"search", "taxonomy_term_id", "taxonomy_id", "organization_id", "modified_after", "full"}
    | {"postcode", "proximity"}
)


class HsdsError(LinkedEventsError):
    """HSDS answers errors with a detail too."""


def json_or_ndjson(
    format: Annotated[
        str | None,
        Query(
            description="`json` (a page) or `ndjson` (every match, one service a line, unpaged).",
            pattern="^(json|ndjson)$",
            examples=["ndjson"],
        ),
    ] = None,
) -> str:
    return format or "json"


class HsdsPage:
    """HSDS paging: `page` from 1, `per_page` capped at 100."""

    def __init__(
        self,
        page: Annotated[int, Query(description="Page number, from 1.", examples=[1])] = 1,
        per_page: Annotated[
            int,
            Query(
                description=f"Items per page; more than {HSDS_MAX_PER_PAGE} gives "
                f"{HSDS_MAX_PER_PAGE}.",
                examples=[20],
            ),
        ] = 20,
    ) -> None:
        if page < 1 or per_page < 1:
            raise HsdsError("page and per_page start at 1")
        if page > MAX_PAGE:
            raise HsdsError(f"page may be at most {MAX_PAGE}")
        self.page, self.size = page, min(per_page, HSDS_MAX_PER_PAGE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def past_the_end(self, total: int) -> bool:
        """A page after the last one (page 1 of nothing is an empty first page)."""
        return self.page > 1 and self.offset >= total


HsdsPageDep = Annotated[HsdsPage, Depends()]
Search = Annotated[
    str | None,
    Query(
        description=f"Text the name or description contains, at most {MAX_TEXT} characters.",
        max_length=MAX_TEXT,
        examples=["kuoro"],
    ),
]


def term_filter(value: str) -> tuple[str, str]:
    """(filter, slug) of a term given by its id, its code (`theme:slug`) or its slug."""
    matches = {
        (TERM_FILTERS[column], term.slug)
        for kind, column, term in hsds.terms()
        if value in (hsds.term_id(kind, term.slug), f"{kind}:{term.slug}", term.slug)
    }
    if not matches:
        raise HsdsError(
            f"taxonomy_term_id: no term {value!r}; give a term's id, code or slug "
            "(see /hsds/taxonomy_terms)"
        )
    if len(matches) > 1:
        raise HsdsError(f"taxonomy_term_id: {value!r} names several terms; give its id or code")
    return matches.pop()


@dataclass(frozen=True)
class ServiceFilters:
    """The filters of a service list; `filters` is None when nothing can match."""

    filters: ActivityFilters | None
    full: bool
    minimal: bool
    format: str


def service_filters(
    search: Search = None,
    taxonomy_term_id: Annotated[
        str | None,
        Query(
            description="Services with this term: its id, its code (`theme:slug`) or its slug.",
            max_length=MAX_TEXT,
            examples=["fyysinen-terveys"],
        ),
    ] = None,
    taxonomy_id: Annotated[
        str | None,
        Query(
            description="Services with a term of this taxonomy (there is one: `pohde`).",
            examples=[str(hsds.TAXONOMY_ID)],
        ),
    ] = None,
    organization_id: Annotated[
        uuid.UUID | None,
        Query(
            description="Services of this organization.",
            examples=["9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"],
        ),
    ] = None,
    modified_after: Annotated[
        str | None,
        Query(description="Changed at or after this ISO 8601 time.", examples=["2026-11-01"]),
    ] = None,
    full: Annotated[
        bool | None,
        Query(description="Each service with its organization nested.", examples=[True]),
    ] = None,
    minimal: Annotated[
        bool | None,
        Query(description="Only id, name, status and organization_id.", examples=[True]),
    ] = None,
    format: Annotated[str, Depends(json_or_ndjson)] = "json",
) -> ServiceFilters:
    terms = dict([term_filter(taxonomy_term_id)]) if taxonomy_term_id else {}
    filters = ActivityFilters(
        q=(search or "").strip() or None,
        organisation_id=organization_id,
        updated_since=_modified_after(modified_after) if modified_after else None,
        stage=terms.get("stage"),
        theme=terms.get("theme"),
        activity_type=terms.get("activity_type"),
    )
    matchable = not taxonomy_id or taxonomy_id == str(hsds.TAXONOMY_ID)
    return ServiceFilters(
        filters if matchable else None, full or False, minimal or False, format=format
    )


def _modified_after(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HsdsError(f"modified_after: {value!r} is not an ISO 8601 date or time") from None
    try:
        return plausible_time(parsed if parsed.tzinfo else parsed.replace(tzinfo=HELSINKI))
    except ValueError as error:
        raise HsdsError(f"modified_after: {error}") from None


ServiceFiltersDep = Annotated[ServiceFilters, Depends(service_filters)]
