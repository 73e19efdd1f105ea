"""Thin routes of the server-rendered pages; the markup is in `templates/`."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from lahella_bridge.embed.views import UI, card, label_with_language, qr_svg, record_summary
from lahella_bridge.errors import InvalidParameter
from lahella_bridge.store import activity_reads
from lahella_bridge.taxonomy import taxonomy
from lahella_bridge.web.cacheable import CacheableRoute
from lahella_bridge.web.deps import DatabaseDep, Lang, LangDep
from lahella_bridge.web.filters import FilterParams, FiltersDep, reject_unknown_parameters

router = APIRouter(dependencies=[Depends(reject_unknown_parameters)])
# The widget is published data, cached like the feeds; the referral pages are not cached.
# Both join `router` at the end of the module.
widget = APIRouter(include_in_schema=False, route_class=CacheableRoute)
referral_pages = APIRouter(include_in_schema=False)
templates = Environment(
    loader=PackageLoader("lahella_bridge.embed", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["dict_without"] = lambda values, key: {
    k: v for k, v in values.items() if k != key
}


@pass_context
def lang_attr(context: Context, text_lang: str) -> Markup:
    """` lang="fi"` on a text that fell back to another language than the page's, so a
    screen reader pronounces it in its own language."""
    if text_lang == context["lang"]:
        return Markup("")
    return Markup(' lang="{}"').format(text_lang)


templates.globals["lang_attr"] = lang_attr

PAGE_SIZE = 30
# No third-party assets: everything the pages load comes from this service.
CONTENT_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors "
)
# The listing is made to be framed by any site; the referral tool and the client sheet
# (a professional's choices for a client) only by this service's own pages.
EMBEDDABLE = "*"
OWN_PAGES_ONLY = "'self'"


def _security_headers(frame_ancestors: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": CONTENT_POLICY + frame_ancestors,
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Cache-Control": "public, max-age=300",
    }


def _options(lang: str) -> dict[str, Any]:
    tax = taxonomy()
    return {
        "municipalities": [
            (m.code, *label_with_language(m.labels, lang))
            for m in sorted(
                tax.municipalities.values(), key=lambda m: label_with_language(m.labels, lang)[0]
            )
        ],
        "stages": [(s.slug, *label_with_language(s.labels, lang)) for s in tax.stages],
        "themes": [(t.slug, *label_with_language(t.labels, lang)) for t in tax.themes],
        "activity_types": [
            (t.slug, *label_with_language(t.labels, lang)) for t in tax.activity_types
        ],
    }


def _html(name: str, frame_ancestors: str, **context: Any) -> HTMLResponse:
    body = templates.get_template(name).render(**context)
    return HTMLResponse(body, headers=_security_headers(frame_ancestors))


async def _cards(db: DatabaseDep, rows: list[Any], lang: str) -> list[dict[str, Any]]:
    upcoming = await activity_reads.next_occurrences(db, [r.id for r in rows])
    return [card(row.document, upcoming.get(row.id, []), lang) for row in rows]


def _grouped(
    cards: list[dict[str, Any]], rows: list[Any], lang: str, searched: str | None
) -> list[dict[str, Any]]:
    """Cards under the theme searched for, else under their first theme; themes in the
    county's order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item, row in zip(cards, rows, strict=True):
        themes: list[str] = row.themes or [""]
        heading = searched if searched in themes else themes[0]
        groups.setdefault(heading, []).append(item)
    ordered = []
    for theme in taxonomy().themes:
        if theme.slug in groups:
            label, label_lang = label_with_language(theme.labels, lang)
            ordered.append(
                {
                    "slug": theme.slug,
                    "label": label,
                    "label_lang": label_lang,
                    "cards": groups.pop(theme.slug),
                }
            )
    for rest in groups.values():
        ordered.append(
            {"slug": "muut", "label": UI[lang]["other_themes"], "label_lang": lang, "cards": rest}
        )
    return ordered


def _chain(counts: dict[str, int], lang: str) -> list[dict[str, Any]]:
    """The service-chain stages as buttons, each with the count of what it leads to."""
    chain = []
    for stage in taxonomy().stages:
        label, label_lang = label_with_language(stage.labels, lang)
        chain.append(
            {
                "slug": stage.slug,
                "label": label,
                "label_lang": label_lang,
                "count": counts.get(stage.slug, 0),
            }
        )
    return chain


async def _listing(
    request: Request, db: DatabaseDep, filters: FilterParams, lang: str, page: int
) -> dict[str, Any]:
    count, rows = await activity_reads.list_activities(
        db, filters.filters, PAGE_SIZE, (page - 1) * PAGE_SIZE
    )
    rows = list(rows)
    # Each stage button counts what it leads to: the other filters, that stage.
    other_filters = dataclasses.replace(filters.filters, stage=None)
    stage_counts = await activity_reads.term_counts(db, "stages", other_filters)
    query = {k: v for k, v in request.query_params.items() if k != "page"}
    return {
        "count": count,
        "page": page,
        "pages": max(1, -(-count // PAGE_SIZE)),
        "groups": _grouped(await _cards(db, rows, lang), rows, lang, filters.filters.theme),
        "chain": _chain(stage_counts, lang),
        "selected": {
            k: request.query_params.get(k, "")
            for k in ("municipality", "stage", "theme", "activity_type", "q")
        },
        "query": query,
    }


def embed_language(
    lang: Annotated[Lang | None, Query(description="fi, sv or en; default Finnish.")] = None,
) -> Lang:
    """The host page's language (the widget sends `data-lang` or the host's `<html lang>`),
    else Finnish; never the visitor's Accept-Language, which would put labels in another
    language than the host page around them."""
    return lang or "fi"


@widget.get("/embed/activities", response_class=HTMLResponse)
async def embed_activities(
    request: Request,
    db: DatabaseDep,
    filters: FiltersDep,
    lang: Annotated[Lang, Depends(embed_language)],
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
    fragment: Annotated[bool, Query(description="Only the list, for the script embed.")] = False,
) -> HTMLResponse:
    """The listing for an iframe (or, with fragment=true, for widget.js)."""
    context = await _listing(request, db, filters, lang, page)
    name = "fragment.html" if fragment else "activities.html"
    return _html(
        name,
        EMBEDDABLE,
        ui=UI[lang],
        lang=lang,
        options=_options(lang),
        base=str(request.base_url).rstrip("/"),
        **context,
    )


@widget.get("/embed/widget.js")
async def widget_script() -> Response:
    """`<script src=".../embed/widget.js" data-...>`: renders into `[data-lahella-bridge]`."""
    script = resources.files("lahella_bridge.embed").joinpath("static", "widget.js")
    return Response(
        script.read_text("utf-8"),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@widget.get("/embed/frame.js")
async def frame_script() -> Response:
    """Progressive enhancement inside the iframe: auto-submit and height reports."""
    script = resources.files("lahella_bridge.embed").joinpath("static", "frame.js")
    return Response(
        script.read_text("utf-8"),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


def _segment_steps(segment: str | None, lang: str) -> list[tuple[str, str]]:
    if segment is None:
        return []
    if segment not in {s.slug for s in taxonomy().segments}:
        raise InvalidParameter(f"segment: unknown value {segment!r}")
    return [
        label_with_language(step.labels, lang) for step in taxonomy().steps_for_segment(segment)
    ]


@referral_pages.get("/referral", response_class=HTMLResponse)
async def referral(
    request: Request,
    db: DatabaseDep,
    filters: FiltersDep,
    lang: LangDep,
    segment: Annotated[str | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> HTMLResponse:
    """A professional picks the client's segment, searches and chooses activities."""
    steps = _segment_steps(segment, lang)
    context = await _listing(request, db, filters, lang, page)
    segments = [(s.slug, *label_with_language(s.labels, lang)) for s in taxonomy().segments]
    return _html(
        "referral.html",
        OWN_PAGES_ONLY,
        ui=UI[lang],
        lang=lang,
        options=_options(lang),
        segments=segments,
        segment=segment or "",
        steps=steps,
        **context,
    )


def _ids(values: list[str]) -> list[uuid.UUID]:
    """`ids=a&ids=b` from the form's checkboxes, or `ids=a,b` from a link."""
    try:
        ids = [uuid.UUID(part) for value in values for part in value.split(",") if part.strip()]
    except ValueError:
        raise InvalidParameter("ids: expected comma-separated activity ids") from None
    if not 1 <= len(ids) <= 20:
        raise InvalidParameter("ids: choose 1 to 20 activities")
    return ids


async def _sheet_context(
    db: DatabaseDep, ids: list[str], segment: str | None, lang: str
) -> dict[str, Any]:
    rows = await activity_reads.activities_by_ids(db, _ids(ids))
    upcoming = await activity_reads.next_occurrences(db, [r.id for r in rows], per_activity=4)
    cards = [card(r.document, upcoming.get(r.id, []), lang) for r in rows]
    for item in cards:
        item["qr"] = qr_svg(item["url"])
    steps = _segment_steps(segment, lang)
    now = datetime.now(UTC)
    return {
        "cards": cards,
        "steps": steps,
        "segment": segment or "",
        "ids": ids,
        "record": record_summary(cards, steps, lang, now),
        "today": now,
    }


@referral_pages.get("/referral/sheet", response_class=HTMLResponse)
async def referral_sheet(
    db: DatabaseDep,
    lang: LangDep,
    ids: Annotated[list[str], Query(description="Activity ids, repeated or comma-separated.")],
    segment: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """The printable client sheet (A4 print CSS, large type, QR codes) and the record text."""
    context = await _sheet_context(db, ids, segment, lang)
    return _html("sheet.html", OWN_PAGES_ONLY, ui=UI[lang], lang=lang, **context)


router.include_router(widget)
router.include_router(referral_pages)
