"""tantivy queries for the search model, as functions over the index's schema.

`search.tantivy_backend` runs them (its module docstring says how a search ranks and filters);
the schema, the analyzers and the stored form are in `search.tantivy_schema`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import tantivy

from search.backend import (
    BOOSTS,
    FUZZY_WEIGHT,
    PHRASE_BOOST,
    PREFIX_WEIGHT,
    PRICE_BUCKETS,
    GeoFilter,
    SearchFilters,
    SearchQuery,
    SortOrder,
    distance_km,
    fuzziness,
)
from search.tantivy_schema import ANYWHERE, FOLDED, STEMMED, from_source, similar

MAX_FACET_VALUES = 30

Clauses = list[tuple[tantivy.Occur, tantivy.Query]]


def _clamp(moment: datetime) -> datetime:
    """A bound inside the dates tantivy can hold (about 1678 to 2262)."""
    return min(max(moment.astimezone(UTC), tantivy.MIN_DATETIME), tantivy.MAX_DATETIME)


def _term(schema: tantivy.Schema, field: str, value: str) -> tantivy.Query:
    return tantivy.Query.term_query(schema, field, value)


def _range(schema: tantivy.Schema, field: str, kind: Any, low: Any, high: Any) -> tantivy.Query:
    return tantivy.Query.range_query(schema, field, kind, low, high)


# -- text --------------------------------------------------------------------------------------


def word_query(schema: tantivy.Schema, word: str, *, prefix: bool) -> tantivy.Query:
    """One typed word against every text field: exact (stemmed, BM25) or fuzzy/prefix."""
    clauses: Clauses = []
    stems = STEMMED.analyze(word)
    for name, boost in BOOSTS.items():
        for stem in stems:
            exact = tantivy.Query.term_query(schema, name, stem)
            clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(exact, boost)))
    # Prefixes and typos: in the title, weighed as the title, or anywhere else, weighed as
    # the description.
    distance = fuzziness(word)
    for field, boost in (("title_f", BOOSTS["title"]), (ANYWHERE, BOOSTS["description"])):
        if prefix:
            begins = tantivy.Query.fuzzy_term_query(schema, field, word, 0, True, True)
            weighted = tantivy.Query.boost_query(begins, boost * PREFIX_WEIGHT)
            clauses.append((tantivy.Occur.Should, weighted))
        if distance:
            fuzzy = tantivy.Query.fuzzy_term_query(schema, field, word, distance, True, prefix)
            weighted = tantivy.Query.boost_query(fuzzy, boost * FUZZY_WEIGHT)
            clauses.append((tantivy.Occur.Should, weighted))
    return tantivy.Query.boolean_query(clauses)


def text_query(schema: tantivy.Schema, text: str, *, every_word: bool) -> tantivy.Query | None:
    words = FOLDED.analyze(text)
    if not words:
        return None
    occur = tantivy.Occur.Must if every_word else tantivy.Occur.Should
    clauses = [
        # Prefix matching for the word being typed and for longer words (not "a", "of").
        (occur, word_query(schema, word, prefix=i == len(words) - 1 or len(word) >= 3))
        for i, word in enumerate(words)
    ]
    if len(words) > 1:  # the words side by side in the title weigh most
        terms: list[str | tuple[int, str]] = list(STEMMED.analyze(text))
        phrase = tantivy.Query.phrase_query(schema, "title", terms)
        clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(phrase, PHRASE_BOOST)))
    return tantivy.Query.boolean_query(clauses)


def search_query(
    schema: tantivy.Schema, query: SearchQuery, filters: Clauses, *, every_word: bool
) -> tuple[tantivy.Query, bool]:
    """The filters and the typed text together; whether there was text to match."""
    text = text_query(schema, query.text, every_word=every_word)
    clauses = list(filters)
    if text is not None:
        clauses.append((tantivy.Occur.Must, text))
    if not any(occur == tantivy.Occur.Must for occur, _ in clauses):
        clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
    return tantivy.Query.boolean_query(clauses), text is not None


def prefix_of_all(
    schema: tantivy.Schema, field: str, words: list[str], *, typos: bool = False
) -> tantivy.Query:
    """Every word typed so far, the last one as a prefix; earlier words may carry a typo."""
    clauses = []
    for i, word in enumerate(words):
        last = i == len(words) - 1
        distance = 0 if last or not typos else fuzziness(word)
        query = tantivy.Query.fuzzy_term_query(schema, field, word, distance, True, last)
        clauses.append((tantivy.Occur.Must, query))
    return tantivy.Query.boolean_query(clauses)


def matched_terms(
    schema: tantivy.Schema, searcher: tantivy.Searcher, field: str, text: str
) -> tantivy.Query:
    """The field's own terms the typed words matched (exactly, as a prefix or with a typo),
    for the snippet generator, which marks only terms it is given."""
    clauses: Clauses = []
    for word in FOLDED.analyze(text):
        stems = set(STEMMED.analyze(word))
        for stem in stems:
            clauses.append((tantivy.Occur.Should, _term(schema, field, stem)))
        if len(word) < 2:
            continue
        # Candidates share the first two letters (a typo there goes unmarked, not unfound).
        for term, _ in searcher.terms_with_prefix(field, word[:2]):
            if term not in stems and similar(word, term):
                clauses.append((tantivy.Occur.Should, _term(schema, field, term)))
    return tantivy.Query.boolean_query(clauses)


# -- filters -----------------------------------------------------------------------------------


def filter_clauses(
    schema: tantivy.Schema, f: SearchFilters, *, near: tantivy.Query | None
) -> Clauses:
    """The filters as clauses; `near` is the geo filter's query (`near_query`), when asked."""
    must, must_not = tantivy.Occur.Must, tantivy.Occur.MustNot
    clauses: Clauses = []
    if f.categories:
        keys = [c.lower() for c in f.categories]
        clauses.append((must, tantivy.Query.term_set_query(schema, "category_key", keys)))
    for tag in f.tags:
        clauses.append((must, _term(schema, "tag_key", tag.lower())))
    if f.city:
        clauses.append((must, _term(schema, "city_key", f.city.lower())))
    if f.country:
        clauses.append((must, _term(schema, "country_key", f.country.upper())))
    if f.currency:
        clauses.append((must, _term(schema, "currency_key", f.currency.upper())))
    if f.organizer_id:
        clauses.append((must, _term(schema, "organizer_key", f.organizer_id)))
    if f.starts_after or f.starts_before:
        low = _clamp(f.starts_after) if f.starts_after else None
        high = _clamp(f.starts_before) if f.starts_before else None
        clauses.append((must, _range(schema, "starts_at", tantivy.FieldType.Date, low, high)))
    low_price = 1 if f.free is False else f.price_min_cents
    high_price = 0 if f.free else f.price_max_cents
    if f.free is False and f.price_min_cents is not None:
        low_price = max(1, f.price_min_cents)
    if low_price is not None or high_price is not None:
        kind = tantivy.FieldType.Integer
        clauses.append((must, _range(schema, "price_min_cents", kind, low_price, high_price)))
    if f.online is not None:
        online = tantivy.Query.term_query(schema, "online", f.online)
        clauses.append((must, online))
    if near is not None:
        clauses.append((must, near))
    if f.exclude_ids:
        excluded = tantivy.Query.term_set_query(schema, "id", list(f.exclude_ids))
        clauses.append((must_not, excluded))
    return clauses


def near_query(
    schema: tantivy.Schema, searcher: tantivy.Searcher, near: GeoFilter
) -> tantivy.Query:
    """The events within the radius: a bounding box in the index, then the exact distance."""
    dlat = near.radius_km / 110.574
    cos = max(0.01, abs(math.cos(math.radians(near.lat))))
    dlon = min(180.0, near.radius_km / (111.320 * cos))
    kind = tantivy.FieldType.Float
    box = tantivy.Query.boolean_query(
        [
            (tantivy.Occur.Must, _range(schema, "lat", kind, near.lat - dlat, near.lat + dlat)),
            (tantivy.Occur.Must, _range(schema, "lon", kind, near.lon - dlon, near.lon + dlon)),
        ]
    )
    candidates = searcher.search(box, max(1, searcher.num_docs), count=False).hits
    inside: list[str] = []
    for _, address in candidates:
        doc = from_source(searcher.doc(address)["source"][0])
        if doc.lat is None or doc.lon is None:
            continue
        if distance_km(near.lat, near.lon, doc.lat, doc.lon) <= near.radius_km:
            inside.append(doc.id)
    if not inside:
        return tantivy.Query.empty_query()
    return tantivy.Query.term_set_query(schema, "id", inside)


# -- order and facets --------------------------------------------------------------------------


def order_by(sort: SortOrder | None) -> dict[str, Any]:
    """The search arguments that order hits other than by score (None: by start time)."""
    if sort == SortOrder.STARTS_AT or sort is None:
        return {"order_by_field": "starts_at", "order": tantivy.Order.Asc}
    if sort == SortOrder.PRICE_ASC:
        return {"order_by_field": "price_min_cents", "order": tantivy.Order.Asc}
    if sort == SortOrder.PRICE_DESC:
        return {"order_by_field": "price_min_cents", "order": tantivy.Order.Desc}
    if sort == SortOrder.POPULARITY:
        return {"order_by_field": "popularity", "order": tantivy.Order.Desc}
    return {}


def facet_aggregations() -> dict[str, Any]:
    ranges = []
    for key, low, high in PRICE_BUCKETS:
        bucket: dict[str, Any] = {"key": key, "from": low}
        if high is not None:
            bucket["to"] = high
        ranges.append(bucket)
    return {
        "category": {"terms": {"field": "category_value", "size": MAX_FACET_VALUES}},
        "city": {"terms": {"field": "city_value", "size": MAX_FACET_VALUES}},
        "price": {"range": {"field": "price_min_cents", "ranges": ranges}},
    }


def facets_from(found: dict[str, Any]) -> dict[str, dict[str, int]]:
    facets: dict[str, dict[str, int]] = {}
    for name in ("category", "city"):
        facets[name] = {
            str(b["key"]): int(b["doc_count"])
            for b in found[name]["buckets"]
            if b["key"] and b["doc_count"]
        }
    facets["price"] = {
        str(b["key"]): int(b["doc_count"]) for b in found["price"]["buckets"] if b["doc_count"]
    }
    return facets
