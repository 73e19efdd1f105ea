"""The completeness rule: a sweep may retire what it did not see only when it can prove it
saw every record. Pure: the clients fill a `SweepProgress`, the harvest asks it why not."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SweepProgress:
    """What one listing saw: enough to judge whether a sweep was complete.

    `totals` holds what each listing announced and `seen` what arrived, both in `unit`
    (distinct ids); `gaps` says what a client knows it missed (a listing or a linked record
    it could not read), which makes the sweep incomplete however the counts look.
    """

    pages: int = 0
    items: int = 0
    duplicates: int = 0
    retries: int = 0
    totals: dict[str, int | None] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    stalled: bool = False
    unit: str = "items"
    gaps: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every listing ended normally, announced a total and saw at least that many."""
        return self.shortfall() is None

    def shortfall(self) -> str | None:
        """Why the sweep cannot prove it saw every record, or None when it can."""
        if self.stalled:
            return "the listing stopped advancing (a page brought nothing new)"
        if self.gaps:
            more = f" (and {len(self.gaps) - 1} more)" if len(self.gaps) > 1 else ""
            return f"{self.gaps[0]}{more}"
        if not self.totals:
            return "no listing was read"
        for listing, total in self.totals.items():
            seen = self.seen.get(listing, 0)
            if total is None:
                return f"listing {listing!r} announced no total ({seen} {self.unit} arrived)"
            if seen < total:
                return (
                    f"listing {listing!r} announced {total} {self.unit} but {seen} arrived"
                    f" ({self.duplicates} repeated)"
                )
        return None
