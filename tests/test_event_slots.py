"""The calendar's read model follows what the harvest stores: a published activity's
sessions have a row for each town they count in carrying their activity's themes as a mask,
a recurring activity's span one for each of its towns and '' (any town), and a change
upstream moves them, a retirement or a hidden duplicate takes them away.

The expectation is computed here in Python from the base tables, from the rule the README
states ("a session counts where it meets; one without a place, where its activity is")."""

from __future__ import annotations

import copy
import uuid
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from lahella_bridge.harvest import Harvester
from lahella_bridge.normalise.outcome import Context, NormalisedActivity, Normaliser
from lahella_bridge.sample.data import generate, now_for
from lahella_bridge.sample.upstream import SampleUpstream
from lahella_bridge.store.event_slots import THEME_BITS
from lahella_bridge.taxonomy import taxonomy
from tests.conftest import make_harvester
from tests.test_third_source import (  # noqa: F401
    MirrorSource,
    MirrorUpstream,
    mirror_row,
    normalise_mirrored,
)

Slot = tuple[str, int, int]  # town, theme mask, session id
Span = tuple[str, int, uuid.UUID]  # town, theme mask, activity id


def normalise_twin(raw: Any, context: Context) -> NormalisedActivity:
    """The mirror's record under ids of its own."""
    item = normalise_mirrored(raw, context)
    return replace(
        item,
        id=twin_id(item.id),
        channels=[replace(c, id=twin_id(c.id)) for c in item.channels],
        occurrences=[
            replace(o, channel_id=o.channel_id and twin_id(o.channel_id)) for o in item.occurrences
        ],
    )


class TwinSource(MirrorSource):
    """The mirror under ids of its own: the same activities as Lähellä.fi's (the same
    match keys), stored beside them until the duplicate is hidden behind the winner."""

    @property
    def normaliser(self) -> Normaliser:
        return normalise_twin


def twin_id(own: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(own, "mirror")


def mask(themes: list[str]) -> int:
    """The themes' mask, written out here from the bits' order (1, 2, 4, ... by position)."""
    order = list(THEME_BITS)
    return sum(2 ** order.index(theme) for theme in set(themes))


def test_every_theme_of_the_taxonomy_has_its_own_fixed_bit() -> None:
    slugs = [theme.slug for theme in taxonomy().themes]
    assert set(slugs) <= set(THEME_BITS)
    assert sorted(THEME_BITS.values()) == [2**n for n in range(len(THEME_BITS))]
    assert max(THEME_BITS.values()) < 2**31  # the column is a signed int4


async def rows(engine: AsyncEngine, query: str) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(text(query))).all())


async def expected_slots(engine: AsyncEngine) -> set[Slot]:
    sessions = await rows(
        engine,
        "SELECT o.id, o.municipality, a.municipalities, a.themes FROM occurrences o "
        "JOIN activities a ON a.id = o.activity_id WHERE a.deleted_at IS NULL",
    )
    return {
        (town, mask(themes), session_id)
        for session_id, own_town, activity_towns, themes in sessions
        for town in ([own_town] if own_town else activity_towns)
    }


async def expected_spans(engine: AsyncEngine) -> set[Span]:
    recurring = await rows(
        engine,
        "SELECT id, municipalities, themes FROM activities "
        "WHERE deleted_at IS NULL AND occurrence_count > 1",
    )
    return {
        (town, mask(themes), activity_id)
        for activity_id, towns, themes in recurring
        for town in [*towns, ""]
    }


async def stored_slots(engine: AsyncEngine) -> set[Slot]:
    return {
        tuple(r) for r in await rows(engine, "SELECT town, themes, occurrence_id FROM event_slots")
    }  # type: ignore[misc]


async def stored_spans(engine: AsyncEngine) -> set[Span]:
    return {
        tuple(r) for r in await rows(engine, "SELECT town, themes, activity_id FROM event_spans")
    }  # type: ignore[misc]


async def assert_read_model_follows(engine: AsyncEngine) -> None:
    slots, spans = await stored_slots(engine), await stored_spans(engine)
    assert slots == await expected_slots(engine)
    assert spans == await expected_spans(engine)
    count = await rows(engine, "SELECT count(*) FROM event_slots")
    assert count[0][0] == len(slots), "a session counted twice in one town"


async def slots_of(engine: AsyncEngine, upstream_id: str) -> set[tuple[str, int]]:
    found = await rows(
        engine,
        "SELECT DISTINCT s.town, s.themes FROM event_slots s JOIN activities a "
        f"ON a.id = s.activity_id WHERE a.upstream_id = '{upstream_id}'",
    )
    return {(town, theme) for town, theme in found}


async def test_a_harvest_writes_a_row_per_session_and_town(
    harvested: Harvester, db: AsyncEngine
) -> None:
    await assert_read_model_follows(db)
    assert len(await stored_slots(db)) > 1000
    assert await stored_spans(db)


async def test_an_activity_that_changes_town_and_themes_moves_its_rows(
    harvested: Harvester, upstream: SampleUpstream, db: AsyncEngine
) -> None:
    moved, other = upstream.records[20], upstream.records[21]
    before = await slots_of(db, moved["_key"])
    moved["traits"]["theme"] = copy.deepcopy(other["traits"]["theme"])
    for channel in moved["traits"]["channels"]:
        channel["translations"] = copy.deepcopy(other["traits"]["channels"][0]["translations"])
    moved["traits"]["region"] = copy.deepcopy(other["traits"]["region"])
    report = await harvested.run()
    assert report.updated == 1
    after = await slots_of(db, moved["_key"])
    assert after and after != before
    assert {town for town, _ in after} == {town for town, _ in await slots_of(db, other["_key"])}
    await assert_read_model_follows(db)


async def test_a_retired_activity_leaves_no_rows(
    harvested: Harvester, upstream: SampleUpstream, db: AsyncEngine
) -> None:
    recurring = await rows(
        db,
        "SELECT upstream_id FROM activities WHERE occurrence_count > 1 ORDER BY upstream_id",
    )
    key = recurring[0][0]
    assert await slots_of(db, key)
    upstream.records = [r for r in upstream.records if r.get("_key") != key]
    assert (await harvested.run()).retired == 1
    assert not await slots_of(db, key)
    await assert_read_model_follows(db)


async def test_a_duplicate_hidden_behind_the_lahella_record_leaves_no_rows(
    mirror_row: AsyncEngine,  # noqa: F811
    anchor: date,
) -> None:
    db = mirror_row
    activities = generate(anchor=anchor)[:5]
    mirror = TwinSource(MirrorUpstream([{"id": a["_key"], "activity": a} for a in activities]))
    harvester = Harvester(db, [mirror], clock=lambda: now_for(anchor))
    assert (await harvester.run(source="mirror")).created == 5
    mirrored = await rows(db, "SELECT count(*) FROM event_slots")
    assert mirrored[0][0] > 0

    lahella = make_harvester(db, SampleUpstream(activities), anchor)
    assert (await lahella.run(source="lahella")).created == 5
    hidden = await rows(
        db,
        "SELECT count(*) FROM event_slots s JOIN activities a ON a.id = s.activity_id "
        "WHERE a.source = 'mirror'",
    )
    assert hidden[0][0] == 0
    await assert_read_model_follows(db)
