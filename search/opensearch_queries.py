"""OpenSearch request bodies and the reading of their answers, as pure functions over dicts.

They mirror `search.tantivy_queries` clause for clause (read `search.tantivy_backend`'s module
docstring first), over the index that `search.opensearch_backend` defines: each text field is
stemmed and scored, with sub-fields `f` (folded words) and `p` (their prefixes), and the filter
keys are keywords.

- Prefix and fuzzy matches score a constant (the clause boost), as tantivy's automaton queries.
  A fuzzy query on `p` matches words that *begin* within the edit distance: tantivy's
  prefix-fuzzy automaton. tantivy's BM25 multiplies term scores by (1 + k1), Lucene's does not,
  so exact and phrase matches are boosted by that factor to keep their weight against the rest.
- Filters do not score; tantivy's filter terms add scores that are the same for every hit
  (except the tag filter's, which vary slightly with the number of tags).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from search.backend import (
    BOOSTS,
    FULL_MATCH_BONUS,
    FUZZY_WEIGHT,
    PHRASE_BOOST,
    PREFIX_WEIGHT,
    PRICE_BUCKETS,
    SearchFilters,
    SearchHit,
    SearchQuery,
    SearchResult,
    SortOrder,
    Suggestion,
    SuggestionKind,
    fuzziness,
)
from search.documents import EventDocument

Json = dict[str, Any]

BM25_SCALE = 1.0 + 1.2  # tantivy's (1 + k1) factor, which Lucene's BM25 leaves out
MAX_FACET_VALUES = 30
SUGGESTED_PLACES = 3  # categories, and cities, offered after the titles
SNIPPET_CHARS = 160
HIGHLIGHTED = ("title", "description")

_DOC_FIELDS = tuple(field.name for field in dataclasses.fields(EventDocument))


# -- documents ---------------------------------------------------------------------------------


def document_source(doc: EventDocument) -> Json:
    """The whole document as JSON (what get() and hits rebuild), plus its geo point."""
    source: Json = {name: getattr(doc, name) for name in _DOC_FIELDS}
    source["starts_at"] = doc.starts_at.astimezone(UTC).isoformat()
    source["tags"] = list(doc.tags)
    if doc.lat is not None and doc.lon is not None:
        source["location"] = {"lat": doc.lat, "lon": doc.lon}
    return source


def document_from(source: Json) -> EventDocument:
    data = {name: source[name] for name in _DOC_FIELDS if name in source}
    data["starts_at"] = datetime.fromisoformat(data["starts_at"])
    data["tags"] = tuple(data["tags"])
    return EventDocument(**data)


# -- text --------------------------------------------------------------------------------------


def _prefix(field: str, word: str, boost: float = 1.0) -> Json:
    return {"prefix": {field: {"value": word, "rewrite": "constant_score", "boost": boost}}}


def _fuzzy(field: str, word: str, distance: int, boost: float = 1.0) -> Json:
    return {
        "fuzzy": {
            field: {
                "value": word,
                "fuzziness": distance,
                "prefix_length": 0,
                "transpositions": True,
                "rewrite": "constant_score",
                "boost": boost,
            }
        }
    }


def word_query(word: str, *, prefix: bool) -> Json:
    """One typed (folded) word against every text field: exact (stemmed, BM25), as the
    beginning of a word, or within its edit distance (of a word, or of a word's beginning)."""
    distance = fuzziness(word)
    should: list[Json] = []
    for name, boost in BOOSTS.items():
        should.append({"match": {name: {"query": word, "boost": boost * BM25_SCALE}}})
        if prefix:
            should.append(_prefix(f"{name}.f", word, boost * PREFIX_WEIGHT))
        if distance:
            field = f"{name}.p" if prefix else f"{name}.f"
            should.append(_fuzzy(field, word, distance, boost * FUZZY_WEIGHT))
    return {"bool": {"should": should}}


def text_query(text: str, words: Sequence[str], *, every_word: bool) -> Json | None:
    """Every word (or any word) must match some field; the phrase in the title adds to it."""
    if not words:
        return None
    last = len(words) - 1
    # Prefix matching for the word being typed and for longer words (not "a", "of").
    clauses = [word_query(word, prefix=i == last or len(word) >= 3) for i, word in enumerate(words)]
    body: Json = {"must": clauses} if every_word else {"should": clauses}
    if len(words) > 1:
        phrase = {"match_phrase": {"title": {"query": text, "boost": PHRASE_BOOST * BM25_SCALE}}}
        body["should"] = [*body.get("should", []), phrase]
    return {"bool": body}


# -- filters, sorting, facets, highlights ------------------------------------------------------


def price_bounds(f: SearchFilters) -> tuple[int | None, int | None]:
    """Inclusive bounds on the cheapest price; free=True means 0, free=False means above 0."""
    low = 1 if f.free is False else f.price_min_cents
    high = 0 if f.free else f.price_max_cents
    if f.free is False and f.price_min_cents is not None:
        low = max(1, f.price_min_cents)
    return low, high


def _range(field: str, low: Any, high: Any) -> Json:
    bounds = {op: value for op, value in (("gte", low), ("lte", high)) if value is not None}
    return {"range": {field: bounds}}


def filter_clauses(f: SearchFilters) -> tuple[list[Json], list[Json]]:
    """(conditions every hit meets, conditions no hit meets); none of them scores."""
    must: list[Json] = []
    if f.categories:
        must.append({"terms": {"category.key": [c.lower() for c in f.categories]}})
    must.extend({"term": {"tags.key": tag.lower()}} for tag in f.tags)
    if f.city:
        must.append({"term": {"city.key": f.city.lower()}})
    if f.country:
        must.append({"term": {"country": f.country.lower()}})
    if f.currency:
        must.append({"term": {"currency": f.currency.lower()}})
    if f.organizer_id:
        must.append({"term": {"organizer_id": f.organizer_id}})
    if f.starts_after or f.starts_before:
        low = f.starts_after.astimezone(UTC).isoformat() if f.starts_after else None
        high = f.starts_before.astimezone(UTC).isoformat() if f.starts_before else None
        must.append(_range("starts_at", low, high))
    low_price, high_price = price_bounds(f)
    if low_price is not None or high_price is not None:
        must.append(_range("price_min_cents", low_price, high_price))
    if f.online is not None:
        must.append({"term": {"online": f.online}})
    if f.near is not None:  # the great-circle distance, as search.backend.distance_km
        near = f.near
        point = {"lat": near.lat, "lon": near.lon}
        distance = f"{near.radius_km * 1000:.3f}m"
        must.append({"geo_distance": {"distance": distance, "location": point}})
    must_not = [{"terms": {"id": list(f.exclude_ids)}}] if f.exclude_ids else []
    return must, must_not


def effective_sort(query: SearchQuery, *, has_text: bool) -> SortOrder | None:
    """None: relevance was asked for without text, so soonest first."""
    return query.sort if has_text or query.sort != SortOrder.RELEVANCE else None


_SORT_FIRST: dict[SortOrder | None, Json] = {
    SortOrder.RELEVANCE: {"_score": "desc"},
    SortOrder.PRICE_ASC: {"price_min_cents": "asc"},
    SortOrder.PRICE_DESC: {"price_min_cents": "desc"},
    SortOrder.POPULARITY: {"popularity": "desc"},
}


def sort_clause(sort: SortOrder | None) -> list[Json]:
    """The order asked for, then the start time, then the id."""
    first = [_SORT_FIRST[sort]] if sort in _SORT_FIRST else []
    return [*first, {"starts_at": "asc"}, {"id": "asc"}]


def facet_aggs() -> Json:
    ranges = [
        {"key": key, "from": low, **({"to": high} if high is not None else {})}
        for key, low, high in PRICE_BUCKETS
    ]
    return {
        "category": {"terms": {"field": "category.value", "size": MAX_FACET_VALUES}},
        "city": {"terms": {"field": "city.value", "size": MAX_FACET_VALUES}},
        "price": {"range": {"field": "price_min_cents", "ranges": ranges}},
    }


def facets_from(aggs: Json) -> dict[str, dict[str, int]]:
    facets = {
        name: {
            str(b["key"]): int(b["doc_count"])
            for b in aggs[name]["buckets"]
            if b["key"] and b["doc_count"]
        }
        for name in ("category", "city")
    }
    facets["price"] = {
        str(b["key"]): int(b["doc_count"]) for b in aggs["price"]["buckets"] if b["doc_count"]
    }
    return facets


def highlight_spec() -> Json:
    """The whole title, and the best ~160 characters of the description, escaped as HTML."""
    return {
        "type": "plain",
        "encoder": "html",
        "pre_tags": ["<mark>"],
        "post_tags": ["</mark>"],
        "fields": {
            "title": {"number_of_fragments": 0},
            "description": {"fragment_size": SNIPPET_CHARS, "number_of_fragments": 1},
        },
    }


def _snippet(fragment: str) -> str:
    # Lucene's HTML encoder also escapes "/", which tantivy (and HTML) leave alone.
    return fragment.replace("&#x2F;", "/")


# -- search --------------------------------------------------------------------------------------


def ranked_text_query(text: str, words: Sequence[str]) -> Json | None:
    """By relevance: events with every word first (a constant bonus), then those with some."""
    some = text_query(text, words, every_word=False)
    every = text_query(text, words, every_word=True)
    if some is None or every is None:
        return None
    bonus = {"constant_score": {"filter": every, "boost": FULL_MATCH_BONUS}}
    return {"bool": {"should": [some, bonus], "minimum_should_match": 1}}


def search_body(query: SearchQuery, words: Sequence[str], *, every_word: bool) -> Json:
    """`every_word` applies to orders other than relevance, which ranks full matches first."""
    if query.sort == SortOrder.RELEVANCE:
        text = ranked_text_query(query.text, words)
    else:
        text = text_query(query.text, words, every_word=every_word)
    sort = effective_sort(query, has_text=text is not None)
    must, must_not = filter_clauses(query.filters)
    clauses: Json = {"filter": must, "must_not": must_not}
    if text is not None:
        clauses["must"] = [text]
    body: Json = {
        "query": {"bool": clauses},
        "from": max(0, (query.page - 1) * query.page_size),
        "size": query.page_size,
        "sort": sort_clause(sort),
        "track_total_hits": True,
    }
    if sort == SortOrder.RELEVANCE:
        body["track_scores"] = True
    if query.facets:
        body["aggs"] = facet_aggs()
    if query.highlight and text is not None:
        body["highlight"] = highlight_spec()
    return body


def total_of(found: Json) -> int:
    return int(found["hits"]["total"]["value"])


def result_from(found: Json, query: SearchQuery, *, has_text: bool) -> SearchResult:
    scored = effective_sort(query, has_text=has_text) == SortOrder.RELEVANCE
    hits = []
    for hit in found["hits"]["hits"]:
        marked = hit.get("highlight", {})
        highlights = {name: _snippet(marked[name][0]) for name in HIGHLIGHTED if marked.get(name)}
        score = float(hit.get("_score") or 0.0) if scored else 0.0
        document = document_from(hit["_source"])
        hits.append(SearchHit(document=document, score=score, highlights=highlights))
    facets = facets_from(found["aggregations"]) if query.facets else {}
    return SearchResult(total=total_of(found), hits=tuple(hits), facets=facets)


# -- suggestions -------------------------------------------------------------------------------


def prefix_of_all(field: str, words: Sequence[str], *, typos: bool = False) -> Json:
    """Every word typed so far, the last one as a prefix; earlier words may carry a typo."""
    clauses: list[Json] = []
    for i, word in enumerate(words):
        distance = fuzziness(word) if typos else 0
        if i == len(words) - 1:
            clauses.append(_prefix(field, word))
        elif distance:
            clauses.append(_fuzzy(field, word, distance))
        else:
            clauses.append({"term": {field: word}})
    return {"bool": {"must": clauses}}


def suggest_body(words: Sequence[str], limit: int) -> Json:
    """Titles by popularity, and (over the whole index) the commonest matching places."""
    places = {
        kind: {
            "filter": prefix_of_all(f"{kind}.f", words),
            "aggs": {"values": {"terms": {"field": f"{kind}.value", "size": SUGGESTED_PLACES}}},
        }
        for kind in (SuggestionKind.CATEGORY.value, SuggestionKind.CITY.value)
    }
    return {
        "size": limit,
        "query": prefix_of_all("title.f", words, typos=True),
        "sort": [{"popularity": "desc"}, {"starts_at": "asc"}, {"id": "asc"}],
        "_source": ["id", "title"],
        "track_total_hits": False,
        "aggs": {"places": {"global": {}, "aggs": places}},
    }


def suggestions_from(found: Json, limit: int) -> list[Suggestion]:
    titles: list[Suggestion] = []
    seen: set[str] = set()
    for hit in found["hits"]["hits"]:
        title, event_id = str(hit["_source"]["title"]), str(hit["_source"]["id"])
        if title.lower() not in seen:
            seen.add(title.lower())
            titles.append(Suggestion(text=title, kind=SuggestionKind.TITLE, event_id=event_id))
    aggs = found["aggregations"]["places"]
    places = [
        Suggestion(text=str(bucket["key"]), kind=kind)
        for kind in (SuggestionKind.CATEGORY, SuggestionKind.CITY)
        for bucket in aggs[kind.value]["values"]["buckets"]
        if bucket["key"]
    ]
    return (titles[: max(0, limit - len(places))] + places)[:limit]
