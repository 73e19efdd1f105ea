"""The query parameters of the Linked Events event list, declared for the OpenAPI document
and parsed into an `EventQuery`; the reference's parameters we do not implement, as data."""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from typing import Annotated

from fastapi import Depends, Query

from lahella_bridge.interop.linkedevents import render as le
from lahella_bridge.interop.profile import MAX_TEXT, JsonFormat, LinkedEventsError
from lahella_bridge.schedule import HELSINKI
from lahella_bridge.store.conditions import ActivityFilters
from lahella_bridge.store.interop_reads import EventQuery
from lahella_bridge.taxonomy import taxonomy
from lahella_bridge.web.deps import MAX_PAGE, plausible_time

MAX_PAGE_SIZE = 100
MAX_DAYS = 3660
MAX_LIST = 1000  # comma-separated ids
SORTS = {
    "start_time",
    "-start_time",
    "last_modified_time",
    "-last_modified_time",
    "name",
    "-name",
    "end_time",
    "-end_time",
}
# Linked Events' super event types; ours are all `recurring`, an event without one is `none`.
KINDS_OF_SUPER_EVENT_TYPE = {
    "recurring": {"super"},
    "umbrella": set(),
    "none": {"single", "sub", "deleted"},
}

# Parameters of the Linked Events v1 reference (its OpenAPI document) that this service does
# not implement, per list: sending one is a 422 naming it, never an ignored filter.
UNSUPPORTED_EVENT = frozenset(
    {
        "admin_user",
        "all_ongoing_AND",
        "all_ongoing_OR",
        "audience_max_age_gt",
        "audience_max_age_lt",
        "audience_min_age_gt",
        "audience_min_age_lt",
        "created_by",
        "data_source",
        "dwithin",
        "dwithin_meters",
        "dwithin_metres",
        "dwithin_origin",
        "ends_after",
        "ends_before",
        "enrolment_open",
        "enrolment_open_on",
        "enrolment_open_waitlist",
        "event_status",
        "event_type",
        "ids",
        "internet_based",
        "internet_ongoing_AND",
        "internet_ongoing_OR",
        "keyword_set_AND",
        "keyword_set_OR",
        "local_ongoing_AND",
        "local_ongoing_OR",
        "location",
        "max_duration",
        "maximum_attendee_capacity_gte",
        "maximum_attendee_capacity_lte",
        "min_duration",
        "minimum_attendee_capacity_gte",
        "minimum_attendee_capacity_lte",
        "publication_status",
        "publisher",
        "publisher_ancestor",
        "registration",
        "registration__remaining_attendee_capacity__gte",
        "registration__remaining_attendee_capacity__isnull",
        "registration__remaining_waiting_list_capacity__gte",
        "registration__remaining_waiting_list_capacity__isnull",
        "registration_admin_user",
        "show_all",
        "starts_after",
        "starts_before",
        "suitable_for",
        "translation",
    }
)
UNSUPPORTED_PLACE = frozenset(
    {"data_source", "division", "has_upcoming_events", "show_all_places", "show_deleted"}
    | {"sort", "text", "filter"}
)
UNSUPPORTED_KEYWORD = frozenset(
    {"data_source", "free_text", "has_upcoming_events", "include", "show_all_keywords"}
    | {"show_deprecated", "sort", "filter"}
)
UNSUPPORTED_ORGANIZATION = frozenset({"child", "dissolved", "parent"})
UNSUPPORTED_LANGUAGE = frozenset({"service_language"})


def _time(value: str, *, end: bool = False) -> datetime:
    """`today`, `now`, a date (start or end of that day in Helsinki) or a timestamp."""
    now = datetime.now(HELSINKI)
    if value == "now":
        return now
    if value == "today":
        day = now.date()
    else:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise LinkedEventsError(f"{value!r} is not a date or time") from None
        try:
            parsed = plausible_time(parsed if parsed.tzinfo else parsed.replace(tzinfo=HELSINKI))
        except ValueError as error:
            raise LinkedEventsError(f"{value!r}: {error}") from None
        if len(value) > 10:
            return parsed
        day = parsed.date()
    moment = datetime.combine(day, time(0), tzinfo=HELSINKI)
    return moment + timedelta(days=1) if end else moment


def _keywords(value: str | None) -> tuple[tuple[str, str], ...]:
    if not value:
        return ()
    parsed = []
    for part in value.split(","):
        found = le.parse_keyword(part)
        if found is None:
            # Linked Events filters by unknown keywords too: they match nothing.
            found = ("stages", f"unknown:{part}")
        parsed.append(found)
    return tuple(parsed)


def _divisions(value: str | None) -> tuple[str, ...]:
    codes = []
    for part in (value or "").split(","):
        name = part.strip().rsplit("kunta:", 1)[-1] if part.strip() else ""
        if name:
            found = taxonomy().municipality_by_name(name)
            codes.append(found.code if found else "000")
    return tuple(codes)


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if not value:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(map(math.isfinite, numbers)):
        raise LinkedEventsError("bbox must be four numbers: west,south,east,north")
    west, south, east, north = numbers
    return west, south, east, north


def _super_event_kinds(value: str | None) -> frozenset[str] | None:
    if not value:
        return None
    kinds: set[str] = set()
    for part in value.lower().split(","):
        if part.strip() not in KINDS_OF_SUPER_EVENT_TYPE:
            raise LinkedEventsError(
                f"super_event_type: {part!r} is not one of "
                f"{', '.join(sorted(KINDS_OF_SUPER_EVENT_TYPE))}"
            )
        kinds |= KINDS_OF_SUPER_EVENT_TYPE[part.strip()]
    return frozenset(kinds)


class ListPage:
    """DRF's page-number paging: a page past the last is a 404, `page_size` is capped."""

    def __init__(
        self,
        page: Annotated[int, Query(description="Page number, from 1.", examples=[1])] = 1,
        page_size: Annotated[
            int,
            Query(
                description=f"Items per page; more than {MAX_PAGE_SIZE} gives {MAX_PAGE_SIZE}.",
                examples=[20],
            ),
        ] = 20,
        _format: Annotated[None, JsonFormat] = None,
    ) -> None:
        if not 1 <= page <= MAX_PAGE:
            raise LinkedEventsError("Invalid page.", 404)
        self.page, self.size = page, max(1, min(page_size, MAX_PAGE_SIZE))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


ListPageDep = Annotated[ListPage, Depends()]
Text = Annotated[
    str | None,
    Query(
        description=f"Case-insensitive search in the texts, at most {MAX_TEXT} characters.",
        max_length=MAX_TEXT,
        examples=["kuoro"],
    ),
]


def _list(description: str, example: str, alias: str | None = None) -> object:
    return Query(alias=alias, description=description, max_length=MAX_LIST, examples=[example])


def event_query(
    start: Annotated[
        str | None,
        Query(
            description="Events ending at or after this time: `today`, `now`, an ISO 8601 "
            "date (that day's start in Helsinki) or time.",
            examples=["today"],
        ),
    ] = None,
    end: Annotated[
        str | None,
        Query(
            description="Events starting before this time: `today`, `now`, an ISO 8601 date "
            "(the end of that day in Helsinki) or time.",
            examples=["2027-06-30"],
        ),
    ] = None,
    days: Annotated[
        int | None,
        Query(
            description=f"Events within this many days (1-{MAX_DAYS}) from `start` or today.",
            examples=[7],
        ),
    ] = None,
    sort: Annotated[
        str,
        Query(description=f"Order: one of {', '.join(sorted(SORTS))}.", examples=["-start_time"]),
    ] = "start_time",
    text: Text = None,
    combined_text: Annotated[
        str | None,
        Query(
            description=f"As `text` (at most {MAX_TEXT} characters).",
            max_length=MAX_TEXT,
            examples=["kuoro"],
        ),
    ] = None,
    language: Annotated[
        str | None,
        Query(description="Events held in this language (ISO 639-1).", examples=["fi"]),
    ] = None,
    in_language: Annotated[str | None, Query(description="As `language`.", examples=["sv"])] = None,
    is_free: Annotated[
        bool | None, Query(description="Only free (true) or paid (false) events.", examples=[True])
    ] = None,
    bbox: Annotated[
        str | None,
        Query(
            description="west,south,east,north in WGS84 degrees.",
            examples=["25.3,64.9,25.6,65.1"],
        ),
    ] = None,
    last_modified_since: Annotated[
        str | None,
        Query(description="Changed at or after this ISO 8601 time.", examples=["2026-11-01"]),
    ] = None,
    keyword: Annotated[
        str | None,
        _list("Events with any of these keyword ids.", "pohde:theme-fyysinen-terveys"),
    ] = None,
    keyword_and: Annotated[
        str | None,
        _list(
            "Events with all of these keyword ids.",
            "pohde:theme-fyysinen-terveys,pohde:stage-kotona-kaikki-hyvin",
            "keyword_AND",
        ),
    ] = None,
    keyword_not: Annotated[
        str | None,
        _list(
            "Events with none of these keyword ids.",
            "pohde:theme-paihteet-ja-riippuvuudet",
            "keyword!",
        ),
    ] = None,
    division: Annotated[
        str | None,
        _list("Municipality OCD ids or names.", "ocd-division/country:fi/kunta:oulu"),
    ] = None,
    show_deleted: Annotated[
        bool | None,
        Query(description="Include deleted events (as tombstones).", examples=[True]),
    ] = None,
    super_event: Annotated[
        str | None,
        Query(
            description="Sub-events of this event id, or `none` for events without a super event.",
            max_length=MAX_LIST,
            examples=["none"],
        ),
    ] = None,
    super_event_type: Annotated[
        str | None,
        Query(
            description="Only super events of these types (`recurring`, `umbrella`), "
            "and `none` for events that are not super events; comma-separated.",
            max_length=MAX_LIST,
            examples=["recurring"],
        ),
    ] = None,
    hide_recurring_children: Annotated[
        bool | None,
        Query(description="Leave out the sessions of recurring events.", examples=[True]),
    ] = None,
) -> EventQuery:
    """The event list's filters; the aliased names are Linked Events' own spellings."""
    start_at = _time(start) if start else None
    end_at = _time(end, end=True) if end else None
    if days is not None:
        if not 1 <= days <= MAX_DAYS:
            raise LinkedEventsError(f"days must be a whole number from 1 to {MAX_DAYS}")
        start_at = start_at or _time("today")
        end_at = start_at + timedelta(days=days)
    if sort not in SORTS:
        raise LinkedEventsError(f"Unsupported sort: {sort}")
    if super_event and super_event != "none":
        parsed = le.parse_event_id(super_event)
        super_event = parsed[0] if parsed else "?"
    search = (text or combined_text or "").strip()
    return EventQuery(
        filters=ActivityFilters(
            q=search or None,
            language=language or in_language or None,
            is_free=is_free,
            bbox=_bbox(bbox),
            updated_since=_time(last_modified_since) if last_modified_since else None,
        ),
        keywords_any=_keywords(keyword),
        keywords_all=_keywords(keyword_and),
        keywords_not=_keywords(keyword_not),
        municipalities=_divisions(division),
        start=start_at,
        end=end_at,
        show_deleted=show_deleted or False,
        super_event=super_event or None,
        kinds=_super_event_kinds(super_event_type),
        hide_recurring_children=hide_recurring_children or False,
        sort=sort,
    )
