"""Log output: one JSON object a line, structlog's events and stdlib's records alike, on
whatever stderr is when the line is written."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
import structlog

from lahella_bridge.log import configure_logging


def test_lines_are_json_on_the_current_stderr_even_after_it_is_swapped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging("INFO", "json")
    log = structlog.get_logger("lahella_bridge.test")
    log.info("http.request", path="/v1/events", status=200)
    log.debug("dropped below the level")
    logging.getLogger("uvicorn.error").warning("a library's record")
    lines = [json.loads(line) for line in first.getvalue().splitlines()]
    assert [(line["event"], line["level"]) for line in lines] == [
        ("http.request", "info"),
        ("a library's record", "warning"),
    ]
    assert lines[0]["path"] == "/v1/events" and "timestamp" in lines[0]

    # A test runner closes the stream it captured with and swaps in another.
    first.close()
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    log.warning("harvest.finish", status="succeeded")
    (line,) = [json.loads(line) for line in second.getvalue().splitlines()]
    assert (line["event"], line["status"]) == ("harvest.finish", "succeeded")
