"""What the search index stores for each event."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class EventDocument:
    """One bookable event as indexed; money in integer minor units, times timezone-aware UTC."""

    id: str
    title: str
    description: str
    category: str
    tags: tuple[str, ...]
    city: str
    country: str
    starts_at: datetime
    price_min_cents: int
    currency: str
    online: bool
    popularity: float
    lat: float | None = None
    lon: float | None = None
