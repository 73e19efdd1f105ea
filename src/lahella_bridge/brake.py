"""The retirement safety brake: one run may retire only a share of what is live, so a bad
upstream run (a listing cut short that still looked whole, an area that came back empty)
cannot empty the feeds. Pure: the harvest hands it counts and obeys its verdict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Brake:
    share: float = 0.20  # of the live records, at most, per run
    minimum: int = 5  # always allowed, so a small source can still lose a few

    def limit(self, live: int) -> int:
        return max(self.minimum, int(self.share * live))

    def refusal(self, to_retire: int, live: int) -> str | None:
        """Why retiring `to_retire` of `live` records is refused, or None."""
        limit = self.limit(live)
        if to_retire <= limit:
            return None
        return f"the sweep would retire {to_retire} of {live} live activities (limit {limit})"

    def area_refusal(
        self, lost: Mapping[str, set[str]], live: Mapping[str, set[str]]
    ) -> str | None:
        """Why an area's losses are refused, or None. `lost` holds, per area, the live
        records the run says left it: an area may lose its share (at least `minimum`), but
        never every record it had, the mark of an area listing that came back empty."""
        for area in sorted(live):
            held, gone = len(live[area]), len(lost.get(area, set()) & live[area])
            allowed = min(self.limit(held), held - 1)
            if gone > max(allowed, 0):
                return (
                    f"area {area} would lose {gone} of its {held} live activities (limit {allowed})"
                )
        return None
