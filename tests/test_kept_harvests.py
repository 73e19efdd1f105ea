"""A kept harvest, restored, is exactly what the harvest wrote: every row of every table and
every sequence's position. Most of the suite stands on it (tests/kept_harvests.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from lahella_bridge.sample.data import generate
from lahella_bridge.sample.upstream import SampleUpstream
from tests.conftest import make_harvester
from tests.kept_harvests import KeptHarvests, data_tables

Contents = dict[str, list[str]]


async def everything(engine: AsyncEngine) -> Contents:
    """Each data table's rows (generated columns too) and each sequence's next value."""
    contents: Contents = {}
    async with engine.begin() as connection:
        for table in await data_tables(connection):
            rows = await connection.execute(text(f'SELECT * FROM "{table}"'))
            contents[table] = sorted(repr(tuple(row)) for row in rows)
        sequences = await connection.execute(
            text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
        )
        for name in sequences.scalars().all():
            value = await connection.execute(text("SELECT nextval(:name)"), {"name": name})
            contents[name] = [repr(value.scalar_one())]
    return contents


async def test_a_restored_harvest_equals_the_harvest_it_kept(db: AsyncEngine, anchor: date) -> None:
    kept = KeptHarvests()
    upstream = SampleUpstream(generate(anchor=anchor))
    (first,) = await kept.run(make_harvester(db, upstream, anchor), upstream)
    assert first.status == "succeeded" and first.created > 0, first
    harvested = await everything(db)
    assert len(harvested["occurrences"]) > 1000 and harvested["item_fragments"]

    # Something else happens to the database: a second harvest retires a record.
    upstream.records.pop()
    assert (await make_harvester(db, upstream, anchor).run()).retired == 1
    assert await everything(db) != harvested

    again_upstream = SampleUpstream(generate(anchor=anchor))
    (again,) = await kept.run(make_harvester(db, again_upstream, anchor), again_upstream)
    assert again == first
    assert await everything(db) == harvested
