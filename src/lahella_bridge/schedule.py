"""Expansion of Lähellä.fi schedule rules into dated occurrences, in the rule's zone.

Weekly rules (type "4") are verified upstream; the other types are the lahella-cli
author's reading and are parsed defensively: what cannot be expanded is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lahella_bridge.upstream.schemas import ScheduleRule

HELSINKI = ZoneInfo("Europe/Helsinki")
MAX_OCCURRENCES_PER_RULE = 800
_PERIOD_WEEKS = {"P1W": 1, "P2W": 2, "P3W": 3, "P4W": 4}
_CLOCK = re.compile(r"(\d{1,2})[:.](\d{2})")


@dataclass(frozen=True)
class SessionTime:
    """When one session of an activity meets, as its rule expands; its place comes later."""

    starts: datetime
    ends: datetime | None


@dataclass(frozen=True)
class Expansion:
    sessions: list[SessionTime]
    problems: list[str]


def _zone(rule: ScheduleRule) -> ZoneInfo:
    try:
        return ZoneInfo(rule.time_zone) if rule.time_zone else HELSINKI
    except (ZoneInfoNotFoundError, ValueError):
        return HELSINKI


def rule_date(epoch_ms: int, zone: ZoneInfo) -> date:
    """A date-only value stored as some midnight: a local time after noon means tomorrow.

    lahella-cli stores the machine's local midnight, so UTC machines give 02:00/03:00
    Helsinki time and machines east of Helsinki give the previous evening.
    """
    local = datetime.fromtimestamp(epoch_ms / 1000, UTC).astimezone(zone)
    return local.date() + timedelta(days=1) if local.hour >= 12 else local.date()


def _clock(value: str | None) -> time | None:
    match = _CLOCK.fullmatch((value or "").strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return time(int(match[1]), int(match[2]))


def _excluded_dates(values: list[object], zone: ZoneInfo) -> set[date]:
    dates = set()
    for value in values:
        if isinstance(value, int | float):
            dates.add(rule_date(int(value), zone))
        elif isinstance(value, str):
            try:
                dates.add(date.fromisoformat(value[:10]))
            except ValueError:
                continue
    return dates


def _local(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone)


def _sessions_on(
    day: date,
    clocks: list[tuple[time, time | None]],
    zone: ZoneInfo,
    window: tuple[datetime, datetime] | None,
) -> list[SessionTime]:
    """The day's sessions that start in the window; None: the whole day is inside it."""
    sessions = []
    for begins, finishes in clocks:
        starts = _local(day, begins, zone)
        ends = _local(day, finishes, zone) if finishes else None
        if ends is not None and ends <= starts:
            ends += timedelta(days=1)
        if window is None or window[0] <= starts < window[1]:
            sessions.append(SessionTime(starts, ends))
    return sessions


def _weekly(rule: ScheduleRule, start: datetime, end: datetime) -> Expansion:
    zone = _zone(rule)
    recurrence = rule.recurrence
    assert recurrence is not None
    period = recurrence.period or "P1W"
    if period not in _PERIOD_WEEKS and period != "P1D":
        return Expansion([], [f"recurrence period {period!r} is not supported"])
    if rule.start is None:
        return Expansion([], ["weekly rule without a start date"])
    first = rule_date(rule.start, zone)
    last_ms = recurrence.end if recurrence.end is not None else rule.end
    last = rule_date(last_ms, zone) if last_ms is not None else end.astimezone(zone).date()
    excluded = _excluded_dates(recurrence.exclude, zone)
    times: dict[int, list[tuple[time, time | None]]] = {}
    problems = []
    for entry in recurrence.day_specific_times:
        begins, finishes = _clock(entry.start_time), _clock(entry.end_time)
        if not 1 <= entry.weekday <= 7 or begins is None:
            problems.append(f"unusable day-specific time {entry.model_dump(by_alias=True)}")
            continue
        times.setdefault(entry.weekday, []).append((begins, finishes))
    # P1D with weekday times means every listed weekday: weekly, per weekday.
    step_days = 7 * _PERIOD_WEEKS.get(period, 1)
    last = min(last, (end + timedelta(days=1)).astimezone(zone).date())
    earliest = max(first, (start - timedelta(days=1)).astimezone(zone).date())
    # Days two or more days inside the window are inside it whatever their clock times
    # and offset changes: their sessions skip the comparison with the window's ends.
    inside_from = start.astimezone(zone).date() + timedelta(days=2)
    inside_to = end.astimezone(zone).date() - timedelta(days=2)
    sessions: list[SessionTime] = []
    for weekday, clocks in sorted(times.items()):
        # The first date on this weekday, then every period: no day-by-day walk.
        day = first + timedelta(days=(weekday - first.isoweekday()) % 7)
        if day < earliest:
            day += timedelta(days=-(-(earliest - day).days // step_days) * step_days)
        while day <= last and len(sessions) < MAX_OCCURRENCES_PER_RULE:
            if day not in excluded:
                inside = inside_from <= day <= inside_to
                sessions += _sessions_on(day, clocks, zone, None if inside else (start, end))
            day += timedelta(days=step_days)
    sessions.sort(key=lambda session: session.starts)
    return Expansion(sessions, problems)


def _single(rule: ScheduleRule, start: datetime, end: datetime) -> Expansion:
    """Types "1" (single) and "3" (date range): one session from `start` to `end`."""
    if rule.start is None:
        return Expansion([], [f"rule type {rule.type!r} without a start"])
    starts = datetime.fromtimestamp(rule.start / 1000, UTC)
    ends_ms = (
        rule.end if rule.end is not None else (rule.recurrence.end if rule.recurrence else None)
    )
    ends = datetime.fromtimestamp(ends_ms / 1000, UTC) if ends_ms is not None else None
    if ends is not None and ends < starts:
        return Expansion([], [f"rule type {rule.type!r} ends before it starts"])
    overlaps = starts < end and (ends or starts) >= start
    return Expansion([SessionTime(starts, ends)] if overlaps else [], [])


def expand(rule: ScheduleRule, start: datetime, end: datetime) -> Expansion:
    """Sessions of one rule that start in [start, end), with what could not be used."""
    if rule.recurrence is not None and rule.recurrence.day_specific_times:
        if rule.type not in (None, "4"):
            expansion = _weekly(rule, start, end)
            return Expansion(
                expansion.sessions, [*expansion.problems, f"rule type {rule.type!r} read as weekly"]
            )
        return _weekly(rule, start, end)
    if rule.type in ("1", "3"):
        return _single(rule, start, end)
    return Expansion([], [f"rule type {rule.type!r} without weekly times is not supported"])
