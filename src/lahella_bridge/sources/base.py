"""What every source shares with the harvest: how its raw records are keyed and
normalised, and what its listing said besides its records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lahella_bridge.normalise import Context, NormalisedActivity


@dataclass(frozen=True)
class SourceMapping:
    """How one source's raw records are keyed and normalised."""

    name: str
    key: Callable[[Any], str]
    normalise: Callable[[Any, Context], NormalisedActivity]
    still_published: Callable[[Any, datetime], bool]


@dataclass
class Listing:
    """What a source's listing said besides its records: ids it says are gone
    (incremental), and for PTV's full sweep the ids each area's listing named."""

    removed: set[str] = field(default_factory=set)
    by_area: dict[str, set[str]] | None = None
