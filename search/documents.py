"""What the search index stores for each event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class EventDocument:
    """One bookable event as indexed; money in integer minor units, times timezone-aware UTC.

    `popularity` is a non-negative figure the pipelines compute (recent bookings and views);
    `price_min_cents` is the cheapest ticket (0: there is a free ticket).
    """

    id: str
    slug: str
    title: str
    description: str
    category: str  # the category's name; "" when it has none
    tags: tuple[str, ...]
    venue: str
    city: str
    country: str  # ISO 3166-1 alpha-2, upper case; "" for online-only events
    starts_at: datetime
    price_min_cents: int
    price_max_cents: int
    currency: str
    online: bool
    organizer_id: str = ""
    popularity: float = 0.0
    lat: float | None = None
    lon: float | None = None

    @property
    def free(self) -> bool:
        """The cheapest ticket costs nothing."""
        return self.price_min_cents == 0
