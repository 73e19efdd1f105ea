"""The bundled sample reads like the county's real directory to whoever is shown the demo:
camps in the summer, meeting rhythms that match what the text says, local associations in
their own municipality, and no place named after its town twice."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from lahella_bridge.normalise.lahella import normalise
from lahella_bridge.normalise.outcome import Context, NormalisedActivity, UnusableRecord
from lahella_bridge.sample.data import generate, now_for
from lahella_bridge.taxonomy import taxonomy

# Anchors in winter, spring, midsummer and autumn: the sample is built relative to them.
ANCHORS = [date(2026, 11, 30), date(2027, 3, 1), date(2027, 6, 28), date(2027, 9, 27)]
# What a summary says about the rhythm -> the recurrence period that says the same.
RHYTHMS = {
    "viikoittain": "P1W",
    "viikoittainen": "P1W",
    "joka viikko": "P1W",
    "joka toinen viikko": "P2W",
    "kahden viikon välein": "P2W",
    "joka neljäs viikko": "P4W",
    "kerran kuussa": "P1M",
    "kerran kuukaudessa": "P1M",
}
# Finnish genitives of the sample's towns, as local associations are named ("Nivalan ...").
GENITIVES = {
    "Oulun": "Oulu",
    "Raahen": "Raahe",
    "Ylivieskan": "Ylivieska",
    "Kuusamon": "Kuusamo",
    "Kempeleen": "Kempele",
    "Kalajoen": "Kalajoki",
    "Haapajärven": "Haapajärvi",
    "Pudasjärven": "Pudasjärvi",
    "Nivalan": "Nivala",
    "Limingan": "Liminka",
    "Muhoksen": "Muhos",
    "Iin": "Ii",
    "Haapaveden": "Haapavesi",
    "Oulaisten": "Oulainen",
    "Tyrnävän": "Tyrnävä",
}


def sample(anchor: date) -> list[tuple[dict[str, Any], NormalisedActivity]]:
    context = Context(now=now_for(anchor))
    pairs = []
    for record in generate(anchor=anchor):
        try:
            pairs.append((record, normalise(record, context)))
        except UnusableRecord:
            continue
    return pairs


@pytest.fixture(scope="module", params=ANCHORS, ids=str)
def normalised(request: pytest.FixtureRequest) -> list[tuple[dict[str, Any], NormalisedActivity]]:
    return sample(request.param)


def test_camps_and_outings_happen_in_their_season_and_a_camp_is_one_week(
    normalised: list[tuple[dict[str, Any], NormalisedActivity]],
) -> None:
    seasonal = [(r, a) for r, a in normalised if "hm_leirit" in r["traits"]["format"]]
    assert seasonal
    for record, activity in seasonal:
        months = {o.starts.month for o in activity.occurrences}
        assert months <= {5, 6, 7, 8, 9}, (record["_key"], sorted(months))
        if "leiri" in activity.document.name["fi"].casefold():
            assert len(activity.occurrences) <= 1
            for occurrence in activity.occurrences:
                assert occurrence.ends is not None
                assert 3 <= (occurrence.ends - occurrence.starts).days <= 7


def test_the_rhythm_a_summary_states_is_the_rule_of_its_sessions(
    normalised: list[tuple[dict[str, Any], NormalisedActivity]],
) -> None:
    stated = 0
    for record, _ in normalised:
        translations = record["traits"]["translations"]
        text = " ".join(str(t.get("summary", "")) for t in translations.values()).casefold()
        said = {period for phrase, period in RHYTHMS.items() if re.search(rf"\b{phrase}\b", text)}
        if not said:
            continue
        stated += 1
        # Rules of a type the bridge cannot read (an edge case of the sample) say nothing.
        rules = [
            e
            for c in record["traits"]["channels"]
            for e in c["events"]
            if e.get("type") in ("1", "3", "4")
        ]
        if not rules:
            continue
        periods = {(e.get("recurrence") or {}).get("period") for e in rules}
        assert periods == said, (record["_key"], text, periods)
    assert stated > 10


def test_local_associations_work_in_their_own_municipality(
    normalised: list[tuple[dict[str, Any], NormalisedActivity]],
) -> None:
    local = 0
    for _, activity in normalised:
        assert activity.organisation is not None
        words = activity.organisation.name.split()
        homes = {GENITIVES[w] for w in words if w in GENITIVES}
        if not homes:
            continue
        local += 1
        (home,) = homes
        code = taxonomy().municipality_by_name(home)
        assert code is not None
        towns = set(activity.municipalities) | {
            c.municipality for c in activity.channels if c.municipality
        }
        assert towns == {code.code}, (activity.organisation.name, activity.document.name)
    assert local > 30


def test_no_place_repeats_its_town_in_its_name(
    normalised: list[tuple[dict[str, Any], NormalisedActivity]],
) -> None:
    names = [
        item["value"]
        for _, activity in normalised
        for channel in activity.channels
        for item in channel.ptv.get("serviceChannelNames", [])
    ]
    assert names
    doubled = [name for name in names if re.search(r"(\w+), \1$", name)]
    assert doubled == []
