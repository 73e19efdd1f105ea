"""Upstream HTML made safe: sanitised HTML for display, PTV-style plain text for data."""

from __future__ import annotations

import html
import re

import nh3

_ALLOWED_TAGS = {"p", "br", "strong", "em", "u", "a", "ul", "ol", "li"}
_SKIP_TAGS = {"script", "style", "template", "noscript", "iframe", "object"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BREAK = re.compile(r"<\s*br\b[^>]*>", re.IGNORECASE)
_ITEM = re.compile(r"<\s*li\b[^>]*>", re.IGNORECASE)
_BLOCK = re.compile(r"<\s*/?\s*(?:p|div|ul|ol|h[1-6]|table|tr|blockquote)\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# After decoding: a `<` that opens a tag, comment or declaration, up to its `>` if any.
_TAG_LIKE = re.compile(r"<[A-Za-z/!?][^<>]*>?")


def strip_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL; other control characters are noise too."""
    return _CONTROL.sub("", text)


def sanitise_html(markup: str | None) -> str:
    """Only the upstream editor's tags survive; links get safe schemes and rel."""
    if not markup:
        return ""
    return nh3.clean(
        strip_nul(markup),
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
        clean_content_tags=_SKIP_TAGS,
    )


def html_to_text(markup: str | None) -> str:
    """Paragraphs become blank-line separated, list items '- ' lines; no markup survives.

    The rule for every plain-text field: block tags become line breaks first; nh3 (an HTML
    parser, not a regex) then drops every remaining tag and the content of script-like
    ones; entities are decoded once, last. Markup that was entity-encoded upstream
    (`&lt;img onerror=...&gt;`) decodes into tag-like text, which consumers pasting the
    field into HTML would bring to life: it is markup too and is dropped the same way, so
    the result never holds a `<` before a letter, `/`, `!` or `?` ("ikä < 18" stays).
    """
    if not markup:
        return ""
    text = strip_nul(markup)
    if "<" in text:
        text = _BLOCK.sub("\n\n", _ITEM.sub("\n- ", _BREAK.sub("\n", text)))
        text = nh3.clean(text, tags=set(), clean_content_tags=_SKIP_TAGS)
    if "&" in text:
        text = _drop_tag_like(html.unescape(text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def plain_line(markup: str | None) -> str:
    """A name or an address part: `html_to_text` on one line."""
    return " ".join(html_to_text(markup).split())


def _drop_tag_like(text: str) -> str:
    """Until nothing tag-like is left: dropping `<<b>b>`'s inner tag leaves a new one."""
    while (dropped := _TAG_LIKE.sub("", text)) != text:
        text = dropped
    return text
