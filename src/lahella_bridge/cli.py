"""Command line: serve, migrate, harvest, renormalise, demo, export-openapi."""

from __future__ import annotations

import asyncio
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


def _serve(settings: Settings, url: str) -> None:
    from lahella_bridge.app import create_app

    asyncio.run(_migrate(url))
    console.print(f"API on http://{settings.host}:{settings.port}  (docs: /docs)")
    uvicorn.run(
        create_app(settings, url),
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


async def _harvest(settings: Settings, url: str, force: bool) -> Any:
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from lahella_bridge.harvest import Harvester, client_settings

    await _migrate(url)
    engine = create_engine(url, pool_size=2)
    try:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True
        ) as progress:
            task = progress.add_task("harvesting…")
            harvester = Harvester(
                engine,
                client_settings(settings),
                brake=settings.harvest_retire_brake,
                on_progress=lambda r: progress.update(
                    task,
                    description=f"harvesting… {r.fetched} fetched, {r.created} new, "
                    f"{r.updated} updated, {r.quarantined} quarantined",
                ),
            )
            return await harvester.run(force=force)
    finally:
        await engine.dispose()


def _summary(report: Any) -> None:
    table = Table(title=f"Harvest run {report.run_id}: {report.status}")
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
) -> None:
    """Run one full sweep of the upstream now; exits non-zero unless it succeeded."""
    from lahella_bridge.harvest import HarvestAlreadyRunning

    settings = _settings()
    with _database(settings) as url:
        try:
            report = asyncio.run(_harvest(settings, url, force))
        except HarvestAlreadyRunning as exc:
            console.print(f"[yellow]{exc.message}[/yellow]")
            raise typer.Exit(3) from None
    _summary(report)
    if report.status != "succeeded":
        console.print(f"[red]{report.error}[/red]")
        raise typer.Exit(1)


@app.command()
def renormalise() -> None:
    """Re-run the mapping on the stored raw records, without fetching anything."""
    from lahella_bridge.harvest import renormalise_stored

    settings = _settings()
    with _database(settings) as url:

        async def run() -> tuple[int, int]:
            await _migrate(url)
            engine = create_engine(url, pool_size=2)
            try:
                return await renormalise_stored(engine)
            finally:
                await engine.dispose()

        seen, written = asyncio.run(run())
    console.print(f"renormalised {seen} activities; {written} changed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def sample_upstream_server() -> Iterator[str]:
    """Serve the bundled sample upstream on loopback in a thread; yield its URL."""
    from lahella_bridge.sample.upstream import SampleUpstream

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            SampleUpstream(), host="127.0.0.1", port=port, log_config=None, access_log=False
        )
    )
    thread = threading.Thread(target=server.run, name="sample-upstream", daemon=True)
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
    """Start the bundled sample upstream, harvest it and serve the API: no internet needed."""
    from lahella_bridge.sample.upstream import SAMPLE_COOKIES

    with sample_upstream_server() as upstream:
        settings = _settings(
            host=host, port=port, upstream_url=upstream, upstream_cookies=SAMPLE_COOKIES
        )
        console.print(f"sample upstream on {upstream}")
        with _database(settings) as url:
            report = asyncio.run(_harvest(settings, url, force=True))
            _summary(report)
            _serve(settings, url)


@app.command("sample-upstream")
def sample_upstream(
    count: Annotated[int, typer.Option(help="How many activities to serve.")] = 320,
    host: Annotated[str, typer.Option(help="Interface (keep it on loopback).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8800,
) -> None:
    """Serve the bundled sample upstream alone (scaled to `count` records), e.g. for benches."""
    from lahella_bridge.sample.data import generate
    from lahella_bridge.sample.upstream import SAMPLE_COOKIES, SampleUpstream

    configure_logging("WARNING", "console")
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
