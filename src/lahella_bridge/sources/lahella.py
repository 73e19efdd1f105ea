"""Lähellä.fi: the admin API's activities, read with the operator's session cookies."""

from __future__ import annotations

from lahella_bridge.config import Settings
from lahella_bridge.normalise import normalise
from lahella_bridge.sources.base import SourceMapping
from lahella_bridge.store.quarantine import quarantine_key
from lahella_bridge.upstream.client import ClientSettings
from lahella_bridge.upstream.schemas import Publication, raw_publication_state

MAPPING = SourceMapping(
    "lahella",
    quarantine_key,
    normalise,
    lambda raw, now: raw_publication_state(raw, now) is Publication.PUBLISHED,
)


def client_settings(settings: Settings) -> ClientSettings | None:
    """The Lähellä.fi client's settings, or None when that source is switched off."""
    if not settings.lahella_enabled:
        return None
    return ClientSettings(
        base_url=settings.upstream_url,
        cookies=settings.upstream_cookies.get_secret_value() if settings.upstream_cookies else None,
        groups=settings.upstream_groups,
        page_size=settings.upstream_page_size,
        extra_headers=settings.upstream_headers,
        timeout_s=settings.upstream_timeout_s,
        max_retries=settings.upstream_max_retries,
        retry_after_cap_s=settings.upstream_retry_after_max_s,
        max_response_bytes=settings.upstream_max_response_bytes,
        deadline_s=settings.upstream_deadline_s,
    )
