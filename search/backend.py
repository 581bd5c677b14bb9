"""The contract every search backend (tantivy, OpenSearch) implements, and its query model."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from search.documents import EventDocument


class SortOrder(StrEnum):
    """How hits are ordered; ties fall back to the start time, then the id."""

    RELEVANCE = "relevance"
    STARTS_AT = "starts_at"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    POPULARITY = "popularity"


# Price facet buckets over the cheapest ticket, in minor units: (key, from inclusive, to
# exclusive). Minor units of different currencies are compared as they are, as a shopper
# filtering "under 20" in one currency does.
PRICE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("free", 0, 1),
    ("under_20", 1, 2000),
    ("20_to_50", 2000, 5000),
    ("50_to_100", 5000, 10000),
    ("100_and_more", 10000, None),
)

FACET_FIELDS = ("category", "city", "price")

# Ranking, the same on every backend. Field boosts: the title over tags over the category over
# the description over the venue. The gaps are wide because BM25 favours short fields with rare
# words (a venue's name) over a long description: the boosts must outweigh that.
BOOSTS = {
    "title": 8.0,
    "tags": 5.0,
    "category": 4.0,
    "description": 2.0,
    "city": 1.5,
    "venue": 0.5,
}
PREFIX_WEIGHT = 0.5  # a word that only begins a field's word counts for less than the word
FUZZY_WEIGHT = 0.3  # and one within an edit distance for less again
FULL_MATCH_BONUS = 1000.0  # ranks an event with every word above any with only some
PHRASE_BOOST = 3.0  # the words side by side in the title


@dataclass(frozen=True, slots=True, kw_only=True)
class GeoFilter:
    """Events within radius_km of a point."""

    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchFilters:
    """Conditions every hit must meet; an empty tuple or None means no condition.

    Text conditions (category, city, country, tags) compare case-insensitively and exactly.
    Prices are the cheapest ticket's; `free` is True for events with a free ticket.
    """

    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    city: str | None = None
    country: str | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    price_min_cents: int | None = None
    price_max_cents: int | None = None
    free: bool | None = None
    currency: str | None = None
    online: bool | None = None
    near: GeoFilter | None = None
    organizer_id: str | None = None
    exclude_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchQuery:
    """Free text plus filters, one page at a time (page is 1-based)."""

    text: str = ""
    filters: SearchFilters = field(default_factory=SearchFilters)
    sort: SortOrder = SortOrder.RELEVANCE
    page: int = 1
    page_size: int = 20
    facets: bool = True
    highlight: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchHit:
    """One matching event, its backend-specific relevance score, and highlighted snippets
    (field -> HTML fragment with <mark> around matched words, the rest escaped)."""

    document: EventDocument
    score: float
    highlights: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchResult:
    """One page of hits, the total match count, and value counts per facet field
    (`category`, `city`, `price` with the keys of PRICE_BUCKETS)."""

    total: int
    hits: tuple[SearchHit, ...]
    facets: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


class SuggestionKind(StrEnum):
    TITLE = "title"
    CATEGORY = "category"
    CITY = "city"


@dataclass(frozen=True, slots=True, kw_only=True)
class Suggestion:
    """A completion of what was typed: an event title (with its event), a category or a city."""

    text: str
    kind: SuggestionKind
    event_id: str | None = None


class SearchBackend(Protocol):
    """An event index: the pipelines write it, the API queries it."""

    name: str

    def index(self, docs: Iterable[EventDocument]) -> int:
        """Add documents, replacing any with the same id; returns how many were written."""

    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents by id; unknown ids are ignored."""

    def rebuild(self, docs: Iterable[EventDocument]) -> int:
        """Replace the whole index with `docs`; searches see the old index until the new one
        is complete, never an empty or partial one."""

    def get(self, event_id: str) -> EventDocument | None:
        """The indexed document, or None."""

    def count(self) -> int:
        """How many documents are searchable."""

    def search(self, query: SearchQuery) -> SearchResult:
        """Return the requested page of matches."""

    def suggest(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        """Up to `limit` completions of `prefix`: titles first, then categories and cities."""

    def close(self) -> None:
        """Release files and connections."""


class SearchUnavailable(RuntimeError):
    """The backend cannot answer (no index yet, or the server is down)."""


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def price_bucket(price_cents: int) -> str:
    """The PRICE_BUCKETS key a cheapest price falls in."""
    for key, low, high in PRICE_BUCKETS:
        if price_cents >= low and (high is None or price_cents < high):
            return key
    raise ValueError(price_cents)


def fuzziness(term: str) -> int:
    """Edit distance allowed for a typed word: none for short words, one from four letters,
    two from eight (Elasticsearch's AUTO)."""
    return 0 if len(term) < 4 else 1 if len(term) < 8 else 2
