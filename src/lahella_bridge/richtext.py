"""Upstream HTML made safe: sanitised HTML for display, PTV-style plain text for data."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

_ALLOWED_TAGS = {"p", "br", "strong", "em", "u", "a", "ul", "ol", "li"}
_BLOCK_TAGS = {"p", "div", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr"}
_SKIP_TAGS = {"script", "style", "template", "noscript", "iframe", "object"}


def strip_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL; other control characters are noise too."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)


def sanitise_html(html: str | None) -> str:
    """Only the upstream editor's tags survive; links get safe schemes and rel."""
    if not html:
        return ""
    return nh3.clean(
        strip_nul(html),
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
        clean_content_tags=_SKIP_TAGS,
    )


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str | None) -> str:
    """Paragraphs become blank-line separated, list items '- ' lines; scripts vanish."""
    if not html:
        return ""
    parser = _TextExtractor()
    parser.feed(strip_nul(html))
    parser.close()
    text = "".join(parser.parts)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
