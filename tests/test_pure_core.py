"""The pure core, example by example: dedupe keys and merge, schedule expansion, rich text.

Fast and database-free: these are the tests mutmut runs against every mutant of those
modules (docs/testing.md), so each assertion pins behaviour a user would notice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import WEEKLY, rrule

from lahella_bridge.brake import Brake
from lahella_bridge.dedupe import match_keys, normal_text, supplement, without_supplement
from lahella_bridge.richtext import html_to_text, plain_line, sanitise_html, strip_nul
from lahella_bridge.schedule import MAX_OCCURRENCES_PER_RULE, expand, rule_date
from lahella_bridge.upstream.completeness import SweepProgress
from lahella_bridge.upstream.schemas import ScheduleRule

HELSINKI = ZoneInfo("Europe/Helsinki")
MONDAY = date(2026, 3, 2)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def midnight_ms(day: date, zone: ZoneInfo = HELSINKI) -> int:
    """A date-only value as lahella-cli stores it on a machine in `zone`."""
    return ms(datetime.combine(day, datetime.min.time(), tzinfo=zone))


def weekly(
    times: list[dict[str, Any]],
    *,
    first: date = MONDAY,
    last: date | None = None,
    rule_end: date | None = None,
    period: str | None = None,
    exclude: list[object] | None = None,
    rule_type: str | None = "4",
    zone: str | None = None,
) -> ScheduleRule:
    recurrence: dict[str, Any] = {"daySpecificTimes": times, "exclude": exclude or []}
    if period:
        recurrence["period"] = period
    if last:
        recurrence["end"] = midnight_ms(last)
    rule: dict[str, Any] = {"start": midnight_ms(first), "type": rule_type}
    if rule_end:
        rule["end"] = midnight_ms(rule_end)
    if zone:
        rule["timeZone"] = zone
    return ScheduleRule.model_validate({**rule, "recurrence": recurrence})


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = HELSINKI) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


WINDOW = (local(MONDAY, 0), local(MONDAY + timedelta(days=56), 0))


def starts(rule: ScheduleRule, window: tuple[datetime, datetime] = WINDOW) -> list[datetime]:
    return [session.starts for session in expand(rule, *window).sessions]


# -- dedupe -----------------------------------------------------------------------------


def test_names_fold_case_punctuation_spacing_and_organisation_forms() -> None:
    assert normal_text("Oulun  Seudun-Omaishoitajat ry") == "oulun seudun omaishoitajat"
    assert normal_text("Kahvila_Oy (AB)") == "kahvila"


def test_match_keys_are_the_lahella_key_the_business_id_and_each_municipality() -> None:
    keys = match_keys(
        lahella_key="abc",
        name="Kuoro!",
        organisation="Limingan Kuoro ry",
        business_id="1234567-8",
        municipalities=["564", "425"],
    )
    assert keys == [
        "business:1234567-8|kuoro",
        "lahella:abc",
        "name:kuoro|limingan kuoro|425",
        "name:kuoro|limingan kuoro|564",
    ]
    nowhere = match_keys(
        lahella_key=None, name="Kuoro", organisation="X ry", business_id=None, municipalities=[]
    )
    assert nowhere == ["name:kuoro|x|-"]
    no_owner = match_keys(
        lahella_key=None, name="Kuoro", organisation=None, business_id=None, municipalities=["564"]
    )
    assert no_owner == []


def test_the_merge_keeps_own_contacts_and_says_where_the_gaps_came_from() -> None:
    own = {"name": {"fi": "Kuoro"}, "contacts": [{"type": "email", "value": "a@b.fi"}]}
    twin = {
        "source": "ptv",
        "id": "ptv-1",
        "upstream_id": "u-1",
        "description": {"fi": "Kuvaus", "sv": ""},
        "contacts": [{"type": "phone", "value": "+358401234567"}],
    }
    merged = supplement(own, twin)
    assert merged["contacts"] == own["contacts"]
    assert merged["description"] == {"fi": "Kuvaus"}
    assert merged["also_from"] == [
        {"source": "ptv", "id": "ptv-1", "upstream_id": "u-1", "filled": ["description.fi"]}
    ]
    assert without_supplement(merged) == {**own, "description": {}}


def test_a_supplement_entry_without_filled_paths_takes_nothing_away() -> None:
    document = {"name": {"fi": "Kuoro"}, "also_from": [{"source": "ptv"}]}
    assert without_supplement(document) == {"name": {"fi": "Kuoro"}}


# -- schedule: dates and clocks ---------------------------------------------------------


def test_a_stored_midnight_is_read_as_the_date_it_was_meant_for() -> None:
    day = date(2026, 3, 9)
    assert rule_date(midnight_ms(day, ZoneInfo("UTC")), HELSINKI) == day  # 02:00 here
    assert rule_date(midnight_ms(day, ZoneInfo("Asia/Tokyo")), HELSINKI) == day  # 17:00 before
    assert rule_date(ms(local(day, 11, 59)), HELSINKI) == day
    assert rule_date(ms(local(day, 12, 30)), HELSINKI) == day + timedelta(days=1)
    tokyo = ZoneInfo("Asia/Tokyo")
    assert rule_date(ms(local(day, 20, 0, tokyo)), tokyo) == day + timedelta(days=1)


def test_clock_times_are_valid_up_to_23_59_and_the_others_are_reported() -> None:
    good = weekly(
        [{"weekday": 1, "startTime": "23:59"}, {"weekday": 2, "startTime": "7.05"}],
        last=MONDAY + timedelta(days=1),
    )
    assert starts(good) == [local(MONDAY, 23, 59), local(MONDAY + timedelta(days=1), 7, 5)]
    for bad in ("24:00", "12:60", "", None):
        rule = weekly(
            [{"weekday": 1, "startTime": bad}, {"weekday": 1, "startTime": "10:00"}],
            last=MONDAY,
        )
        expansion = expand(rule, *WINDOW)
        assert [s.starts for s in expansion.sessions] == [local(MONDAY, 10)], bad
        assert len(expansion.problems) == 1 and "'startTime'" in expansion.problems[0], bad


def test_weekdays_run_from_monday_1_to_sunday_7_and_others_are_reported() -> None:
    sunday = weekly([{"weekday": 7, "startTime": "12:00"}], last=MONDAY + timedelta(days=6))
    assert starts(sunday) == [local(MONDAY + timedelta(days=6), 12)]
    for weekday in (0, 8):
        expansion = expand(weekly([{"weekday": weekday, "startTime": "12:00"}]), *WINDOW)
        assert expansion.sessions == [] and len(expansion.problems) == 1


def test_a_session_past_midnight_ends_the_next_day() -> None:
    rule = weekly([{"weekday": 1, "startTime": "22:00", "endTime": "01:30"}], last=MONDAY)
    (session,) = expand(rule, *WINDOW).sessions
    assert session.ends == local(MONDAY + timedelta(days=1), 1, 30)
    same = weekly([{"weekday": 1, "startTime": "10:00", "endTime": "10:00"}], last=MONDAY)
    assert expand(same, *WINDOW).sessions[0].ends == local(MONDAY + timedelta(days=1), 10)


def test_the_rules_own_time_zone_sets_the_wall_clock() -> None:
    stockholm = ZoneInfo("Europe/Stockholm")
    rule = weekly([{"weekday": 1, "startTime": "18:00"}], last=MONDAY, zone="Europe/Stockholm")
    assert starts(rule) == [local(MONDAY, 18, 0, stockholm)]


# -- schedule: which dates ----------------------------------------------------------------


def test_the_window_is_half_open_and_its_first_and_last_days_count() -> None:
    rule = weekly([{"weekday": 1, "startTime": "18:00"}])
    monday_evening = local(MONDAY, 18)
    assert starts(rule, (monday_evening, monday_evening + timedelta(hours=1))) == [monday_evening]
    assert starts(rule, (monday_evening - timedelta(hours=1), monday_evening)) == []
    assert starts(rule, (local(MONDAY, 0), local(MONDAY, 20))) == [monday_evening]
    late = (local(MONDAY + timedelta(days=7), 17), local(MONDAY + timedelta(days=7), 19))
    assert starts(rule, late) == [monday_evening + timedelta(days=7)]


def test_the_last_date_is_included_whichever_end_the_rule_gives() -> None:
    times = [{"weekday": 1, "startTime": "18:00"}]
    expected = [local(MONDAY + timedelta(days=7 * k), 18) for k in range(3)]
    assert starts(weekly(times, last=MONDAY + timedelta(days=14))) == expected
    assert starts(weekly(times, rule_end=MONDAY + timedelta(days=14))) == expected
    both = weekly(times, last=MONDAY + timedelta(days=7), rule_end=MONDAY + timedelta(days=14))
    assert starts(both) == expected[:2]
    open_ended = starts(weekly(times))
    assert len(open_ended) == 8 and open_ended[-1] == local(MONDAY + timedelta(days=49), 18)


def test_excluded_dates_as_stored_midnights_or_iso_strings() -> None:
    times = [{"weekday": 1, "startTime": "18:00"}]
    exclude: list[object] = [
        "soon",
        "2026-03-09T00:00:00+02:00",
        midnight_ms(date(2026, 3, 16), ZoneInfo("UTC")),
    ]
    rule = weekly(times, last=date(2026, 3, 23), exclude=exclude)
    assert starts(rule) == [local(MONDAY, 18), local(date(2026, 3, 23), 18)]


def test_every_period_repeats_on_its_phase_like_an_rrule() -> None:
    """A rule that began long before the window keeps its phase (checked with dateutil)."""
    first = date(2025, 1, 8)  # a Wednesday
    window = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
    times = [{"weekday": 3, "startTime": "17:15"}, {"weekday": 5, "startTime": "09:00"}]
    for period, interval in (("P1W", 1), ("P2W", 2), ("P3W", 3), ("P4W", 4), ("P1D", 1)):
        oracle = sorted(
            moment.replace(tzinfo=HELSINKI)
            for weekday, hour, minute in ((2, 17, 15), (4, 9, 0))
            for moment in rrule(
                WEEKLY,
                interval=interval,
                byweekday=weekday,
                byhour=hour,
                byminute=minute,
                bysecond=0,
                dtstart=datetime(2025, 1, 6),  # the Monday of `first`'s week
            ).between(datetime(2026, 3, 1, 2), datetime(2026, 6, 1, 3))
        )
        got = starts(weekly(times, first=first, period=period), window)
        assert got == oracle, period


def test_an_unsupported_period_or_a_missing_start_is_reported_not_guessed() -> None:
    monthly = expand(weekly([{"weekday": 1, "startTime": "18:00"}], period="P1M"), *WINDOW)
    assert monthly.sessions == [] and monthly.problems == [
        "recurrence period 'P1M' is not supported"
    ]
    startless = ScheduleRule.model_validate(
        {"type": "4", "recurrence": {"daySpecificTimes": [{"weekday": 1, "startTime": "18:00"}]}}
    )
    assert expand(startless, *WINDOW).sessions == []
    assert expand(startless, *WINDOW).problems == ["weekly rule without a start date"]


def test_one_rule_yields_at_most_the_cap() -> None:
    rule = weekly([{"weekday": 1, "startTime": "18:00"}], first=date(2000, 1, 3))
    window = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))
    assert len(expand(rule, *window).sessions) == MAX_OCCURRENCES_PER_RULE


def test_other_types_with_weekly_times_are_read_as_weekly_and_say_so() -> None:
    times = [{"weekday": 1, "startTime": "18:00"}]
    for rule_type in ("4", None):
        expansion = expand(weekly(times, last=MONDAY, rule_type=rule_type), *WINDOW)
        assert expansion.problems == [] and len(expansion.sessions) == 1
    odd = expand(weekly(times, last=MONDAY, rule_type="2"), *WINDOW)
    assert [s.starts for s in odd.sessions] == [local(MONDAY, 18)]
    assert odd.problems == ["rule type '2' read as weekly"]


# -- schedule: single events and date ranges -------------------------------------------


def single(rule_type: str, begins: datetime | None, ends: datetime | None, **more: Any) -> Any:
    rule: dict[str, Any] = {"type": rule_type, **more}
    if begins:
        rule["start"] = ms(begins)
    if ends:
        rule["end"] = ms(ends)
    return ScheduleRule.model_validate(rule)


def test_a_single_event_or_date_range_is_one_session_from_start_to_end() -> None:
    begins, ends = local(MONDAY, 10), local(MONDAY, 12)
    for rule_type in ("1", "3"):
        expansion = expand(single(rule_type, begins, ends), *WINDOW)
        assert expansion.problems == []
        assert [(s.starts, s.ends) for s in expansion.sessions] == [(begins, ends)]
    ranged = single("3", begins, None, recurrence={"end": ms(ends)})
    assert [s.ends for s in expand(ranged, *WINDOW).sessions] == [ends]
    open_ended = expand(single("1", begins, None), *WINDOW).sessions
    assert [(s.starts, s.ends) for s in open_ended] == [(begins, None)]
    instant = expand(single("1", begins, begins), *WINDOW)
    assert [s.ends for s in instant.sessions] == [begins] and instant.problems == []


def test_a_single_event_is_shown_while_it_overlaps_the_window() -> None:
    begins, ends = local(MONDAY, 10), local(MONDAY, 12)
    event = single("1", begins, ends)
    assert expand(event, ends, ends + timedelta(days=1)).sessions != []  # still on at `start`
    assert expand(event, ends + timedelta(seconds=1), ends + timedelta(days=1)).sessions == []
    assert expand(event, begins - timedelta(days=1), begins).sessions == []  # `end` is open
    assert expand(single("1", begins, None), begins, ends).sessions != []
    assert expand(single("1", begins, None), begins + timedelta(seconds=1), ends).sessions == []


def test_a_single_event_without_start_or_ending_before_it_starts_is_reported() -> None:
    begins = local(MONDAY, 10)
    assert expand(single("1", None, begins), *WINDOW).problems == ["rule type '1' without a start"]
    backwards = expand(single("3", begins, begins - timedelta(minutes=1)), *WINDOW)
    assert backwards.sessions == []
    assert backwards.problems == ["rule type '3' ends before it starts"]
    assert expand(single("1", None, begins), *WINDOW).sessions == []


# -- rich text --------------------------------------------------------------------------


class Elements(HTMLParser):
    """Every element with its attributes, as a browser's parser sees the markup."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text += data


def test_display_html_keeps_the_editors_tags_and_safe_links_only() -> None:
    links = "".join(
        f'<a href="{href}" hreflang="fi" onclick="x()">{n}</a>'
        for n, href in enumerate(
            [
                "https://x.fi/",
                "http://x.fi/",
                "mailto:a@b.fi",
                "tel:+358401",
                "javascript:y()",
                "ftp://x.fi/",
            ]
        )
    )
    markup = (
        f"<p>Hei <strong>b</strong><em>i</em><u>u</u><br>{links}<img src=x onerror=y></p>"
        "<ul><li>a</li></ul><ol start=3><li>b</li></ol><div>d</div>"
        "<noscript>NS</noscript><iframe>IF</iframe><script>SC</script><style>ST</style>"
    )
    parsed = Elements(sanitise_html(markup))
    tags = [tag for tag, _ in parsed.found]
    assert tags == ["p", "strong", "em", "u", "br", *["a"] * 6, "ul", "li", "ol", "li"]
    safe = ["https://x.fi/", "http://x.fi/", "mailto:a@b.fi", "tel:+358401"]
    rel = {"rel": "noopener noreferrer nofollow"}
    links_found = [attrs for tag, attrs in parsed.found if tag == "a"]
    assert links_found == [{"href": href, **rel} for href in safe] + [rel, rel]
    assert all(attrs == {} for tag, attrs in parsed.found if tag != "a")
    assert parsed.text == "Hei biu012345abd"


def test_no_markup_gives_empty_text_and_control_characters_are_dropped() -> None:
    for nothing in (None, ""):
        assert sanitise_html(nothing) == "" and html_to_text(nothing) == ""
    assert strip_nul("a\x00b\x07c\td\n") == "abc\td\n"
    assert sanitise_html("a\x00b") == "ab"


def test_plain_text_has_lines_items_and_decoded_entities_but_no_tags() -> None:
    markup = (
        "<p>Tom &amp; J&auml;rvi<br>toinen \t rivi</p>\n   <p> <b>kolmas</b> </p>"
        "<noscript>NS</noscript><iframe>IF</iframe><ul><li>a</li><li>b</li></ul>"
    )
    assert html_to_text(markup) == "Tom & Järvi\ntoinen rivi\n\nkolmas\n\n- a\n- b"
    assert html_to_text("Ikä 7 &ndash; 12 v.\n  Tervetuloa!") == "Ikä 7 – 12 v.\nTervetuloa!"
    assert html_to_text("<p><b>kolmas</b> <i>rivi</i></p>") == "kolmas rivi"


def test_entity_encoded_markup_is_dropped_from_plain_text_and_lines_join_for_names() -> None:
    assert html_to_text("&lt;img src=x onerror=alert(1)&gt;Hei &lt;&lt;b&gt;b&gt;!") == "Hei !"
    assert html_to_text("ikä &lt; 18") == "ikä < 18"
    assert plain_line("<p>Kuoro</p>\n<p>Oulu  &amp; Liminka</p>") == "Kuoro Oulu & Liminka"


# -- completeness and the brake -------------------------------------------------------


def progress(**fields: Any) -> SweepProgress:
    return SweepProgress(unit="distinct ids", **fields)


def test_a_sweep_is_complete_only_when_every_listing_proved_its_total() -> None:
    assert progress(totals={"*": 3}, seen={"*": 3}).shortfall() is None
    assert progress(totals={"*": 3}, seen={"*": 4}).complete
    short = progress(totals={"a": 2, "b": 4}, seen={"a": 2, "b": 3}, duplicates=1)
    assert not short.complete
    assert short.shortfall() == "listing 'b' announced 4 distinct ids but 3 arrived (1 repeated)"
    assert progress(totals={"*": 1}).shortfall() == (
        "listing '*' announced 1 distinct ids but 0 arrived (0 repeated)"
    )
    assert progress(totals={"*": None}, seen={"*": 7}).shortfall() == (
        "listing '*' announced no total (7 distinct ids arrived)"
    )
    assert progress().shortfall() == "no listing was read"


def test_a_stall_or_a_known_gap_makes_any_sweep_incomplete() -> None:
    whole = {"totals": {"*": 1}, "seen": {"*": 1}}
    stalled = progress(stalled=True, gaps=["x"], **whole)
    assert stalled.shortfall() == "the listing stopped advancing (a page brought nothing new)"
    assert progress(gaps=["archived listing failed"], **whole).shortfall() == (
        "archived listing failed"
    )
    assert progress(gaps=["a", "b"], **whole).shortfall() == "a (and 1 more)"
    assert progress(gaps=["a", "b", "c"], **whole).shortfall() == "a (and 2 more)"


def test_the_brake_allows_a_fifth_of_the_live_records_and_always_five() -> None:
    brake = Brake()
    assert brake.refusal(5, 5) is None and brake.refusal(20, 100) is None
    assert brake.refusal(6, 10) == "the sweep would retire 6 of 10 live activities (limit 5)"
    assert brake.refusal(21, 100) == "the sweep would retire 21 of 100 live activities (limit 20)"
    assert brake.refusal(30, 149) == "the sweep would retire 30 of 149 live activities (limit 29)"


def test_an_area_may_lose_its_share_but_never_everything() -> None:
    brake = Brake()
    live = {"564": {f"s{n}" for n in range(30)}, "425": {"t1", "t2"}}
    assert brake.area_refusal({"564": {f"s{n}" for n in range(6)}, "425": {"t1"}}, live) is None
    assert brake.area_refusal({"425": {"t1", "t2"}}, live) == (
        "area 425 would lose 2 of its 2 live activities (limit 1)"
    )
    assert brake.area_refusal({"564": {f"s{n}" for n in range(7)}}, live) == (
        "area 564 would lose 7 of its 30 live activities (limit 6)"
    )
    assert brake.area_refusal({"564": {"elsewhere", "s1"}, "425": {"t1", "t9"}}, live) is None
    assert brake.area_refusal({"9": {"x"}}, {"9": {"x"}}) == (
        "area 9 would lose 1 of its 1 live activities (limit 0)"
    )
