"""Soak benchmark: the mixed read workload for 10 minutes against one `serve` process.

Reuses a database that already holds the sample data (e.g. the one `bench/api.py --data-dir`
left behind, or DATABASE_URL), starts `lahella-bridge serve`, drives it with wrk (mixed
Lua script: listings, filtered events, search, stages, PTV, RPDE, iCalendar, 304s), samples
the server's RSS every 10 s and prints JSON: errors (goal 0), p99, RSS growth (goal < 10 %),
and the requests the server itself logged as slower than a second. RSS growth is measured
after a warm-up that requests every URL of the workload once and then loads it for a minute
(`--warmup-seconds`): the bounded response cache has reached its working set by then.

    uv run python bench/soak.py --data-dir /tmp/bench-api-pg --seconds 600
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from api import prime, served

FIXED_PATHS = [
    "/v1/activities?page_size=20",
    "/v1/activities?municipality=564&theme=fyysinen-terveys",
    "/v1/activities?q=vertais",
    "/v1/stages?items_per_stage=3",
    "/v1/themes",
    "/v1/events?municipality=678",
    "/v1/events?theme=mielen-hyvinvointi&lang=sv",
    "/v1/events.ics?municipality=305",
    "/v1/changes/activities?limit=50",
    "/ptv/v11/Service/list/area/Municipality/code/564",
    "/v1/organizations",
    "/linkedevents/v1/event/?division=ocd-division/country:fi/kunta:oulu",
    "/hsds/services?per_page=20",
    "/embed/activities?municipality=564",
]
TOWNS = ["564", "678", "977", "305", "244"]
PAGES, DAYS = 20, 200
MIXED_LUA = (
    "local paths = {"
    + ", ".join(f'"{p}"' for p in FIXED_PATHS)
    + "}\nlocal towns = {"
    + ", ".join(f'"{t}"' for t in TOWNS)
    + "}\n"
    + f"""
math.randomseed(os.time())
request = function()
  local r = math.random(1, 10)
  if r <= 6 then
    return wrk.format("GET", paths[math.random(#paths)])
  elseif r <= 8 then
    return wrk.format("GET", "/v1/activities?municipality=" .. towns[math.random(#towns)] ..
      "&page=" .. math.random(1, {PAGES}))
  else
    local day = math.random(0, {DAYS})
    return wrk.format("GET", "/v1/events?start=" ..
      os.date("!%Y-%m-%dT00:00:00Z", os.time() + day * 86400))
  end
end
"""
)


def every_url() -> list[str]:
    """Each URL the mixed workload can ask for (the Lua script above draws from these)."""
    today = datetime.now(UTC)
    return [
        *FIXED_PATHS,
        *(f"/v1/activities?municipality={t}&page={p}" for t in TOWNS for p in range(1, PAGES + 1)),
        *(
            f"/v1/events?start={today + timedelta(days=d):%Y-%m-%dT00:00:00Z}"
            for d in range(DAYS + 1)
        ),
    ]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--warmup-seconds",
        type=int,
        default=60,
        help="load before the measured run: fills the bounded response cache (64 MiB)",
    )
    parser.add_argument("--data-dir")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    from lahella_bridge.db import asyncpg_url
    from lahella_bridge.embedded_db import embedded_postgres

    if args.database_url:
        print(json.dumps(soak(asyncpg_url(args.database_url), args), indent=2))
        return
    with embedded_postgres(Path(args.data_dir or tempfile.mkdtemp())) as url:
        print(json.dumps(soak(asyncpg_url(url), args), indent=2))


def soak(database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    server_log = Path(tempfile.mkdtemp(prefix="soak-")) / "server.log"
    samples: list[tuple[float, float]] = []
    with served(database_url, server_log) as (server, base):
        rss_idle = rss_mb(server.pid)
        # Warm-up: every URL of the workload once (the response cache reaches its working
        # set), then a minute of load; RSS growth is measured from there.
        prime(base, every_url())
        subprocess.run(
            ["wrk", "-t2", "-c8", f"-d{args.warmup_seconds}s", "-s", script(), base],
            capture_output=True,
            text=True,
            check=True,
        )
        stop = threading.Event()

        def sample() -> None:
            started = time.monotonic()
            while not stop.is_set():
                samples.append((round(time.monotonic() - started), rss_mb(server.pid)))
                stop.wait(10)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        output = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.seconds}s",
                "--latency",
                "-s",
                script(),
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        stop.set()
        sampler.join()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", output)
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99[2]] if p99 else 0
    # Measured from the end of the warm-up, when the bounded response cache has filled:
    # growth from there on is what a leak would show.
    first, last = samples[0][1], samples[-1][1]
    warm = next((rss for at, rss in samples if at >= 60), first)
    return {
        "benchmark": "soak",
        "slow_requests_over_1s": slow_requests(server_log),
        "seconds": args.seconds,
        "connections": args.connections,
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),  # type: ignore[index]
        "non_2xx_3xx": int(errors[1]) if errors else 0,
        "socket_errors": socket_errors[1] if socket_errors else "none",
        "p99_ms": round(float(p99[1]) * factor, 2) if p99 else None,
        "warmup_seconds": args.warmup_seconds,
        "rss_mb_idle_before_warmup": round(rss_idle, 1),
        "rss_mb_start": round(first, 1),
        "rss_mb_end": round(last, 1),
        "rss_growth": round(last / first - 1, 3),
        "rss_mb_after_first_minute": round(warm, 1),
        "rss_growth_after_first_minute": round(last / warm - 1, 3),
        "rss_samples": samples,
    }


def slow_requests(server_log: Path) -> dict[str, Any]:
    """The server's own warnings for requests over a second, counted by URL, with the worst."""
    found: dict[str, list[float]] = {}
    for line in server_log.read_text("utf-8", errors="replace").splitlines():
        if '"http.request"' not in line:
            continue
        event = json.loads(line)
        url = event["path"] + ("?" + event["query"] if event.get("query") else "")
        found.setdefault(url, []).append(event["ms"])
    return {url: {"count": len(ms), "max_ms": max(ms)} for url, ms in sorted(found.items())}


def script() -> str:
    path = Path(tempfile.gettempdir()) / "lahella-bridge-soak.lua"
    path.write_text(MIXED_LUA)
    return str(path)


if __name__ == "__main__":
    main()
