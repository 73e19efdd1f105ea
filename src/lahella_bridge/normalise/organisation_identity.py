"""An organisation's identity across sources: its business id when it has a valid one."""

from __future__ import annotations

import re
import uuid

from lahella_bridge import ptv

# The namespace these ids were first minted in (Lähellä.fi's): kept so that they stay stable.
SOURCE = "lahella"


def valid_business_id(value: str | None) -> str | None:
    return value if value and re.fullmatch(r"[0-9]{7}-[0-9]", value) else None


def business_identity(business_id: str) -> tuple[uuid.UUID, str]:
    """(id, key) of an organisation with a business id: the same whichever source names it,
    so Lähellä.fi and PTV organisations meet in one row."""
    key = f"y-{business_id}"
    return ptv.stable_id("organization", SOURCE, key), key
