"""Sessions of one activity -> weekly series, the form calendar apps expect for a weekly
choir: one rule, EXDATEs for the weeks it skips and RDATEs for sessions at another time."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")

# A fortnightly or every-fourth-week group reads as one rule; rarer gaps take EXDATEs.
LONGEST_INTERVAL_WEEKS = 4


@dataclass(frozen=True)
class WeeklyRule:
    interval: int  # weeks
    weekdays: tuple[int, ...]  # 0 = Monday
    until: datetime  # UTC, as RFC 5545 requires with a TZID start


@dataclass(frozen=True)
class Series:
    """Sessions sharing a place and a length: `sessions[0]` is the first (DTSTART)."""

    uid: str
    sessions: list[dict[str, Any]]
    rule: WeeklyRule | None
    exdates: list[datetime]
    rdates: list[datetime]


def series_of(events: Sequence[dict[str, Any]]) -> list[Series]:
    """Events of /v1/events (in start order) -> one series per activity, place and length
    that follows a weekly rule; other sessions stay single, each with its own id."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for event in events:
        place = event["place"].id if event["place"] is not None else None
        length = event["ends"] - event["starts"] if event["ends"] is not None else None
        groups.setdefault((event["activity_id"], place, length), []).append(event)
    found = [series for key, group in groups.items() for series in _series(key, group)]
    return sorted(found, key=lambda series: series.sessions[0]["starts"])


def single(event: dict[str, Any]) -> Series:
    return Series(f"{event['id']}@lahella-bridge", [event], None, [], [])


def _series(key: tuple[Any, ...], sessions: list[dict[str, Any]]) -> list[Series]:
    found = weekly_rule([s["starts"] for s in sessions]) if len(sessions) > 1 else None
    if found is None:
        return [single(session) for session in sessions]
    activity_id, place, length = key
    variant = hashlib.sha256(f"{place}|{length}".encode()).hexdigest()[:8]
    rule, exdates, rdates = found
    # A session moved to another hour of a day the rule skips stands alone: readers
    # disagree on an RDATE beside an EXDATE of the same day (recurring-ical-events hid
    # a 12:00 RDATE under a 09:00 EXDATE, comparing its UTC time with the EXDATE's wall time).
    skipped = {moment.date() for moment in exdates}
    moved = [s for s in sessions if s["starts"].astimezone(HELSINKI).date() in skipped]
    kept = [moment for moment in rdates if moment.date() not in skipped]
    uid = f"{activity_id}-{variant}@lahella-bridge"
    return [Series(uid, sessions, rule, exdates, kept), *(single(s) for s in moved)]


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _rule_days(first: date, last: date, weekdays: set[int], interval: int) -> list[date]:
    """The days a weekly rule from `first` names up to `last` (weeks counted from Monday)."""
    days = []
    week = _week(first)
    while week <= last:
        days += [week + timedelta(days=d) for d in sorted(weekdays)]
        week += timedelta(weeks=interval)
    return [day for day in days if first <= day <= last]


def weekly_rule(
    starts: Sequence[datetime],
) -> tuple[WeeklyRule, list[datetime], list[datetime]] | None:
    """(rule, EXDATEs, RDATEs) that expand from `starts[0]` to exactly `starts`: the rule
    follows the first session's clock time; sessions at other times are RDATEs. None when
    no rule is worth having (one session on its clock, or more skipped than kept)."""
    local = [start.astimezone(HELSINKI) for start in starts]
    clock = local[0].time()
    on_rule = [start for start in local if start.time() == clock]
    days = {start.date() for start in on_rule}
    weekdays = {day.weekday() for day in days}
    first, last = local[0].date(), on_rule[-1].date()
    for interval in range(LONGEST_INTERVAL_WEEKS, 0, -1):
        named = _rule_days(first, last, weekdays, interval)
        if days <= set(named):
            break
    exdates = [datetime.combine(d, clock, HELSINKI) for d in named if d not in days]
    if len(on_rule) < 2 or len(exdates) > len(on_rule):
        return None
    rule = WeeklyRule(interval, tuple(sorted(weekdays)), on_rule[-1].astimezone(UTC))
    return rule, exdates, [start for start in local if start.time() != clock]
