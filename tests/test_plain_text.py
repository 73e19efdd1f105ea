"""Plain-text fields (names, summaries, addresses) never carry live-looking markup, whether
the upstream sent it raw or entity-encoded: consumers paste these fields into their HTML.
Harvested from the sample upstreams, read back from /v1, /ptv, /linkedevents and /hsds."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from lahella_bridge.richtext import html_to_text
from lahella_bridge.sample.ptv_upstream import SamplePtvUpstream
from lahella_bridge.sample.upstream import SampleUpstream
from tests.conftest import make_harvester
from tests.kept_harvests import KeptHarvests

MARKER = "Myrkkytesti"
PAYLOADS = [
    "<img src=x onerror=alert(1)>",  # raw
    "&lt;img src=x onerror=alert(1)&gt;",  # entity-encoded
    "&#60;svg onload=alert(1)&#62;",  # numeric entities
    "&lt;&lt;b&gt;script&gt;alert(1)&lt;/script&gt;",  # a tag hidden inside a tag
    "&lt;img src=x onerror=alert(1)",  # never closed
]
# A tag (or tag-like text) that a browser would build an element or a handler from.
LIVE = re.compile(r"<\s*(?:img|svg|script|b)\b|<[^<>]*\bon[a-z]+\s*=", re.IGNORECASE)


def poison_lahella(upstream: SampleUpstream) -> None:
    for index, payload in enumerate(PAYLOADS):
        traits = upstream.records[200 + index]["traits"]
        fi = traits["translations"]["fi"]
        fi["name"] = f"{MARKER} {index} {payload}"
        fi["summary"] = f"<p>Tiivistelmä {payload}</p>"
        address = traits["channels"][0].setdefault("translations", {}).setdefault("fi", {})
        address.setdefault("address", {})["street"] = f"Katu 1 {payload}"


def poison_ptv(ptv_upstream: SamplePtvUpstream) -> None:
    services = list(ptv_upstream.sample.services.values())
    for index, payload in enumerate(PAYLOADS):
        service = services[index]
        for item in service["serviceNames"]:
            item["value"] = f"{MARKER} PTV {index} {payload}"
        for item in service["serviceDescriptions"]:
            item["value"] = f"Kuvaus {payload}"


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def assert_no_live_markup(body: Any) -> None:
    for text in strings(body):
        assert not LIVE.search(text), text


@pytest.fixture
async def poisoned(
    db: AsyncEngine,
    upstream: SampleUpstream,
    ptv_upstream: SamplePtvUpstream,
    anchor: date,
    kept_harvests: KeptHarvests,
) -> AsyncEngine:
    poison_lahella(upstream)
    poison_ptv(ptv_upstream)
    harvester = make_harvester(db, upstream, anchor, ptv_upstream=ptv_upstream)
    (report,) = await kept_harvests.run(harvester, upstream, ptv_upstream)
    assert report.status == "succeeded", report.error
    return db


async def test_hostile_markup_in_plain_text_never_comes_out_live(
    poisoned: AsyncEngine, api: httpx.AsyncClient
) -> None:
    found = (await api.get("/v1/activities", params={"q": MARKER, "page_size": 100})).json()
    names = sorted(item["name"] for item in found["items"] if "PTV" not in item["name"])
    # Every poisoned record is published with its text kept (a decoded script's text stays
    # as inert text), the markup gone.
    assert len(names) == len(PAYLOADS), names
    assert all(n.startswith(f"{MARKER} {i}") for i, n in enumerate(names)), names
    assert_no_live_markup(found)
    ids = [item["id"] for item in found["items"]]
    for activity_id in ids:
        detail = await api.get(f"/v1/activities/{activity_id}")
        assert detail.status_code == 200
        assert_no_live_markup(detail.json())

    ptv = await api.get("/ptv/v11/Service/list", params={"guids": ",".join(ids)})
    assert ptv.status_code == 200 and len(ptv.json()) == len(ids)
    assert_no_live_markup(ptv.json())

    events = (await api.get("/linkedevents/v1/event/", params={"text": MARKER})).json()
    assert events["meta"]["count"] > 0
    assert_no_live_markup(events)

    services = (await api.get("/hsds/services", params={"search": MARKER})).json()
    assert services["total_items"] > 0
    assert_no_live_markup(services)
    for service in services["contents"]:
        assert_no_live_markup((await api.get(f"/hsds/services/{service['id']}")).json())


TAG_START = re.compile(r"<[A-Za-z/!?]")
MARKUPISH = st.text(alphabet=st.sampled_from(list("<>/!?&;#ltgampimgsvrc =\"'x1\n")))


@given(MARKUPISH)
def test_plain_text_never_opens_a_tag_however_often_encoded(text: str) -> None:
    for encoded in (text, html.escape(text), html.escape(html.escape(text))):
        assert not TAG_START.search(html_to_text(encoded)), encoded
