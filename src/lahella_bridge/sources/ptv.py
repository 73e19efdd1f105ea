"""PTV: the open Service Catalogue's services in the configured areas, swept in full now
and then and synced incrementally in between."""

from __future__ import annotations

from datetime import timedelta

from lahella_bridge.config import Settings
from lahella_bridge.normalise_ptv import normalise_ptv
from lahella_bridge.sources.base import SourceMapping
from lahella_bridge.store.quarantine import ptv_record_key
from lahella_bridge.upstream.ptv_client import PtvClientSettings

# An incremental PTV window starts this much before the last run, for clock skew.
PTV_OVERLAP = timedelta(minutes=10)

# PTV lists only published services; a withdrawn one arrives as a removal.
MAPPING = SourceMapping("ptv", ptv_record_key, normalise_ptv, lambda raw, now: True)


def ptv_settings(settings: Settings) -> PtvClientSettings | None:
    """The PTV client's settings, or None when that source is switched off."""
    if not settings.ptv_enabled:
        return None
    return PtvClientSettings(
        base_url=settings.ptv_url,
        areas=settings.ptv_areas,
        batch_size=settings.ptv_batch_size,
        timeout_s=settings.upstream_timeout_s,
        max_retries=settings.upstream_max_retries,
    )
