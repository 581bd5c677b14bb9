"""The contract every search backend (tantivy, OpenSearch) implements, and its query model."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from search.documents import EventDocument


class SortOrder(StrEnum):
    """How hits are ordered."""

    RELEVANCE = "relevance"
    STARTS_AT = "starts_at"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    POPULARITY = "popularity"


@dataclass(frozen=True, slots=True, kw_only=True)
class GeoFilter:
    """Events within radius_km of a point."""

    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchFilters:
    """Conditions every hit must meet; an empty tuple or None means no condition."""

    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    city: str | None = None
    country: str | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    price_max_cents: int | None = None
    currency: str | None = None
    online: bool | None = None
    near: GeoFilter | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchQuery:
    """Free text plus filters, one page at a time (page is 1-based)."""

    text: str = ""
    filters: SearchFilters = field(default_factory=SearchFilters)
    sort: SortOrder = SortOrder.RELEVANCE
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchHit:
    """One matching event and its backend-specific relevance score."""

    document: EventDocument
    score: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchResult:
    """One page of hits, the total match count, and value counts per facet field."""

    total: int
    hits: tuple[SearchHit, ...]
    facets: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


class SearchBackend(Protocol):
    """An event index: the pipelines write it, the API queries it."""

    def index(self, docs: Iterable[EventDocument]) -> None:
        """Add documents, replacing any with the same id."""

    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents by id; unknown ids are ignored."""

    def search(self, query: SearchQuery) -> SearchResult:
        """Return the requested page of matches."""

    def suggest(self, prefix: str, limit: int = 10) -> list[str]:
        """Return up to limit event titles completing prefix, best first."""
