"""Command line: serve, migrate, harvest, renormalise, demo, export-openapi."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from lahella_bridge.config import Settings, SettingsError, load_settings
from lahella_bridge.db import create_engine, database_url, upgrade_database
from lahella_bridge.errors import BridgeError
from lahella_bridge.log import configure_logging

app = typer.Typer(
    help="Lähellä.fi activities as PTV-compatible feeds for Pohde.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


def _settings(**overrides: Any) -> Settings:
    try:
        settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


@contextmanager
def _database(settings: Settings) -> Iterator[str]:
    try:
        with database_url(settings) as url:
            yield url
    except BridgeError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None


async def _migrate(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        await upgrade_database(engine)
    finally:
        await engine.dispose()


def tune_garbage_collection() -> None:
    """For the serving and harvesting processes, which build many short-lived objects.

    Rendering a town's calendar decodes 4,000 activity documents, and with the default
    thresholds the collector rescanned the heap so often that it took two thirds of that
    time (120 -> 36 us a document with these settings). What is alive at start-up is frozen
    out of every collection; young objects are collected 14x less often. Higher thresholds
    (50,000) were faster still but let a 100k harvest's garbage reach 600 MB."""
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def _serve(settings: Settings, url: str) -> None:
    from lahella_bridge.app import create_app

    asyncio.run(_migrate(url))
    console.print(f"API on http://{settings.host}:{settings.port}  (docs: /docs)")
    application = create_app(settings, url)
    tune_garbage_collection()
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Migrate the database, then serve the API (and scheduled harvests)."""
    settings = _settings(host=host, port=port)
    with _database(settings) as url:
        _serve(settings, url)


@app.command()
def migrate() -> None:
    """Apply pending database migrations."""
    settings = _settings()
    with _database(settings) as url:
        asyncio.run(_migrate(url))
    console.print("database is up to date")


async def _harvest(
    settings: Settings, url: str, force: bool, source: str | None = None, full: bool = False
) -> list[Any]:
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from lahella_bridge.harvest import harvester_for

    await _migrate(url)
    engine = create_engine(url, pool_size=2)
    try:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True
        ) as progress:
            task = progress.add_task("harvesting…")
            harvester = harvester_for(settings, engine)
            harvester.on_progress = lambda r: progress.update(
                task,
                description=f"harvesting {r.source}… {r.fetched} fetched, {r.created} new, "
                f"{r.updated} updated, {r.quarantined} quarantined",
            )
            if source is not None:
                return [await harvester.run(force=force, source=source, full_sweep=full)]
            return await harvester.run_all(force=force, full_sweep=full)
    finally:
        await engine.dispose()


def _summary(report: Any) -> None:
    table = Table(title=f"Harvest run {report.run_id} ({report.source}): {report.status}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in report.counts().items():
        table.add_row(key, "" if value is None else str(value))
    table.add_row("seconds", f"{report.seconds:.2f}")
    console.print(table)
    if report.unmapped:
        console.print(
            "unmapped upstream values: "
            + ", ".join(f"{k} ({v})" for k, v in report.unmapped.most_common(10))
        )


@app.command()
def harvest(
    force: Annotated[bool, typer.Option(help="Override the retirement safety brake.")] = False,
    source: Annotated[
        str | None, typer.Option(help="Only this source: lahella or ptv (default: every enabled).")
    ] = None,
    full: Annotated[
        bool, typer.Option(help="Sweep PTV's areas in full, not an incremental sync.")
    ] = False,
) -> None:
    """Harvest every enabled source now; exits non-zero unless every run succeeded."""
    from lahella_bridge.harvest import HarvestAlreadyRunning

    settings = _settings()
    tune_garbage_collection()
    with _database(settings) as url:
        try:
            reports = asyncio.run(_harvest(settings, url, force, source, full))
        except HarvestAlreadyRunning as exc:
            console.print(f"[yellow]{exc.message}[/yellow]")
            raise typer.Exit(3) from None
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    if not reports:
        console.print(
            "[red]no source is enabled: set LAHELLA_BRIDGE_LAHELLA_ENABLED or "
            "LAHELLA_BRIDGE_PTV_ENABLED to true[/red]"
        )
    for report in reports:
        _summary(report)
    failed = [r for r in reports if r.status != "succeeded"]
    for report in failed:
        console.print(f"[red]{report.source}: {report.error}[/red]")
    if failed or not reports:
        raise typer.Exit(1)


@app.command()
def renormalise() -> None:
    """Re-run the mapping on the stored raw records, without fetching anything."""
    from lahella_bridge.harvest import HarvestAlreadyRunning, every_source, renormalise_stored

    settings = _settings()
    with _database(settings) as url:

        async def run() -> tuple[int, int]:
            await _migrate(url)
            engine = create_engine(url, pool_size=2)
            try:
                return await renormalise_stored(engine, every_source(settings))
            finally:
                await engine.dispose()

        try:
            seen, written = asyncio.run(run())
        except HarvestAlreadyRunning as exc:
            console.print(f"[yellow]{exc.message}[/yellow]")
            raise typer.Exit(3) from None
    console.print(f"renormalised {seen} activities; {written} changed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def sample_server(app: Any, name: str) -> Iterator[str]:
    """Serve a bundled sample upstream on loopback in a thread; yield its URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@app.command()
def demo(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Start the bundled sample upstreams (Lähellä.fi and PTV), harvest them and serve the
    API: no internet needed. `LAHELLA_BRIDGE_LAHELLA_ENABLED=false` or
    `LAHELLA_BRIDGE_PTV_ENABLED=false` leaves one source out."""
    from lahella_bridge.sample.ptv_upstream import SamplePtvUpstream
    from lahella_bridge.sample.upstream import SAMPLE_COOKIES, SampleUpstream

    configured = _settings()
    # The demo shows both sources unless the environment switched PTV off explicitly.
    ptv_on = configured.ptv_enabled if "ptv_enabled" in configured.model_fields_set else True
    with (
        sample_server(SampleUpstream(), "sample-upstream") as upstream,
        sample_server(SamplePtvUpstream(), "sample-ptv") as ptv_upstream,
    ):
        settings = _settings(
            host=host,
            port=port,
            upstream_url=upstream,
            upstream_cookies=SAMPLE_COOKIES,
            ptv_url=f"{ptv_upstream}/api/v11",
            ptv_enabled=ptv_on,
        )
        console.print(f"sample upstreams on {upstream} (Lähellä.fi), {ptv_upstream} (PTV)")
        with _database(settings) as url:
            for report in asyncio.run(_harvest(settings, url, force=True)):
                _summary(report)
            _serve(settings, url)


@app.command("sample-upstream")
def sample_upstream(
    count: Annotated[int, typer.Option(help="How many activities to serve.")] = 320,
    host: Annotated[str, typer.Option(help="Interface (keep it on loopback).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8800,
    ptv: Annotated[bool, typer.Option(help="Serve the sample PTV API instead.")] = False,
) -> None:
    """Serve a bundled sample upstream alone (Lähellä.fi scaled to `count` records, or PTV
    with `--ptv`), e.g. for benches or to point a second instance at."""
    from lahella_bridge.sample.data import generate
    from lahella_bridge.sample.ptv_upstream import SamplePtvUpstream
    from lahella_bridge.sample.upstream import SAMPLE_COOKIES, SampleUpstream

    configure_logging("WARNING", "console")
    if ptv:
        console.print(f"sample PTV upstream on http://{host}:{port}/api/v11")
        uvicorn.run(SamplePtvUpstream(), host=host, port=port, log_config=None, access_log=False)
        return
    console.print(
        f"sample upstream with {count} activities on http://{host}:{port}; "
        f"cookies: {SAMPLE_COOKIES}"
    )
    uvicorn.run(
        SampleUpstream(generate(count)), host=host, port=port, log_config=None, access_log=False
    )


@app.command("export-openapi")
def export_openapi(
    output: Annotated[Path, typer.Option(help="Where to write the spec.")] = Path(
        "openapi/openapi.json"
    ),
) -> None:
    """Write the OpenAPI document (CI checks it matches the code)."""
    from lahella_bridge.app import create_app

    spec = create_app(Settings(), "postgresql+asyncpg://unused/unused").openapi()
    text = json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    if str(output) == "-":
        sys.stdout.write(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, "utf-8")
    console.print(f"wrote {output}")


if __name__ == "__main__":
    app()
