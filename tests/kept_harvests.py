"""Harvests kept for the test session.

Most tests need "the sample, harvested" and nothing about how it got there. The first such
test of a session runs the real harvest; its tables are then copied aside into a schema of
their own, and every later test that asks for the same harvest (same upstream records and
faults, same clock, same harvester) gets those rows back by SQL: tens of milliseconds
instead of seconds. Tests of the harvest itself call `Harvester.run()` and are untouched.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from graphlib import TopologicalSorter

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from lahella_bridge.harvest import Harvester
from lahella_bridge.sample.ptv_upstream import SamplePtvUpstream
from lahella_bridge.sample.upstream import SampleUpstream
from lahella_bridge.sweep import HarvestReport


def upstream_state(upstream: SampleUpstream | SamplePtvUpstream | None) -> object:
    """What a sample upstream serves, and how."""
    if isinstance(upstream, SampleUpstream):
        return [upstream.records, repr(upstream.faults), upstream.auth_token]
    if isinstance(upstream, SamplePtvUpstream):
        return [asdict(upstream.sample), repr(upstream.faults), upstream.max_guids]
    return None


def state_key(
    harvester: Harvester,
    upstreams: Sequence[SampleUpstream | SamplePtvUpstream | None],
    every_source: bool,
) -> str:
    """What a harvest's result depends on: the records served and how, the harvester's
    clock, sources and knobs, and whether it ran every source or the first."""
    parts = [
        [upstream_state(u) for u in upstreams],
        harvester.clock().isoformat(),
        [source.name for source in harvester.sources],
        [harvester.brake, harvester.brake_minimum, harvester.mapping_workers, every_source],
    ]
    encoded = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


_schema_numbers = itertools.count(1)  # one database a worker: schema names unique in it


class KeptHarvests:
    """The session's harvests, each kept after its first real run."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[HarvestedState, list[HarvestReport]]] = {}

    async def run(
        self,
        harvester: Harvester,
        *upstreams: SampleUpstream | SamplePtvUpstream | None,
        every_source: bool = False,
    ) -> list[HarvestReport]:
        """`harvester.run()` (`run_all()` with `every_source`) on an emptied database, or
        the rows and reports an identical earlier run gave. `upstreams` are the sample
        upstreams the harvester reads."""
        key = state_key(harvester, upstreams, every_source)
        kept = self._kept.get(key)
        if kept is not None:
            state, reports = kept
            async with harvester.engine.begin() as connection:
                await state.restore(connection)
            return reports
        reports = await harvester.run_all() if every_source else [await harvester.run()]
        if all(report.status == "succeeded" for report in reports):
            async with harvester.engine.begin() as connection:
                schema = f"kept_harvest_{next(_schema_numbers)}"
                self._kept[key] = (await HarvestedState.save(connection, schema), reports)
        return reports


async def data_tables(connection: AsyncConnection) -> list[str]:
    """Every table of the current schema but alembic's, each after the tables it refers to."""
    rows = await connection.execute(
        text(
            "SELECT c.relname, coalesce(array_agg(p.relname) FILTER (WHERE p.relname IS NOT "
            "NULL AND p.oid <> c.oid), '{}') "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'f' "
            "LEFT JOIN pg_class p ON p.oid = k.confrelid "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
            "AND NOT c.relispartition AND c.relname <> 'alembic_version' GROUP BY c.relname"
        )
    )
    graph = {name: set(parents) for name, parents in rows}
    return list(TopologicalSorter(graph).static_order())


@dataclass(frozen=True)
class HarvestedState:
    """One harvest's rows, kept in `schema`, and the sequences as the harvest left them."""

    schema: str
    columns: dict[str, list[str]]  # table -> the columns an INSERT may name, parents first
    sequences: dict[str, int | None]  # sequence -> its last value (None: never used)

    @classmethod
    async def save(cls, connection: AsyncConnection, schema: str) -> HarvestedState:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        columns: dict[str, list[str]] = {}
        for table in await data_tables(connection):
            await connection.execute(text(f'CREATE TABLE "{schema}"."{table}" AS TABLE "{table}"'))
            names = await connection.execute(
                text(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                    "current_schema() AND table_name = :table AND is_generated = 'NEVER' "
                    "ORDER BY ordinal_position"
                ),
                {"table": table},
            )
            columns[table] = [f'"{name}"' for name in names.scalars()]
        values = await connection.execute(
            text(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = current_schema()"
            )
        )
        return cls(schema, columns, {row[0]: row[1] for row in values})

    async def restore(self, connection: AsyncConnection) -> None:
        """The data tables exactly as the harvest left them, whatever was there before."""
        await connection.execute(
            text(f"TRUNCATE {', '.join(self.columns)} RESTART IDENTITY CASCADE")
        )
        for table, names in self.columns.items():
            listed = ", ".join(names)
            await connection.execute(
                text(
                    f'INSERT INTO "{table}" ({listed}) OVERRIDING SYSTEM VALUE '
                    f'SELECT {listed} FROM "{self.schema}"."{table}"'
                )
            )
        for sequence, last in self.sequences.items():
            await connection.execute(
                text("SELECT setval(:sequence, :value, :called)"),
                {"sequence": sequence, "value": last or 1, "called": last is not None},
            )
